//! Secrets in the configuration: `${secretsmanager:NAME_OR_ARN}` and
//! `${secretsmanager:NAME_OR_ARN#json_key}`.
//!
//! Any string value of the connector config may reference AWS Secrets
//! Manager. References are resolved once, when the config is loaded (a CLI
//! run, a Lambda cold start), before the config is parsed; each secret is
//! fetched once however often it is referenced. The `#json_key` form reads
//! one member of a JSON secret, as RDS's managed secrets store them
//! (`{"username": ..., "password": ...}`).
//!
//! Resolved values never reach a log line or an error message: every value
//! that came from Secrets Manager is kept in a [`Redactor`], which the CLI
//! and the Lambda function apply to anything they print about a failure, and
//! the password keys are held as [`crate::config::Secret`], whose `Debug`
//! prints asterisks.
//!
//! [`AwsSecrets`] uses the default AWS credential chain (Lambda role,
//! environment, profile). Its endpoint can be moved for local testing with
//! the SDK's own `AWS_ENDPOINT_URL_SECRETS_MANAGER` (or `AWS_ENDPOINT_URL`),
//! which is how the tests reach moto. [`MemorySecrets`] serves unit tests.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_secretsmanager::error::SdkError;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use serde_json::Value as Json;

use crate::error::{Error, Result};

const PREFIX: &str = "${secretsmanager:";

/// Where secrets come from.
pub trait SecretSource: Send + Sync {
    /// The secret string of `id` (a name or an ARN).
    fn get(&self, id: &str) -> impl Future<Output = Result<String>> + Send;
}

/// Values to hide from anything printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redactor(Vec<String>);

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} values)", self.0.len())
    }
}

impl Redactor {
    /// Replaces every secret value in `text` with asterisks.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.0 {
            out = out.replace(s.as_str(), "********");
        }
        out
    }

    fn add(&mut self, value: &str) {
        // Very short values would mask ordinary text; they are not
        // credentials worth the name, but the password keys stay masked
        // by their own type anyway.
        if value.len() >= 3 && !self.0.iter().any(|v| v == value) {
            self.0.push(value.to_string());
            // Longest first, so a secret containing another is hidden whole.
            self.0.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }
}

static INSTALLED: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();

/// Makes `r` the process's redactor (the first config loaded wins; one
/// process runs one connector).
pub fn install(r: &Redactor) {
    let _ = INSTALLED.set(r.clone());
}

/// Hides the installed secrets in `text`; for every message printed about a
/// failure (CLI stderr, Lambda error responses and logs).
pub fn redact(text: &str) -> String {
    match INSTALLED.get() {
        Some(r) => r.redact(text),
        None => text.to_string(),
    }
}

/// The text of a panic's payload (`panic!("...")` gives a `&str` or a
/// `String`; anything else has no text), unredacted: pass it through
/// [`redact`] before printing it.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

/// Replaces the standard panic hook, which prints the panic message as is
/// to stderr (an `unwrap` of an error can quote a secret), with one that
/// logs it redacted: one error line with the message and the location.
pub fn redact_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = redact(&panic_message(info.payload()));
        let at = info.location().map(|l| l.to_string()).unwrap_or_default();
        if tracing::dispatcher::has_been_set() {
            tracing::error!(panic = %message, at, "panicked");
        } else {
            eprintln!("panicked at {at}: {message}");
        }
    }));
}

/// Whether `text` references Secrets Manager at all (then a client is needed).
pub fn has_references(text: &str) -> bool {
    text.contains(PREFIX)
}

/// Resolves every `${secretsmanager:...}` in the string values of a config
/// JSON (the registration object or a bare config), fetching each secret
/// once. Returns the JSON with the values substituted and the redactor of
/// the values used.
pub async fn resolve_config_text<S: SecretSource>(
    text: &str,
    source: &S,
) -> Result<(String, Redactor)> {
    let mut root: Json = serde_json::from_str(text).map_err(|e| {
        Error::Config(crate::error::ConfigProblems(vec![format!(
            "config is not valid JSON: {e}"
        )]))
    })?;
    let mut cache: HashMap<String, String> = HashMap::new();
    let mut redactor = Redactor::default();
    let target = match root.get_mut("config") {
        Some(c) => c,
        None => &mut root,
    };
    if let Json::Object(map) = target {
        for (key, value) in map.iter_mut() {
            if let Json::String(s) = value {
                if has_references(s) {
                    *s = substitute(key, s, source, &mut cache, &mut redactor).await?;
                }
            }
        }
    }
    Ok((root.to_string(), redactor))
}

async fn substitute<S: SecretSource>(
    key: &str,
    value: &str,
    source: &S,
    cache: &mut HashMap<String, String>,
    redactor: &mut Redactor,
) -> Result<String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find(PREFIX) {
        out.push_str(&rest[..i]);
        let after = &rest[i + PREFIX.len()..];
        let Some(end) = after.find('}') else {
            return Err(config_problem(format!(
                "{key}: unterminated ${{secretsmanager:...}} reference"
            )));
        };
        let reference = &after[..end];
        let (id, member) = match reference.split_once('#') {
            Some((id, m)) => (id, Some(m)),
            None => (reference, None),
        };
        if id.is_empty() {
            return Err(config_problem(format!(
                "{key}: ${{secretsmanager:}} needs a secret name or ARN"
            )));
        }
        if !cache.contains_key(id) {
            let secret = source.get(id).await?;
            cache.insert(id.to_string(), secret);
        }
        let secret = &cache[id];
        let resolved = match member {
            None => secret.clone(),
            Some(m) => json_member(secret, m).ok_or_else(|| {
                config_problem(format!(
                    "{key}: secret {id:?} has no JSON member {m:?} (the secret must be a JSON object with that key)"
                ))
            })?,
        };
        redactor.add(&resolved);
        out.push_str(&resolved);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn json_member(secret: &str, member: &str) -> Option<String> {
    match serde_json::from_str::<Json>(secret).ok()?.get(member)? {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn config_problem(p: String) -> Error {
    Error::Config(crate::error::ConfigProblems(vec![p]))
}

/// A fixed map of secrets, for unit tests.
#[derive(Debug, Default)]
pub struct MemorySecrets(pub HashMap<String, String>);

impl SecretSource for MemorySecrets {
    async fn get(&self, id: &str) -> Result<String> {
        self.0.get(id).cloned().ok_or_else(|| Error::Secret {
            id: id.to_string(),
            reason: "not found".into(),
            retryable: false,
            source: None,
        })
    }
}

/// AWS Secrets Manager through the default credential chain.
#[derive(Debug)]
pub struct AwsSecrets {
    client: aws_sdk_secretsmanager::Client,
}

impl AwsSecrets {
    /// A client with bounded timeouts; the region comes from the AWS chain
    /// (with only a local endpoint set, any region signs).
    pub async fn connect() -> Result<Self> {
        let conf =
            crate::platform::aws::service_config(None, None, &["AWS_ENDPOINT_URL_SECRETS_MANAGER"])
                .await
                .ok_or_else(|| Error::Secret {
                    id: "(any)".into(),
                    reason: "no AWS region; set AWS_REGION (Lambda sets it)".into(),
                    retryable: false,
                    source: None,
                })?;
        Ok(Self {
            client: aws_sdk_secretsmanager::Client::new(&conf),
        })
    }
}

impl SecretSource for AwsSecrets {
    async fn get(&self, id: &str) -> Result<String> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| secret_error(id, e))?;
        out.secret_string()
            .map(str::to_string)
            .ok_or_else(|| Error::Secret {
                id: id.to_string(),
                reason: "the secret has no string value (binary secrets are not supported)".into(),
                retryable: false,
                source: None,
            })
    }
}

/// A failed `GetSecretValue` call: the service's code and message (never
/// a value), with the SDK's error as the source.
fn secret_error<R>(id: &str, e: SdkError<GetSecretValueError, R>) -> Error
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Error::Secret {
        id: id.to_string(),
        reason: crate::platform::aws::sdk_error_text(&e),
        retryable: is_retryable_get_secret(&e),
        source: Some(Box::new(e)),
    }
}

/// Whether a failed `GetSecretValue` may succeed later. Missing secrets,
/// denied access and bad requests need a human; the rest (throttling,
/// network, the service's own faults) may heal.
fn is_retryable_get_secret<R>(e: &SdkError<GetSecretValueError, R>) -> bool {
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
    match e.as_service_error() {
        Some(
            GetSecretValueError::ResourceNotFoundException(_)
            | GetSecretValueError::InvalidParameterException(_)
            | GetSecretValueError::InvalidRequestException(_)
            | GetSecretValueError::DecryptionFailure(_),
        ) => false,
        // Access denial is not a modelled error of GetSecretValue: the SDK
        // keeps it as an unhandled error whose only handle is the service's
        // error code (a protocol field, not message text).
        Some(other) => other.code() != Some("AccessDeniedException"),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> MemorySecrets {
        MemorySecrets(HashMap::from([
            (
                "db".to_string(),
                r#"{"username": "cdc", "password": "p@ss\"w0rd", "port": 3306}"#.to_string(),
            ),
            ("plain".to_string(), "hunter22".to_string()),
        ]))
    }

    #[tokio::test]
    async fn references_resolve_once_and_are_redacted() {
        let text = r#"{"name": "n", "config": {"database.user": "${secretsmanager:db#username}",
            "database.password": "${secretsmanager:db#password}", "database.port": "${secretsmanager:db#port}",
            "kafka.sasl.password": "pre-${secretsmanager:plain}-post", "topic.prefix": "p"}}"#;
        let (out, red) = resolve_config_text(text, &source()).await.unwrap();
        let v: Json = serde_json::from_str(&out).unwrap();
        assert_eq!(v["config"]["database.password"], "p@ss\"w0rd");
        assert_eq!(v["config"]["database.user"], "cdc");
        assert_eq!(v["config"]["database.port"], "3306");
        assert_eq!(v["config"]["kafka.sasl.password"], "pre-hunter22-post");
        assert_eq!(v["config"]["topic.prefix"], "p");
        let msg = red.redact("login p@ss\"w0rd for cdc failed; hunter22");
        assert!(
            !msg.contains("p@ss") && !msg.contains("hunter22") && !msg.contains("cdc"),
            "{msg}"
        );
        assert!(!format!("{red:?}").contains("hunter22"));
    }

    #[tokio::test]
    async fn missing_secrets_and_members_name_the_reference_not_the_value() {
        let err = resolve_config_text(r#"{"config": {"a": "${secretsmanager:nope}"}}"#, &source())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        let err = resolve_config_text(r#"{"config": {"a": "${secretsmanager:db#pw}"}}"#, &source())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"pw\"") && !err.contains("p@ss"), "{err}");
        let err = resolve_config_text(r#"{"config": {"a": "${secretsmanager:db"}}"#, &source())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("unterminated"), "{err}");
    }

    #[test]
    fn sdk_failures_keep_their_source_and_classify_by_type() {
        use aws_sdk_secretsmanager::error::ErrorMetadata;
        use aws_sdk_secretsmanager::types::error::ResourceNotFoundException;
        use std::error::Error as _;

        let missing = SdkError::service_error(
            GetSecretValueError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("Secrets Manager can't find the specified secret.")
                    // As the SDK's deserialiser records it.
                    .meta(
                        ErrorMetadata::builder()
                            .code("ResourceNotFoundException")
                            .message("Secrets Manager can't find the specified secret.")
                            .build(),
                    )
                    .build(),
            ),
            (),
        );
        let e = secret_error("bp-no-such-secret", missing);
        let msg = e.to_string();
        assert!(
            msg.contains("\"bp-no-such-secret\"")
                && msg.contains("ResourceNotFoundException: Secrets Manager can't find")
                && msg.contains("secretsmanager:GetSecretValue"),
            "{msg}"
        );
        assert!(!e.is_retryable());
        let source = e.source().expect("the SDK error is the source");
        assert!(
            source.is::<SdkError<GetSecretValueError, ()>>(),
            "{source:?}"
        );

        let generic = |code: &str| {
            SdkError::service_error(
                GetSecretValueError::generic(ErrorMetadata::builder().code(code).build()),
                (),
            )
        };
        assert!(!secret_error("s", generic("AccessDeniedException")).is_retryable());
        assert!(secret_error("s", generic("ThrottlingException")).is_retryable());
        let timeout: SdkError<GetSecretValueError, ()> = SdkError::timeout_error("slow");
        let e = secret_error("s", timeout);
        assert!(e.is_retryable());
        // The cause, not the SDK's bare "request has timed out".
        assert!(e.to_string().contains("request has timed out: slow"), "{e}");
        assert!(e.source().is_some());
    }

    #[tokio::test]
    async fn text_without_references_is_unchanged() {
        let text = r#"{"name":"n","config":{"a":"b"}}"#;
        assert!(!has_references(text));
        let (out, red) = resolve_config_text(text, &source()).await.unwrap();
        assert_eq!(
            serde_json::from_str::<Json>(&out).unwrap(),
            serde_json::from_str::<Json>(text).unwrap()
        );
        assert_eq!(red.redact("abc"), "abc");
    }
}

//! AWS plumbing shared by every AWS-facing part: one SDK configuration per
//! process (default credential chain, bounded timeouts, one HTTPS client),
//! per-service overrides of it, and the two IAM tokens.
//!
//! **One configuration, loaded once.** The credential chain, the region
//! lookup and the HTTPS client are resolved on the first call of
//! [`shared_config`] and reused by every client the process makes (DynamoDB,
//! Secrets Manager, RDS, the token signers): a Lambda cold start reads the
//! environment, the profile files and IMDS once, not once per client, and
//! every client shares one connection pool. [`service_config`] layers a
//! service's own region or endpoint over it without reloading anything.
//!
//! Both tokens are SigV4 *presigned URLs* (AWS General Reference, "Signature
//! Version 4: query string authentication"): the signature, the signing time
//! and the lifetime travel as `X-Amz-*` query parameters, and the service
//! recomputes the signature from its copy of the credentials' secret.
//!
//! * **RDS IAM database authentication** ("Connecting to your DB instance
//!   using IAM authentication"): `aws_sdk_rds::auth_token::AuthTokenGenerator`
//!   presigns `GET https://<host>:<port>/?Action=connect&DBUser=<user>` for
//!   service `rds-db`, valid 900 s. The URL without its scheme is the
//!   password; the client sends it with the `mysql_clear_password` plugin,
//!   which RDS accepts only over TLS. The token is checked when the
//!   connection is made, so a fresh one is signed for every connection and a
//!   long-lived connection outlives its token without harm.
//! * **MSK IAM** (the `aws-msk-iam-sasl-signer` libraries' wire format; no
//!   maintained Rust crate signs it, so it is ours):
//!   `GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect`
//!   signed for service `kafka-cluster`, valid 900 s, then an unsigned
//!   `User-Agent` parameter appended; the unpadded base64url of that URL is
//!   the SASL/OAUTHBEARER token. rskafka asks for a token on every broker
//!   connection, and [`MskIamTokens`] re-signs when the cached one is within
//!   a minute of expiry.
//!
//! Signing itself is pure ([`rds_auth_token`], [`msk_auth_token`] take the
//! credentials and the clock), so tests check it against fixed inputs;
//! only fetching credentials from the chain is I/O.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use tokio::sync::{Mutex, OnceCell};

use crate::error::{BoxError, Error, Result};

/// How long IAM tokens live: both services cap presigned tokens at 15 min.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(900);

/// Re-sign a cached MSK token when less than this is left, so a broker
/// connection never starts its handshake with a token about to expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The process's one SDK configuration.
static SHARED: OnceCell<SdkConfig> = OnceCell::const_new();

/// The SDK configuration every client of this process starts from, loaded
/// on first use: the default credential chain (Lambda role, env, profile,
/// IMDS), the chain's region, timeouts that keep every call inside a poll's
/// budget, and one HTTPS client (hyper 1, rustls with aws-lc-rs, the
/// `HTTPS_PROXY` variables honoured as the SDK's default client does).
///
/// Per-service endpoints for local testing come from the SDK's own
/// variables (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_RDS`, ...),
/// which the loader reads and each client applies to its own service.
pub async fn shared_config() -> &'static SdkConfig {
    SHARED
        .get_or_init(|| async {
            aws_config::defaults(BehaviorVersion::latest())
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(Duration::from_secs(3))
                        .operation_attempt_timeout(Duration::from_secs(5))
                        .operation_timeout(Duration::from_secs(15))
                        .build(),
                )
                .http_client(https_client())
                .load()
                .await
        })
        .await
}

/// The HTTPS client of [`shared_config`]: what the SDK builds by default
/// for each client, built once so all clients share its connection pool.
fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .proxy_config(ProxyConfig::from_env());
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.build()
    })
}

/// [`shared_config`] with a service's own region and endpoint over it.
///
/// When neither the override nor the chain names a region and a local
/// endpoint is configured (`endpoint`, or `AWS_ENDPOINT_URL[_<SERVICE>]`
/// per `endpoint_vars`), the region is `us-east-1`: a local server ignores
/// it, but the SDK needs one to sign. `None` when there is no region at
/// all, for the caller to turn into its own error naming its region key.
pub async fn service_config(
    region: Option<&str>,
    endpoint: Option<&str>,
    endpoint_vars: &[&str],
) -> Option<SdkConfig> {
    let shared = shared_config().await;
    let mut builder = shared.to_builder();
    let region = region
        .map(|r| Region::new(r.to_string()))
        .or_else(|| shared.region().cloned());
    if let Some(ep) = endpoint {
        builder = builder.endpoint_url(ep);
    }
    let region = match region {
        Some(r) => r,
        None => {
            let local = endpoint.is_some()
                || std::iter::once("AWS_ENDPOINT_URL")
                    .chain(endpoint_vars.iter().copied())
                    .any(|v| std::env::var_os(v).is_some());
            if !local {
                return None;
            }
            Region::from_static("us-east-1")
        }
    };
    Some(builder.region(region).build())
}

/// A failed SDK call in one short line: the service's error code, message
/// and request id for a service error; the cause chain otherwise (timeout,
/// connection refused). Never the SDK's `Debug` dump of the raw response,
/// which runs to kilobytes and is what `DisplayErrorContext` appends.
pub fn sdk_error_text<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> String
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_dynamodb::operation::RequestId as _;
    if let Some(service) = e.as_service_error() {
        let meta = service.meta();
        let mut out = meta.code().unwrap_or("unknown service error").to_string();
        if let Some(m) = meta.message().filter(|m| !m.is_empty()) {
            out.push_str(": ");
            out.push_str(m);
        }
        if let Some(id) = meta.request_id() {
            out.push_str(&format!(" (request id {id})"));
        }
        return out;
    }
    let mut out = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// The region in an AWS endpoint host name: RDS
/// (`db.abc123.eu-west-1.rds.amazonaws.com`) or MSK
/// (`b-1.cluster.abc123.c2.kafka.eu-west-1.amazonaws.com`).
pub fn region_from_host(host: &str) -> Option<&str> {
    let host = host.split(':').next()?;
    let labels: Vec<&str> = host.split('.').collect();
    let service_at = labels.iter().position(|l| *l == "rds" || *l == "kafka")?;
    let region = match labels[service_at] {
        // <id>.<region>.rds.amazonaws.com
        "rds" => labels.get(service_at.checked_sub(1)?)?,
        // ...kafka.<region>.amazonaws.com
        _ => labels.get(service_at + 1)?,
    };
    (region.split('-').count() >= 3).then_some(region)
}

/// Percent-encoding as SigV4 canonicalises query values: everything but
/// `A-Z a-z 0-9 - _ . ~` becomes `%XX`.
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Presigns `GET url` (already encoded, with its own query) and returns it
/// with the `X-Amz-*` parameters appended.
fn presign(
    creds: &Credentials,
    region: &str,
    service: &str,
    url: &str,
    now: SystemTime,
) -> std::result::Result<String, BoxError> {
    let identity: Identity = creds.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_LIFETIME);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(now)
        .settings(settings)
        .build()?;
    let request = SignableRequest::new("GET", url, std::iter::empty(), SignableBody::empty())?;
    let (instructions, _) = sign(request, &params.into())?.into_parts();
    let mut out = url.to_string();
    for (name, value) in instructions.params() {
        out.push('&');
        out.push_str(name);
        out.push('=');
        out.push_str(&uri_encode(value));
    }
    Ok(out)
}

/// An RDS IAM database authentication token for `user` at `host:port`,
/// signed at `now` by the SDK's `AuthTokenGenerator`; the password for one
/// new connection.
pub async fn rds_auth_token(
    creds: &Credentials,
    region: &str,
    host: &str,
    port: u16,
    user: &str,
    now: SystemTime,
) -> std::result::Result<String, BoxError> {
    use aws_sdk_rds::auth_token::{AuthTokenGenerator, Config};
    let generator = AuthTokenGenerator::new(
        Config::builder()
            .credentials(creds.clone())
            .region(Region::new(region.to_string()))
            .hostname(host)
            .port(u64::from(port))
            .username(user)
            .build()?,
    );
    // The generator reads only the clock from the SDK config: the
    // credentials and region above take precedence over the config's.
    let clock = SdkConfig::builder()
        .time_source(aws_smithy_async::time::StaticTimeSource::new(now))
        .build();
    Ok(generator.auth_token(&clock).await?.as_str().to_string())
}

/// The identifier MSK logs for our connections.
const MSK_USER_AGENT: &str = concat!("binlog-poller/", env!("CARGO_PKG_VERSION"));

/// An MSK IAM SASL/OAUTHBEARER token signed at `now`, and when it expires.
pub fn msk_auth_token(
    creds: &Credentials,
    region: &str,
    now: SystemTime,
) -> std::result::Result<(String, SystemTime), BoxError> {
    let url = format!("https://kafka.{region}.amazonaws.com/?Action=kafka-cluster%3AConnect");
    let mut signed = presign(creds, region, "kafka-cluster", &url, now)?;
    signed.push_str("&User-Agent=");
    signed.push_str(&uri_encode(MSK_USER_AGENT));
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signed);
    Ok((token, now + TOKEN_LIFETIME))
}

/// Credentials and region from the default chain, for signing tokens.
#[derive(Clone)]
pub struct IamSigner {
    conf: SdkConfig,
    region: String,
}

impl std::fmt::Debug for IamSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamSigner")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl IamSigner {
    /// Loads the chain. The region is `region` if given, else the one in
    /// `host` (an RDS or MSK endpoint), else the chain's (`AWS_REGION`).
    /// `what` names the token in errors.
    pub async fn load(what: &'static str, region: Option<&str>, host: &str) -> Result<Self> {
        let region = region
            .or_else(|| region_from_host(host))
            .map(str::to_string);
        let conf = shared_config().await.clone();
        let Some(region) = region.or_else(|| conf.region().map(|r| r.to_string())) else {
            return Err(Error::IamToken {
                what,
                reason: "no AWS region".into(),
                hint: "set AWS_REGION, or the region key of this auth method (database.iam.region, kafka.sasl.aws.region)",
                retryable: false,
                source: None,
            });
        };
        Ok(Self { conf, region })
    }

    /// The region tokens are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Current credentials (the chain caches and refreshes them).
    pub async fn credentials(&self, what: &'static str) -> Result<Credentials> {
        let Some(provider) = self.conf.credentials_provider() else {
            return Err(Error::IamToken {
                what,
                reason: "no AWS credentials provider".into(),
                hint: "run with an IAM role (Lambda) or set AWS credentials in the environment or a profile",
                retryable: false,
                source: None,
            });
        };
        provider
            .provide_credentials()
            .await
            .map_err(|e| Error::IamToken {
                what,
                reason: format!("no AWS credentials: {e}"),
                hint: "run with an IAM role (Lambda) or set AWS credentials in the environment or a profile",
                retryable: true,
                source: Some(Box::new(e)),
            })
    }
}

const RDS_TOKEN: &str = "RDS IAM database auth token";
const MSK_TOKEN: &str = "MSK IAM token";

/// A fresh RDS IAM token for a new connection.
pub async fn rds_token(signer: &IamSigner, host: &str, port: u16, user: &str) -> Result<String> {
    let creds = signer.credentials(RDS_TOKEN).await?;
    rds_auth_token(&creds, signer.region(), host, port, user, SystemTime::now())
        .await
        .map_err(|e| signing_failed(RDS_TOKEN, e))
}

/// Signing `what` failed: the signer's error is the source.
fn signing_failed(what: &'static str, e: BoxError) -> Error {
    Error::IamToken {
        what,
        reason: e.to_string(),
        hint: "check the AWS credentials",
        retryable: false,
        source: Some(e),
    }
}

/// MSK IAM tokens, cached until a minute before expiry.
#[derive(Debug, Clone)]
pub struct MskIamTokens {
    signer: IamSigner,
    cached: Arc<Mutex<Option<(String, SystemTime)>>>,
}

impl MskIamTokens {
    /// Tokens signed by `signer`.
    pub fn new(signer: IamSigner) -> Self {
        Self {
            signer,
            cached: Arc::new(Mutex::new(None)),
        }
    }

    /// A token with at least `REFRESH_MARGIN` left.
    pub async fn token(&self) -> Result<String> {
        let mut cached = self.cached.lock().await;
        let now = SystemTime::now();
        if let Some((token, expires)) = cached.as_ref() {
            if *expires > now + REFRESH_MARGIN {
                return Ok(token.clone());
            }
        }
        let creds = self.signer.credentials(MSK_TOKEN).await?;
        let (token, expires) = msk_auth_token(&creds, self.signer.region(), now)
            .map_err(|e| signing_failed(MSK_TOKEN, e))?;
        *cached = Some((token.clone(), expires));
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn creds(token: Option<&str>) -> Credentials {
        Credentials::new("akid", "secret", token.map(str::to_string), None, "test")
    }

    /// The value of `name` in a `k=v&k=v` query.
    fn param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
        url.split_once('?')?
            .1
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    }

    #[tokio::test]
    async fn rds_token_matches_the_sdk_published_vector() {
        // The known answer from aws-sdk-rust's own RDS AuthTokenGenerator
        // test (akid/secret, 2024-08-26T22:00:00Z): the credentials, region
        // and clock we pass reach the generator unchanged.
        let t = rds_auth_token(
            &creds(None),
            "us-east-1",
            "prod-instance.us-east-1.rds.amazonaws.com",
            3306,
            "peccy",
            UNIX_EPOCH + Duration::from_secs(1_724_709_600),
        )
        .await
        .unwrap();
        assert_eq!(
            t,
            "prod-instance.us-east-1.rds.amazonaws.com:3306/?Action=connect&DBUser=peccy&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=akid%2F20240826%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=20240826T220000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=dd0cba843009474347af724090233265628ace491ea17ce3eb3da098b983ad89"
        );
    }

    #[tokio::test]
    async fn rds_token_carries_scope_expiry_and_session_token() {
        let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000); // 2026-09-21T14:13:20Z
        let t = rds_auth_token(&creds(Some("tok/en+=")), "eu-west-1", "h", 3306, "cdc", now)
            .await
            .unwrap();
        assert!(t.starts_with("h:3306/?Action=connect&DBUser=cdc&"), "{t}");
        assert_eq!(
            param(&t, "X-Amz-Credential"),
            Some("akid%2F20260921%2Feu-west-1%2Frds-db%2Faws4_request")
        );
        assert_eq!(param(&t, "X-Amz-Date"), Some("20260921T141320Z"));
        assert_eq!(param(&t, "X-Amz-Expires"), Some("900"));
        assert_eq!(param(&t, "X-Amz-Security-Token"), Some("tok%2Fen%2B%3D"));
        assert_eq!(param(&t, "X-Amz-Signature").map(str::len), Some(64));
        // A different clock or secret gives a different signature.
        let later = rds_auth_token(
            &creds(Some("tok/en+=")),
            "eu-west-1",
            "h",
            3306,
            "cdc",
            now + Duration::from_secs(1),
        )
        .await
        .unwrap();
        assert_ne!(
            param(&t, "X-Amz-Signature"),
            param(&later, "X-Amz-Signature")
        );
    }

    #[test]
    fn msk_token_is_base64url_of_a_presigned_connect_url() {
        let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let (token, expires) = msk_auth_token(&creds(None), "us-east-1", now).unwrap();
        assert_eq!(expires, now + Duration::from_secs(900));
        assert!(!token.contains('=') && !token.contains('+') && !token.contains('/'));
        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&token)
                .unwrap(),
        )
        .unwrap();
        assert!(
            url.starts_with("https://kafka.us-east-1.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Algorithm=AWS4-HMAC-SHA256&"),
            "{url}"
        );
        assert_eq!(
            param(&url, "X-Amz-Credential"),
            Some("akid%2F20260921%2Fus-east-1%2Fkafka-cluster%2Faws4_request")
        );
        assert_eq!(param(&url, "X-Amz-Expires"), Some("900"));
        assert!(param(&url, "User-Agent")
            .unwrap()
            .starts_with("binlog-poller%2F"));
    }

    #[test]
    fn regions_come_from_endpoint_names() {
        assert_eq!(
            region_from_host("db.abc123xyz.eu-west-1.rds.amazonaws.com"),
            Some("eu-west-1")
        );
        assert_eq!(
            region_from_host("b-1.c1.abc123.c2.kafka.ap-southeast-2.amazonaws.com:9098"),
            Some("ap-southeast-2")
        );
        assert_eq!(region_from_host("127.0.0.1"), None);
        assert_eq!(region_from_host("kafka.local"), None);
    }

    #[test]
    fn encoding_keeps_only_unreserved_bytes() {
        assert_eq!(uri_encode("aZ09-_.~"), "aZ09-_.~");
        assert_eq!(uri_encode("a/b c:é"), "a%2Fb%20c%3A%C3%A9");
    }
}

//! How the connector reaches Kafka: `kafka.security.protocol`, TLS trust and
//! SASL (PLAIN, SCRAM, AWS MSK IAM), with credentials from
//! `kafka.sasl.username`/`password` or a Kafka JAAS line, so existing
//! producer configs carry over.

use super::reader::Reader;
use super::Secret;

/// `kafka.security.protocol`, Kafka's names and meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KafkaProtocol {
    /// No TLS, no authentication (Kafka's default).
    Plaintext,
    /// TLS, no SASL.
    Ssl,
    /// SASL without TLS.
    SaslPlaintext,
    /// SASL over TLS (MSK's SCRAM and IAM listeners).
    SaslSsl,
}

impl KafkaProtocol {
    /// The configured name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plaintext => "PLAINTEXT",
            Self::Ssl => "SSL",
            Self::SaslPlaintext => "SASL_PLAINTEXT",
            Self::SaslSsl => "SASL_SSL",
        }
    }
    /// Whether the connection is TLS.
    pub fn tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }
    /// Whether the connection authenticates with SASL.
    pub fn sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

/// `kafka.sasl.mechanism`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    /// `PLAIN`: user and password in the clear (use with SASL_SSL).
    Plain,
    /// `SCRAM-SHA-256`.
    ScramSha256,
    /// `SCRAM-SHA-512` (MSK's SCRAM).
    ScramSha512,
    /// `AWS_MSK_IAM`: an MSK IAM token over SASL/OAUTHBEARER.
    AwsMskIam,
}

impl SaslMechanism {
    /// The configured name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
            Self::AwsMskIam => "AWS_MSK_IAM",
        }
    }
}

/// How to reach Kafka: transport and authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaSecurity {
    /// `kafka.security.protocol`; default `PLAINTEXT`, Kafka's default
    /// (MSK: `SASL_SSL` on port 9096 for SCRAM, 9098 for IAM; `SSL` on 9094).
    pub protocol: KafkaProtocol,
    /// `kafka.ssl.ca`: CA certificates (PEM path or inline) for the brokers'
    /// certificates; default the public web roots, which sign MSK's.
    pub ssl_ca: Option<String>,
    /// `kafka.ssl.endpoint.identification.algorithm`: `https` (default, as
    /// Kafka) checks that the certificate names the broker; empty skips it.
    pub verify_hostname: bool,
    /// `kafka.sasl.mechanism` with its credentials, for `SASL_*`.
    pub sasl: Option<KafkaSasl>,
}

/// SASL credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KafkaSasl {
    /// PLAIN or SCRAM: `kafka.sasl.username` / `kafka.sasl.password`, or the
    /// `username="..." password="..."` of `kafka.sasl.jaas.config`.
    Password {
        /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
        mechanism: SaslMechanism,
        /// The user.
        username: String,
        /// Never logged.
        password: Secret,
    },
    /// MSK IAM; `kafka.sasl.aws.region` defaults to the broker host name's
    /// region, else the AWS chain's.
    AwsMskIam {
        /// Signing region override.
        region: Option<String>,
    },
}

impl KafkaSasl {
    /// The mechanism.
    pub fn mechanism(&self) -> SaslMechanism {
        match self {
            Self::Password { mechanism, .. } => *mechanism,
            Self::AwsMskIam { .. } => SaslMechanism::AwsMskIam,
        }
    }
}

/// `key="value"` out of a JAAS line such as Kafka's
/// `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";`.
pub(super) fn jaas_option(jaas: &str, key: &str) -> Option<String> {
    let mut rest = jaas;
    while let Some(i) = rest.find(key) {
        let before_ok = i == 0 || rest.as_bytes()[i - 1].is_ascii_whitespace();
        let after = rest[i + key.len()..].trim_start();
        if before_ok {
            if let Some(v) = after.strip_prefix('=').map(str::trim_start) {
                let v = v.strip_prefix('"')?;
                return v.find('"').map(|end| v[..end].to_string());
            }
        }
        rest = &rest[i + key.len()..];
    }
    None
}

impl KafkaSecurity {
    /// Reads the `kafka.security.*`, `kafka.ssl.*` and `kafka.sasl.*` keys.
    pub(super) fn read(r: &mut Reader<'_>) -> Self {
        let protocol = r.choice(
            "kafka.security.protocol",
            KafkaProtocol::Plaintext,
            &[
                ("PLAINTEXT", KafkaProtocol::Plaintext),
                ("SSL", KafkaProtocol::Ssl),
                ("SASL_PLAINTEXT", KafkaProtocol::SaslPlaintext),
                ("SASL_SSL", KafkaProtocol::SaslSsl),
            ],
        );
        let ssl_ca = r.opt_str("kafka.ssl.ca");
        let verify_hostname = match r.raw_value("kafka.ssl.endpoint.identification.algorithm") {
            None => true,
            Some(v) if v.trim().is_empty() => false,
            Some(v) if v.trim().eq_ignore_ascii_case("https") => true,
            Some(v) => {
                r.problems.push(format!(
                    "kafka.ssl.endpoint.identification.algorithm: {v:?} is not https or empty"
                ));
                true
            }
        };
        if !protocol.tls() && (ssl_ca.is_some() || !verify_hostname) {
            r.problems.push(format!(
                "kafka.ssl.* is set but kafka.security.protocol={} has no TLS; use SSL or SASL_SSL",
                protocol.as_str()
            ));
        }
        let mechanism = r.opt_str("kafka.sasl.mechanism").and_then(|m| {
            let found = [
                SaslMechanism::Plain,
                SaslMechanism::ScramSha256,
                SaslMechanism::ScramSha512,
                SaslMechanism::AwsMskIam,
            ]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(&m));
            if found.is_none() {
                r.problems.push(format!(
                    "kafka.sasl.mechanism: unsupported {m:?}; one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, AWS_MSK_IAM"
                ));
            }
            found
        });
        let jaas = r.opt_str("kafka.sasl.jaas.config");
        // Asked for whatever the mechanism, so none is reported as unknown.
        let aws_region = r.opt_str("kafka.sasl.aws.region");
        let sasl_username = r.opt_str("kafka.sasl.username");
        let sasl_password = r.opt_str("kafka.sasl.password");
        let sasl = match (protocol.sasl(), mechanism) {
            (false, None) => None,
            (false, Some(m)) => {
                r.problems.push(format!(
                    "kafka.sasl.mechanism={} needs kafka.security.protocol=SASL_SSL (or SASL_PLAINTEXT)",
                    m.as_str()
                ));
                None
            }
            (true, None) => {
                if r.opt_str("kafka.sasl.mechanism").is_none() {
                    r.problems.push(format!(
                        "kafka.security.protocol={} needs kafka.sasl.mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or AWS_MSK_IAM",
                        protocol.as_str()
                    ));
                }
                None
            }
            (true, Some(SaslMechanism::AwsMskIam)) => {
                if protocol != KafkaProtocol::SaslSsl {
                    r.problems.push(
                        "kafka.sasl.mechanism=AWS_MSK_IAM needs kafka.security.protocol=SASL_SSL (MSK's IAM listener, port 9098, is TLS only)".into(),
                    );
                }
                Some(KafkaSasl::AwsMskIam { region: aws_region })
            }
            (true, Some(mechanism)) => {
                let from_jaas = |key| jaas.as_deref().and_then(|j| jaas_option(j, key));
                let username = sasl_username.or_else(|| from_jaas("username"));
                let password = sasl_password.or_else(|| from_jaas("password"));
                match (username, password) {
                    (Some(username), Some(password)) => Some(KafkaSasl::Password {
                        mechanism,
                        username,
                        password: Secret::new(password),
                    }),
                    _ => {
                        r.problems.push(format!(
                            "kafka.sasl.mechanism={} needs kafka.sasl.username and kafka.sasl.password (or username=\"...\" password=\"...\" in kafka.sasl.jaas.config)",
                            mechanism.as_str()
                        ));
                        None
                    }
                }
            }
        };
        Self {
            protocol,
            ssl_ca,
            verify_hostname,
            sasl,
        }
    }
}

//! Unit tests of the Kafka sink: error classification and explanation.

use std::error::Error as _;

use rskafka::client::error::RequestError;
use rskafka::{BackoffError, ConnectionError, SaslError};

use super::*;
use crate::config::{KafkaProtocol, SaslMechanism, Secret};

/// An error rskafka keeps only as text (its private `MultiError`).
#[derive(Debug)]
struct Opaque(&'static str);

impl std::fmt::Display for Opaque {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Opaque {}

/// What `ClientBuilder::build` returns when every connect attempt
/// failed: the broker errors behind an `Arc` in the backoff error.
fn gave_up(errors: impl std::error::Error + Send + Sync + 'static) -> KError {
    let shared: Arc<dyn std::error::Error + Send + Sync> = Arc::new(errors);
    KError::Connection(ConnectionError::RetryFailed(
        BackoffError::DeadlineExceded {
            deadline: Duration::ZERO,
            source: Box::new(shared),
        },
    ))
}

fn sasl_ssl() -> KafkaSecurity {
    KafkaSecurity {
        protocol: KafkaProtocol::SaslSsl,
        ssl_ca: None,
        verify_hostname: true,
        sasl: Some(KafkaSasl::Password {
            mechanism: SaslMechanism::ScramSha512,
            username: "alice".into(),
            password: Secret::new("pw-that-must-not-leak"),
        }),
    }
}

fn untrusted_io() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
    )
}

#[test]
fn typed_sasl_failures_are_login_refusals() {
    let e = KError::Connection(ConnectionError::SaslFailed(
        SaslError::UnsupportedSaslMechanism,
    ));
    assert_eq!(refusal(&e), Some(Refusal::Login));
    let e = KError::ServerError {
        protocol_error: ProtocolError::SaslAuthenticationFailed,
        error_message: None,
        request: rskafka::client::error::RequestContext::Topic("t".into()),
        response: None,
        is_virtual: false,
    };
    assert_eq!(refusal(&e), Some(Refusal::Login));
}

#[test]
fn rustls_certificate_errors_inside_io_errors_are_tls_refusals() {
    // io::Error::source skips the error it wraps; the walk must not.
    let e = KError::Request(RequestError::IO(untrusted_io()));
    assert_eq!(refusal(&e), Some(Refusal::Certificate));
    // An I/O error that is not TLS is nothing we explain.
    let e = KError::Request(RequestError::IO(std::io::Error::from(
        std::io::ErrorKind::ConnectionRefused,
    )));
    assert_eq!(refusal(&e), None);
    // Nor is a rustls error other than a certificate's.
    let e = KError::Request(RequestError::IO(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        rustls::Error::DecryptError,
    )));
    assert_eq!(refusal(&e), None);
}

#[test]
fn typed_layers_are_not_read_as_text() {
    // Text that looks like a refusal in an error of a known type.
    let e = KError::InvalidResponse("Sasl handshake failed: invalid peer certificate".into());
    assert_eq!(refusal(&e), None);
    // A typed error behind the retry layer is walked by type too.
    assert_eq!(
        refusal(&gave_up(RequestError::IO(untrusted_io()))),
        Some(Refusal::Certificate)
    );
    assert_eq!(
        refusal(&gave_up(KError::InvalidResponse(
            "Sasl handshake failed".into()
        ))),
        None
    );
}

#[test]
fn retried_connects_known_only_as_text_are_classified() {
    let login = gave_up(Opaque(
        "Sasl handshake failed: Sasl session error: authentication failed",
    ));
    assert_eq!(refusal(&login), Some(Refusal::Login));
    let cert = gave_up(Opaque(
        "error connecting to broker \"localhost:9093\": IO Error: invalid peer certificate: UnknownIssuer",
    ));
    assert_eq!(refusal(&cert), Some(Refusal::Certificate));
    let down = gave_up(Opaque(
        "error connecting to broker \"localhost:9093\": IO Error: Connection refused (os error 111)",
    ));
    assert_eq!(refusal(&down), None);
}

#[test]
fn explained_errors_keep_their_text_and_source() {
    let sec = sasl_ssl();
    let e = explain_login(
        kerr(
            "localhost:9093",
            "connect",
            gave_up(Opaque("Sasl handshake failed: bad password")),
        ),
        &sec,
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with("Kafka connect failed on localhost:9093: authentication failed: Connection error: all retries failed")
            && msg.contains("Sasl handshake failed: bad password")
            && msg.contains("kafka.sasl.password")
            && !msg.contains("pw-that-must-not-leak"),
        "{msg}"
    );
    let source = e.source().expect("the rskafka error is the source");
    assert!(source.is::<KError>(), "{source:?}");
    assert!(e.is_retryable());

    let e = explain_login(
        kerr(
            "localhost:9093",
            "connect",
            KError::Request(RequestError::IO(untrusted_io())),
        ),
        &sec,
    );
    assert!(
        e.to_string().contains(
            ": TLS handshake failed: Request error: Cannot read/write data: invalid peer certificate: UnknownIssuer; set kafka.ssl.ca"
        ),
        "{e}"
    );

    // Without SASL configured a login refusal is left as it is.
    let plain = KafkaSecurity {
        protocol: KafkaProtocol::Ssl,
        sasl: None,
        ..sec
    };
    let e = explain_login(
        kerr(
            "b:9093",
            "connect",
            gave_up(Opaque("Sasl handshake failed: x")),
        ),
        &plain,
    );
    assert!(!e.to_string().contains("authentication failed"), "{e}");
    assert!(e.source().is_some());
}

#[test]
fn timeouts_have_no_source_and_stay_retryable() {
    let e = timeout_err("b:9092", "produce", Duration::from_secs(3));
    assert!(e.source().is_none());
    assert!(e.is_retryable());
    assert_eq!(refusal_of(&e), None);
}

#[test]
fn an_unreachable_broker_names_what_to_check() {
    let e = explain_login(
        kerr(
            "localhost:9093",
            "connect (PLAINTEXT)",
            gave_up(Opaque(
                "error connecting to broker \"localhost:9093\": IO Error: Connection refused (os error 111)",
            )),
        ),
        &KafkaSecurity {
            protocol: KafkaProtocol::Plaintext,
            ssl_ca: None,
            verify_hostname: true,
            sasl: None,
        },
    );
    let msg = e.to_string();
    assert!(
        msg.contains("check kafka.bootstrap.servers") && msg.contains("9098 IAM"),
        "{msg}"
    );
}

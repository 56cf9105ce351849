//! rustls setup shared by the MySQL and Kafka connections.
//!
//! * One crypto provider, installed explicitly: the AWS SDK compiles in
//!   aws-lc-rs and rskafka's TLS transport compiles in ring, and with two
//!   providers rustls refuses to pick a default (it panics at the first
//!   handshake). Kafka's client config is built with aws-lc-rs directly.
//! * Kafka trust: `kafka.ssl.ca` (a PEM path or the PEM itself), else the
//!   system trust store, which holds the Amazon roots MSK's certificates
//!   chain to. As Kafka's `ssl.endpoint.identification.algorithm`, an empty
//!   value keeps the chain check but skips the host-name check.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// Installs aws-lc-rs as the process-wide rustls provider (once).
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

/// Whether `host` is this machine, where plaintext never leaves the host.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a config value is PEM text rather than a path to it.
pub fn is_inline_pem(value: &str) -> bool {
    value.trim_start().starts_with("-----BEGIN")
}

/// The certificates in `value` (PEM path or inline PEM); `what` names the
/// config key in errors.
fn certificates(value: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = if is_inline_pem(value) {
        value.as_bytes().to_vec()
    } else {
        std::fs::read(value).map_err(|e| format!("{what}: cannot read {value:?}: {e}"))?
    };
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{what}: not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{what}: no certificate in {value:?}"));
    }
    Ok(certs)
}

/// A client config for Kafka brokers.
pub fn kafka_client_config(
    ca: Option<&str>,
    verify_hostname: bool,
) -> Result<ClientConfig, String> {
    install_crypto_provider();
    let mut roots = RootCertStore::empty();
    match ca {
        Some(ca) => {
            for cert in certificates(ca, "kafka.ssl.ca")? {
                roots
                    .add(cert)
                    .map_err(|e| format!("kafka.ssl.ca: unusable certificate: {e}"))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(format!(
                    "no system CA certificates found ({} errors); set kafka.ssl.ca",
                    found.errors.len()
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("kafka.ssl.ca: {e}"))?;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = if verify_hostname {
        builder.with_webpki_verifier(verifier)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly(verifier)))
    };
    Ok(config.with_no_client_auth())
}

/// Checks the chain and the signatures, accepts any host name.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["db.internal", "10.0.0.1", "mysql", "localhost.example.com"] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn ca_errors_name_the_key() {
        let e = kafka_client_config(Some("/nonexistent/ca.pem"), true).unwrap_err();
        assert!(e.starts_with("kafka.ssl.ca: cannot read"), "{e}");
        let e = kafka_client_config(
            Some("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"),
            true,
        )
        .unwrap_err();
        assert!(e.starts_with("kafka.ssl.ca:"), "{e}");
    }
}

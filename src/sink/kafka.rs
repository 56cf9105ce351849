//! Kafka through `rskafka`.
//!
//! * Topics are created on first use with `topic.creation.default.*`; an
//!   existing topic keeps its partition count, which is read from metadata.
//! * Every call is bounded twice: rskafka's own backoff gets a deadline
//!   (its default retries forever), and each await is wrapped in
//!   `tokio::time::timeout`, so a dead broker fails the poll inside its
//!   budget instead of hanging the Lambda until it is killed.
//! * Produce uses `acks=all` (rskafka always sends `-1`).
//! * A send groups records by topic-partition keeping their order, cuts
//!   each group into batches below `kafka.max.request.size` and sends the
//!   batches of one partition one after another, all partitions at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::try_join_all;
use rskafka::chrono::{TimeZone, Utc};
use rskafka::client::error::Error as KError;
use rskafka::client::error::ProtocolError;
use rskafka::client::partition::{
    Compression as KCompression, PartitionClient, UnknownTopicHandling,
};
use rskafka::client::{
    Client, ClientBuilder, Credentials, OauthBearerCredentials, OauthCallback, SaslConfig,
};
use rskafka::BackoffConfig;

use super::{partition_for, Sink};
use crate::config::{Compression, Config, KafkaSasl, KafkaSecurity};
use crate::encode::Record;
use crate::error::{Error, Result};

/// Settings for [`KafkaSink`].
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// Bootstrap brokers, `host:port`.
    pub bootstrap: Vec<String>,
    /// Batch compression.
    pub compression: Compression,
    /// Bound on every broker call.
    pub timeout: Duration,
    /// Largest record batch we send (and so the largest record).
    pub max_request_bytes: usize,
    /// Partitions for new topics.
    pub partitions: i32,
    /// Replication factor for new topics (-1: broker default).
    pub replication_factor: i16,
    /// Transport and authentication.
    pub security: KafkaSecurity,
}

impl From<&Config> for KafkaSettings {
    fn from(c: &Config) -> Self {
        Self {
            bootstrap: c.kafka_bootstrap.clone(),
            compression: c.compression,
            timeout: c.kafka_timeout,
            max_request_bytes: c.kafka_max_record_bytes,
            partitions: c.partitions,
            replication_factor: c.replication_factor,
            security: c.kafka_security.clone(),
        }
    }
}

/// A [`Sink`] writing to Kafka.
pub struct KafkaSink {
    client: Client,
    settings: KafkaSettings,
    brokers: String,
    topics: HashMap<Arc<str>, Vec<Arc<PartitionClient>>>,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink")
            .field("brokers", &self.brokers)
            .finish()
    }
}

impl KafkaSink {
    /// Connects to the bootstrap brokers with the configured TLS and SASL.
    ///
    /// rskafka authenticates every broker connection it opens and retries a
    /// failed handshake with backoff, so a rejected login surfaces when the
    /// backoff deadline (`kafka.request.timeout.ms`) runs out; the error then
    /// names the mechanism and the user.
    pub async fn connect(settings: KafkaSettings) -> Result<Self> {
        let brokers = settings.bootstrap.join(",");
        let backoff = BackoffConfig {
            init_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
            // Inside the outer timeout, so rskafka's own error (a refused
            // login, say) is what surfaces rather than a bare timeout.
            deadline: Some(settings.timeout.mul_f64(0.9)),
        };
        let mut build = ClientBuilder::new(settings.bootstrap.clone())
            .client_id("binlog-poller")
            .max_message_size(settings.max_request_bytes.max(1 << 20) * 2 + (1 << 20))
            .backoff_config(backoff);
        let sec = &settings.security;
        let during = format!("connect ({})", describe(sec));
        let tls = match sec.protocol.tls() {
            true => Some(Arc::new(
                crate::platform::tls::kafka_client_config(
                    sec.ssl_ca.as_deref(),
                    sec.verify_hostname,
                )
                .map_err(|reason| Error::Kafka {
                    brokers: brokers.clone(),
                    during: during.clone(),
                    reason,
                    source: None,
                })?,
            )),
            false => None,
        };
        if let Some(tls) = &tls {
            build = build.tls_config(tls.clone());
        }
        if let Some(sasl) = &sec.sasl {
            let sasl = sasl_config(sasl, &settings.bootstrap[0]).await?;
            probe_login(&settings, tls.clone(), sasl.clone(), &brokers, &during).await?;
            build = build.sasl_config(sasl);
        }
        let client = bounded(&brokers, &during, settings.timeout, build.build())
            .await
            .map_err(|e| explain_login(e, sec))?;
        Ok(Self {
            client,
            settings,
            brokers,
            topics: HashMap::new(),
        })
    }

    /// The rskafka client, for tools that read back what was written.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Partition clients of `topic`, creating the topic when it is missing.
    pub async fn topic(&mut self, topic: &Arc<str>) -> Result<Vec<Arc<PartitionClient>>> {
        if let Some(p) = self.topics.get(topic) {
            return Ok(p.clone());
        }
        let t = self.settings.timeout;
        let listed = bounded(&self.brokers, "list topics", t, self.client.list_topics()).await?;
        let count = match listed.iter().find(|x| *x.name == **topic) {
            Some(existing) => existing.partitions.len() as i32,
            None => {
                let ctrl = self
                    .client
                    .controller_client()
                    .map_err(|e| kerr(&self.brokers, "create topic", e))?;
                let create = ctrl.create_topic(
                    topic.to_string(),
                    self.settings.partitions,
                    self.settings.replication_factor,
                    t.as_millis().min(i32::MAX as u128) as i32,
                );
                match tokio::time::timeout(t, create).await {
                    Ok(Ok(())) => {
                        tracing::info!(topic = %topic, partitions = self.settings.partitions, "created topic");
                        self.settings.partitions
                    }
                    Ok(Err(KError::ServerError {
                        protocol_error: ProtocolError::TopicAlreadyExists,
                        ..
                    })) => {
                        let listed =
                            bounded(&self.brokers, "list topics", t, self.client.list_topics())
                                .await?;
                        listed
                            .iter()
                            .find(|x| *x.name == **topic)
                            .map(|x| x.partitions.len() as i32)
                            .unwrap_or(self.settings.partitions)
                    }
                    Ok(Err(e)) => {
                        return Err(kerr(&self.brokers, &format!("create topic {topic}"), e))
                    }
                    Err(_) => return Err(timeout_err(&self.brokers, "create topic", t)),
                }
            }
        };
        let mut clients = Vec::with_capacity(count as usize);
        for p in 0..count.max(1) {
            let pc = bounded(
                &self.brokers,
                "find partition leader",
                t,
                self.client
                    .partition_client(topic.to_string(), p, UnknownTopicHandling::Retry),
            )
            .await?;
            clients.push(Arc::new(pc));
        }
        self.topics.insert(Arc::clone(topic), clients.clone());
        Ok(clients)
    }

    fn compression(&self) -> KCompression {
        codec(self.settings.compression)
    }
}

/// rskafka's codec for `c`. The config check refuses a codec this build
/// left out (its cargo feature off), so one never reaches a sink made from
/// a checked config; a hand-built [`KafkaSettings`] naming one sends
/// uncompressed rather than fail each batch.
fn codec(c: Compression) -> KCompression {
    match c {
        #[cfg(feature = "compression-gzip")]
        Compression::Gzip => KCompression::Gzip,
        #[cfg(feature = "compression-snappy")]
        Compression::Snappy => KCompression::Snappy,
        #[cfg(feature = "compression-lz4")]
        Compression::Lz4 => KCompression::Lz4,
        #[cfg(feature = "compression-zstd")]
        Compression::Zstd => KCompression::Zstd,
        #[allow(unreachable_patterns)]
        _ => KCompression::NoCompression,
    }
}

impl Sink for KafkaSink {
    async fn send(&mut self, records: Vec<Record>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        // Group by topic-partition, keeping order within each group.
        let mut groups: Vec<(Arc<PartitionClient>, Vec<Record>)> = Vec::new();
        let mut index: HashMap<(Arc<str>, i32), usize> = HashMap::new();
        for r in records {
            if r.size() > self.settings.max_request_bytes {
                // Row changes are checked (with their table and position) when
                // encoded; this guards the other record kinds.
                return Err(Error::RecordTooLarge {
                    topic: r.topic.to_string(),
                    table: "(not a row change)".into(),
                    key: "-".into(),
                    position: "-".into(),
                    size: r.size(),
                    limit: self.settings.max_request_bytes,
                });
            }
            let parts = self.topic(&r.topic).await?;
            let p = partition_for(r.key.as_deref(), parts.len() as i32);
            let slot = *index.entry((Arc::clone(&r.topic), p)).or_insert_with(|| {
                groups.push((Arc::clone(&parts[p as usize]), Vec::new()));
                groups.len() - 1
            });
            groups[slot].1.push(r);
        }
        let compression = self.compression();
        let limit = self.settings.max_request_bytes;
        let timeout = self.settings.timeout;
        let brokers = self.brokers.as_str();
        try_join_all(groups.into_iter().map(|(pc, recs)| async move {
            let mut batch: Vec<rskafka::record::Record> = Vec::new();
            let mut bytes = 0usize;
            for r in recs {
                let sz = r.size() + 64;
                if !batch.is_empty() && bytes + sz > limit {
                    produce(
                        brokers,
                        &pc,
                        std::mem::take(&mut batch),
                        compression,
                        timeout,
                    )
                    .await?;
                    bytes = 0;
                }
                bytes += sz;
                // rskafka's records carry headers as a map: by name, one
                // value each, none null (a null header goes out empty).
                let headers = r
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k, v.unwrap_or_default()))
                    .collect();
                batch.push(rskafka::record::Record {
                    key: r.key,
                    value: r.value,
                    headers,
                    timestamp: Utc
                        .timestamp_millis_opt(r.timestamp_ms)
                        .single()
                        .unwrap_or_default(),
                });
            }
            produce(brokers, &pc, batch, compression, timeout).await
        }))
        .await?;
        Ok(())
    }
}

async fn produce(
    brokers: &str,
    pc: &PartitionClient,
    batch: Vec<rskafka::record::Record>,
    compression: KCompression,
    timeout: Duration,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let what = format!("produce to {}/{}", pc.topic(), pc.partition());
    match tokio::time::timeout(timeout, pc.produce(batch, compression)).await {
        Ok(Ok(_offsets)) => Ok(()),
        Ok(Err(e)) => Err(kerr(brokers, &what, e)),
        Err(_) => Err(timeout_err(brokers, &what, timeout)),
    }
}

async fn bounded<T>(
    brokers: &str,
    what: &str,
    limit: Duration,
    fut: impl std::future::Future<Output = std::result::Result<T, KError>>,
) -> Result<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(kerr(brokers, what, e)),
        Err(_) => Err(timeout_err(brokers, what, limit)),
    }
}

/// `SASL_SSL, SCRAM-SHA-512 as alice`: how we connect, for errors.
pub fn describe(sec: &KafkaSecurity) -> String {
    match &sec.sasl {
        None => sec.protocol.as_str().to_string(),
        Some(KafkaSasl::Password {
            mechanism,
            username,
            ..
        }) => format!(
            "{}, {} as {username}",
            sec.protocol.as_str(),
            mechanism.as_str()
        ),
        Some(KafkaSasl::AwsMskIam { .. }) => {
            format!("{}, AWS_MSK_IAM", sec.protocol.as_str())
        }
    }
}

async fn sasl_config(sasl: &KafkaSasl, first_broker: &str) -> Result<SaslConfig> {
    Ok(match sasl {
        KafkaSasl::Password {
            mechanism,
            username,
            password,
        } => {
            let creds = Credentials::new(username.clone(), password.expose().to_string());
            match mechanism {
                crate::config::SaslMechanism::Plain => SaslConfig::Plain(creds),
                crate::config::SaslMechanism::ScramSha256 => SaslConfig::ScramSha256(creds),
                _ => SaslConfig::ScramSha512(creds),
            }
        }
        KafkaSasl::AwsMskIam { region } => {
            let signer = crate::platform::aws::IamSigner::load(
                "MSK IAM token",
                region.as_deref(),
                first_broker,
            )
            .await?;
            let tokens = crate::platform::aws::MskIamTokens::new(signer);
            let callback: OauthCallback = Arc::new(move || {
                let tokens = tokens.clone();
                Box::pin(async move {
                    tokens
                        .token()
                        .await
                        .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
                })
            });
            SaslConfig::Oauthbearer(OauthBearerCredentials {
                callback,
                authz_id: None,
                bearer_kvs: Vec::new(),
            })
        }
    })
}

/// One login attempt before the real client is built.
///
/// rskafka treats a refused login like a network error and retries it, and
/// its backoff deadline counts only the sleeps between attempts, so a wrong
/// password would spin until our timeout and surface as a bare "no
/// answer". A client whose backoff gives up at once shows the broker's
/// answer; only a refused login stops the poll here, anything else (a
/// broker still starting) is left to the real client's retries.
async fn probe_login(
    settings: &KafkaSettings,
    tls: Option<Arc<rustls::ClientConfig>>,
    sasl: SaslConfig,
    brokers: &str,
    during: &str,
) -> Result<()> {
    let mut probe = ClientBuilder::new(settings.bootstrap.clone())
        .client_id("binlog-poller")
        .backoff_config(BackoffConfig {
            deadline: Some(Duration::ZERO),
            ..BackoffConfig::default()
        })
        .sasl_config(sasl);
    if let Some(tls) = tls {
        probe = probe.tls_config(tls);
    }
    match bounded(brokers, during, settings.timeout, probe.build()).await {
        Err(e) if refusal_of(&e) == Some(Refusal::Login) => {
            Err(explain_login(e, &settings.security))
        }
        _ => Ok(()),
    }
}

type DynError = dyn std::error::Error + 'static;

/// A connection failure a retry will not cure: the fix is the user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// The broker refused the SASL login (or it could not be made).
    Login,
    /// TLS failed on the brokers' certificate (untrusted, wrong name,
    /// expired, or none sent).
    Certificate,
}

/// The refusal behind a Kafka error, found in its source chain.
fn refusal_of(e: &Error) -> Option<Refusal> {
    match e {
        Error::Kafka {
            source: Some(source),
            ..
        } => refusal(source.as_ref()),
        _ => None,
    }
}

/// Walks `err` and its causes (see [`cause`]) for a [`Refusal`].
fn refusal(err: &DynError) -> Option<Refusal> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(r) = refusal_here(e) {
            return Some(r);
        }
        next = cause(e);
    }
    None
}

/// Whether `e` itself, not its causes, is a refusal.
fn refusal_here(e: &DynError) -> Option<Refusal> {
    use rskafka::client::error::ProtocolError as P;
    let sasl_code = |p: &P| {
        matches!(
            p,
            P::SaslAuthenticationFailed | P::UnsupportedSaslMechanism | P::IllegalSaslState
        )
    };
    if e.is::<rskafka::SaslError>()
        || matches!(
            e.downcast_ref(),
            Some(rskafka::ConnectionError::SaslFailed(_))
        )
        || matches!(
            e.downcast_ref(),
            Some(KError::ServerError { protocol_error, .. }) if sasl_code(protocol_error)
        )
        || e.downcast_ref::<P>().is_some_and(sasl_code)
    {
        return Some(Refusal::Login);
    }
    if matches!(
        e.downcast_ref(),
        Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
    ) {
        return Some(Refusal::Certificate);
    }
    if let Some(opaque) = retried(e) {
        return opaque_refusal(opaque);
    }
    None
}

/// The next error down the chain. `source()` except where rskafka, the
/// standard library or `Arc` hide the cause from it: rskafka's
/// `ConnectionError::{RetryFailed, Transport}` do not report their inner
/// error, `io::Error::source` skips the error it wraps (rustls's, from the
/// TLS stream), and `Arc<dyn Error>::source` skips the shared error itself.
fn cause(e: &DynError) -> Option<&DynError> {
    if let Some(c) = e.downcast_ref::<rskafka::ConnectionError>() {
        match c {
            rskafka::ConnectionError::RetryFailed(b) => return Some(b),
            rskafka::ConnectionError::Transport { error, .. } => return Some(error),
            _ => {}
        }
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return io.get_ref().map(|inner| inner as _);
    }
    if let Some(shared) = shared(e) {
        return Some(shared);
    }
    e.source()
}

/// The error a retry loop gave up on, when rskafka keeps it only as text.
///
/// rskafka's broker connect loop collects every broker's failure into a
/// private `MultiError(Vec<Box<dyn Error>>)` whose type cannot be named
/// and whose errors it neither exposes nor reports as sources, and hands it
/// to `BackoffError::DeadlineExceded` behind an `Arc`. A refused login and
/// a certificate failure (the two we explain) always come through there
/// when a client is built, so at that one layer only its text is
/// available. Any error of a type we know is walked by type instead.
fn retried(e: &DynError) -> Option<&DynError> {
    let rskafka::BackoffError::DeadlineExceded { source, .. } = e.downcast_ref()?;
    let inner: &DynError = source.as_ref();
    let inner = shared(inner).unwrap_or(inner);
    let typed = inner.is::<KError>()
        || inner.is::<rskafka::ConnectionError>()
        || inner.is::<rskafka::client::error::RequestError>()
        || inner.is::<std::io::Error>();
    (!typed && inner.source().is_none()).then_some(inner)
}

/// The error inside `e` when `e` is an `Arc`ed error (how rskafka's retry
/// loops pass theirs on).
fn shared(e: &DynError) -> Option<&DynError> {
    e.downcast_ref::<Arc<dyn std::error::Error + Send + Sync>>()
        .map(|shared| shared.as_ref() as _)
}

/// The narrowest text check for an error only available as text (see
/// [`retried`]): it must contain the text rskafka's and rustls's own typed
/// errors print for a refusal, taken from those types rather than spelled
/// out here, so that a reworded message in either library moves the
/// marker with it.
fn opaque_refusal(opaque: &DynError) -> Option<Refusal> {
    let text = opaque.to_string();
    // "Sasl handshake failed: <why>": the prefix of every SASL failure.
    let login = rskafka::ConnectionError::SaslFailed(rskafka::SaslError::UnsupportedSaslMechanism)
        .to_string();
    let login = login.split(": ").next().unwrap_or(&login);
    // "invalid peer certificate: <why>" and "peer sent no certificates".
    let untrusted =
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer).to_string();
    let untrusted = untrusted.split(": ").next().unwrap_or(&untrusted);
    let none_sent = rustls::Error::NoCertificatesPresented.to_string();
    if text.contains(login) {
        Some(Refusal::Login)
    } else if text.contains(untrusted) || text.contains(&none_sent) {
        Some(Refusal::Certificate)
    } else {
        None
    }
}

/// A login the broker refused, or a certificate TLS did not accept, gets
/// the fix appended.
fn explain_login(e: Error, sec: &KafkaSecurity) -> Error {
    let refused = refusal_of(&e);
    match e {
        Error::Kafka {
            brokers,
            during,
            reason,
            source,
        } if sec.sasl.is_some() && refused == Some(Refusal::Login) => {
            let hint = match &sec.sasl {
                Some(KafkaSasl::AwsMskIam { .. }) => "check that the role may kafka-cluster:Connect to this cluster and that the cluster has IAM authentication on",
                _ => "check kafka.sasl.username and kafka.sasl.password, and that the user exists on the brokers for this mechanism",
            };
            Error::Kafka {
                brokers,
                during,
                reason: format!("authentication failed: {reason}; {hint}"),
                source,
            }
        }
        Error::Kafka {
            brokers,
            during,
            reason,
            source,
        } if sec.protocol.tls() && refused == Some(Refusal::Certificate) => Error::Kafka {
            brokers,
            during,
            reason: format!("TLS handshake failed: {reason}; set kafka.ssl.ca to the CA that signed the brokers' certificates"),
            source,
        },
        Error::Kafka {
            brokers,
            during,
            reason,
            source,
        } if during.starts_with("connect") && refused.is_none() => Error::Kafka {
            reason: format!(
                "{reason}; check kafka.bootstrap.servers (host:port reachable from here: security groups, VPC), and that kafka.security.protocol matches the listener ({} now; MSK: 9092 plaintext, 9094 TLS, 9096 SASL/SCRAM, 9098 IAM)",
                sec.protocol.as_str()
            ),
            brokers,
            during,
            source,
        },
        other => other,
    }
}

fn kerr(brokers: &str, during: &str, e: KError) -> Error {
    Error::Kafka {
        brokers: brokers.to_string(),
        during: during.to_string(),
        reason: e.to_string(),
        source: Some(Box::new(e)),
    }
}

fn timeout_err(brokers: &str, during: &str, limit: Duration) -> Error {
    Error::Kafka {
        brokers: brokers.to_string(),
        during: during.to_string(),
        reason: format!("no answer within {limit:?} (kafka.request.timeout.ms); is the broker up and kafka.bootstrap.servers right?"),
        source: None,
    }
}

#[cfg(test)]
#[path = "kafka_tests.rs"]
mod tests;

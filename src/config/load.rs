//! Loading a configuration: from a file or a string, with `${env:NAME}` from
//! the process environment and `${secretsmanager:ID}` references resolved
//! through AWS Secrets Manager (values remembered for redaction).

use super::parse::read_config_file;
use super::Config;

impl Config {
    /// Reads and parses a config file, with the process environment.
    /// `${secretsmanager:...}` references are not resolved (see [`Config::load_file`]).
    pub fn from_file(path: &str) -> Result<Self, crate::Error> {
        let text = read_config_file(path)?;
        Ok(Self::from_json(&text, |k| std::env::var(k).ok())?)
    }

    /// Parses a config JSON after resolving its `${secretsmanager:...}`
    /// references from `source`; the values used are remembered for
    /// redaction (and installed process-wide, see [`crate::platform::secrets::redact`]).
    pub async fn load_with<S: crate::platform::secrets::SecretSource>(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
        source: &S,
    ) -> Result<Self, crate::Error> {
        let (resolved, redactor) =
            crate::platform::secrets::resolve_config_text(text, source).await?;
        // Before parsing: a config problem may quote a value that came from a secret.
        crate::platform::secrets::install(&redactor);
        let mut config = Self::from_json(&resolved, env)?;
        config.redactor = redactor;
        config.discover_endpoint().await?;
        Ok(config)
    }

    /// Parses a config JSON with the process environment, resolving
    /// `${secretsmanager:...}` references with AWS Secrets Manager (a client
    /// is only created when there are references).
    pub async fn load(text: &str) -> Result<Self, crate::Error> {
        let env = |k: &str| std::env::var(k).ok();
        if !crate::platform::secrets::has_references(text) {
            let mut config = Self::from_json(text, env)?;
            config.discover_endpoint().await?;
            return Ok(config);
        }
        let source = crate::platform::secrets::AwsSecrets::connect().await?;
        Self::load_with(text, env, &source).await
    }

    /// [`Config::load`] of a file.
    pub async fn load_file(path: &str) -> Result<Self, crate::Error> {
        Self::load(&read_config_file(path)?).await
    }

    /// With `rds.*` and no `database.hostname`: the writer endpoint and
    /// port from the RDS API (see [`crate::platform::rds`]). Run at every
    /// load, so each cold start follows a renamed endpoint or a restore.
    pub async fn discover_endpoint(&mut self) -> Result<(), crate::Error> {
        let Some(rds) = self.rds.as_mut().filter(|_| self.hostname.is_empty()) else {
            return Ok(());
        };
        let api = crate::platform::rds::AwsRds::connect(rds.region.as_deref()).await?;
        self.discover_endpoint_with(&api).await
    }

    /// [`Config::discover_endpoint`] asking `api`.
    pub async fn discover_endpoint_with(
        &mut self,
        api: &impl crate::platform::rds::RdsApi,
    ) -> Result<(), crate::Error> {
        let Some(rds) = self.rds.as_mut().filter(|_| self.hostname.is_empty()) else {
            return Ok(());
        };
        let endpoint = crate::platform::rds::writer_endpoint(api, &rds.resource).await?;
        tracing::info!(
            resource = %rds.resource,
            endpoint = %endpoint.host,
            port = endpoint.port,
            "found the writer endpoint with the rds api"
        );
        rds.discovered = true;
        self.hostname = endpoint.host;
        self.port = endpoint.port;
        Ok(())
    }

    /// `host:port` of the database, for messages.
    pub fn server(&self) -> String {
        format!("{}:{}", self.hostname, self.port)
    }
}

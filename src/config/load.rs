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
        Ok(config)
    }

    /// Parses a config JSON with the process environment, resolving
    /// `${secretsmanager:...}` references with AWS Secrets Manager (a client
    /// is only created when there are references).
    pub async fn load(text: &str) -> Result<Self, crate::Error> {
        let env = |k: &str| std::env::var(k).ok();
        if !crate::platform::secrets::has_references(text) {
            return Ok(Self::from_json(text, env)?);
        }
        let source = crate::platform::secrets::AwsSecrets::connect().await?;
        Self::load_with(text, env, &source).await
    }

    /// [`Config::load`] of a file.
    pub async fn load_file(path: &str) -> Result<Self, crate::Error> {
        Self::load(&read_config_file(path)?).await
    }

    /// `host:port` of the database, for messages.
    pub fn server(&self) -> String {
        format!("{}:{}", self.hostname, self.port)
    }
}

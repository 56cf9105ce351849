//! Which tables are captured: Debezium's database and table include/exclude
//! lists, and the signature stored with the checkpoint so a changed filter
//! is noticed (its newly captured tables are snapshotted).

use super::Patterns;

/// Which tables are captured.
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    /// The four lists as configured, for [`TableFilter::signature`].
    pub(super) raw: [Option<String>; 4],
    /// `database.include.list`.
    pub database_include: Option<Patterns>,
    /// `database.exclude.list`.
    pub database_exclude: Option<Patterns>,
    /// `table.include.list` (matched against `db.table`).
    pub table_include: Option<Patterns>,
    /// `table.exclude.list`.
    pub table_exclude: Option<Patterns>,
}

/// Databases Debezium never captures.
const SYSTEM_DATABASES: &[&str] = &["mysql", "sys", "performance_schema", "information_schema"];

impl TableFilter {
    /// A filter from the four configured lists (database include/exclude,
    /// table include/exclude).
    pub fn from_lists(lists: [Option<String>; 4]) -> Result<Self, String> {
        let p = |s: &Option<String>| s.as_deref().map(Patterns::parse).transpose();
        Ok(Self {
            database_include: p(&lists[0])?,
            database_exclude: p(&lists[1])?,
            table_include: p(&lists[2])?,
            table_exclude: p(&lists[3])?,
            raw: lists,
        })
    }

    /// The configured lists as JSON, stored with checkpoints so a change of
    /// filters can be noticed and the newly included tables snapshotted.
    pub fn signature(&self) -> String {
        serde_json::to_string(&self.raw).unwrap_or_default()
    }

    /// The filter a [`TableFilter::signature`] describes.
    pub fn from_signature(sig: &str) -> Option<Self> {
        let lists: [Option<String>; 4] = serde_json::from_str(sig).ok()?;
        Self::from_lists(lists).ok()
    }

    /// Whether tables of `db` can be captured (the database lists only).
    pub fn includes_database(&self, db: &str) -> bool {
        !SYSTEM_DATABASES.contains(&db)
            && self.database_include.as_ref().is_none_or(|p| p.matches(db))
            && !self
                .database_exclude
                .as_ref()
                .is_some_and(|p| p.matches(db))
    }

    /// Whether `db.table` is captured.
    pub fn includes(&self, db: &str, table: &str) -> bool {
        if !self.includes_database(db) {
            return false;
        }
        let full = format!("{db}.{table}");
        if let Some(p) = &self.table_include {
            if !p.matches(&full) {
                return false;
            }
        }
        if let Some(p) = &self.table_exclude {
            if p.matches(&full) {
                return false;
            }
        }
        true
    }
}

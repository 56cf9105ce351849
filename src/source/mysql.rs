//! The real [`Database`]: a MySQL or MariaDB server reached with the
//! connector's configuration. Planning uses one metadata connection, which
//! is closed before streaming; each binlog dump and the snapshot chunk
//! reader have connections of their own.

use std::time::Instant;

use mysql_async::Conn;

use super::snapshot_ddl::{read_schema_snapshot, schema_tables};
use super::{
    connect, list_tables, BinlogSource, Chunk, ChunkReader, ChunkSource, Database, Flavor,
    ServerInfo, StartAt, TableInfo,
};
use crate::config::Config;
use crate::error::Result;
use crate::model::{BinlogPosition, Checkpoint, KeyValue, SchemaChange, TxProgress};

/// A server reached with `config`.
#[derive(Debug)]
pub struct MySqlDatabase<'a> {
    config: &'a Config,
    meta: Option<Conn>,
}

impl<'a> MySqlDatabase<'a> {
    /// The server `config` names; nothing is connected yet.
    pub fn new(config: &'a Config) -> Self {
        Self { config, meta: None }
    }

    async fn meta(&mut self) -> Result<&mut Conn> {
        if self.meta.is_none() {
            self.meta = Some(connect(self.config).await?);
        }
        Ok(self.meta.as_mut().expect("connected above"))
    }
}

impl Database for MySqlDatabase<'_> {
    type Binlog = BinlogSource;
    type Chunks = ChunkReader;

    async fn server_info(&mut self) -> Result<ServerInfo> {
        let server = self.config.server();
        ServerInfo::read(self.meta().await?, &server).await
    }

    async fn resume_point_available(&mut self, info: &ServerInfo, cp: &Checkpoint) -> Result<bool> {
        info.resume_point_available(self.meta().await?, cp).await
    }

    async fn list_tables(&mut self) -> Result<Vec<(String, String)>> {
        let server = self.config.server();
        list_tables(self.meta().await?, &server).await
    }

    async fn row_estimates(
        &mut self,
        tables: &[(String, String)],
    ) -> Result<Vec<((String, String), u64)>> {
        let server = self.config.server();
        super::row_estimates(self.meta().await?, &server, tables).await
    }

    async fn schema_snapshot(
        &mut self,
        at: &BinlogPosition,
        captured: &(dyn Fn(&str, &str) -> bool + Sync),
    ) -> Result<Vec<SchemaChange>> {
        let server = self.config.server();
        let config = self.config;
        let conn = self.meta().await?;
        let all = list_tables(conn, &server).await?;
        let tables = schema_tables(config, &all, captured);
        let ts_sec = (crate::model::time::now_us() / 1_000_000) as u32;
        read_schema_snapshot(conn, &server, config, &tables, at, ts_sec).await
    }

    async fn end_planning(&mut self) {
        if let Some(conn) = self.meta.take() {
            let _ = conn.disconnect().await;
        }
    }

    async fn open_binlog(
        &mut self,
        flavor: Flavor,
        start: &StartAt,
        resume: Option<TxProgress>,
        deadline: Instant,
    ) -> Result<BinlogSource> {
        BinlogSource::open(self.config, flavor, start, resume, deadline).await
    }

    async fn chunk_reader(&mut self) -> Result<ChunkReader> {
        ChunkReader::connect(self.config, self.config.snapshot_lock_timeout).await
    }
}

impl ChunkSource for ChunkReader {
    async fn table(&mut self, db: &str, table: &str) -> Result<Option<TableInfo>> {
        ChunkReader::table(self, db, table).await
    }

    async fn read_chunk(
        &mut self,
        info: &TableInfo,
        cursor: Option<&[KeyValue]>,
        limit: usize,
        select_override: Option<&str>,
    ) -> Result<Option<Chunk>> {
        ChunkReader::read_chunk(self, info, cursor, limit, select_override).await
    }

    async fn close(self) {
        ChunkReader::close(self).await
    }

    async fn abort(self) {
        ChunkReader::abort(self).await
    }
}

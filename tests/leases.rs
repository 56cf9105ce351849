//! Short, renewed leases on the real DynamoDB API (moto): a renewal extends
//! only the holder's lease, a stale holder is fenced, a released or expired
//! lease is taken over at once.

mod common;

use std::time::Duration;

use binlog_poller::offsets::{Acquire, AnyStore, OffsetStore};
use binlog_poller::Error;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_leases_renew_fence_and_expire() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MariaDb);
    let table = unique("leases");
    let c = Connector::new(&s, &db, "leases")
        .await
        .with("offset.storage", "dynamodb")
        .with("offset.storage.dynamodb.table", &table)
        .with("offset.storage.dynamodb.endpoint", s.aws())
        .with("offset.storage.dynamodb.region", "us-east-1");
    assert_ok(&c.cli(&["init"], &[]));
    let store = AnyStore::open(&c.config()).await.unwrap();
    let ttl = Duration::from_millis(1500);

    let Acquire::Acquired(a) = store.acquire("a", ttl).await.unwrap() else {
        panic!("a free lease")
    };
    let expires = |st: Option<binlog_poller::offsets::StoredState>| st.unwrap().expires_ms;
    let first = expires(store.load().await.unwrap());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    store.renew(&a, ttl).await.unwrap();
    let renewed = expires(store.load().await.unwrap());
    assert!(
        renewed >= first + 900,
        "renewal moved the expiry: {first} -> {renewed}"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // Past the first expiry, but renewed: still held.
    assert!(matches!(
        store.acquire("b", ttl).await.unwrap(),
        Acquire::Held { .. }
    ));
    // Not renewed any more: it expires and another poller takes over, which
    // fences the old holder's renewals.
    tokio::time::sleep(ttl).await;
    let Acquire::Acquired(b) = store.acquire("b", ttl).await.unwrap() else {
        panic!("an expired lease is taken over")
    };
    assert!(b.epoch > a.epoch);
    assert!(matches!(
        store.renew(&a, ttl).await,
        Err(Error::Fenced { .. })
    ));
    store.release(&b).await.unwrap();
    assert!(matches!(
        store.acquire("c", ttl).await.unwrap(),
        Acquire::Acquired(_)
    ));
}

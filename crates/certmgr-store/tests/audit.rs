//! The audit log: entries append in order, page and filter, and an edited,
//! deleted or truncated entry is found by `verify_audit`, which names it.
//! Rows are changed with raw SQL, as someone with database access but not
//! the master key would. SQLite, or PostgreSQL when the run asks for it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use certmgr_store::{AuditCheck, AuditQuery, MasterKey, NewAuditEntry, Store};
use certmgr_testkit::TestStore;
use sqlx::AnyPool;

async fn open(test: &TestStore) -> Store {
    Store::open(&test.url_for_library(), MasterKey::generate().unwrap())
        .await
        .unwrap()
}

async fn sql(test: &TestStore, statement: &str) {
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(&test.url_for_library()).await.unwrap();
    // Test statements are constants written below.
    sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

async fn append(store: &Store, action: &str, target: &str) -> i64 {
    store
        .append_audit(&NewAuditEntry {
            actor: "local:ops",
            address: if target == "web" {
                Some("192.0.2.7")
            } else {
                None
            },
            action,
            target,
            outcome: "ok",
            detail: "done",
        })
        .await
        .unwrap()
        .seq
}

/// A store with five entries.
async fn five(test: &TestStore) -> Store {
    let store = open(test).await;
    fill(&store).await;
    store
}

/// Five entries.
async fn fill(store: &Store) {
    for (action, target) in [
        ("cred.create", "web"),
        ("cred.issue", "web"),
        ("ca.create", "lab"),
        ("cred.export", "web"),
        ("cred.delete", "old"),
    ] {
        append(store, action, target).await;
    }
}

#[tokio::test]
async fn entries_append_in_order_and_page_and_filter() {
    let test = TestStore::new();
    let store = open(&test).await;
    assert_eq!(
        store.verify_audit().await.unwrap(),
        AuditCheck::Intact { entries: 0 }
    );
    fill(&store).await;
    let all = store.audit_log(&AuditQuery::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(all[0].address.as_deref(), Some("192.0.2.7"));
    assert_eq!(all[2].address, None);
    let page = store
        .audit_log(&AuditQuery {
            after: 2,
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4]);
    let web = store
        .audit_log(&AuditQuery {
            target: Some("web".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(web.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 4]);
    let exports = store
        .audit_log(&AuditQuery {
            action: Some("cred.export".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(exports.len(), 1);
    assert_eq!(
        store.verify_audit().await.unwrap(),
        AuditCheck::Intact { entries: 5 }
    );
}

#[tokio::test]
async fn concurrent_appends_keep_one_unbroken_chain() {
    let test = TestStore::new();
    let store = open(&test).await;
    let runs = (0..20).map(|i| {
        let store = &store;
        async move { append(store, "cred.issue", &format!("c{i}")).await }
    });
    let mut seqs = futures_util::future::join_all(runs).await;
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    assert_eq!(
        store.verify_audit().await.unwrap(),
        AuditCheck::Intact { entries: 20 }
    );
}

#[tokio::test]
async fn an_edited_entry_is_named() {
    let test = TestStore::new();
    let store = five(&test).await;
    sql(
        &test,
        "UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 4",
    )
    .await;
    match store.verify_audit().await.unwrap() {
        AuditCheck::Broken { seq, reason } => {
            assert_eq!(seq, 4);
            assert!(
                reason.contains("entry 4") && reason.contains("cred.export web"),
                "{reason}"
            );
        }
        other => panic!("not found: {other:?}"),
    }
    // Changing who did it is an edit too.
    let test = TestStore::new();
    let store = five(&test).await;
    sql(
        &test,
        "UPDATE audit_log SET actor = 'someone' WHERE seq = 2",
    )
    .await;
    assert!(matches!(
        store.verify_audit().await.unwrap(),
        AuditCheck::Broken { seq: 2, .. }
    ));
}

#[tokio::test]
async fn a_deleted_entry_or_tail_is_found() {
    let test = TestStore::new();
    let store = five(&test).await;
    sql(&test, "DELETE FROM audit_log WHERE seq = 3").await;
    match store.verify_audit().await.unwrap() {
        AuditCheck::Broken { seq, reason } => {
            assert_eq!(seq, 3);
            assert!(reason.contains("missing"), "{reason}");
        }
        other => panic!("not found: {other:?}"),
    }

    let test = TestStore::new();
    let store = five(&test).await;
    sql(&test, "DELETE FROM audit_log WHERE seq >= 4").await;
    match store.verify_audit().await.unwrap() {
        AuditCheck::Broken { seq, reason } => {
            assert_eq!(seq, 4);
            assert!(reason.contains("written up to entry 5"), "{reason}");
        }
        other => panic!("not found: {other:?}"),
    }

    // Rolling the head back with the tail does not help without the key.
    let test = TestStore::new();
    let store = five(&test).await;
    sql(&test, "DELETE FROM audit_log WHERE seq = 5").await;
    sql(&test, "UPDATE audit_head SET seq = 4 WHERE id = 1").await;
    assert!(matches!(
        store.verify_audit().await.unwrap(),
        AuditCheck::Broken { .. }
    ));
}

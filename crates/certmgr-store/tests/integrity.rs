//! Write access to the database is not enough to redirect secrets: each test
//! changes rows with raw SQL, as someone with access to the database but not
//! to the master key would, and shows that the store refuses the row, naming
//! it, and changes nothing. SQLite, or PostgreSQL when the run asks for it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use certmgr_core::{AcmeAccountStatus, ChallengeKind, Hostname, IssuerRef, KeySpec};
use certmgr_store::{MasterKey, NewAcmeAccount, NewCredential, NewDnsAccount, Store, StoreError};
use certmgr_testkit::{TestBackend, TestStore};
use sqlx::AnyPool;

async fn open(test: &TestStore) -> (Store, String) {
    let key = MasterKey::generate().unwrap();
    let text = key.to_base64().to_string();
    (
        Store::open(&test.url_for_library(), key).await.unwrap(),
        text,
    )
}

async fn reopen(test: &TestStore, key: &str) -> Result<Store, StoreError> {
    Store::open(
        &test.url_for_library(),
        MasterKey::from_base64(key).unwrap(),
    )
    .await
}

/// A connection of one's own, as someone with SQL access has.
async fn raw(test: &TestStore) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPool::connect(&test.url_for_library()).await.unwrap()
}

async fn sql(pool: &AnyPool, statement: &str) {
    // Test statements are constants written below.
    sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(pool)
        .await
        .unwrap();
}

#[track_caller]
fn assert_tampered<T: std::fmt::Debug>(result: Result<T, StoreError>, table: &str, row: &str) {
    let err = result.expect_err("the row must be refused");
    let text = err.to_string();
    assert!(
        matches!(err, StoreError::Tampered { .. }),
        "not an integrity refusal: {text}"
    );
    let prefix =
        format!("{table} row '{row}' fails its integrity check: it was changed outside certmgr; ");
    assert!(
        text.starts_with(&prefix) && text.len() > prefix.len() + 10,
        "the refusal names the row and what to do: {text}"
    );
}

/// The journal skips the entry and names it in its refusals.
async fn assert_refused_entry(store: &Store, id: &str) {
    let journal = store.txt_journal().await.unwrap();
    assert!(journal.entries.iter().all(|e| e.id != id), "{journal:?}");
    assert_eq!(journal.refused.len(), 1, "{journal:?}");
    let refused = journal.refused.into_iter().next().unwrap();
    assert_tampered::<()>(Err(refused), "txt_journal", id);
}

async fn dns_account(store: &Store, name: &str, provider: &str) {
    store
        .create_dns_account(&NewDnsAccount {
            name: name.into(),
            provider: provider.into(),
            zones: vec!["example.test".into()],
            params_json: br#"{"params":{"api_token":"TOKEN-0123456789"}}"#,
        })
        .await
        .unwrap();
}

async fn acme_account(store: &Store, name: &str) {
    store
        .create_acme_account(&NewAcmeAccount {
            name: name.into(),
            ca_id: Some("letsencrypt".into()),
            directory_url: "https://acme-v02.api.letsencrypt.org/directory".into(),
            account_url: "https://acme-v02.api.letsencrypt.org/acme/acct/1".into(),
            contacts: vec!["mailto:ops@example.test".into()],
            eab_kid: None,
            credentials_json: br#"{"key":"ACCOUNT-KEY"}"#,
            ca_bundle_pem: None,
            profile: None,
            max_concurrent_orders: None,
            preferred_chain: None,
        })
        .await
        .unwrap();
}

fn credential(name: &str, issuer: IssuerRef) -> NewCredential {
    NewCredential {
        name: name.into(),
        hostnames: vec!["www.example.test".parse::<Hostname>().unwrap()],
        key_specs: vec![KeySpec::EcdsaP256],
        issuer,
        validity_days: None,
        renew_before_days: None,
        challenge: Some(ChallengeKind::Dns01),
        profile: None,
        preferred_chain: None,
        dns_account: Some("cf".into()),
        challenge_alias: None,
    }
}

#[tokio::test]
async fn a_repointed_dns_account_is_refused_naming_it() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    dns_account(&store, "cf", "cloudflare").await;
    dns_account(&store, "other", "desec").await;
    let account = store.dns_account("cf").await.unwrap();
    assert_eq!(store.list_dns_accounts().await.unwrap().len(), 2);
    let db = raw(&test).await;
    // An attacker's imported definition (or any other provider) gets the token.
    sql(
        &db,
        "UPDATE dns_accounts SET provider = 'evil' WHERE name = 'cf'",
    )
    .await;
    let before = store.content_digest().await.unwrap();
    assert_tampered(store.dns_account("cf").await, "dns_accounts", "cf");
    assert_tampered(store.list_dns_accounts().await, "dns_accounts", "cf");
    // certmgr does not launder the row by writing it again.
    assert_tampered(
        store
            .update_dns_account_params(&account, b"{}", "test")
            .await,
        "dns_accounts",
        "cf",
    );
    assert_eq!(store.content_digest().await.unwrap(), before);
    // The other account is unaffected.
    store.dns_account("other").await.unwrap();
    // Back as it was: accepted again.
    sql(
        &db,
        "UPDATE dns_accounts SET provider = 'cloudflare' WHERE name = 'cf'",
    )
    .await;
    store.dns_account("cf").await.unwrap();
    // Zones, too; and a row copied whole under another name.
    sql(
        &db,
        "UPDATE dns_accounts SET zones = '[\"example.test\",\"attacker.test\"]' WHERE name = 'cf'",
    )
    .await;
    assert_tampered(store.dns_account("cf").await, "dns_accounts", "cf");
    sql(
        &db,
        "INSERT INTO dns_accounts (id, name, provider, zones, sealed_params, created_at, updated_at, mac) \
         SELECT 'planted', 'copy', 'evil', zones, sealed_params, created_at, updated_at, mac \
         FROM dns_accounts WHERE name = 'other'",
    )
    .await;
    assert_tampered(store.dns_account("copy").await, "dns_accounts", "copy");
}

#[tokio::test]
async fn a_planted_journal_capture_is_refused_and_captures_are_sealed() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    dns_account(&store, "cf", "cloudflare").await;
    let entry = store
        .journal_txt(
            "cf",
            "example.test",
            "_acme-challenge.www.example.test",
            "v1",
            "host:1",
        )
        .await
        .unwrap();
    store
        .update_txt_journal(
            &entry.id,
            "present",
            r#"{"record_id":"REC-ID-4242","zone_temp":"FORMULA-TEMP"}"#,
        )
        .await
        .unwrap();
    assert_eq!(
        store.txt_journal().await.unwrap().entries[0].captures,
        r#"{"record_id":"REC-ID-4242","zone_temp":"FORMULA-TEMP"}"#
    );
    let db = raw(&test).await;
    let stored: String = sqlx::query_scalar("SELECT captures FROM txt_journal")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(stored.starts_with("sealed:"), "{stored}");
    assert!(!stored.contains("REC-ID") && !stored.contains("FORMULA-TEMP"));

    // Captures in clear, planted: the delete would send them somewhere.
    let planted = format!(
        "UPDATE txt_journal SET captures = '{{\"url\":\"http://attacker.test/steal\"}}' WHERE id = '{}'",
        entry.id
    );
    sql(&db, &planted).await;
    assert_refused_entry(&store, &entry.id).await;
    let before = store.content_digest().await.unwrap();
    assert_tampered(
        store.update_txt_journal(&entry.id, "deleting", "{}").await,
        "txt_journal",
        &entry.id,
    );
    assert_eq!(store.content_digest().await.unwrap(), before);
    store.remove_txt_journal(&entry.id).await.unwrap();
    assert!(store.txt_journal().await.unwrap().entries.is_empty());

    // A whole entry planted for the cleanup of a "dead" process.
    sql(
        &db,
        "INSERT INTO txt_journal (id, dns_account, zone, record_name, value, captures, state, owner, created_at) \
         VALUES ('planted-1', 'cf', 'example.test', 'www.example.test', 'x', '{}', 'present', NULL, 1)",
    )
    .await;
    assert_refused_entry(&store, "planted-1").await;
}

#[tokio::test]
async fn a_planted_challenge_is_not_answered() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    store
        .publish_challenge(
            ChallengeKind::Http01,
            "good.example.test",
            "good-token",
            "good-token.thumb",
        )
        .await
        .unwrap();
    store
        .publish_challenge(
            ChallengeKind::TlsAlpn01,
            "alpn.example.test",
            "alpn-token",
            "alpn-token.thumb",
        )
        .await
        .unwrap();
    assert_eq!(
        store.http01_answer("good-token").await.unwrap().as_deref(),
        Some("good-token.thumb")
    );
    assert_eq!(
        store
            .tls_alpn01_answer("alpn.example.test")
            .await
            .unwrap()
            .as_deref(),
        Some("alpn-token.thumb")
    );
    let db = raw(&test).await;
    sql(
        &db,
        "INSERT INTO acme_challenges (token, kind, identifier, key_authorization, created_at) \
         VALUES ('planted-token', 'http-01', 'victim.example.test', 'planted-token.attacker', 1)",
    )
    .await;
    assert_tampered(
        store.http01_answer("planted-token").await,
        "acme_challenges",
        "planted-token",
    );
    // A real answer changed in place, and a newer TLS-ALPN row for a name.
    sql(
        &db,
        "UPDATE acme_challenges SET key_authorization = 'good-token.attacker' WHERE token = 'good-token'",
    )
    .await;
    assert_tampered(
        store.http01_answer("good-token").await,
        "acme_challenges",
        "good-token",
    );
    sql(
        &db,
        "INSERT INTO acme_challenges (token, kind, identifier, key_authorization, created_at) \
         VALUES ('alpn-planted', 'tls-alpn-01', 'alpn.example.test', 'alpn-planted.attacker', 9999999999)",
    )
    .await;
    assert_tampered(
        store.tls_alpn01_answer("alpn.example.test").await,
        "acme_challenges",
        "alpn-planted",
    );
}

#[tokio::test]
async fn a_changed_acme_directory_is_refused() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    acme_account(&store, "le").await;
    let account = store.acme_account("le").await.unwrap();
    store
        .update_acme_account(
            &account,
            Some(br#"{"key":"NEW"}"#),
            AcmeAccountStatus::Valid,
            ("t", "t"),
        )
        .await
        .unwrap();
    let account = store.acme_account("le").await.unwrap();
    let db = raw(&test).await;
    // The sealed account key would sign requests to another CA.
    sql(
        &db,
        "UPDATE acme_accounts SET directory_url = 'https://acme.attacker.test/directory' WHERE name = 'le'",
    )
    .await;
    assert_tampered(store.acme_account("le").await, "acme_accounts", "le");
    assert_tampered(store.list_acme_accounts().await, "acme_accounts", "le");
    let before = store.content_digest().await.unwrap();
    assert_tampered(
        store
            .update_acme_account(&account, None, AcmeAccountStatus::Deactivated, ("t", "t"))
            .await,
        "acme_accounts",
        "le",
    );
    assert_eq!(store.content_digest().await.unwrap(), before);
    // Its private CA trust, too.
    sql(
        &db,
        "UPDATE acme_accounts SET directory_url = 'https://acme-v02.api.letsencrypt.org/directory', \
         ca_bundle_pem = 'ATTACKER CA' WHERE name = 'le'",
    )
    .await;
    assert_tampered(store.acme_account("le").await, "acme_accounts", "le");
}

#[tokio::test]
async fn swapped_definitions_orders_and_credentials_are_refused() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    store
        .import_dns_provider("mine", "[provider]\nid = \"mine\"\n", "mine.toml")
        .await
        .unwrap();
    assert!(store.dns_provider_source("mine").await.unwrap().is_some());
    assert_eq!(store.imported_dns_providers().await.unwrap(), ["mine"]);
    acme_account(&store, "le").await;
    let cred = store
        .create_credential(&credential("web", "acme:le".parse().unwrap()))
        .await
        .unwrap();
    let order = store
        .save_pending_order(&cred, KeySpec::EcdsaP256, b"ORDER-KEY")
        .await
        .unwrap();
    store
        .set_pending_order_url(&order, "https://acme.example.test/order/1")
        .await
        .unwrap();
    assert_eq!(
        store.pending_orders(&cred).await.unwrap()[0]
            .order_url
            .as_deref(),
        Some("https://acme.example.test/order/1")
    );
    assert_eq!(store.list_credentials().await.unwrap().len(), 1);

    let db = raw(&test).await;
    sql(
        &db,
        "UPDATE dns_providers SET source = '[provider]\nid = \"mine\"\n# attacker''s' WHERE id = 'mine'",
    )
    .await;
    assert_tampered(
        store.dns_provider_source("mine").await,
        "dns_providers",
        "mine",
    );
    assert_tampered(
        store.imported_dns_providers().await,
        "dns_providers",
        "mine",
    );
    // A planted definition shadowing a built-in id.
    sql(
        &db,
        "INSERT INTO dns_providers (id, source, file_name, imported_at) VALUES ('cloudflare', 'x', 'x', 1)",
    )
    .await;
    assert_tampered(
        store.dns_provider_source("cloudflare").await,
        "dns_providers",
        "cloudflare",
    );

    sql(
        &db,
        "UPDATE acme_orders SET order_url = 'https://acme.attacker.test/order/1'",
    )
    .await;
    assert_tampered(store.pending_orders(&cred).await, "acme_orders", &order.id);

    sql(
        &db,
        "UPDATE credentials SET issuer = 'acme:other', dns_account = 'evil' WHERE name = 'web'",
    )
    .await;
    assert_tampered(store.credential("web").await, "credentials", "web");
    assert_tampered(store.list_credentials().await, "credentials", "web");
    // The way out: delete it (and recreate it).
    store.delete_credential("web").await.unwrap();
    assert!(store.list_credentials().await.unwrap().is_empty());
}

/// Downgrade a store to how it was before row MACs: no `mac` columns, the
/// migration not applied, the version 1 key check, captures in clear.
async fn make_old(test: &TestStore, key: &str) {
    let db = raw(test).await;
    for table in [
        "dns_accounts",
        "txt_journal",
        "acme_challenges",
        "dns_providers",
        "acme_accounts",
        "acme_orders",
        "credentials",
    ] {
        sql(&db, &format!("ALTER TABLE {table} DROP COLUMN mac")).await;
    }
    sql(&db, "DELETE FROM _sqlx_migrations WHERE version = 13").await;
    let v1 = MasterKey::from_base64(key)
        .unwrap()
        .seal(b"certmgr master key check v1", "meta/key_check")
        .unwrap();
    sqlx::query("UPDATE meta SET value = $1 WHERE key = 'key_check'")
        .bind(v1)
        .execute(&db)
        .await
        .unwrap();
    sql(
        &db,
        "UPDATE txt_journal SET captures = '{\"record_id\":\"rec-1\"}'",
    )
    .await;
    db.close().await;
}

#[tokio::test]
async fn a_store_from_before_row_macs_gets_them_once_on_first_open() {
    let test = TestStore::new();
    let (store, key) = open(&test).await;
    dns_account(&store, "cf", "cloudflare").await;
    acme_account(&store, "le").await;
    store
        .import_dns_provider("mine", "[provider]\nid = \"mine\"\n", "mine.toml")
        .await
        .unwrap();
    let cred = store
        .create_credential(&credential("web", "acme:le".parse().unwrap()))
        .await
        .unwrap();
    store
        .save_pending_order(&cred, KeySpec::EcdsaP256, b"ORDER-KEY")
        .await
        .unwrap();
    store
        .publish_challenge(ChallengeKind::Http01, "a.example.test", "tok", "tok.th")
        .await
        .unwrap();
    store
        .journal_txt(
            "cf",
            "example.test",
            "_acme-challenge.example.test",
            "v",
            "h:1",
        )
        .await
        .unwrap();
    store.close().await;
    make_old(&test, &key).await;

    // The upgrade: everything reads as before, captures are now sealed.
    let store = reopen(&test, &key).await.unwrap();
    store.dns_account("cf").await.unwrap();
    store.acme_account("le").await.unwrap();
    assert!(store.dns_provider_source("mine").await.unwrap().is_some());
    let cred = store.credential("web").await.unwrap();
    assert_eq!(store.list_credentials().await.unwrap().len(), 1);
    assert_eq!(store.pending_orders(&cred).await.unwrap().len(), 1);
    assert_eq!(
        store.http01_answer("tok").await.unwrap().as_deref(),
        Some("tok.th")
    );
    assert_eq!(
        store.txt_journal().await.unwrap().entries[0].captures,
        r#"{"record_id":"rec-1"}"#
    );
    let db = raw(&test).await;
    let stored: String = sqlx::query_scalar("SELECT captures FROM txt_journal")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(stored.starts_with("sealed:"), "{stored}");
    store.close().await;

    // Once only: a row planted (or stripped of its MAC) after the upgrade
    // stays refused however often the store is opened.
    sql(&db, "UPDATE dns_accounts SET mac = NULL WHERE name = 'cf'").await;
    sql(
        &db,
        "INSERT INTO acme_challenges (token, kind, identifier, key_authorization, created_at) \
         VALUES ('planted', 'http-01', 'b.example.test', 'planted.x', 1)",
    )
    .await;
    for _ in 0..2 {
        let store = reopen(&test, &key).await.unwrap();
        assert_tampered(store.dns_account("cf").await, "dns_accounts", "cf");
        assert_tampered(
            store.http01_answer("planted").await,
            "acme_challenges",
            "planted",
        );
        store.close().await;
    }
    // Another master key still does not open it.
    assert!(matches!(
        reopen(&test, &MasterKey::generate().unwrap().to_base64()).await,
        Err(StoreError::WrongMasterKey)
    ));
}

#[cfg(unix)]
#[tokio::test]
async fn sqlite_files_are_the_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let test = TestStore::new();
    if test.backend() != TestBackend::Sqlite {
        return;
    }
    let (store, _) = open(&test).await;
    dns_account(&store, "cf", "cloudflare").await;
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(test.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("certmgr.db") {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name} has mode {mode:o}");
            seen.push(name);
        }
    }
    seen.sort();
    assert_eq!(seen, ["certmgr.db", "certmgr.db-shm", "certmgr.db-wal"]);
    store.close().await;
}

#[tokio::test]
async fn the_journal_by_name_or_value_refuses_the_planted_rows_it_selects() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    dns_account(&store, "cf", "cloudflare").await;
    let www = "_acme-challenge.www.example.test";
    let api = "_acme-challenge.api.example.test";
    let good = store
        .journal_txt("cf", "example.test", www, "v-www", "host:1")
        .await
        .unwrap();
    let changed = store
        .journal_txt("cf", "example.test", api, "v-api", "host:1")
        .await
        .unwrap();
    let db = raw(&test).await;
    // Another name's entry sent to another zone: refused where it is
    // selected, invisible (neither used nor reported) where it is not.
    let repoint = format!(
        "UPDATE txt_journal SET zone = 'attacker.test' WHERE id = '{}'",
        changed.id
    );
    sql(&db, &repoint).await;
    for journal in [
        store.txt_journal_for(www).await.unwrap(),
        store.txt_journal_with_value("v-www").await.unwrap(),
    ] {
        let ids: Vec<&str> = journal.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, [good.id.as_str()], "{journal:?}");
        assert!(journal.refused.is_empty(), "{journal:?}");
    }
    for journal in [
        store.txt_journal_for(api).await.unwrap(),
        store.txt_journal_with_value("v-api").await.unwrap(),
    ] {
        assert!(journal.entries.is_empty(), "{journal:?}");
        assert_eq!(journal.refused.len(), 1, "{journal:?}");
        let refused = journal.refused.into_iter().next().unwrap();
        assert_tampered::<()>(Err(refused), "txt_journal", &changed.id);
    }

    // A whole entry planted on the good entry's name and value: skipped and
    // named by both reads; the good entry is still returned.
    sql(
        &db,
        "INSERT INTO txt_journal (id, dns_account, zone, record_name, value, captures, state, owner, created_at) \
         VALUES ('planted-2', 'cf', 'example.test', '_acme-challenge.www.example.test', 'v-www', '{}', 'present', NULL, 1)",
    )
    .await;
    for journal in [
        store.txt_journal_for(www).await.unwrap(),
        store.txt_journal_with_value("v-www").await.unwrap(),
    ] {
        let ids: Vec<&str> = journal.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, [good.id.as_str()], "{journal:?}");
        assert_eq!(journal.refused.len(), 1, "{journal:?}");
        let refused = journal.refused.into_iter().next().unwrap();
        assert_tampered::<()>(Err(refused), "txt_journal", "planted-2");
    }
    // The whole journal reports both.
    assert_eq!(store.txt_journal().await.unwrap().refused.len(), 2);
}

/// A notification channel repointed with SQL (its SMTP host, so that the
/// sealed password would go elsewhere) is refused, named; the others stay
/// usable, and deleting it is the way out.
#[tokio::test]
async fn a_repointed_notification_channel_is_refused() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    for name in ["mail", "hook"] {
        store
            .create_notify_channel(&certmgr_store::NewChannel {
                name,
                kind: "email",
                settings: r#"{"host":"smtp.example.com"}"#,
                secrets_json: br#"{"password":"p"}"#,
                enabled: true,
            })
            .await
            .unwrap();
    }
    let mail = store.notify_channel("mail").await.unwrap();
    assert_eq!(
        store.unseal_channel_secrets(&mail).unwrap().as_slice(),
        br#"{"password":"p"}"#
    );
    assert!(!format!("{mail:?}").contains("password"));
    let pool = raw(&test).await;
    sql(
        &pool,
        r#"UPDATE notify_channels SET settings = '{"host":"evil.example"}' WHERE name = 'mail'"#,
    )
    .await;
    assert_tampered(
        store.notify_channel("mail").await,
        "notify_channels",
        "mail",
    );
    let all = store.notify_channels().await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().filter(|c| c.is_err()).count() == 1);
    assert!(store.notify_channel("hook").await.is_ok());
    store.delete_notify_channel("mail").await.unwrap();
    assert_eq!(store.notify_channels().await.unwrap().len(), 1);
}

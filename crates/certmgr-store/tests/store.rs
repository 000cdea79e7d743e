//! The store against a real database: SQLite, or PostgreSQL when the run asks
//! for it (`CERTMGR_TEST_BACKEND=postgres`, see scripts/test).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use certmgr_core::{Health, Hostname, IssuerRef, KeyFamily, KeySpec, Status};
use certmgr_store::{
    CertificateRecord, MasterKey, NewCa, NewCredential, NewKeyVersion, Outcome, Store, StoreError,
    TrustAnchorRecord, VersionSource,
};
use certmgr_testkit::{TestBackend, TestStore};

async fn open(test: &TestStore) -> (Store, String) {
    let key = MasterKey::generate().unwrap();
    let text = key.to_base64().to_string();
    (
        Store::open(&test.url_for_library(), key).await.unwrap(),
        text,
    )
}

fn new_credential(name: &str) -> NewCredential {
    NewCredential {
        name: name.into(),
        hostnames: vec!["a.example.test".parse::<Hostname>().unwrap()],
        key_specs: vec![KeySpec::EcdsaP256, KeySpec::Rsa2048],
        issuer: IssuerRef::Manual,
        validity_days: Some(30),
        renew_before_days: None,
        challenge: None,
        profile: None,
        preferred_chain: None,
        dns_account: None,
        challenge_alias: None,
    }
}

fn valid() -> Outcome {
    Outcome {
        status: Status::Valid,
        health: Health::Ok,
        last_error: None,
    }
}

fn certificate(tag: u8) -> CertificateRecord {
    CertificateRecord {
        cert_der: vec![0x30, 0x03, 0x02, 0x01, tag],
        chain_der: vec![vec![0x30, 0x01, 0x00], vec![0x30, 0x02, 0x05, 0x00]],
        root_der: None,
        serial: format!("{tag:02x}"),
        fingerprint: "ff".into(),
        not_before: 1_700_000_000,
        not_after: 1_800_000_000,
    }
}

#[tokio::test]
async fn reopening_needs_the_same_master_key() {
    let test = TestStore::new();
    let (store, key_text) = open(&test).await;
    store.close().await;
    let same = MasterKey::from_base64(&key_text).unwrap();
    Store::open(&test.url_for_library(), same).await.unwrap();
    let other = MasterKey::generate().unwrap();
    let err = Store::open(&test.url_for_library(), other)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongMasterKey), "{err}");
}

#[tokio::test]
async fn duplicate_names_are_refused_and_change_nothing() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    store
        .create_credential(&new_credential("web1"))
        .await
        .unwrap();
    let before = store.content_digest().await.unwrap();
    let err = store
        .create_credential(&new_credential("web1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");
    assert_eq!(store.content_digest().await.unwrap(), before);
}

#[tokio::test]
async fn versions_seal_keys_keep_history_and_log_events() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    let credential = store
        .create_credential(&new_credential("dual"))
        .await
        .unwrap();
    let secret_ec = b"PLAINTEXT-EC-KEY-MATERIAL-0123456789".to_vec();
    let secret_rsa = b"PLAINTEXT-RSA-KEY-MATERIAL-0123456789".to_vec();
    let v1 = store
        .add_version(
            &credential,
            VersionSource::Import,
            &[
                NewKeyVersion {
                    spec: KeySpec::EcdsaP256,
                    pkcs8_der: &secret_ec,
                    certificate: Some(certificate(1)),
                },
                NewKeyVersion {
                    spec: KeySpec::Rsa2048,
                    pkcs8_der: &secret_rsa,
                    certificate: Some(certificate(2)),
                },
            ],
            &valid(),
            ("imported", "first"),
        )
        .await
        .unwrap();
    assert_eq!(v1, 1);
    let credential = store.credential("dual").await.unwrap();
    assert_eq!(credential.current_version, 1);
    assert_eq!(credential.status, Status::Valid);
    assert_eq!(credential.not_after, Some(1_800_000_000));
    let keys = store.key_versions(&credential, None).await.unwrap();
    assert_eq!(keys.len(), 2);
    let ec = keys.iter().find(|k| k.family == KeyFamily::Ecdsa).unwrap();
    assert_eq!(
        store.unseal_key(ec).unwrap().as_slice(),
        secret_ec.as_slice()
    );
    let cert = ec.certificate.as_ref().unwrap();
    assert_eq!(
        cert.chain_der.len(),
        2,
        "chain splits back into its certificates"
    );
    assert!(!format!("{ec:?}").contains("PLAINTEXT"));

    // A second version (CSR waiting), then the certificate arrives.
    let v2 = store
        .add_version(
            &credential,
            VersionSource::Csr,
            &[NewKeyVersion {
                spec: KeySpec::EcdsaP256,
                pkcs8_der: b"PLAINTEXT-SECOND-KEY",
                certificate: None,
            }],
            &Outcome {
                status: Status::Pending,
                health: Health::Ok,
                last_error: None,
            },
            ("csr-created", "second"),
        )
        .await
        .unwrap();
    assert_eq!(v2, 2);
    let credential = store.credential("dual").await.unwrap();
    store
        .attach_certificate(
            &credential,
            KeyFamily::Ecdsa,
            &certificate(3),
            &valid(),
            ("imported", "signed"),
        )
        .await
        .unwrap();
    // Nothing is waiting any more: a second answer is a conflict and changes nothing.
    let before = store.content_digest().await.unwrap();
    let err = store
        .attach_certificate(
            &credential,
            KeyFamily::Ecdsa,
            &certificate(4),
            &valid(),
            ("imported", "again"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(store.content_digest().await.unwrap(), before);

    let history = store.history(&credential).await.unwrap();
    assert_eq!(
        history.iter().map(|k| k.version).collect::<Vec<_>>(),
        vec![2, 1, 1]
    );
    let kinds: Vec<String> = store
        .events(&credential)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["created", "imported", "csr-created", "imported"]);

    store.close().await;
    let raw = test.raw_bytes();
    assert!(!raw.is_empty());
    for secret in [&secret_ec[..], &secret_rsa[..], b"PLAINTEXT-SECOND-KEY"] {
        assert!(
            !raw.windows(secret.len()).any(|w| w == secret),
            "key material found in the clear in the database"
        );
    }
}

#[tokio::test]
async fn delete_removes_keys_but_keeps_the_event_log() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    let credential = store
        .create_credential(&new_credential("gone"))
        .await
        .unwrap();
    store.delete_credential("gone").await.unwrap();
    assert!(matches!(
        store.credential("gone").await,
        Err(StoreError::NotFound { .. })
    ));
    let kinds: Vec<String> = store
        .events(&credential)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["created", "deleted"]);
}

#[tokio::test]
async fn cas_and_trust_anchors() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    let ca = store
        .create_ca(&NewCa {
            name: "lab".into(),
            key_spec: KeySpec::EcdsaP384,
            root_der: vec![0x30, 0x00],
            root_key: b"ROOT-KEY",
            intermediate: Some((vec![0x30, 0x01, 0x00], b"INTERMEDIATE-KEY")),
            not_after: 1_900_000_000,
        })
        .await
        .unwrap();
    let (issuer, key) = store.unseal_ca_issuer(&ca).unwrap();
    assert_eq!(issuer, vec![0x30, 0x01, 0x00]);
    assert_eq!(key.as_slice(), b"INTERMEDIATE-KEY");
    assert!(matches!(
        store
            .create_ca(&NewCa {
                name: "lab".into(),
                key_spec: KeySpec::EcdsaP256,
                root_der: vec![0x30, 0x00],
                root_key: b"K",
                intermediate: None,
                not_after: 0,
            })
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(store.list_cas().await.unwrap().len(), 1);

    let anchor = TrustAnchorRecord {
        fingerprint: "abcd".into(),
        subject: "CN=Root".into(),
        der: vec![0x30, 0x00],
        is_root: true,
        not_after: 1,
        added_at: 0,
    };
    assert!(store.add_trust_anchor(&anchor).await.unwrap());
    assert!(!store.add_trust_anchor(&anchor).await.unwrap());
    let anchors = store.trust_anchors().await.unwrap();
    assert_eq!(anchors.len(), 1);
    assert!(anchors[0].is_root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_all_succeed() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    let store = std::sync::Arc::new(store);
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .create_credential(&new_credential(&format!("c{i}")))
                .await
                .map(|_| ())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(store.list_credentials().await.unwrap().len(), 32);
}

#[tokio::test]
async fn dns_accounts_seal_their_parameters_and_the_journal_keeps_captures() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    let params = br#"{"api_url":"http://127.0.0.1:8081","api_key":"SECRET-TOKEN-0123456789"}"#;
    let account = store
        .create_dns_account(&certmgr_store::NewDnsAccount {
            name: "pdns".into(),
            provider: "powerdns".into(),
            zones: vec!["example.test".into()],
            params_json: params,
        })
        .await
        .unwrap();
    assert_eq!(
        store.unseal_dns_params(&account).unwrap().as_slice(),
        params
    );
    assert!(!format!("{account:?}").contains("SECRET"));
    assert!(matches!(
        store
            .create_dns_account(&certmgr_store::NewDnsAccount {
                name: "pdns".into(),
                provider: "powerdns".into(),
                zones: vec![],
                params_json: b"{}",
            })
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    let entry = store
        .journal_txt(
            "pdns",
            "example.test",
            "_acme-challenge.www.example.test",
            "v1",
            "host:1",
        )
        .await
        .unwrap();
    store
        .update_txt_journal(&entry.id, "present", r#"{"record_id":"42"}"#)
        .await
        .unwrap();
    let journal = store.txt_journal().await.unwrap().entries;
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].state, "present");
    assert_eq!(journal[0].captures, r#"{"record_id":"42"}"#);
    store.remove_txt_journal(&entry.id).await.unwrap();
    assert!(store.txt_journal().await.unwrap().entries.is_empty());

    // Deleting an account: refused while a live process has its record in
    // DNS; once that process is gone, the record's name is handed back.
    store
        .register_instance("live-1", "host", 1, 60)
        .await
        .unwrap();
    store
        .journal_txt(
            "pdns",
            "example.test",
            "_acme-challenge.a.example.test",
            "v2",
            "live-1",
        )
        .await
        .unwrap();
    let before = store.content_digest().await.unwrap();
    let refused = store.delete_dns_account("pdns").await.unwrap_err();
    assert!(matches!(refused, StoreError::Conflict(_)), "{refused}");
    assert!(
        refused
            .to_string()
            .contains("_acme-challenge.a.example.test"),
        "{refused}"
    );
    assert_eq!(store.content_digest().await.unwrap(), before);
    store.retire_instance("live-1", 0).await.unwrap();
    assert_eq!(
        store.delete_dns_account("pdns").await.unwrap(),
        vec!["_acme-challenge.a.example.test".to_string()]
    );
    assert!(matches!(
        store.dns_account("pdns").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.txt_journal().await.unwrap().entries.is_empty());
    assert!(matches!(
        store.delete_dns_account("pdns").await,
        Err(StoreError::NotFound { .. })
    ));
    store.close().await;
    let raw = test.raw_bytes();
    assert!(
        !raw.windows(12).any(|w| w == b"SECRET-TOKEN"),
        "API tokens are sealed"
    );
}

#[tokio::test]
async fn the_listing_reads_what_a_single_read_reads_in_name_order() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    for name in ["zeta", "alpha", "mid-\"quoted\"", "Beta"] {
        store
            .create_credential(&new_credential(name))
            .await
            .unwrap();
    }
    let with_cert = store.credential("alpha").await.unwrap();
    store
        .add_version(
            &with_cert,
            VersionSource::Import,
            &[NewKeyVersion {
                spec: KeySpec::EcdsaP256,
                pkcs8_der: b"key",
                certificate: Some(certificate(7)),
            }],
            &Outcome {
                status: Status::Failed,
                health: Health::Error,
                last_error: Some("line one\nline \"two\" ü".into()),
            },
            ("imported", "first"),
        )
        .await
        .unwrap();
    let listed = store.list_credentials().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|c| c.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "ordered by name");
    assert_eq!(listed.len(), 4);
    for listed in &listed {
        let single = store.credential(&listed.name).await.unwrap();
        // Every field, through Debug (the record has no PartialEq).
        assert_eq!(format!("{listed:?}"), format!("{single:?}"));
    }
    let alpha = listed.iter().find(|c| c.name == "alpha").unwrap();
    assert_eq!(alpha.not_after, Some(1_800_000_000));
    assert_eq!(
        alpha.last_error.as_deref(),
        Some("line one\nline \"two\" ü")
    );
    assert_eq!(alpha.key_specs, vec![KeySpec::EcdsaP256, KeySpec::Rsa2048]);
}

/// The names of the indexes on `table`, from the database's catalogue.
async fn indexes_of(test: &TestStore, table: &str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&test.url_for_library())
        .await
        .unwrap();
    let sql = match test.backend() {
        TestBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1"
        }
        TestBackend::Postgres => {
            "SELECT CAST(indexname AS TEXT) AS name FROM pg_indexes WHERE tablename = $1"
        }
    };
    let names = sqlx::query_scalar(sql)
        .bind(table)
        .fetch_all(&db)
        .await
        .unwrap();
    db.close().await;
    names
}

#[tokio::test]
async fn the_journal_reads_one_record_name_or_one_value() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    store
        .create_dns_account(&certmgr_store::NewDnsAccount {
            name: "pdns".into(),
            provider: "powerdns".into(),
            zones: vec!["example.test".into()],
            params_json: b"{}",
        })
        .await
        .unwrap();
    let www = "_acme-challenge.www.example.test";
    let api = "_acme-challenge.api.example.test";
    let mut ids = Vec::new();
    for (name, value) in [(www, "v1"), (api, "v2"), (www, "v3"), (api, "v1")] {
        let entry = store
            .journal_txt("pdns", "example.test", name, value, "host:1")
            .await
            .unwrap();
        ids.push(entry.id);
    }
    store
        .update_txt_journal(&ids[2], "present", r#"{"record_id":"42"}"#)
        .await
        .unwrap();
    let everything = store.txt_journal().await.unwrap().entries;
    let ids_of = |entries: &[certmgr_store::TxtJournalEntry]| -> Vec<String> {
        entries.iter().map(|e| e.id.clone()).collect()
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort_unstable();
        ids
    };

    // By record name: that name's entries only, in the journal's order,
    // captures unsealed.
    let by_name = store.txt_journal_for(www).await.unwrap();
    assert!(by_name.refused.is_empty(), "{by_name:?}");
    let expected: Vec<String> = everything
        .iter()
        .filter(|e| e.record_name == www)
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(ids_of(&by_name.entries), expected);
    assert_eq!(
        sorted(expected),
        sorted(vec![ids[0].clone(), ids[2].clone()])
    );
    let present = by_name.entries.iter().find(|e| e.id == ids[2]).unwrap();
    assert_eq!(present.state, "present");
    assert_eq!(present.captures, r#"{"record_id":"42"}"#);

    // By value: across record names.
    let by_value = store.txt_journal_with_value("v1").await.unwrap();
    assert!(by_value.refused.is_empty(), "{by_value:?}");
    let expected: Vec<String> = everything
        .iter()
        .filter(|e| e.value == "v1")
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(ids_of(&by_value.entries), expected);
    assert_eq!(
        sorted(expected),
        sorted(vec![ids[0].clone(), ids[3].clone()])
    );

    // Exact matches: no pattern, no other case, nothing for an unknown name.
    for name in [
        "_acme-challenge.%.example.test",
        "_acme-challenge.WWW.example.test",
        "_acme-challenge.other.example.test",
    ] {
        let none = store.txt_journal_for(name).await.unwrap();
        assert!(
            none.entries.is_empty() && none.refused.is_empty(),
            "{name}: {none:?}"
        );
    }
    for value in ["v%", "V1", "v9"] {
        let none = store.txt_journal_with_value(value).await.unwrap();
        assert!(
            none.entries.is_empty() && none.refused.is_empty(),
            "{value}: {none:?}"
        );
    }

    // A removed entry is gone from both reads.
    store.remove_txt_journal(&ids[0]).await.unwrap();
    assert_eq!(
        ids_of(&store.txt_journal_for(www).await.unwrap().entries),
        vec![ids[2].clone()]
    );
    assert_eq!(
        ids_of(&store.txt_journal_with_value("v1").await.unwrap().entries),
        vec![ids[3].clone()]
    );

    // The database selects them through an index of its own.
    let indexes = indexes_of(&test, "txt_journal").await;
    for index in ["txt_journal_by_record_name", "txt_journal_by_value"] {
        assert!(indexes.iter().any(|i| i == index), "{index}: {indexes:?}");
    }
}

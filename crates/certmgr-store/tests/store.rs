//! The store against a real database: SQLite, or PostgreSQL when the run asks
//! for it (`CERTMGR_TEST_BACKEND=postgres`, see scripts/test).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use certmgr_core::{Health, Hostname, IssuerRef, KeyFamily, KeySpec, Status};
use certmgr_store::{
    CertificateRecord, MasterKey, NewCa, NewCredential, NewKeyVersion, Outcome, PlannedRenewal,
    Store, StoreError, TrustAnchorRecord, VersionSource,
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

// ----- the renewal due index ---------------------------------------------

const DAY: i64 = 86_400;

/// A certificate valid from `not_before` to `not_after`.
fn valid_between(not_before: i64, not_after: i64) -> CertificateRecord {
    CertificateRecord {
        not_before,
        not_after,
        ..certificate(1)
    }
}

/// A credential `name` from `issuer`, with one version whose keys carry
/// certificates expiring at `not_afters` (none: created only).
async fn credential_with(
    store: &Store,
    name: &str,
    issuer: IssuerRef,
    not_afters: &[i64],
) -> certmgr_store::CredentialRecord {
    let mut new = new_credential(name);
    new.issuer = issuer;
    new.key_specs = vec![KeySpec::EcdsaP256, KeySpec::Rsa2048][..not_afters.len().max(1)].to_vec();
    let created = store.create_credential(&new).await.unwrap();
    if !not_afters.is_empty() {
        let keys: Vec<NewKeyVersion<'_>> = not_afters
            .iter()
            .zip(&new.key_specs)
            .map(|(not_after, spec)| NewKeyVersion {
                spec: *spec,
                pkcs8_der: b"key",
                certificate: Some(valid_between(not_after - 90 * DAY, *not_after)),
            })
            .collect();
        store
            .add_version(
                &created,
                VersionSource::MicroCa,
                &keys,
                &valid(),
                ("issued", "test"),
            )
            .await
            .unwrap();
    }
    store.credential(name).await.unwrap()
}

/// Raw SQL on the test's database, as someone with SQL access would.
async fn raw_sql(test: &TestStore, statements: &[&str]) {
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&test.url_for_library())
        .await
        .unwrap();
    for statement in statements {
        // The tests' own constant statements.
        sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
            .execute(&db)
            .await
            .unwrap();
    }
    db.close().await;
}

/// The names `due_credentials(now)` selects.
async fn selected(store: &Store, now: i64) -> Vec<String> {
    store
        .due_credentials(now)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect()
}

#[tokio::test]
async fn every_write_keeps_the_due_time_and_the_index_selects_by_it() {
    let test = TestStore::new();
    let (store, _) = open(&test).await;
    assert!(
        indexes_of(&test, "credentials")
            .await
            .contains(&"credentials_by_due_at".to_owned())
    );
    assert!(
        indexes_of(&test, "credential_keys")
            .await
            .contains(&"credential_keys_expiry".to_owned())
    );
    let t0 = 1_900_000_000;
    let ca = || IssuerRef::MicroCa("lab".into());

    // Created: at once; outside certmgr: never.
    let pending = credential_with(&store, "pending", ca(), &[]).await;
    assert_eq!(pending.due_at, Some(0));
    let manual = credential_with(&store, "manual", IssuerRef::Manual, &[t0]).await;
    assert_eq!(manual.due_at, None);

    // Issued, not planned yet: at once (the planner plans it); planned:
    // the renewal time, or the expiry if that comes first (dual: the
    // earlier certificate).
    let issued = credential_with(&store, "issued", ca(), &[t0 + 30 * DAY, t0 + 10 * DAY]).await;
    assert_eq!(issued.due_at, Some(0));
    assert_eq!(issued.not_after, Some(t0 + 10 * DAY));
    let late = credential_with(&store, "late", ca(), &[t0 + 10 * DAY]).await;
    store
        .record_plans(&[
            PlannedRenewal {
                credential: &issued,
                plan: Some((t0 + 5 * DAY, None)),
            },
            PlannedRenewal {
                credential: &late,
                plan: Some((t0 + 50 * DAY, None)),
            },
        ])
        .await
        .unwrap();
    let issued = store.credential("issued").await.unwrap();
    assert_eq!(
        (issued.renew_at, issued.due_at),
        (Some(t0 + 5 * DAY), Some(t0 + 5 * DAY))
    );
    let late = store.credential("late").await.unwrap();
    assert_eq!(late.due_at, Some(t0 + 10 * DAY));

    // ACME: also when its CA's renewal information is to be asked again.
    let acme = credential_with(
        &store,
        "acme",
        IssuerRef::Acme("le".into()),
        &[t0 + 90 * DAY],
    )
    .await;
    assert_eq!(acme.due_at, Some(0));
    store
        .record_plans(&[PlannedRenewal {
            credential: &acme,
            plan: Some((t0 + 60 * DAY, Some(t0 + DAY))),
        }])
        .await
        .unwrap();
    assert_eq!(
        store.credential("acme").await.unwrap().due_at,
        Some(t0 + DAY)
    );

    // A failure: when its backoff ends; revoked: never.
    let failed = credential_with(&store, "failed", ca(), &[t0 + 90 * DAY]).await;
    let next_attempt = store
        .record_failure(&failed, "issue-failed", "test")
        .await
        .unwrap();
    assert_eq!(
        store.credential("failed").await.unwrap().due_at,
        Some(next_attempt)
    );
    let revoked = credential_with(&store, "revoked", ca(), &[t0 + 90 * DAY]).await;
    let outcome = Outcome {
        status: Status::Revoked,
        health: Health::Error,
        last_error: None,
    };
    store
        .set_outcome(&revoked, &outcome, ("revoked", "test"))
        .await
        .unwrap();
    assert_eq!(store.credential("revoked").await.unwrap().due_at, None);

    // A new version forgets the plan and the backoff: at once again.
    let issued = store.credential("issued").await.unwrap();
    store
        .add_version(
            &issued,
            VersionSource::MicroCa,
            &[NewKeyVersion {
                spec: KeySpec::EcdsaP256,
                pkcs8_der: b"key",
                certificate: Some(valid_between(t0, t0 + 90 * DAY)),
            }],
            &valid(),
            ("renewed", "test"),
        )
        .await
        .unwrap();
    let renewed = store.credential("issued").await.unwrap();
    assert_eq!((renewed.renew_at, renewed.due_at), (None, Some(0)));
    // A plan made for the version before is not recorded for this one.
    store
        .record_plans(&[PlannedRenewal {
            credential: &issued,
            plan: Some((t0 + 5 * DAY, None)),
        }])
        .await
        .unwrap();
    assert_eq!(store.credential("issued").await.unwrap().renew_at, None);

    // Every stored due time is what the record's fields call for, and the
    // index selects exactly the credentials whose time has come.
    let all = store.list_credentials().await.unwrap();
    for c in &all {
        assert_eq!(c.due_at, c.expected_due_at(), "{}", c.name);
        assert!(!c.due_index_behind(), "{}", c.name);
    }
    for now in [0, t0, t0 + DAY, t0 + 10 * DAY, t0 + 100 * DAY, i64::MAX] {
        let expected: Vec<String> = all
            .iter()
            .filter(|c| c.due_at.is_some_and(|at| at <= now))
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(selected(&store, now).await, expected, "at {now}");
    }
    // (The backoff runs on the real clock, before t0.)
    assert_eq!(
        selected(&store, t0 + DAY).await,
        ["acme", "failed", "issued", "pending"]
    );
}

#[tokio::test]
async fn a_store_from_before_the_index_gets_its_due_times_on_open_and_the_digest_ignores_them() {
    let test = TestStore::new();
    let (store, key) = open(&test).await;
    let t0 = 1_900_000_000;
    credential_with(&store, "pending", IssuerRef::MicroCa("lab".into()), &[]).await;
    credential_with(&store, "manual", IssuerRef::Manual, &[t0]).await;
    let planned = credential_with(&store, "planned", IssuerRef::MicroCa("lab".into()), &[t0]).await;
    store
        .record_plans(&[PlannedRenewal {
            credential: &planned,
            plan: Some((t0 - DAY, None)),
        }])
        .await
        .unwrap();
    let digest = store.content_digest().await.unwrap();
    let before: Vec<Option<i64>> = store
        .list_credentials()
        .await
        .unwrap()
        .iter()
        .map(|c| c.due_at)
        .collect();
    assert_eq!(before, [None, Some(0), Some(t0 - DAY)]);
    store.close().await;

    // As migration 0018 leaves an older store: no due times, and the
    // request to compute them.
    let marker = match test.backend() {
        TestBackend::Sqlite => "INSERT INTO meta (key, value) VALUES ('due_at_backfill', X'')",
        TestBackend::Postgres => "INSERT INTO meta (key, value) VALUES ('due_at_backfill', '')",
    };
    raw_sql(&test, &["UPDATE credentials SET due_at = NULL", marker]).await;
    let store = Store::open(
        &test.url_for_library(),
        MasterKey::from_base64(&key).unwrap(),
    )
    .await
    .unwrap();
    let after: Vec<Option<i64>> = store
        .list_credentials()
        .await
        .unwrap()
        .iter()
        .map(|c| c.due_at)
        .collect();
    assert_eq!(after, before);
    assert_eq!(
        store.content_digest().await.unwrap(),
        digest,
        "the request is gone, and the due times are not content"
    );

    // Once done, never again: a due time changed since stays until the
    // planner repairs it.
    store.close().await;
    raw_sql(
        &test,
        &["UPDATE credentials SET due_at = NULL WHERE name = 'planned'"],
    )
    .await;
    let store = Store::open(
        &test.url_for_library(),
        MasterKey::from_base64(&key).unwrap(),
    )
    .await
    .unwrap();
    let planned = store.credential("planned").await.unwrap();
    assert_eq!(planned.due_at, None);
    assert!(planned.due_index_behind());
    assert!(selected(&store, t0).await.iter().all(|n| n != "planned"));
    store
        .record_plans(&[PlannedRenewal {
            credential: &planned,
            plan: None,
        }])
        .await
        .unwrap();
    assert_eq!(
        store.credential("planned").await.unwrap().due_at,
        Some(t0 - DAY)
    );
}

#[tokio::test]
async fn the_due_selection_is_a_range_scan_of_the_index() {
    let test = TestStore::new();
    if test.backend() != TestBackend::Sqlite {
        // PostgreSQL picks a sequential scan for a table this small.
        return;
    }
    let (store, _) = open(&test).await;
    store.close().await;
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&test.url_for_library())
        .await
        .unwrap();
    let details: Vec<String> =
        sqlx::query("EXPLAIN QUERY PLAN SELECT c.id FROM credentials c WHERE c.due_at <= 5")
            .fetch_all(&db)
            .await
            .unwrap()
            .iter()
            .map(|row| sqlx::Row::get::<String, _>(row, "detail"))
            .collect();
    db.close().await;
    assert!(
        details
            .iter()
            .any(|d| d.contains("USING INDEX credentials_by_due_at")
                || d.contains("USING COVERING INDEX credentials_by_due_at")),
        "{details:?}"
    );
}

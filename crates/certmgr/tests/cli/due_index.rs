//! The renewal due index (`credentials.due_at`): a renewal run that reads
//! it decides exactly what the planner decided when it planned every
//! credential from its certificates, over a varied population and as time
//! passes, on SQLite and PostgreSQL; and a due time changed with SQL
//! neither makes a credential renew early nor hides it for good.

use certmgr_core::{Health, Hostname, IssuerRef, KeySpec, Status};
use certmgr_engine::Engine;
use certmgr_engine::clock::FixedClock;
use certmgr_engine::renewal::{
    Ari, Scope, SolverChoice, plan_by_status, plan_certificate, renew_due,
};
use certmgr_engine::responders::AnswerOptions;
use certmgr_store::{
    CertificateRecord, CredentialRecord, MasterKey, NewCredential, NewKeyVersion, Outcome,
    PlannedRenewal, Store, VersionSource,
};
use certmgr_testkit::TestStore;

const DAY: i64 = 86_400;

/// One decision: name, due, why.
type Verdict = (String, bool, String);

/// The planner as `renew --due` ran it before the index: every credential
/// planned from its row and certificates (the CA's renewal information is
/// not asked: no credential of these tests is to be asked at their times).
/// Records nothing.
async fn full_computation(store: &Store, now: i64) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for credential in store.list_credentials().await.unwrap() {
        let (due, reason) = match plan_by_status(&credential, now) {
            Some(verdict) => verdict,
            None => {
                let keys = store.key_versions(&credential, None).await.unwrap();
                let first = keys
                    .iter()
                    .filter_map(|k| k.certificate.as_ref())
                    .min_by_key(|c| c.not_after);
                let plan = plan_certificate(&credential, first, &Ari::NotAsked, now);
                (plan.due, plan.reason)
            }
        };
        verdicts.push((credential.name, due, reason));
    }
    verdicts
}

/// A dry run at `now` over `scope`.
async fn dry_run(store: &Store, now: i64, scope: Scope) -> Vec<Verdict> {
    let clock = FixedClock::at(now);
    let engine = Engine::with_clock(store, &clock);
    let solver = SolverChoice::FromOptions(AnswerOptions::default());
    renew_due(&engine, solver, true, scope)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.name, d.due, d.reason))
        .collect()
}

fn due_names(verdicts: &[Verdict]) -> Vec<&str> {
    verdicts
        .iter()
        .filter(|v| v.1)
        .map(|v| v.0.as_str())
        .collect()
}

/// A certificate valid from `not_before` to `not_after` (never parsed).
fn certificate(not_before: i64, not_after: i64) -> CertificateRecord {
    CertificateRecord {
        cert_der: vec![0x30, 0x00],
        chain_der: Vec::new(),
        root_der: None,
        serial: "01".into(),
        fingerprint: "00".into(),
        not_before,
        not_after,
    }
}

fn outcome(status: Status) -> Outcome {
    Outcome {
        status,
        health: Health::Ok,
        last_error: None,
    }
}

async fn open(test: &TestStore) -> Store {
    Store::open(&test.url_for_library(), MasterKey::generate().unwrap())
        .await
        .unwrap()
}

/// A credential: its issuer, its renewal lead time, and the validity of
/// each key's certificate (none: created only).
async fn credential(
    store: &Store,
    name: &str,
    issuer: IssuerRef,
    renew_before_days: Option<u32>,
    validity: &[(i64, i64)],
) -> CredentialRecord {
    let specs = [KeySpec::EcdsaP256, KeySpec::Rsa2048];
    let new = NewCredential {
        name: name.into(),
        hostnames: vec![format!("{name}.example.test").parse::<Hostname>().unwrap()],
        key_specs: specs[..validity.len().max(1)].to_vec(),
        issuer,
        validity_days: None,
        renew_before_days,
        challenge: None,
        profile: None,
        preferred_chain: None,
        dns_account: None,
        challenge_alias: None,
    };
    let created = store.create_credential(&new).await.unwrap();
    if !validity.is_empty() {
        let keys: Vec<NewKeyVersion<'_>> = validity
            .iter()
            .zip(specs)
            .map(|((not_before, not_after), spec)| NewKeyVersion {
                spec,
                pkcs8_der: b"key",
                certificate: Some(certificate(*not_before, *not_after)),
            })
            .collect();
        store
            .add_version(
                &created,
                VersionSource::MicroCa,
                &keys,
                &outcome(Status::Valid),
                ("issued", "test"),
            )
            .await
            .unwrap();
    }
    store.credential(name).await.unwrap()
}

async fn set_status(store: &Store, name: &str, status: Status) {
    let credential = store.credential(name).await.unwrap();
    store
        .set_outcome(&credential, &outcome(status), ("test", "status"))
        .await
        .unwrap();
}

async fn plan(store: &Store, name: &str, renew_at: i64, ari_next_check: Option<i64>) {
    let credential = store.credential(name).await.unwrap();
    store
        .record_plans(&[PlannedRenewal {
            credential: &credential,
            plan: Some((renew_at, ari_next_check)),
        }])
        .await
        .unwrap();
}

/// Every kind of credential the planner tells apart, at `t0` (the real
/// time: backoffs are counted from it).
async fn population(store: &Store, t0: i64) {
    let ca = || IssuerRef::MicroCa("lab".into());
    let acme = || IssuerRef::Acme("le".into());
    let fresh = [(t0 - DAY, t0 + 89 * DAY)];
    let expired = [(t0 - 100 * DAY, t0 - 10 * DAY)];
    // MicroCA: outside the window, inside it (30 days before expiry),
    // expired, a dual whose earlier certificate decides, a planned time
    // that comes before the policy's and one after the expiry.
    credential(store, "fresh", ca(), None, &fresh).await;
    credential(
        store,
        "window",
        ca(),
        Some(30),
        &[(t0 - 70 * DAY, t0 + 20 * DAY)],
    )
    .await;
    credential(store, "expired", ca(), None, &expired).await;
    credential(store, "expired-status", ca(), None, &expired).await;
    set_status(store, "expired-status", Status::Expired).await;
    credential(store, "renewal-due-status", ca(), None, &fresh).await;
    set_status(store, "renewal-due-status", Status::RenewalDue).await;
    credential(
        store,
        "dual",
        ca(),
        Some(5),
        &[(t0, t0 + 90 * DAY), (t0, t0 + 30 * DAY)],
    )
    .await;
    credential(store, "planned-early", ca(), None, &fresh).await;
    plan(store, "planned-early", t0 + 5 * DAY, None).await;
    credential(
        store,
        "planned-after-expiry",
        ca(),
        None,
        &[(t0, t0 + 30 * DAY)],
    )
    .await;
    plan(store, "planned-after-expiry", t0 + 100 * DAY, None).await;
    // Status alone: new, cut short, valid without a certificate, revoked.
    credential(store, "pending", ca(), None, &[]).await;
    credential(store, "issuing", ca(), None, &[]).await;
    set_status(store, "issuing", Status::Issuing).await;
    credential(store, "valid-no-certificate", ca(), None, &[]).await;
    set_status(store, "valid-no-certificate", Status::Valid).await;
    credential(store, "revoked", ca(), None, &fresh).await;
    set_status(store, "revoked", Status::Revoked).await;
    // Failures: backing off once and twice (5 and 10 minutes), and failed
    // without a backoff.
    for (name, failures) in [("failed-once", 1), ("failed-twice", 2)] {
        credential(store, name, ca(), None, &fresh).await;
        for _ in 0..failures {
            let c = store.credential(name).await.unwrap();
            store
                .record_failure(&c, "issue-failed", "test")
                .await
                .unwrap();
        }
    }
    credential(store, "failed-no-backoff", ca(), None, &[]).await;
    set_status(store, "failed-no-backoff", Status::Failed).await;
    // Outside certmgr: a manual credential (expired, and a CSR out) and an
    // imported one.
    credential(store, "manual", IssuerRef::Manual, None, &expired).await;
    credential(store, "manual-csr", IssuerRef::Manual, None, &[]).await;
    credential(store, "imported", IssuerRef::Import, None, &fresh).await;
    // ACME: new, planned by an ARI window (asked again long after these
    // tests' times), expired.
    credential(store, "acme-pending", acme(), None, &[]).await;
    credential(store, "acme-ari", acme(), None, &fresh).await;
    plan(store, "acme-ari", t0 + 40 * DAY, Some(t0 + 400 * DAY)).await;
    credential(store, "acme-expired", acme(), None, &expired).await;
    plan(store, "acme-expired", t0 - 20 * DAY, Some(t0 + 400 * DAY)).await;
}

fn real_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test]
async fn the_index_selects_what_the_full_planner_finds_due_as_time_passes() {
    let test = TestStore::new();
    let store = open(&test).await;
    let t0 = real_now();
    population(&store, t0).await;
    let times = [
        t0,
        t0 + 400,
        t0 + 700,
        t0 + 6 * DAY,
        t0 + 21 * DAY,
        t0 + 26 * DAY,
        t0 + 31 * DAY,
        t0 + 41 * DAY,
        t0 + 61 * DAY,
        t0 + 90 * DAY,
        t0 + 200 * DAY,
    ];
    let mut seen_due = std::collections::BTreeSet::new();
    let mut seen_not_due = std::collections::BTreeSet::new();
    for now in times {
        let full = full_computation(&store, now).await;
        // The scheduler's pass: only what the index selects, and of those
        // the same ones due for the same reasons.
        let indexed = dry_run(&store, now, Scope::Due).await;
        assert_eq!(
            due_names(&indexed),
            due_names(&full),
            "at t0 + {}",
            now - t0
        );
        for verdict in indexed.iter().filter(|v| v.1) {
            assert!(full.contains(verdict), "{verdict:?} at t0 + {}", now - t0);
        }
        // `renew --due`: every credential, each decision as before.
        assert_eq!(
            dry_run(&store, now, Scope::Every).await,
            full,
            "at t0 + {}",
            now - t0
        );
        // And the index now holds what every row calls for.
        for c in store.list_credentials().await.unwrap() {
            assert_eq!(
                c.due_at,
                c.expected_due_at(),
                "{} at t0 + {}",
                c.name,
                now - t0
            );
        }
        for (name, due, _) in &full {
            if *due {
                seen_due.insert(name.clone());
            } else {
                seen_not_due.insert(name.clone());
            }
        }
    }
    // The population is varied: most credentials are seen both ways, and
    // the ones outside certmgr never due.
    for name in [
        "fresh",
        "dual",
        "planned-early",
        "planned-after-expiry",
        "failed-once",
        "failed-twice",
        "acme-ari",
    ] {
        assert!(
            seen_due.contains(name) && seen_not_due.contains(name),
            "{name}"
        );
    }
    for name in ["manual", "manual-csr", "imported", "revoked"] {
        assert!(!seen_due.contains(name), "{name}");
    }
    assert_eq!(
        due_names(&full_computation(&store, t0).await),
        [
            "acme-expired",
            "acme-pending",
            "expired",
            "expired-status",
            "failed-no-backoff",
            "issuing",
            "pending",
            "valid-no-certificate",
            "window",
        ]
    );
}

/// Set a credential's due time with SQL, as someone with write access to
/// the database could.
async fn tamper(test: &TestStore, name: &str, due_at: &str) {
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&test.url_for_library())
        .await
        .unwrap();
    // The tests' own constant values.
    let sql = format!("UPDATE credentials SET due_at = {due_at} WHERE name = '{name}'");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
}

#[tokio::test]
async fn a_due_time_changed_with_sql_neither_renews_early_nor_hides_a_credential() {
    let test = TestStore::new();
    let store = open(&test).await;
    let t0 = real_now();
    population(&store, t0).await;
    // Every plan recorded.
    let full = full_computation(&store, t0).await;
    assert_eq!(dry_run(&store, t0, Scope::Every).await, full);

    // Moved earlier: selected, found not due, repaired.
    tamper(&test, "fresh", "0").await;
    tamper(&test, "revoked", "0").await;
    let indexed = dry_run(&store, t0, Scope::Due).await;
    for name in ["fresh", "revoked"] {
        assert!(indexed.iter().any(|v| v.0 == name && !v.1), "{indexed:?}");
    }
    assert_eq!(due_names(&indexed), due_names(&full));
    for name in ["fresh", "revoked"] {
        let c = store.credential(name).await.unwrap();
        assert_eq!(c.due_at, c.expected_due_at(), "{name}");
    }

    // Moved later, or removed: the scheduler's pass misses a due credential
    // until the next pass over every credential, which plans it, and
    // repairs its due time.
    tamper(&test, "window", "NULL").await;
    tamper(&test, "pending", "9000000000000000000").await;
    let indexed = dry_run(&store, t0, Scope::Due).await;
    for name in ["window", "pending"] {
        assert!(indexed.iter().all(|v| v.0 != name), "{indexed:?}");
        assert!(store.credential(name).await.unwrap().due_index_behind());
    }
    assert_eq!(dry_run(&store, t0, Scope::Every).await, full);
    for name in ["window", "pending"] {
        let c = store.credential(name).await.unwrap();
        assert!(!c.due_index_behind(), "{name}");
        assert_eq!(c.due_at, c.expected_due_at(), "{name}");
    }
    assert_eq!(
        due_names(&dry_run(&store, t0, Scope::Due).await),
        due_names(&full)
    );
}

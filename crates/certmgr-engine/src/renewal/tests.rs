//! The planner on a fixed clock: due, not due, the ARI window, backoff.
//! Nothing here sleeps or talks to a CA.

use certmgr_core::{Health, Hostname, IssuerRef, KeySpec, Status};
use certmgr_store::{CertificateRecord, CredentialRecord};

use super::*;
use crate::clock::{Clock, FixedClock};

const DAY: i64 = 86_400;
/// 2026-12-01T00:00:00Z.
const T0: i64 = 1_796_083_200;

fn credential(issuer: IssuerRef, status: Status) -> CredentialRecord {
    CredentialRecord {
        id: "0193a0b0-0000-7000-8000-000000000001".into(),
        name: "web".into(),
        hostnames: vec![Hostname::Dns("www.example.test".into())],
        key_specs: vec![KeySpec::EcdsaP256],
        issuer,
        status,
        health: Health::Ok,
        last_error: None,
        validity_days: None,
        renew_before_days: None,
        challenge: None,
        profile: None,
        preferred_chain: None,
        dns_account: None,
        challenge_alias: None,
        renew_at: None,
        ari_next_check: None,
        failure_count: 0,
        next_attempt_at: None,
        current_version: 1,
        created_at: T0,
        updated_at: T0,
        not_after: None,
        due_at: None,
    }
}

/// A 90-day certificate issued at `T0`.
fn certificate() -> CertificateRecord {
    CertificateRecord {
        cert_der: Vec::new(),
        chain_der: Vec::new(),
        root_der: None,
        serial: "01".into(),
        fingerprint: "00".into(),
        not_before: T0,
        not_after: T0 + 90 * DAY,
    }
}

fn acme() -> IssuerRef {
    IssuerRef::Acme("le".into())
}

#[test]
fn a_fresh_certificate_is_not_due_and_is_due_once_its_time_comes() {
    let clock = FixedClock::at(T0 + DAY);
    let c = credential(IssuerRef::MicroCa("lab".into()), Status::Valid);
    assert_eq!(plan_by_status(&c, clock.unix()), None);
    let plan = plan_certificate(&c, Some(&certificate()), &Ari::NotAsked, clock.unix());
    assert!(!plan.due, "{plan:?}");
    assert!(plan.reason.starts_with("renews at 2027-"), "{plan:?}");
    assert!(plan.reason.ends_with("(policy)"), "{plan:?}");
    // A third of the lifetime before expiry, less up to 5 % jitter.
    let (at, next_check) = plan.record.expect("a newly planned time is recorded");
    assert_eq!(next_check, None);
    let nominal = T0 + 60 * DAY;
    assert!(at <= nominal && at >= nominal - 90 * DAY / 20, "{at}");

    // The recorded plan is kept, and the credential is due once it passes.
    let mut planned = c.clone();
    planned.renew_at = Some(at);
    clock.set(at - 1);
    let plan = plan_certificate(&planned, Some(&certificate()), &Ari::NotAsked, clock.unix());
    assert!(!plan.due && plan.record.is_none(), "{plan:?}");
    clock.advance(1);
    let plan = plan_certificate(&planned, Some(&certificate()), &Ari::NotAsked, clock.unix());
    assert!(plan.due, "{plan:?}");
    assert!(
        plan.reason.starts_with("renewal time reached (policy, "),
        "{plan:?}"
    );
}

#[test]
fn renew_before_days_moves_the_time_and_an_expired_certificate_is_due_at_once() {
    let mut c = credential(IssuerRef::MicroCa("lab".into()), Status::Valid);
    c.renew_before_days = Some(10);
    let plan = plan_certificate(&c, Some(&certificate()), &Ari::NotAsked, T0);
    let (at, _) = plan.record.unwrap();
    assert!(at <= T0 + 80 * DAY && at > T0 + 75 * DAY, "{at}");
    let plan = plan_certificate(&c, Some(&certificate()), &Ari::NotAsked, T0 + 90 * DAY);
    assert_eq!((plan.due, plan.reason.as_str()), (true, "expired"));
    let plan = plan_certificate(&c, None, &Ari::NotAsked, T0);
    assert_eq!(
        (plan.due, plan.reason.as_str()),
        (true, "no certificate yet")
    );
}

#[test]
fn the_cas_ari_window_wins_and_is_asked_again_after_its_retry_after() {
    let clock = FixedClock::at(T0 + DAY);
    let c = credential(acme(), Status::Valid);
    assert!(asks_ari(&c, clock.unix()), "never asked: ask");
    let window = Ari::Window {
        start: T0 + 30 * DAY,
        end: T0 + 31 * DAY,
        retry_after_secs: 6 * 3600,
    };
    let plan = plan_certificate(&c, Some(&certificate()), &window, clock.unix());
    let (at, next_check) = plan.record.expect("recorded");
    assert!((T0 + 30 * DAY..=T0 + 31 * DAY).contains(&at), "{at}");
    assert_eq!(next_check, Some(clock.unix() + 6 * 3600));
    assert!(
        !plan.due && plan.reason.ends_with("(ARI window)"),
        "{plan:?}"
    );

    // Until the Retry-After passes the CA is not asked, and the plan still
    // says where it came from.
    let mut planned = c.clone();
    planned.renew_at = Some(at);
    planned.ari_next_check = next_check;
    clock.advance(6 * 3600 - 1);
    assert!(!asks_ari(&planned, clock.unix()));
    let plan = plan_certificate(&planned, Some(&certificate()), &Ari::NotAsked, clock.unix());
    assert!(
        plan.reason.ends_with("(ARI window)") && plan.record.is_none(),
        "{plan:?}"
    );
    clock.advance(1);
    assert!(asks_ari(&planned, clock.unix()));

    // The CA moves the window into the past (a mass revocation): due now.
    let now_window = Ari::Window {
        start: clock.unix() - 3600,
        end: clock.unix() - 60,
        retry_after_secs: 0,
    };
    let plan = plan_certificate(&planned, Some(&certificate()), &now_window, clock.unix());
    assert!(plan.due, "{plan:?}");
    assert!(plan.reason.contains("ARI window"), "{plan:?}");
    // A Retry-After of 0 is asked again no sooner than a second later, and a
    // huge one after a day at most.
    assert_eq!(plan.record.unwrap().1, Some(clock.unix() + 1));
    let far = Ari::Window {
        start: T0 + 30 * DAY,
        end: T0 + 31 * DAY,
        retry_after_secs: 365 * DAY,
    };
    let plan = plan_certificate(&planned, Some(&certificate()), &far, clock.unix());
    assert_eq!(plan.record.unwrap().1, Some(clock.unix() + DAY));
}

#[test]
fn without_a_window_the_policy_plans_and_other_issuers_never_ask_ari() {
    let c = credential(acme(), Status::Valid);
    let plan = plan_certificate(&c, Some(&certificate()), &Ari::NoWindow, T0);
    assert!(plan.reason.ends_with("(policy)"), "{plan:?}");
    assert_eq!(plan.record.map(|r| r.1), Some(None));
    let microca = credential(IssuerRef::MicroCa("lab".into()), Status::Valid);
    assert!(!asks_ari(&microca, T0));
}

#[test]
fn a_failed_credential_backs_off_until_its_next_attempt() {
    let clock = FixedClock::at(T0);
    let mut c = credential(acme(), Status::Failed);
    c.failure_count = 3;
    c.next_attempt_at = Some(T0 + 1200);
    let (due, reason) = plan_by_status(&c, clock.unix()).unwrap();
    assert!(!due);
    assert_eq!(
        reason,
        "backing off after 3 failure(s) until 2026-12-01T00:20:00Z"
    );
    clock.advance(1199);
    assert!(!plan_by_status(&c, clock.unix()).unwrap().0);
    clock.advance(1);
    assert_eq!(
        plan_by_status(&c, clock.unix()),
        Some((true, "retry after failure".into()))
    );
}

#[test]
fn the_status_alone_decides_for_revoked_new_cut_short_and_outside_credentials() {
    let at = |issuer, status| plan_by_status(&credential(issuer, status), T0);
    assert_eq!(at(acme(), Status::Revoked), Some((false, "revoked".into())));
    assert_eq!(
        at(acme(), Status::Pending),
        Some((true, "no certificate yet".into()))
    );
    assert_eq!(
        at(acme(), Status::Issuing),
        Some((true, "an order was cut short: resume it".into()))
    );
    assert_eq!(
        at(IssuerRef::Manual, Status::Valid),
        Some((false, "issued outside certmgr (manual)".into()))
    );
    assert_eq!(at(acme(), Status::Expired), None);
}

#[test]
fn the_row_alone_gives_the_full_planners_verdict_once_a_plan_is_recorded() {
    let first = certificate();
    let with_expiry = |mut c: CredentialRecord| {
        c.not_after = Some(first.not_after);
        c
    };
    // Planned by policy (MicroCA) and by an ARI window (ACME, not to be
    // asked again yet): the same verdict, before and after its time.
    let mut microca = with_expiry(credential(IssuerRef::MicroCa("lab".into()), Status::Valid));
    microca.renew_at = Some(T0 + 50 * DAY);
    let mut ari = with_expiry(credential(acme(), Status::RenewalDue));
    ari.renew_at = Some(T0 + 40 * DAY);
    ari.ari_next_check = Some(T0 + 60 * DAY);
    for c in [&microca, &ari] {
        for now in [
            T0,
            T0 + 40 * DAY - 1,
            T0 + 40 * DAY,
            T0 + 50 * DAY,
            T0 + 59 * DAY,
        ] {
            let full = plan_certificate(c, Some(&first), &Ari::NotAsked, now);
            assert_eq!(
                plan_from_row(c, now),
                Some((full.due, full.reason)),
                "{} at {now}",
                c.issuer
            );
        }
    }
    assert_eq!(
        plan_from_row(&ari, T0),
        Some((false, "renews at 2027-01-10T00:00:00Z (ARI window)".into()))
    );
    // What the status decides, it decides from the row too.
    let mut failed = credential(acme(), Status::Failed);
    failed.next_attempt_at = Some(T0 + 60);
    assert_eq!(plan_from_row(&failed, T0), plan_by_status(&failed, T0));

    // The certificates are needed: not planned yet, expired, no
    // certificate; the CA is to be asked: its window may have moved.
    let unplanned = with_expiry(credential(IssuerRef::MicroCa("lab".into()), Status::Valid));
    assert_eq!(plan_from_row(&unplanned, T0), None);
    assert_eq!(plan_from_row(&microca, first.not_after), None);
    let mut no_certificate = microca.clone();
    no_certificate.not_after = None;
    assert_eq!(plan_from_row(&no_certificate, T0), None);
    assert_eq!(plan_from_row(&ari, T0 + 60 * DAY), None);
}

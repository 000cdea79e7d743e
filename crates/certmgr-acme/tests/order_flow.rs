//! The ACME order flow of certmgr-acme against a real Pebble (one private
//! instance per test), independent of the CLI: HTTP-01, TLS-ALPN-01 and
//! DNS-01 issuance, resuming an order by URL, a failed validation, and the
//! time limits of an order.
//!
//! Accounts, revocation, key rollover and renewal information are in
//! `account_flow.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::time::{Duration, Instant};

use certmgr_acme::{
    AcmeAccount, AcmeError, AcmeOrder, ChallengeAnswer, ChallengeSolver, Deadlines, Http01Tokens,
    OrderRequest, Solvers, TlsAlpnResponder,
};
use certmgr_core::ChallengeKind;

use common::{
    ChalltestsrvTxt, Progress, Recording, assert_issued, ca_bundle, generous, guarded, hostnames,
    http01_responder, key_and_csr, order_and_complete, register, start_pebble,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http01_order_issues_a_certificate_for_the_requested_names() {
    need_pebble!();
    let pebble = start_pebble().await;
    let (account, _) = register(&pebble).await;
    let solver = Recording::new(Solvers::default());
    let _responder = http01_responder(&pebble, solver.inner.http01.clone()).await;

    let names = ["www.example.test", "example.test"];
    let (key, issued, progress) =
        order_and_complete(&account, &names, ChallengeKind::Http01, &solver).await;

    assert_issued(&pebble, &issued, &key, &names);
    // One HTTP-01 answer per name, each withdrawn once the order is over.
    let presented = solver.presented();
    let mut identifiers: Vec<&str> = presented.iter().map(|a| a.identifier.as_str()).collect();
    identifiers.sort_unstable();
    assert_eq!(identifiers, ["example.test", "www.example.test"]);
    for answer in &presented {
        assert_eq!(answer.kind, ChallengeKind::Http01);
        assert!(
            answer
                .key_authorization
                .starts_with(&format!("{}.", answer.token)),
            "key authorization is token.thumbprint: {answer:?}"
        );
        assert_eq!(
            solver.inner.http01.get(&answer.token),
            None,
            "the responder no longer answers {}",
            answer.token
        );
    }
    solver.assert_all_cleaned();
    for step in [
        "challenge ready",
        "all authorizations valid",
        "order finalized",
        "certificate downloaded",
    ] {
        assert!(
            progress.contains(step),
            "{step:?}: {:?}",
            progress.messages()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn01_order_issues_a_certificate_for_the_requested_names() {
    need_pebble!();
    let pebble = start_pebble().await;
    let (account, _) = register(&pebble).await;
    let solver = Recording::new(Solvers::default());
    let address = format!("127.0.0.1:{}", pebble.tls_alpn01_port())
        .parse()
        .unwrap();
    let _responder = TlsAlpnResponder::start(address, solver.inner.tls_alpn01.clone())
        .await
        .unwrap();

    let names = ["alpn.example.test", "second.alpn.example.test"];
    let (key, issued, _) =
        order_and_complete(&account, &names, ChallengeKind::TlsAlpn01, &solver).await;

    assert_issued(&pebble, &issued, &key, &names);
    let presented = solver.presented();
    assert_eq!(presented.len(), 2, "{presented:?}");
    for answer in &presented {
        assert_eq!(answer.kind, ChallengeKind::TlsAlpn01);
        assert_eq!(answer.digest.len(), 32, "SHA-256 of the key authorization");
        assert!(
            solver.inner.tls_alpn01.get(&answer.identifier).is_none(),
            "no validation certificate is left for {}",
            answer.identifier
        );
    }
    solver.assert_all_cleaned();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns01_order_with_a_wildcard_and_its_base_name_publishes_two_values_on_one_name() {
    need_pebble!();
    let pebble = start_pebble().await;
    let (account, _) = register(&pebble).await;
    let solver = Recording::new(ChalltestsrvTxt::new(&pebble));

    let names = ["*.wild.example.test", "wild.example.test"];
    let (key, issued, _) =
        order_and_complete(&account, &names, ChallengeKind::Dns01, &solver).await;

    assert_issued(&pebble, &issued, &key, &names);
    // Both authorizations are validated at `_acme-challenge.wild.example.test`,
    // with two different values.
    let presented = solver.presented();
    assert_eq!(presented.len(), 2, "{presented:?}");
    for answer in &presented {
        assert_eq!(answer.kind, ChallengeKind::Dns01);
        assert_eq!(answer.identifier, "wild.example.test", "{answer:?}");
        assert_eq!(answer.dns_value.len(), 43, "base64url SHA-256: {answer:?}");
    }
    assert_ne!(presented[0].dns_value, presented[1].dns_value);
    solver.assert_all_cleaned();
    // The DNS server served the first value, then both at once; after each
    // withdrawal the value left, then nothing.
    let host = "_acme-challenge.wild.example.test.".to_owned();
    let (first, second) = (&presented[0].dns_value, &presented[1].dns_value);
    let mut both = vec![first.clone(), second.clone()];
    both.sort();
    let cleaned = solver.cleaned();
    let left = if cleaned[0].dns_value == *first {
        second
    } else {
        first
    };
    assert_eq!(
        solver.inner.served(),
        [
            (host.clone(), vec![first.clone()]),
            (host.clone(), both),
            (host.clone(), vec![left.clone()]),
            (host.clone(), vec![]),
        ],
        "TXT values served after each change"
    );
    assert!(
        solver.inner.records().is_empty(),
        "every TXT record is withdrawn: {:?}",
        solver.inner.records()
    );

    // The built-in responders cannot publish DNS records: a typed refusal.
    let hostnames = hostnames(&["refused.example.test"]);
    let (_, csr) = key_and_csr(&hostnames);
    let request = OrderRequest {
        hostnames: &hostnames,
        profile: None,
        replaces: None,
    };
    let mut order = AcmeOrder::create(&account, &request).await.unwrap();
    let err = guarded(
        "dns-01 through Solvers",
        order.complete(
            &account,
            &csr,
            ChallengeKind::Dns01,
            &Solvers::default(),
            &generous(),
            &|_: &str| {},
        ),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AcmeError::BadInput(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_resumed_by_url_from_restored_credentials_and_completed() {
    need_pebble!();
    let pebble = start_pebble().await;
    let bundle = ca_bundle(&pebble);
    let (account, credentials) = register(&pebble).await;
    let names = ["resume.example.test"];
    let hostnames = hostnames(&names);
    let request = OrderRequest {
        hostnames: &hostnames,
        profile: None,
        replaces: None,
    };
    let url = AcmeOrder::create(&account, &request)
        .await
        .unwrap()
        .url()
        .to_owned();
    drop(account);

    // A new process: the account from its stored credentials, the order by URL.
    let restored = AcmeAccount::restore(&credentials, &pebble.directory_url(), Some(&bundle))
        .await
        .unwrap();
    let mut order = AcmeOrder::resume(&restored, &url)
        .await
        .unwrap()
        .expect("a pending order can be resumed");
    assert_eq!(order.url(), url);
    let solvers = Solvers::default();
    let _responder = http01_responder(&pebble, solvers.http01.clone()).await;
    let (key, csr) = key_and_csr(&hostnames);
    let issued = guarded(
        "the resumed order",
        order.complete(
            &restored,
            &csr,
            ChallengeKind::Http01,
            &solvers,
            &generous(),
            &|_: &str| {},
        ),
    )
    .await
    .unwrap();
    assert_issued(&pebble, &issued, &key, &names);

    // A valid order resumes too, and completing it again downloads the same certificate.
    let mut again = AcmeOrder::resume(&restored, &url).await.unwrap().unwrap();
    let downloaded = again
        .complete(
            &restored,
            &csr,
            ChallengeKind::Http01,
            &solvers,
            &generous(),
            &|_: &str| {},
        )
        .await
        .unwrap();
    assert_eq!(downloaded.certs_der[0], issued.certs_der[0]);

    // An order the CA does not know cannot be resumed (Pebble answers a bare 404).
    let unknown = format!("{url}-unknown");
    assert!(
        AcmeOrder::resume(&restored, &unknown)
            .await
            .unwrap()
            .is_none(),
        "{unknown} resumed"
    );
}

/// Serves a key authorization that is not the one the CA expects.
struct WrongKeyAuthorization(Http01Tokens);

impl ChallengeSolver for WrongKeyAuthorization {
    async fn present(&self, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
        self.0.insert(
            &answer.token,
            &format!("{}.not-the-thumbprint", answer.token),
        );
        Ok(())
    }

    async fn cleanup(&self, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
        self.0.remove(&answer.token);
        Ok(())
    }
}

/// Says it published the answer, and published nothing.
struct PresentsNothing;

impl ChallengeSolver for PresentsNothing {
    async fn present(&self, _: &ChallengeAnswer) -> Result<(), AcmeError> {
        Ok(())
    }

    async fn cleanup(&self, _: &ChallengeAnswer) -> Result<(), AcmeError> {
        Ok(())
    }
}

/// Runs an order for `name` with `solver` over HTTP-01, expecting a failure.
async fn failing_order<S: ChallengeSolver>(
    account: &AcmeAccount,
    name: &str,
    solver: &S,
) -> (String, AcmeError) {
    let hostnames = hostnames(&[name]);
    let (_, csr) = key_and_csr(&hostnames);
    let request = OrderRequest {
        hostnames: &hostnames,
        profile: None,
        replaces: None,
    };
    let mut order = AcmeOrder::create(account, &request).await.unwrap();
    let progress = Progress::default();
    let result = guarded(
        "a failing order",
        order.complete(
            account,
            &csr,
            ChallengeKind::Http01,
            solver,
            &generous(),
            &|m: &str| progress.record(m),
        ),
    )
    .await;
    match result {
        Ok(_) => panic!("the order for {name} was issued: {:?}", progress.messages()),
        Err(err) => (order.url().to_owned(), err),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_validation_is_a_typed_error_with_the_cas_problem_and_answers_are_withdrawn() {
    need_pebble!();
    let pebble = start_pebble().await;
    let (account, _) = register(&pebble).await;
    let tokens = Http01Tokens::default();
    let _responder = http01_responder(&pebble, tokens.clone()).await;

    // The responder serves a wrong key authorization.
    let solver = Recording::new(WrongKeyAuthorization(tokens.clone()));
    let (url, err) = failing_order(&account, "wrong.example.test", &solver).await;
    let AcmeError::Validation {
        identifier,
        problem,
        document,
    } = &err
    else {
        panic!("expected a validation error, got {err:?}");
    };
    assert_eq!(identifier, "wrong.example.test");
    let document = document
        .as_deref()
        .expect("the CA's problem document, whole");
    assert_eq!(
        document.r#type.as_deref(),
        Some("urn:ietf:params:acme:error:unauthorized")
    );
    assert_eq!(
        err.problem().map(|p| p.r#type.clone()),
        Some(document.r#type.clone())
    );
    assert!(
        problem.contains("urn:ietf:params:acme:error:unauthorized"),
        "the CA's problem type: {problem}"
    );
    let expected = &solver.presented()[0].key_authorization;
    assert!(
        problem.contains(expected.as_str()) && problem.contains("not-the-thumbprint"),
        "Pebble's detail names both key authorizations: {problem}"
    );
    assert!(err.to_string().contains(problem.as_str()), "{err}");
    solver.assert_all_cleaned();
    assert_eq!(tokens.get(&solver.presented()[0].token), None);
    // The order is invalid now: it cannot be resumed.
    assert!(AcmeOrder::resume(&account, &url).await.unwrap().is_none());

    // Nothing served at all: Pebble's HTTP request gets a 404.
    let solver = Recording::new(PresentsNothing);
    let (_, err) = failing_order(&account, "nothing.example.test", &solver).await;
    let AcmeError::Validation {
        identifier,
        problem,
        ..
    } = &err
    else {
        panic!("expected a validation error, got {err:?}");
    };
    assert_eq!(identifier, "nothing.example.test");
    let token = &solver.presented()[0].token;
    assert!(
        problem.contains("urn:ietf:params:acme:error:unauthorized")
            && problem.contains("Non-200 status code")
            && problem.contains(&format!("/.well-known/acme-challenge/{token} returned 404")),
        "the CA's problem: {problem}"
    );
    solver.assert_all_cleaned();
}

/// Never finishes publishing (a DNS provider that hangs).
struct Hangs;

impl ChallengeSolver for Hangs {
    async fn present(&self, _: &ChallengeAnswer) -> Result<(), AcmeError> {
        std::future::pending().await
    }

    async fn cleanup(&self, _: &ChallengeAnswer) -> Result<(), AcmeError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_solver_ends_in_a_deadline_error_and_the_order_can_still_be_completed() {
    need_pebble!();
    let pebble = start_pebble().await;
    let (account, _) = register(&pebble).await;
    let names = ["slow.example.test"];
    let hostnames = hostnames(&names);
    let (key, csr) = key_and_csr(&hostnames);
    let request = OrderRequest {
        hostnames: &hostnames,
        profile: None,
        replaces: None,
    };
    let mut order = AcmeOrder::create(&account, &request).await.unwrap();
    let url = order.url().to_owned();

    // The challenge phase runs out first.
    let solver = Recording::new(Hangs);
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(15),
        order.complete(
            &account,
            &csr,
            ChallengeKind::Http01,
            &solver,
            &Deadlines::starting_now(Duration::from_secs(1), Duration::from_secs(30)),
            &|_: &str| {},
        ),
    )
    .await
    .expect("the challenge deadline stops the order");
    let waited = started.elapsed();
    match result {
        Err(AcmeError::Deadline {
            phase,
            limit,
            url: failed,
        }) => {
            assert_eq!(phase, "challenge phase");
            assert_eq!(limit, "1 s");
            assert_eq!(failed, url);
        }
        other => panic!("expected a challenge-phase deadline, got {other:?}"),
    }
    assert!(
        (Duration::from_millis(950)..Duration::from_secs(10)).contains(&waited),
        "stopped after {waited:?}"
    );
    solver.assert_all_cleaned();

    // The whole issuance runs out first.
    let solver = Recording::new(Hangs);
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(15),
        order.complete(
            &account,
            &csr,
            ChallengeKind::Http01,
            &solver,
            &Deadlines::starting_now(Duration::from_secs(30), Duration::from_secs(1)),
            &|_: &str| {},
        ),
    )
    .await
    .expect("the order deadline stops the order");
    let waited = started.elapsed();
    match result {
        Err(AcmeError::Deadline { phase, limit, .. }) => {
            assert_eq!(phase, "issuance as a whole");
            assert_eq!(limit, "1 s");
        }
        other => panic!("expected an issuance deadline, got {other:?}"),
    }
    assert!(waited < Duration::from_secs(10), "stopped after {waited:?}");
    solver.assert_all_cleaned();

    // Nothing was readied at the CA: the order is still pending, and a
    // later run completes it.
    let mut resumed = AcmeOrder::resume(&account, &url)
        .await
        .unwrap()
        .expect("the stopped order is still pending");
    let solvers = Solvers::default();
    let _responder = http01_responder(&pebble, solvers.http01.clone()).await;
    let issued = guarded(
        "the order after its deadlines",
        resumed.complete(
            &account,
            &csr,
            ChallengeKind::Http01,
            &solvers,
            &generous(),
            &|_: &str| {},
        ),
    )
    .await
    .unwrap();
    assert_issued(&pebble, &issued, &key, &names);
}

//! Notifications end to end: a real SMTP server (aiosmtpd, STARTTLS and
//! implicit TLS, AUTH, a certificate from certmgr's own MicroCA) and a
//! webhook receiver; scheduler passes on a clock the test moves.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use certmgr_core::{Health, KeySpec, Status};
use certmgr_engine::credential::CredentialRequest;
use certmgr_engine::microca::NewMicroCa;
use certmgr_engine::notify::message::{SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature};
use certmgr_engine::notify::{
    self, ChannelRequest, EmailRequest, SmtpSecurity, WebhookFormat, WebhookRequest,
};
use certmgr_engine::{Clock, Engine, ErrorKind, FixedClock};
use certmgr_store::{MasterKey, NoticeQuery, Outcome, Store};
use certmgr_testkit::notify_peers::ReceivedHook;
use certmgr_testkit::{SmtpServer, TestStore, WebhookReceiver, aiosmtpd_available};

const DAY: i64 = 86_400;
const SECRET: &str = "a-webhook-secret-of-some-length";

async fn open(test: &TestStore) -> Store {
    Store::open(&test.url_for_library(), MasterKey::generate().unwrap())
        .await
        .unwrap()
}

async fn microca(engine: &Engine<'_>) {
    certmgr_engine::microca::create_ca(
        engine,
        &NewMicroCa {
            name: "lab".into(),
            key: KeySpec::EcdsaP256,
            validity_days: 3650,
            intermediate: false,
            common_name: None,
            organization: None,
        },
    )
    .await
    .unwrap();
}

/// A MicroCA credential for `host`, issued, valid `days`.
async fn issued(engine: &Engine<'_>, name: &str, host: &str, days: u32) {
    let request = CredentialRequest {
        name: name.into(),
        hosts: vec![host.into()],
        issuer: "ca:lab".into(),
        validity_days: Some(days),
        ..CredentialRequest::default()
    };
    certmgr_engine::credential::create(engine, &request.parse().unwrap())
        .await
        .unwrap();
    issue(engine, name).await;
}

async fn issue(engine: &Engine<'_>, name: &str) {
    certmgr_engine::issuance::issue(
        engine,
        name,
        &certmgr_engine::responders::AnswerOptions::default(),
    )
    .await
    .unwrap();
}

/// The certificate (with chain), key and CA root of a credential, as PEM.
async fn pem_of(engine: &Engine<'_>, name: &str) -> (String, String, String) {
    let export = certmgr_engine::export::open(engine, name, None)
        .await
        .unwrap();
    let material = export
        .material(&certmgr_engine::export::Format::Pem)
        .unwrap()
        .remove(0);
    let cert = format!(
        "{}{}",
        material.certificate_pem.unwrap(),
        material.chain_pem.unwrap_or_default()
    );
    (
        cert,
        material.key_pem.unwrap().to_string(),
        material.root_pem.unwrap(),
    )
}

fn email_channel(name: &str, server: &SmtpServer, tls: bool, ca_pem: &str) -> ChannelRequest {
    ChannelRequest {
        name: Some(name.into()),
        email: Some(EmailRequest {
            host: "127.0.0.1".into(),
            port: Some(server.port),
            security: Some(if tls {
                SmtpSecurity::Tls
            } else {
                SmtpSecurity::Starttls
            }),
            username: Some("certmgr".into()),
            password: Some("s3cret-smtp-pass".into()),
            from: "certmgr@example.com".into(),
            to: vec!["ops@example.com".into(), "oncall@example.com".into()],
            ca_pem: Some(ca_pem.into()),
        }),
        ..ChannelRequest::default()
    }
}

#[tokio::test]
async fn smtp_with_starttls_and_implicit_tls_delivers_once() {
    if !aiosmtpd_available() {
        return;
    }
    let test = TestStore::new();
    let store = open(&test).await;
    let clock = FixedClock::at(time::OffsetDateTime::now_utc().unix_timestamp());
    let engine = Engine::with_clock(&store, &clock);
    microca(&engine).await;
    issued(&engine, "smtp-server", "127.0.0.1", 365).await;
    let (cert, key, root) = pem_of(&engine, "smtp-server").await;
    let starttls = SmtpServer::start(false, &cert, &key, "certmgr", "s3cret-smtp-pass").unwrap();
    let implicit = SmtpServer::start(true, &cert, &key, "certmgr", "s3cret-smtp-pass").unwrap();
    for (name, server, tls) in [
        ("mail-starttls", &starttls, false),
        ("mail-tls", &implicit, true),
    ] {
        let view = notify::create_channel(&engine, &email_channel(name, server, tls, &root))
            .await
            .unwrap();
        assert!(view.email.as_ref().unwrap().password_set);
        let sent = notify::send_test(&engine, name).await.unwrap();
        assert_eq!(sent.kind, "email");
        let mail = server.wait_for(1);
        assert_eq!(mail.len(), 1, "{name}: the test message");
        assert!(mail[0].authenticated && mail[0].tls, "{name}: {mail:?}");
        assert_eq!(mail[0].from, "certmgr@example.com");
        assert_eq!(mail[0].to, ["ops@example.com", "oncall@example.com"]);
        assert!(
            mail[0]
                .data
                .contains("Subject: [certmgr] test of notification channel")
        );
    }
    // A wrong password is a delivery failure naming the fields to check.
    let mut wrong = email_channel("mail-wrong", &starttls, false, &root);
    wrong.email.as_mut().unwrap().password = Some("not-the-password".into());
    notify::create_channel(&engine, &wrong).await.unwrap();
    let refused = notify::send_test(&engine, "mail-wrong").await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Failed);
    assert!(refused.to_string().contains("email.password"), "{refused}");
    assert!(!refused.to_string().contains("not-the-password"));
    // A server certificate the channel does not trust.
    let mut untrusted = email_channel("mail-untrusted", &implicit, true, &root);
    untrusted.email.as_mut().unwrap().ca_pem = None;
    notify::create_channel(&engine, &untrusted).await.unwrap();
    let refused = notify::send_test(&engine, "mail-untrusted")
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("TLS"), "{refused}");
    notify::delete_channel(&engine, "mail-wrong").await.unwrap();
    notify::delete_channel(&engine, "mail-untrusted")
        .await
        .unwrap();

    // The scheduler's pass: one credential 5 days from expiry.
    issued(&engine, "web", "web.example.test", 5).await;
    let first = notify::pass(&engine).await.unwrap();
    assert_eq!(first.decided.len(), 1, "{first:?}");
    assert_eq!(first.sent, 2, "{first:?}");
    for server in [&starttls, &implicit] {
        let mail = server.wait_for(2);
        assert_eq!(mail.len(), 2);
        assert!(
            mail[1]
                .data
                .contains("Subject: [certmgr] web: expires within 7 days"),
            "{}",
            mail[1].data
        );
        assert!(
            mail[1]
                .data
                .contains("web: its certificate (version 1) expires")
        );
    }
    // A second pass sends nothing new.
    let second = notify::pass(&engine).await.unwrap();
    assert!(second.decided.is_empty() && second.sent == 0, "{second:?}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(starttls.messages().len(), 2);
    assert_eq!(implicit.messages().len(), 2);
    clock.advance(60);
    assert_eq!(notify::pass(&engine).await.unwrap().sent, 0);
}

fn hook(name: &str, url: String, format: WebhookFormat, secret: Option<&str>) -> ChannelRequest {
    ChannelRequest {
        name: Some(name.into()),
        webhook: Some(WebhookRequest {
            url: Some(url),
            format: Some(format),
            secret: secret.map(Into::into),
            ca_pem: None,
            allow_plain_http: true,
        }),
        ..ChannelRequest::default()
    }
}

/// Each generic request's signature verifies (at `now`, or at the time it
/// names); the notices it carries as `event[:threshold] credential`.
fn generic_notices(received: &[ReceivedHook], now: Option<i64>) -> Vec<String> {
    let mut out = Vec::new();
    for r in received {
        let stamp = &r.headers[&TIMESTAMP_HEADER.to_ascii_lowercase()];
        let now = now.unwrap_or_else(|| stamp.parse().unwrap());
        assert!(
            verify_signature(
                SECRET.as_bytes(),
                stamp,
                &r.headers[&SIGNATURE_HEADER.to_ascii_lowercase()],
                &r.body,
                now,
            ),
            "the signature of {:?} verifies",
            r.json()
        );
        assert_eq!(r.headers["content-type"], "application/json");
        for n in r.json()["notices"].as_array().unwrap() {
            let event = n["event"].as_str().unwrap();
            let what = match n["threshold_days"].as_u64() {
                Some(t) => format!("{event}:{t} {}", n["credential"].as_str().unwrap()),
                None => format!("{event} {}", n["credential"].as_str().unwrap()),
            };
            out.push(what);
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn webhooks_are_signed_and_each_event_and_threshold_is_noticed_once() {
    let test = TestStore::new();
    let store = open(&test).await;
    let t0 = time::OffsetDateTime::now_utc().unix_timestamp();
    let clock = FixedClock::at(t0);
    let engine = Engine::with_clock(&store, &clock);
    microca(&engine).await;
    let receiver = WebhookReceiver::start().await.unwrap();
    let url = |path: &str| format!("{}{path}", receiver.url);
    for request in [
        hook(
            "generic",
            url("/generic"),
            WebhookFormat::Generic,
            Some(SECRET),
        ),
        hook("slack", url("/slack"), WebhookFormat::Slack, None),
        hook("teams", url("/teams"), WebhookFormat::Teams, None),
        hook("broken", url("/fail"), WebhookFormat::Generic, Some(SECRET)),
    ] {
        notify::create_channel(&engine, &request).await.unwrap();
    }
    let mut digest = hook(
        "digest",
        url("/digest"),
        WebhookFormat::Generic,
        Some(SECRET),
    );
    digest.digest = true;
    let hour_now = (t0.rem_euclid(DAY) / 3600) as u8;
    digest.digest_hour = Some((hour_now + 1) % 24);
    notify::create_channel(&engine, &digest).await.unwrap();

    // Send test: the generic one signed; the broken one a clear failure.
    let sent = notify::send_test(&engine, "generic").await.unwrap();
    let tests = receiver.received("/generic");
    assert_eq!(tests.len(), 1);
    assert_eq!(tests[0].headers["x-certmgr-event"], "test");
    assert_eq!(tests[0].headers["x-certmgr-delivery"], sent.message_id);
    generic_notices(&tests, Some(clock.unix()));
    let failed = notify::send_test(&engine, "broken").await.unwrap_err();
    assert_eq!(failed.kind(), ErrorKind::Failed);
    assert!(failed.to_string().contains("HTTP 500"), "{failed}");

    // The population: nearing expiry, about to expire, failed, revoked.
    issued(&engine, "soon", "soon.example.test", 20).await;
    issued(&engine, "short", "short.example.test", 1).await;
    let request = CredentialRequest {
        name: "failing".into(),
        hosts: vec!["failing.example.test".into()],
        issuer: "ca:lab".into(),
        ..CredentialRequest::default()
    };
    certmgr_engine::credential::create(&engine, &request.parse().unwrap())
        .await
        .unwrap();
    let failing = store.credential("failing").await.unwrap();
    store
        .record_failure(&failing, "issue-failed", "the CA said no")
        .await
        .unwrap();
    issued(&engine, "gone", "gone.example.test", 90).await;
    let gone = store.credential("gone").await.unwrap();
    let revoked = Outcome {
        status: Status::Revoked,
        health: Health::Error,
        last_error: None,
    };
    store
        .set_outcome(&gone, &revoked, ("revoked", "revoked"))
        .await
        .unwrap();

    let mut expected_generic: Vec<String> = Vec::new();
    let mut pass_at = |at: i64, new: &[&str]| {
        clock.set(at);
        expected_generic.extend(new.iter().map(|s| s.to_string()));
        expected_generic.sort();
        expected_generic.clone()
    };
    let steps: [(i64, &[&str]); 5] = [
        (
            t0,
            &[
                "expiring:1 short",
                "issuance-failed failing",
                "revoked gone",
            ],
        ),
        (t0 + 6 * DAY, &["expiring:14 soon", "expired short"]),
        (t0 + 13 * DAY, &["expiring:7 soon"]),
        (t0 + 17 * DAY, &["expiring:3 soon"]),
        (t0 + 19 * DAY + 3600, &["expiring:1 soon"]),
    ];
    for (at, new) in steps {
        let expected = pass_at(at, new);
        let report = notify::pass(&engine).await.unwrap();
        // A second pass at the same time: nothing new, nothing sent.
        let again = notify::pass(&engine).await.unwrap();
        assert!(again.decided.is_empty(), "{again:?}");
        assert_eq!(again.sent, 0, "{again:?}");
        let got: Vec<String> = generic_notices(&receiver.received("/generic")[1..], None)
            .into_iter()
            .filter(|n| !n.starts_with("renewal-overdue"))
            .collect();
        assert_eq!(got, expected, "at +{} days: {report:?}", (at - t0) / DAY);
        // The broken channel failed without stopping the others.
        assert!(
            report.failed.iter().all(|(c, _)| c == "broken"),
            "{report:?}"
        );
    }
    // Slack and Teams got one message per notice, in their shapes.
    let slack = receiver.received("/slack");
    let teams = receiver.received("/teams");
    assert_eq!(slack.len(), receiver.received("/generic").len() - 1);
    assert_eq!(teams.len(), slack.len());
    for (s, t) in slack.iter().zip(&teams) {
        assert!(s.json()["text"].as_str().unwrap().starts_with("[certmgr] "));
        assert_eq!(s.json()["blocks"][0]["type"], "header");
        assert!(!s.headers.contains_key("x-certmgr-signature"));
        let card = &t.json()["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
    }
    // The digest: nothing on the first day before its hour, then one
    // message a day listing what was pending.
    let digests = receiver.received("/digest");
    assert_eq!(digests.len(), 4, "one digest on each later pass day");
    assert_eq!(digests[0].json()["type"], "digest");
    assert!(digests[0].json()["notices"].as_array().unwrap().len() >= 5);
    // The broken channel's deliveries are recorded as failing.
    let broken = notify::notices(
        &engine,
        &NoticeQuery {
            channel: Some("broken".into()),
            limit: 100,
            ..NoticeQuery::default()
        },
    )
    .await
    .unwrap();
    assert!(!broken.items.is_empty());
    let attempts: u32 = broken
        .items
        .iter()
        .flat_map(|n| n.deliveries.iter().filter(|d| d.channel == "broken"))
        .map(|d| {
            assert_ne!(d.state, "sent");
            if d.attempts > 0 {
                assert!(d.last_error.as_deref().unwrap().contains("HTTP 500"));
            }
            d.attempts
        })
        .sum();
    assert!(attempts >= 5, "{attempts}");

    // A renewal resets: the new version is noticed afresh (MicroCA dates
    // certificates by the system clock, so at the test's clock it is again
    // a day from its expiry), and the old version's thresholds are not
    // repeated.
    issue(&engine, "soon").await;
    clock.advance(60);
    let renewed = notify::pass(&engine).await.unwrap();
    let about_soon: Vec<&String> = renewed
        .decided
        .iter()
        .filter(|m| m.starts_with("soon"))
        .collect();
    assert_eq!(about_soon.len(), 1, "{renewed:?}");
    assert!(
        about_soon[0].starts_with("soon: its certificate (version 2)"),
        "{renewed:?}"
    );
    let listed = notify::notices(
        &engine,
        &NoticeQuery {
            credential: Some("soon".into()),
            event: Some("expiring".into()),
            limit: 100,
            ..NoticeQuery::default()
        },
    )
    .await
    .unwrap();
    let thresholds: Vec<(i64, Option<u32>)> = listed
        .items
        .iter()
        .map(|n| (n.version, n.threshold_days))
        .collect();
    assert_eq!(
        thresholds,
        [
            (2, Some(1)),
            (1, Some(1)),
            (1, Some(3)),
            (1, Some(7)),
            (1, Some(14))
        ]
    );
}

//! `certmgr renew --due`: due-ness, backoff, ARI windows and `replaces`, profiles.

use certmgr_testkit::ari_proxy::{AriProxy, AriProxyOptions, RenewalWindowRule};
use certmgr_testkit::pebble::pebble_available;

use crate::acme::AcmeEnv;
use crate::need_pebble;

fn decisions(value: &serde_json::Value) -> Vec<(String, bool, String)> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["due"].as_bool().unwrap(),
                d["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn renew_due_issues_what_needs_a_certificate_and_nothing_else() {
    need_pebble!();
    let t = AcmeEnv::start();
    t.env.ok(&["ca", "create", "lab"]);
    t.env.ok(&[
        "cred",
        "create",
        "local",
        "--host",
        "l.example.test",
        "--issuer",
        "ca:lab",
    ]);
    for i in 0..3 {
        let name = format!("a{i}");
        let host = format!("a{i}.example.test");
        t.env.ok(&[
            "cred", "create", &name, "--host", &host, "--issuer", "acme:pb",
        ]);
    }
    t.env
        .ok(&["cred", "create", "man", "--host", "m.example.test"]);
    let dry = t.env.json(&["renew", "--due", "--dry-run"]);
    let planned = decisions(&dry);
    assert_eq!(planned.iter().filter(|d| d.1).count(), 4, "{planned:?}");
    assert!(
        planned
            .iter()
            .any(|d| d.0 == "man" && !d.1 && d.2.contains("outside certmgr"))
    );
    assert_eq!(
        t.env.json(&["cred", "show", "a0"])["credential"]["status"],
        "pending",
        "dry run changes nothing"
    );

    let done = t
        .env
        .json(&["renew", "--due", "--http01-listen", &t.http01()]);
    let issued = done
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["ok"] == true)
        .count();
    assert_eq!(issued, 4, "{done}");
    for name in ["local", "a0", "a1", "a2"] {
        assert_eq!(
            t.env.json(&["cred", "show", name])["credential"]["status"],
            "valid",
            "{name}"
        );
    }
    t.verify("a2", &[""]);
    // Fresh certificates are not due: the next run plans their renewal and does nothing.
    let again = decisions(
        &t.env
            .json(&["renew", "--due", "--http01-listen", &t.http01()]),
    );
    assert!(again.iter().all(|d| !d.1), "{again:?}");
    assert!(
        again
            .iter()
            .any(|d| d.0 == "local" && d.2.contains("renews at")),
        "{again:?}"
    );
}

#[test]
fn a_failure_backs_off_and_a_success_clears_it() {
    need_pebble!();
    let t = AcmeEnv::start();
    t.env.ok(&[
        "cred",
        "create",
        "f",
        "--host",
        "f.example.test",
        "--issuer",
        "acme:pb",
    ]);
    // Nobody answers where Pebble connects: validation fails.
    let out = t
        .env
        .run(&["renew", "--due", "--http01-listen", "127.0.0.1:0"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let show = t.env.json(&["cred", "show", "f"]);
    assert_eq!(show["credential"]["status"], "failed");
    assert_eq!(show["credential"]["failure_count"], 1);
    assert!(
        show["credential"]["last_error"]
            .as_str()
            .unwrap()
            .contains("urn:ietf:params:acme:error:")
    );
    // The scheduler backs off: not due now, even with a working responder.
    let planned = decisions(
        &t.env
            .json(&["renew", "--due", "--http01-listen", &t.http01()]),
    );
    assert!(
        !planned[0].1 && planned[0].2.contains("backing off"),
        "{planned:?}"
    );
    // An explicit issue is not held back, and success clears the failure count.
    t.env
        .ok(&["cred", "issue", "f", "--http01-listen", &t.http01()]);
    let show = t.env.json(&["cred", "show", "f"]);
    assert_eq!(show["credential"]["status"], "valid");
    assert_eq!(show["credential"]["failure_count"], 0);
}

#[test]
fn ari_window_decides_and_the_renewal_names_what_it_replaces() {
    need_pebble!();
    let t = AcmeEnv::start_with(Default::default(), false);
    let proxy = AriProxy::start(
        &t.pebble,
        AriProxyOptions {
            retry_after_secs: 1,
            renewal_window: RenewalWindowRule::not_yet(),
            ..AriProxyOptions::with_lets_encrypt_profiles()
        },
    );
    let url = proxy.directory_url();
    let bundle = proxy.ca_bundle_path().to_str().unwrap().to_owned();
    let err = t.env.fails(
        2,
        &[
            "acme",
            "account",
            "create",
            "bad",
            "--directory",
            &url,
            "--ca-bundle",
            &bundle,
            "--agree-tos",
            "--profile",
            "bogus",
        ],
    );
    assert!(
        err.contains("shortlived"),
        "the offered profiles are named: {err}"
    );
    assert!(
        !t.env
            .run(&["acme", "account", "show", "bad"])
            .status
            .success(),
        "a refused account is not stored"
    );
    t.env.ok(&[
        "acme",
        "account",
        "create",
        "ari",
        "--directory",
        &url,
        "--ca-bundle",
        &bundle,
        "--agree-tos",
        "--profile",
        "shortlived",
    ]);
    t.env.ok(&[
        "cred",
        "create",
        "w",
        "--host",
        "w.example.test",
        "--issuer",
        "acme:ari",
    ]);
    t.env.ok(&[
        "cred",
        "create",
        "c",
        "--host",
        "c.example.test",
        "--issuer",
        "acme:ari",
        "--profile",
        "classic",
    ]);
    t.env
        .ok(&["renew", "--due", "--http01-listen", &t.http01()]);
    let orders = proxy.new_orders();
    let profiles: Vec<&str> = orders
        .iter()
        .filter_map(|o| o["profile"].as_str())
        .collect();
    assert_eq!(orders.len(), 2);
    assert!(
        profiles.contains(&"shortlived") && profiles.contains(&"classic"),
        "{orders:?}"
    );
    assert!(
        orders.iter().all(|o| o.get("replaces").is_none()),
        "first issuance replaces nothing"
    );

    // The CA's window is a month away: not due, and the plan says why.
    let planned = decisions(
        &t.env
            .json(&["renew", "--due", "--http01-listen", &t.http01()]),
    );
    assert!(
        planned.iter().all(|d| !d.1 && d.2.contains("ARI window")),
        "{planned:?}"
    );
    assert!(!proxy.renewal_info_requests().is_empty());

    // The CA moves the window into the past (e.g. a mass revocation): renew now.
    proxy.set_window(RenewalWindowRule::renew_now());
    // Two seconds later by the (test build's) clock: past the Retry-After of
    // the last answer, without sleeping.
    let out = t
        .env
        .command(&["--json", "renew", "--due", "--dry-run"])
        .env("CERTMGR_TEST_CLOCK_OFFSET", "2")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let planned = decisions(&serde_json::from_slice(&out.stdout).unwrap());
    assert!(planned.iter().all(|d| d.1), "{planned:?}");
    let list = t.env.json(&["cred", "list"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "renewal-due" && c["health"] == "warning"),
        "{list}"
    );
    let done = t
        .env
        .json(&["renew", "--due", "--http01-listen", &t.http01()]);
    assert!(
        done.as_array().unwrap().iter().all(|d| d["ok"] == true),
        "{done}"
    );
    let orders = proxy.new_orders();
    assert_eq!(orders.len(), 4);
    for order in &orders[2..] {
        let replaces = order["replaces"].as_str().unwrap_or_default();
        assert!(
            replaces.contains('.'),
            "renewal names the certificate it replaces: {order}"
        );
    }
    assert_eq!(
        t.env.json(&["cred", "show", "w"])["credential"]["current_version"],
        2
    );
}

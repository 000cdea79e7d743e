//! DNS-01 end to end: Pebble validating through a real PowerDNS that certmgr
//! updates through the declarative `powerdns` provider definition.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use certmgr_testkit::pebble::{PebbleOptions, pebble_available};
use certmgr_testkit::powerdns::{PowerDns, powerdns_available};

use crate::acme::AcmeEnv;
use crate::need_pebble;

fn setup() -> Option<(PowerDns, AcmeEnv)> {
    if !pebble_available() || !powerdns_available() {
        return None;
    }
    let pdns = PowerDns::start(&["example.test"]);
    let t = AcmeEnv::start_with(
        PebbleOptions {
            dns_server: Some(pdns.dns_address()),
            ..PebbleOptions::default()
        },
        true,
    );
    t.env.file("pdns.key", format!("{}\n", pdns.api_key()));
    t.env.ok(&[
        "dns",
        "account",
        "create",
        "pd",
        "--provider",
        "powerdns",
        "--zone",
        "example.test",
        "--set",
        &format!("api_url={}", pdns.api_url()),
        "--set",
        "api_key=@pdns.key",
        "--nameserver",
        &pdns.dns_address().to_string(),
        "--propagation-timeout",
        "10",
    ]);
    Some((pdns, t))
}

#[test]
fn wildcard_and_base_name_through_powerdns() {
    need_pebble!();
    let Some((pdns, t)) = setup() else { return };
    t.env.ok(&[
        "cred",
        "create",
        "w",
        "--host",
        "example.test",
        "--host",
        "*.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
    ]);
    let out = t.env.run(&["cred", "issue", "w"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        t.pebble.logs()
    );
    let text = &t.verify("w", &[""])[0];
    assert!(
        text.contains("DNS:example.test") && text.contains("DNS:*.example.test"),
        "{text}"
    );
    assert!(
        pdns.records_named("example.test", "_acme-challenge")
            .is_empty(),
        "no challenge record is left behind"
    );
}

#[test]
fn account_test_adds_and_removes_a_probe_without_showing_the_token() {
    need_pebble!();
    let Some((pdns, t)) = setup() else { return };
    let out = t.env.run(&["dns", "account", "test", "pd", "--trace"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("add _certmgr-test.example.test TXT: ok"),
        "{stdout}"
    );
    assert!(
        stdout.contains("delete _certmgr-test.example.test TXT: ok"),
        "{stdout}"
    );
    assert!(
        stderr.contains("PATCH"),
        "the trace shows the requests: {stderr}"
    );
    assert!(
        !stderr.contains(pdns.api_key()) && !stdout.contains(pdns.api_key()),
        "the API key is redacted"
    );
    assert!(
        pdns.records_named("example.test", "_certmgr-test")
            .is_empty()
    );
    let show = t.env.json(&["dns", "account", "show", "pd"]);
    assert!(!show.to_string().contains(pdns.api_key()));
    // A wrong parameter is refused before anything is stored.
    let before = t.env.digest();
    let err = t.env.fails(
        2,
        &[
            "dns",
            "account",
            "create",
            "x",
            "--provider",
            "powerdns",
            "--zone",
            "example.test",
        ],
    );
    assert!(err.contains("api_key"), "{err}");
    let err = t.env.fails(
        2,
        &[
            "dns",
            "account",
            "create",
            "x",
            "--provider",
            "nope",
            "--zone",
            "example.test",
        ],
    );
    assert!(err.to_lowercase().contains("nope"), "{err}");
    assert_eq!(t.env.digest(), before);
}

#[test]
fn records_left_by_a_killed_issuance_are_removed_by_the_next_run() {
    need_pebble!();
    let Some((pdns, t)) = setup() else { return };
    t.env.ok(&[
        "cred",
        "create",
        "k",
        "--host",
        "k.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
    ]);
    let mut child = t
        .env
        .command(&["cred", "issue", "k"])
        .env("CERTMGR_FAILPOINT", "challenges-ready")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    for line in stderr.lines() {
        if line.unwrap().contains("failpoint challenges-ready reached") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !pdns
            .records_named("example.test", "_acme-challenge")
            .is_empty(),
        "the killed run left its record (the journal knows it)"
    );
    t.env.ok(&["renew", "--due"]);
    assert!(
        pdns.records_named("example.test", "_acme-challenge")
            .is_empty(),
        "cleaned up"
    );
    assert_eq!(
        t.env.json(&["cred", "show", "k"])["credential"]["status"],
        "valid"
    );
    t.verify("k", &[""]);
}

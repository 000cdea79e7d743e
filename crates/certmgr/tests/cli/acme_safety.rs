//! Issue #9: one stuck credential cannot stall a renewal run (per-credential
//! deadlines), and an ACME account survives a crash in the middle of a key
//! rollover or of its registration.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use certmgr_testkit::pebble::{PebbleOptions, pebble_available};

use crate::acme::AcmeEnv;
use crate::need_pebble;

/// A script DNS provider whose `add` never returns (a provider API that
/// accepts the request and never answers) and whose `delete` notes what it
/// removed in `deleted.log`.
fn stuck_hook(t: &AcmeEnv) -> std::path::PathBuf {
    let log = t.env.path("deleted.log");
    let script = t.env.file(
        "stuck-hook.sh",
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  add) exec sleep 300 ;;\n  delete) echo \"$2 $3\" >> '{}' ;;\nesac\n",
            log.display()
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

#[test]
fn a_stuck_dns_provider_fails_its_credential_at_the_deadline_and_the_others_are_issued() {
    need_pebble!();
    let t = AcmeEnv::start();
    for i in 0..2 {
        let name = format!("h{i}");
        let host = format!("h{i}.example.test");
        t.env.ok(&[
            "cred", "create", &name, "--host", &host, "--issuer", "acme:pb",
        ]);
    }
    let hook = stuck_hook(&t);
    t.env.ok(&[
        "dns",
        "account",
        "create",
        "stuck",
        "--provider",
        "script",
        "--zone",
        "stuck.test",
        "--set",
        &format!("command={}", hook.display()),
        "--nameserver",
        &t.pebble.dns_server(),
    ]);
    t.env.ok(&[
        "cred",
        "create",
        "s",
        "--host",
        "s.stuck.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
        "--dns-account",
        "stuck",
        "--challenge-alias",
        "s-challenge.stuck.test",
    ]);
    let started = Instant::now();
    let out = t
        .env
        .command(&["--json", "renew", "--due", "--http01-listen", &t.http01()])
        .env("CERTMGR_TEST_DEADLINES", "4,60")
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}\n{}", t.pebble.logs());
    assert!(
        elapsed < Duration::from_secs(45),
        "the run ended about the deadline, not when the provider answered: {elapsed:?}\n{stderr}"
    );
    let decisions: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for d in decisions.as_array().unwrap() {
        let name = d["name"].as_str().unwrap();
        let result = d["result"].as_str().unwrap_or_default();
        if name == "s" {
            assert_eq!(d["ok"], false, "{d}");
            assert!(
                result.contains("challenge phase") && result.contains("4 s limit"),
                "the message names the phase and the limit: {result}"
            );
        } else {
            assert_eq!(d["ok"], true, "{name}: {result}\n{stderr}");
        }
    }
    for name in ["h0", "h1"] {
        assert_eq!(
            t.env.json(&["cred", "show", name])["credential"]["status"],
            "valid"
        );
    }
    t.verify("h1", &[""]);
    let show = t.env.json(&["cred", "show", "s"]);
    assert_eq!(show["credential"]["status"], "failed", "{show}");
    assert_eq!(show["credential"]["failure_count"], 1, "backoff counted");
    assert!(show["credential"]["next_attempt_at"].as_i64().is_some());
    // The record it started to publish was withdrawn.
    let deleted = || std::fs::read_to_string(t.env.path("deleted.log")).unwrap_or_default();
    assert!(
        deleted().contains("s-challenge.stuck.test") && deleted().lines().count() == 1,
        "the TXT record was deleted once: {:?}",
        deleted()
    );
    // The lease was released: an explicit issue runs (and fails at the deadline again).
    let out = t
        .env
        .command(&["cred", "issue", "s"])
        .env("CERTMGR_TEST_DEADLINES", "2,60")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("already running"), "{stderr}");
    assert!(stderr.contains("2 s limit"), "{stderr}");
    // Its own record only: the first run left nothing in the journal for this
    // run's cleanup of stale records to delete again.
    assert_eq!(deleted().lines().count(), 2, "{:?}", deleted());
    // The order as a whole has its own limit, whichever phase it is in.
    let out = t
        .env
        .command(&["cred", "issue", "s"])
        .env("CERTMGR_TEST_DEADLINES", "60,3")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("issuance as a whole") && stderr.contains("3 s limit"),
        "{stderr}"
    );
    assert_eq!(deleted().lines().count(), 3, "{:?}", deleted());
    assert_eq!(
        t.env.json(&["cred", "show", "s"])["credential"]["failure_count"],
        3
    );
}

/// Run `command` until it reaches failpoint `point`, then SIGKILL it;
/// returns what it wrote on stderr until then.
fn kill_at(mut command: std::process::Command, point: &str) -> Vec<String> {
    let mut child = command
        .env("CERTMGR_FAILPOINT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        let reached = line.contains(&format!("failpoint {point} reached"));
        seen.push(line);
        if reached {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return seen;
        }
    }
    panic!(
        "the process ended before failpoint {point}: {:?}\n{}",
        child.wait(),
        seen.join("\n")
    );
}

#[test]
fn a_rollover_killed_after_the_ca_switched_keys_keeps_the_account() {
    need_pebble!();
    let t = AcmeEnv::start();
    let before = t.env.json(&["acme", "account", "show", "pb"]);
    kill_at(
        t.env.command(&["acme", "account", "rollover", "pb"]),
        "rollover-switched",
    );
    // The CA uses the new key; the store still names the old one as current
    // and the new one as pending. The next use of the account asks the CA
    // which key it takes and settles it (with the old key alone, every
    // request would now be refused).
    t.env.ok(&[
        "cred",
        "create",
        "k",
        "--host",
        "k.example.test",
        "--issuer",
        "acme:pb",
    ]);
    let out = t
        .env
        .run(&["cred", "issue", "k", "--http01-listen", &t.http01()]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        t.pebble.logs()
    );
    t.verify("k", &[""]);
    let after = t.env.json(&["acme", "account", "show", "pb"]);
    assert_eq!(before["account_url"], after["account_url"], "same account");
    assert_eq!(after["status"], "valid");
    // And the account rolls over again normally.
    t.env.ok(&["acme", "account", "rollover", "pb"]);
    t.env
        .ok(&["cred", "issue", "k", "--http01-listen", &t.http01()]);
}

#[test]
fn a_rollover_killed_before_the_ca_switched_keys_keeps_the_account() {
    need_pebble!();
    let t = AcmeEnv::start();
    kill_at(
        t.env.command(&["acme", "account", "rollover", "pb"]),
        "rollover-key-stored",
    );
    // The CA still uses the old key: it keeps working, and the next rollover
    // switches to the key already stored.
    t.env.ok(&[
        "cred",
        "create",
        "k",
        "--host",
        "k.example.test",
        "--issuer",
        "acme:pb",
    ]);
    t.env
        .ok(&["cred", "issue", "k", "--http01-listen", &t.http01()]);
    t.env.ok(&["acme", "account", "rollover", "pb"]);
    t.env
        .ok(&["cred", "issue", "k", "--http01-listen", &t.http01()]);
}

#[test]
fn a_registration_killed_after_the_ca_took_the_eab_key_is_resumed() {
    need_pebble!();
    // base64url of 32 bytes, as CAs hand out EAB keys
    let hmac = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    let t = AcmeEnv::start_with(
        PebbleOptions {
            eab_keys: vec![("kid-1".into(), hmac.into())],
            ..PebbleOptions::default()
        },
        false,
    );
    t.env.file("eab.key", format!("{hmac}\n"));
    let url = t.pebble.directory_url();
    let bundle = t.pebble.ca_bundle_path().to_str().unwrap().to_owned();
    let args = [
        "acme",
        "account",
        "create",
        "eab",
        "--directory",
        &url,
        "--ca-bundle",
        &bundle,
        "--agree-tos",
        "--eab-kid",
        "kid-1",
        "--eab-hmac-file",
        "eab.key",
    ];
    let seen = kill_at(t.env.command(&args), "account-registered");
    let registered = seen
        .iter()
        .find_map(|l| {
            l.split_once("registered at the CA: ")
                .map(|(_, u)| u.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no account URL printed: {seen:?}"));
    let show = t.env.json(&["acme", "account", "show", "eab"]);
    assert_eq!(show["status"], "pending", "{show}");
    // Using it says how to finish.
    let err = t.env.fails(
        2,
        &[
            "cred",
            "create",
            "e",
            "--host",
            "e.example.test",
            "--issuer",
            "acme:eab",
        ],
    );
    assert!(err.contains("pending"), "{err}");
    // The same command again finds the account by its key.
    let out = t.env.run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{}", t.pebble.logs());
    assert!(stderr.contains("found again"), "{stderr}");
    let show = t.env.json(&["acme", "account", "show", "eab"]);
    assert_eq!(show["status"], "valid");
    assert_eq!(show["account_url"], registered.as_str(), "the same account");
    t.env.ok(&[
        "cred",
        "create",
        "e",
        "--host",
        "e.example.test",
        "--issuer",
        "acme:eab",
    ]);
    t.env
        .ok(&["cred", "issue", "e", "--http01-listen", &t.http01()]);
    t.verify("e", &[""]);
}

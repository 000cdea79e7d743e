//! ACME under faults: bad nonces, a process killed at every step of an order.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use certmgr_testkit::pebble::{PebbleOptions, pebble_available};

use crate::acme::AcmeEnv;
use crate::need_pebble;

#[test]
fn twenty_issuances_succeed_while_the_ca_rejects_30_percent_of_nonces() {
    need_pebble!();
    let t = AcmeEnv::start_with(
        PebbleOptions {
            nonce_reject_percent: 30,
            ..PebbleOptions::default()
        },
        true,
    );
    for i in 0..20 {
        let name = format!("n{i}");
        let host = format!("n{i}.example.test");
        t.env.ok(&[
            "cred", "create", &name, "--host", &host, "--issuer", "acme:pb",
        ]);
        t.env
            .ok(&["cred", "issue", &name, "--http01-listen", &t.http01()]);
    }
    let list = t.env.json(&["cred", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 20);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "valid"),
        "{list}"
    );
    t.verify("n19", &[""]);
}

/// Run `cred issue` until it reaches `point`, then SIGKILL it.
fn kill_at(t: &AcmeEnv, name: &str, point: &str) {
    let mut child = t
        .env
        .command(&["cred", "issue", name, "--http01-listen", &t.http01()])
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
            crate::util::wait_for_dead_instance();
            return;
        }
    }
    panic!(
        "the process ended before failpoint {point}: {:?}\n{}",
        child.wait(),
        seen.join("\n")
    );
}

#[test]
fn an_issuance_killed_at_any_step_completes_on_the_next_run() {
    need_pebble!();
    let t = AcmeEnv::start();
    let points = [
        "key-saved",
        "order-created",
        "challenges-ready",
        "authorized",
        "finalized",
        "downloaded",
    ];
    for point in points {
        let name = format!("k-{point}");
        let host = format!("{name}.example.test");
        t.env.ok(&[
            "cred",
            "create",
            &name,
            "--host",
            &host,
            "--key",
            "rsa-2048",
            "--key",
            "ecdsa-p256",
            "--issuer",
            "acme:pb",
        ]);
        kill_at(&t, &name, point);
        let show = t.env.json(&["cred", "show", &name]);
        assert_eq!(
            show["credential"]["status"], "issuing",
            "{point}: killed mid-issuance"
        );
        // The next run completes the issuance, resuming the order in flight.
        let out = t
            .env
            .run(&["cred", "issue", &name, "--http01-listen", &t.http01()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{point}: {stderr}\n{}",
            t.pebble.logs()
        );
        // Killed after telling the CA to validate: if the CA came after the
        // responder died, that order failed and a new one is placed with the
        // same (sealed) key; if it came before, the order is resumed. At every
        // other point the same order is resumed.
        let (expect, orders_expected): (&[&str], &[usize]) = match point {
            "key-saved" => (&["order created"], &[2]),
            "challenges-ready" => (
                &["placing a new one with the same key", "resuming order"],
                &[3, 2],
            ),
            _ => (&["resuming order"], &[2]),
        };
        assert!(
            expect.iter().any(|e| stderr.contains(e)),
            "{point}: expected one of {expect:?}: {stderr}"
        );
        let show = t.env.json(&["cred", "show", &name, "--events"]);
        assert_eq!(show["credential"]["status"], "valid", "{point}");
        assert_eq!(
            show["credential"]["current_version"], 1,
            "{point}: exactly one version"
        );
        let orders = show["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "order-created")
            .count();
        assert!(
            orders_expected.contains(&orders),
            "{point}: {orders} orders: {show}"
        );
        t.verify(&name, &["rsa", "ecdsa"]);
    }
}

#[test]
fn a_second_issuance_of_the_same_credential_is_refused_while_one_runs() {
    need_pebble!();
    let t = AcmeEnv::start();
    t.env.ok(&[
        "cred",
        "create",
        "busy",
        "--host",
        "busy.example.test",
        "--issuer",
        "acme:pb",
    ]);
    // Freeze one issuance at a failpoint, keep it alive, and try a second one.
    let mut child = t
        .env
        .command(&["cred", "issue", "busy", "--http01-listen", &t.http01()])
        .env("CERTMGR_FAILPOINT", "order-created")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("failpoint order-created reached") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "first issuance ended early"
        );
    }
    let err = t.env.fails(
        1,
        &["cred", "issue", "busy", "--http01-listen", "127.0.0.1:0"],
    );
    assert!(err.contains("already running"), "{err}");
    child.kill().unwrap();
    child.wait().unwrap();
    // The holder is dead now: once its registration expired, its lease is
    // taken over and the order completes.
    crate::util::wait_for_dead_instance();
    t.env
        .ok(&["cred", "issue", "busy", "--http01-listen", &t.http01()]);
    t.verify("busy", &[""]);
}

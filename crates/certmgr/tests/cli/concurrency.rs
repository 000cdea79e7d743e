//! Runs that overlap (cron during a manual run, two hosts on one store)
//! order each certificate once, and respect each other's live work.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use certmgr_testkit::ari_proxy::{AriProxy, AriProxyOptions};
use certmgr_testkit::pebble::pebble_available;

use crate::acme::AcmeEnv;
use crate::need_pebble;
use crate::server::Server;

/// Credentials created per round; three rounds.
const PER_ROUND: usize = 20;
/// `renew --due` processes started at once in each round.
const OVERLAPPING_RUNS: usize = 3;

/// An ACME environment whose account orders through a recording proxy in
/// front of Pebble, and a `certmgr server` answering HTTP-01 for every process.
fn recorded_env() -> (AcmeEnv, AriProxy, Server) {
    let t = AcmeEnv::start_with(Default::default(), false);
    let proxy = AriProxy::start(
        &t.pebble,
        AriProxyOptions {
            advertise_ari: false,
            ..AriProxyOptions::default()
        },
    );
    let bundle = proxy.ca_bundle_path().to_str().unwrap().to_owned();
    t.env.ok(&[
        "acme",
        "account",
        "create",
        "pb",
        "--directory",
        &proxy.directory_url(),
        "--ca-bundle",
        &bundle,
        "--agree-tos",
        "--max-concurrent-orders",
        "10",
    ]);
    let server = Server::start(&t, &["--no-renew", "--no-https"]);
    (t, proxy, server)
}

fn spawn_renew(t: &AcmeEnv) -> Child {
    t.env
        .command(&["--json", "renew", "--due"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn overlapping_renew_runs_order_each_credential_exactly_once() {
    need_pebble!();
    let (t, proxy, server) = recorded_env();
    let mut names = Vec::new();
    for round in 0..3 {
        for i in 0..PER_ROUND {
            let name = format!("r{round}c{i}");
            t.env.ok(&[
                "cred",
                "create",
                &name,
                "--host",
                &format!("{name}.example.test"),
                "--issuer",
                "acme:pb",
            ]);
            names.push(name);
        }
        let runs: Vec<Child> = (0..OVERLAPPING_RUNS).map(|_| spawn_renew(&t)).collect();
        for run in runs {
            let out = run.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: a renew run failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for name in &names {
            let show = t.env.json(&["cred", "show", name]);
            assert_eq!(
                show["credential"]["status"], "valid",
                "round {round}: {name}"
            );
            assert_eq!(
                show["credential"]["current_version"], 1,
                "round {round}: {name} has exactly one version"
            );
        }
        assert_eq!(
            proxy.new_orders().len(),
            names.len(),
            "round {round}: the CA saw one order per credential"
        );
    }
    // Nothing is due any more: three more overlapping runs order nothing.
    let runs: Vec<Child> = (0..OVERLAPPING_RUNS).map(|_| spawn_renew(&t)).collect();
    for run in runs {
        assert!(run.wait_with_output().unwrap().status.success());
    }
    assert_eq!(proxy.new_orders().len(), 3 * PER_ROUND);
    server.stop();
}

/// Start `cred issue NAME` frozen at `point` inside its own PID namespace
/// (as in a container: the other processes' ids mean nothing to it, nor its
/// id to them), with the host name every test process reports.
fn frozen_in_own_pid_namespace(t: &AcmeEnv, name: &str, point: &str) -> Child {
    let mut command = std::process::Command::new("unshare");
    command
        .args(["--pid", "--fork", "--kill-child", "--mount-proc", "--"])
        .arg(env!("CARGO_BIN_EXE_certmgr"))
        .args(["cred", "issue", name, "--http01-listen", &t.http01()]);
    let template = t.env.command(&[]);
    for (key, value) in template.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    let mut child = command
        .current_dir(t.env.store.work_dir())
        .env("CERTMGR_FAILPOINT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    for line in stderr.lines() {
        if line
            .unwrap()
            .contains(&format!("failpoint {point} reached"))
        {
            return child;
        }
        assert!(Instant::now() < deadline, "failpoint {point} not reached");
    }
    panic!(
        "the issuance ended before failpoint {point}: {:?}",
        child.wait()
    );
}

fn unshare_available() -> bool {
    let ok = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        certmgr_testkit::skip(
            "unshare --pid needs root and util-linux",
            "run the tests as root (scripts/test does in CI)",
        );
    }
    ok
}

#[test]
fn a_live_holder_in_another_pid_namespace_keeps_its_lease_and_records() {
    need_pebble!();
    if !unshare_available() {
        return;
    }
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
    // A holds the lease, frozen after telling the CA to validate, in a PID
    // namespace of its own: its pid does not exist here, and ours not there.
    let mut holder = frozen_in_own_pid_namespace(&t, "busy", "challenges-ready");
    // Well past a heartbeat period: A is alive (heartbeating) the whole time.
    std::thread::sleep(Duration::from_secs(crate::util::INSTANCE_TTL_SECS + 1));
    let err = t.env.fails(
        1,
        &["cred", "issue", "busy", "--http01-listen", "127.0.0.1:0"],
    );
    assert!(err.contains("already running"), "{err}");
    // A planned run leaves it alone too, and says why.
    let out = t.env.json(&["renew", "--due"]);
    let busy = out
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "busy")
        .unwrap()
        .clone();
    assert!(
        busy["result"]
            .as_str()
            .unwrap()
            .contains("being issued by another run"),
        "{busy}"
    );
    assert_eq!(
        t.env.json(&["cred", "show", "busy"])["credential"]["status"],
        "issuing",
        "nobody else touched it"
    );

    // Once A is dead and its registration expired, the lease is taken over
    // and the order completes.
    holder.kill().unwrap();
    holder.wait().unwrap();
    crate::util::wait_for_dead_instance();
    t.env
        .ok(&["cred", "issue", "busy", "--http01-listen", &t.http01()]);
    t.verify("busy", &[""]);
}

#[test]
fn a_live_holders_journalled_records_are_left_alone_until_it_is_dead() {
    need_pebble!();
    if !unshare_available() {
        return;
    }
    let t = AcmeEnv::start();
    let log = t.env.path("dns-calls.log");
    let script = t.env.file(
        "dns-hook.sh",
        format!("#!/bin/sh\necho \"$1 $2\" >> '{}'\n", log.display()),
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    t.env.ok(&[
        "dns",
        "account",
        "create",
        "hook",
        "--provider",
        "script",
        "--zone",
        "example.test",
        "--set",
        &format!("command={}", script.display()),
        "--propagation",
        "delay",
    ]);
    t.env.ok(&[
        "cred",
        "create",
        "d",
        "--host",
        "d.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
    ]);
    let calls = || std::fs::read_to_string(&log).unwrap_or_default();
    let mut holder = frozen_in_own_pid_namespace(&t, "d", "challenges-ready");
    assert_eq!(calls().matches("add ").count(), 1, "{}", calls());
    std::thread::sleep(Duration::from_secs(crate::util::INSTANCE_TTL_SECS + 1));
    // Another run's clean-up leaves the live holder's record in place.
    t.env.json(&["renew", "--due"]);
    assert_eq!(
        calls().matches("delete ").count(),
        0,
        "a live holder's record was deleted: {}",
        calls()
    );
    // Dead and expired: the next run removes what it left.
    holder.kill().unwrap();
    holder.wait().unwrap();
    crate::util::wait_for_dead_instance();
    let _ = t.env.run(&["renew", "--due"]);
    assert!(
        calls().contains("delete _acme-challenge.d.example.test"),
        "{}",
        calls()
    );
}

//! Tests of the pebble harness: isolation of parallel instances, EAB, cleanup on drop, on
//! panic and when the test process aborts.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use certmgr_testkit::{Pebble, PebbleOptions, pebble_available};

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--fail", "--max-time", "10"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn directory(pebble: &Pebble) -> serde_json::Value {
    let body = curl(&[
        "--cacert",
        pebble.ca_bundle_path().to_str().unwrap(),
        &pebble.directory_url(),
    ]);
    serde_json::from_str(&body).expect("directory is JSON")
}

/// The subject of a PEM certificate, via `openssl x509`.
fn openssl_subject(pem: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cert.pem");
    std::fs::write(&path, pem).unwrap();
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in"])
        .arg(&path)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl x509 failed on {pem:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Whether `pid` is gone (no such process, or a zombie nobody reaped yet) or was reused by a
/// process that is not pebble.
fn process_gone(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
    if state.is_some_and(|s| s.starts_with('Z') || s.starts_with('X')) {
        return true;
    }
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    !comm.contains("pebble")
}

fn wait_gone(pids: &[u32], timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while !pids.iter().all(|&pid| process_gone(pid)) {
        assert!(
            Instant::now() < deadline,
            "processes still running after {timeout:?}: {pids:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_ports_free(ports: &[u16], dns: &str) {
    for &port in ports {
        TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|err| panic!("TCP port {port} still taken: {err}"));
    }
    UdpSocket::bind(dns).unwrap_or_else(|err| panic!("UDP {dns} still taken: {err}"));
}

#[test]
fn two_instances_in_parallel_are_isolated_and_cleaned_up() {
    if !pebble_available() {
        return;
    }
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(Pebble::start);
        let b = s.spawn(Pebble::start);
        (a.join().unwrap(), b.join().unwrap())
    });
    eprintln!(
        "start-up: {:?} and {:?}",
        a.startup_time(),
        b.startup_time()
    );

    let ports_a = [a.listen_ports(), vec![a.http01_port(), a.tls_alpn01_port()]].concat();
    let ports_b = [b.listen_ports(), vec![b.http01_port(), b.tls_alpn01_port()]].concat();
    for port in &ports_a {
        assert!(!ports_b.contains(port), "port {port} shared: {a:?} {b:?}");
    }
    assert_ne!(a.http01_port(), a.tls_alpn01_port());

    for pebble in [&a, &b] {
        let dir = directory(pebble);
        for key in ["newAccount", "newOrder", "newNonce"] {
            let url = dir[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} in {dir}"));
            assert!(url.starts_with("https://127.0.0.1:"), "{key}: {url}");
        }
        assert_ne!(dir["meta"]["externalAccountRequired"], true, "{dir}");
        let root = openssl_subject(&pebble.root_pem());
        assert!(root.contains("Pebble Root CA"), "{root}");
        let intermediate = openssl_subject(&pebble.intermediate_pem());
        assert!(
            intermediate.contains("Pebble Intermediate CA"),
            "{intermediate}"
        );
    }
    assert_ne!(a.root_pem(), b.root_pem(), "each pebble has its own root");
    // A CA bundle does not verify the other instance's server certificate.
    let wrong_trust = Command::new("curl")
        .args(["-sS", "--fail", "--max-time", "10", "--cacert"])
        .arg(b.ca_bundle_path())
        .arg(a.directory_url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!wrong_trust.success());

    let pids: Vec<u32> = [a.process_ids(), b.process_ids()].concat();
    let (dns_a, dns_b) = (a.dns_server(), b.dns_server());
    let (dir_a, dir_b) = (a.work_dir().to_owned(), b.work_dir().to_owned());
    drop(a);
    drop(b);
    wait_gone(&pids, Duration::from_millis(100));
    assert_ports_free(&ports_a, &dns_a);
    assert_ports_free(&ports_b, &dns_b);
    assert!(!dir_a.exists() && !dir_b.exists(), "temp dirs removed");
}

#[test]
fn eab_instance_requires_external_account_binding() {
    if !pebble_available() {
        return;
    }
    let pebble = Pebble::start_with(PebbleOptions {
        nonce_reject_percent: 15,
        alternate_roots: 0,
        eab_keys: vec![(
            "kid-1".to_owned(),
            "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W".to_owned(),
        )],
        http01_port: Some(5402),
        tls_alpn01_port: Some(5401),
        dns_server: None,
        ..PebbleOptions::default()
    });
    let dir = directory(&pebble);
    assert_eq!(dir["meta"]["externalAccountRequired"], true, "{dir}");
    assert_eq!(pebble.http01_port(), 5402);
    assert_eq!(pebble.tls_alpn01_port(), 5401);

    let config = std::fs::read_to_string(pebble.work_dir().join("pebble-config.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["pebble"]["httpPort"], 5402);
    assert_eq!(config["pebble"]["tlsPort"], 5401);
    assert_eq!(
        config["pebble"]["externalAccountMACKeys"]["kid-1"],
        "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
    );

    let environ = std::fs::read(format!("/proc/{}/environ", pebble.process_ids()[0])).unwrap();
    let environ: Vec<&[u8]> = environ.split(|&b| b == 0).collect();
    for var in [
        &b"PEBBLE_WFE_NONCEREJECT=15"[..],
        b"PEBBLE_VA_NOSLEEP=1",
        b"PEBBLE_AUTHZREUSE=0",
        b"PEBBLE_VA_ALWAYS_VALID=0",
    ] {
        assert!(
            environ.contains(&var),
            "{} not in pebble's environment",
            String::from_utf8_lossy(var)
        );
    }
}

#[test]
fn challtestsrv_management_api_answers() {
    if !pebble_available() {
        return;
    }
    let pebble = Pebble::start();
    eprintln!("start-up: {:?}", pebble.startup_time());
    let api = pebble.challtestsrv_api();
    for (path, body) in [
        (
            "/set-txt",
            r#"{"host":"_acme-challenge.example.test.","value":"abc"}"#,
        ),
        ("/clear-txt", r#"{"host":"_acme-challenge.example.test."}"#),
        (
            "/add-a",
            r#"{"host":"a.example.test.","addresses":["127.0.0.1"]}"#,
        ),
    ] {
        curl(&["-X", "POST", "-d", body, &format!("{api}{path}")]);
    }
    assert!(pebble.dns_server().starts_with("127.0.0.1:"));
}

#[test]
fn processes_are_killed_when_the_test_panics() {
    if !pebble_available() {
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let result = std::thread::spawn(move || {
        let pebble = Pebble::start();
        tx.send((
            pebble.process_ids(),
            pebble.listen_ports(),
            pebble.dns_server(),
        ))
        .unwrap();
        panic!("deliberate panic with a running pebble");
    })
    .join();
    assert!(result.is_err());
    let (pids, ports, dns) = rx.recv().unwrap();
    wait_gone(&pids, Duration::from_millis(100));
    assert_ports_free(&ports, &dns);
}

#[test]
fn processes_are_killed_when_the_test_process_aborts() {
    if !pebble_available() {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_pebble-abort-child"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success(), "the child must abort");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let pids: Vec<u32> = stdout
        .lines()
        .find_map(|line| line.split_once("PIDS ").map(|(_, pids)| pids))
        .unwrap_or_else(|| {
            panic!(
                "no PIDS line: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2);
    // The watchdog shell sees EOF on its stdin and kills both.
    wait_gone(&pids, Duration::from_secs(5));
    // Nothing removed the aborted child's temporary directory.
    let dir = stdout
        .lines()
        .find_map(|line| line.split_once("WORKDIR ").map(|(_, dir)| dir.trim()));
    let dir = dir.unwrap_or_else(|| panic!("no WORKDIR line: {stdout}"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn skip_policy_is_true_when_installed() {
    // Only the installed case can be checked without touching /usr/bin.
    if Path::new("/usr/bin/pebble").exists() && Path::new("/usr/bin/pebble-challtestsrv").exists() {
        assert!(pebble_available());
    }
}

/// Load check (`cargo test -- --ignored`): many instances at once on a small machine.
#[test]
#[ignore = "load check, run by hand"]
fn many_instances_at_once() {
    if !pebble_available() {
        return;
    }
    let started = Instant::now();
    let instances: Vec<Pebble> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8).map(|_| s.spawn(Pebble::start)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    eprintln!("8 instances ready in {:?}", started.elapsed());
    for pebble in &instances {
        assert!(directory(pebble)["newOrder"].is_string());
    }
    let pids: Vec<u32> = instances.iter().flat_map(Pebble::process_ids).collect();
    drop(instances);
    wait_gone(&pids, Duration::from_millis(100));
}

//! The DNS peers of the testkit: PowerDNS (REST API) and BIND (RFC 2136 + TSIG), alone, in
//! pairs, and as pebble's DNS server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use certmgr_testkit::{
    Bind, Pebble, PebbleOptions, PowerDns, bind_available, pebble_available, powerdns_available,
};

/// PATCHes one TXT rrset of `zone` with curl: REPLACE with `values`, or DELETE when empty.
/// Returns the HTTP status and body.
fn patch_txt(pdns: &PowerDns, zone: &str, name: &str, values: &[&str]) -> (u16, String) {
    let records: Vec<serde_json::Value> = values
        .iter()
        .map(|v| serde_json::json!({"content": format!("\"{v}\""), "disabled": false}))
        .collect();
    let changetype = if values.is_empty() {
        "DELETE"
    } else {
        "REPLACE"
    };
    let body = serde_json::json!({"rrsets": [{
        "name": name, "type": "TXT", "ttl": 60, "changetype": changetype, "records": records,
    }]});
    let url = format!(
        "{}/api/v1/servers/{}/zones/{zone}",
        pdns.api_url(),
        pdns.server_id()
    );
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            "-X",
            "PATCH",
            "-w",
            "\n%{http_code}",
        ])
        .args(["-H", &format!("X-API-Key: {}", pdns.api_key())])
        .args(["-H", "Content-Type: application/json"])
        .args(["--data-binary", &body.to_string()])
        .arg(&url)
        .output()
        .expect("run curl");
    assert!(out.status.success(), "curl PATCH {url}: {out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (body, code) = stdout.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_owned())
}

/// Runs `nsupdate -y ALG:NAME:SECRET` with `commands` for `zone` at the BIND instance.
fn nsupdate(bind: &Bind, key: &str, zone: &str, commands: &str) -> std::process::Output {
    let mut child = Command::new("nsupdate")
        .args(["-t", "5", "-y", key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nsupdate");
    let addr = bind.dns_address();
    let script = format!(
        "server {} {}\nzone {zone}\n{commands}\nsend\n",
        addr.ip(),
        addr.port()
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn key_of(bind: &Bind) -> String {
    format!(
        "{}:{}:{}",
        bind.tsig_algorithm(),
        bind.tsig_name(),
        bind.tsig_secret_base64()
    )
}

fn assert_gone(pid: u32) {
    // Drop reaps the child, so its /proc entry disappears at once.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(Instant::now() < deadline, "process {pid} still there");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn powerdns_serves_api_changes_at_once() {
    if !powerdns_available() {
        return;
    }
    let pdns = PowerDns::start(&["example.test", "validation.test."]);
    eprintln!("PowerDNS start-up: {:?}", pdns.startup_time());
    assert_eq!(pdns.server_id(), "localhost");
    assert!(pdns.api_url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        pdns.zones(),
        ["example.test.".to_owned(), "validation.test.".to_owned()]
    );

    let name = "_acme-challenge.www.example.test.";
    assert!(pdns.txt(name).is_empty());
    let (code, body) = patch_txt(&pdns, "example.test.", name, &["token-1", "token-2"]);
    assert_eq!(code, 204, "{body}");
    let mut values = pdns.txt(name);
    values.sort();
    assert_eq!(values, ["token-1", "token-2"]);
    assert_eq!(
        pdns.records_named("example.test", "_acme-challenge"),
        [name.to_owned()]
    );

    // Replace, then delete: no stale answers (caches are off).
    let (code, body) = patch_txt(&pdns, "example.test.", name, &["token-3"]);
    assert_eq!(code, 204, "{body}");
    assert_eq!(pdns.txt(name), ["token-3"]);
    let (code, body) = patch_txt(&pdns, "example.test.", name, &[]);
    assert_eq!(code, 204, "{body}");
    assert!(pdns.txt(name).is_empty());
    assert!(
        pdns.records_named("example.test.", "_acme-challenge")
            .is_empty()
    );

    // The second zone is served too, and HTTP-01 names resolve through the wildcard.
    let other = "_acme-challenge.validation.test.";
    let (code, body) = patch_txt(&pdns, "validation.test.", other, &["v"]);
    assert_eq!(code, 204, "{body}");
    assert_eq!(pdns.txt(other), ["v"]);
    assert!(pdns.txt(name).is_empty());
    for host in [
        "www.example.test",
        "anything.validation.test",
        "ns1.example.test",
    ] {
        let out = Command::new("dig")
            .args(["+short", "-p", &pdns.dns_address().port().to_string()])
            .args(["@127.0.0.1", host, "A"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "127.0.0.1");
    }

    // A wrong API key is refused.
    let (code, _) = {
        let url = format!("{}/api/v1/servers/localhost/zones", pdns.api_url());
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(["-H", "X-API-Key: wrong", &url])
            .output()
            .unwrap();
        (String::from_utf8(out.stdout).unwrap(), ())
    };
    assert_eq!(code, "401");
}

#[test]
fn powerdns_accepts_concurrent_patches() {
    if !powerdns_available() {
        return;
    }
    let pdns = PowerDns::start(&["example.test"]);
    let names: Vec<String> = (0..8)
        .map(|i| format!("_acme-challenge.host-{i}.example.test."))
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .map(|name| {
                let pdns = &pdns;
                scope.spawn(move || patch_txt(pdns, "example.test.", name, &["concurrent"]))
            })
            .collect();
        for handle in handles {
            let (code, body) = handle.join().unwrap();
            assert_eq!(code, 204, "{body}\n{}", pdns.logs());
        }
    });
    for name in &names {
        assert_eq!(pdns.txt(name), ["concurrent"], "{name}");
    }
    assert_eq!(
        pdns.records_named("example.test", "_acme-challenge").len(),
        8
    );
    std::thread::scope(|scope| {
        for name in &names {
            let pdns = &pdns;
            scope.spawn(move || assert_eq!(patch_txt(pdns, "example.test.", name, &[]).0, 204));
        }
    });
    assert!(
        pdns.records_named("example.test", "_acme-challenge")
            .is_empty()
    );
}

#[test]
fn bind_accepts_tsig_signed_updates_only() {
    if !bind_available() {
        return;
    }
    let bind = Bind::start(&["example.test", "validation.test"]);
    eprintln!("BIND start-up: {:?}", bind.startup_time());
    assert_eq!(bind.tsig_name(), "certmgr-test");
    assert_eq!(bind.tsig_algorithm(), "hmac-sha256");
    let key = key_of(&bind);

    let name = "_acme-challenge.www.example.test.";
    assert!(bind.txt(name).is_empty());
    let out = nsupdate(
        &bind,
        &key,
        "example.test",
        &format!("update add {name} 60 TXT \"token-1\"\nupdate add {name} 60 TXT \"token-2\""),
    );
    assert!(out.status.success(), "{out:?}\n{}", bind.logs());
    let mut values = bind.txt(name);
    values.sort();
    assert_eq!(values, ["token-1", "token-2"]);

    let out = nsupdate(
        &bind,
        &key,
        "example.test",
        &format!("update delete {name} TXT"),
    );
    assert!(out.status.success(), "{out:?}");
    assert!(bind.txt(name).is_empty());

    // Second zone.
    let other = "_acme-challenge.validation.test.";
    let out = nsupdate(
        &bind,
        &key,
        "validation.test",
        &format!("update add {other} 60 TXT \"v\""),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(bind.txt(other), ["v"]);

    // Wrong secret (same key name), unknown key name, no key at all.
    let wrong_secret = format!(
        "hmac-sha256:certmgr-test:{}",
        "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    );
    let wrong_name = format!("hmac-sha256:other-key:{}", bind.tsig_secret_base64());
    for key in [wrong_secret.as_str(), wrong_name.as_str()] {
        let out = nsupdate(
            &bind,
            key,
            "example.test",
            &format!("update add {name} 60 TXT \"forged\""),
        );
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{key}: {text}");
        assert!(
            text.contains("NOTAUTH") || text.contains("REFUSED"),
            "{key}: {text}"
        );
    }
    let out = Command::new("nsupdate")
        .args(["-t", "5"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            let addr = bind.dns_address();
            write!(
                child.stdin.take().unwrap(),
                "server {} {}\nzone example.test\nupdate add {name} 60 TXT \"unsigned\"\nsend\n",
                addr.ip(),
                addr.port()
            )?;
            child.wait_with_output()
        })
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("REFUSED"), "{text}");
    assert!(bind.txt(name).is_empty());
}

#[test]
fn pebble_resolves_through_powerdns() {
    if !pebble_available() || !powerdns_available() {
        return;
    }
    let pdns = PowerDns::start(&["example.test"]);
    let pebble = Pebble::start_with(PebbleOptions {
        dns_server: Some(pdns.dns_address()),
        ..PebbleOptions::default()
    });
    let out = Command::new("curl")
        .args(["-sS", "--fail", "--cacert"])
        .arg(pebble.ca_bundle_path())
        .arg(pebble.directory_url())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let dir: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(dir["newOrder"].is_string(), "{dir}");

    let pebble_pid = pebble.process_ids()[0];
    let cmdline = std::fs::read(format!("/proc/{pebble_pid}/cmdline")).unwrap();
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let at = args.iter().position(|a| a == "-dnsserver").unwrap();
    assert_eq!(args[at + 1], pdns.dns_address().to_string(), "{args:?}");
}

#[test]
fn two_instances_of_each_run_side_by_side_and_vanish_on_drop() {
    if !powerdns_available() || !bind_available() {
        return;
    }
    let (pdns, binds) = std::thread::scope(|scope| {
        let p1 = scope.spawn(|| PowerDns::start(&["example.test"]));
        let p2 = scope.spawn(|| PowerDns::start(&["example.test"]));
        let b1 = scope.spawn(|| Bind::start(&["example.test"]));
        let b2 = scope.spawn(|| Bind::start(&["example.test"]));
        (
            [p1.join().unwrap(), p2.join().unwrap()],
            [b1.join().unwrap(), b2.join().unwrap()],
        )
    });
    for p in &pdns {
        eprintln!("PowerDNS start-up (parallel): {:?}", p.startup_time());
    }
    for b in &binds {
        eprintln!("BIND start-up (parallel): {:?}", b.startup_time());
    }
    let mut ports: Vec<u16> = pdns.iter().flat_map(PowerDns::listen_ports).collect();
    ports.extend(binds.iter().map(|b| b.dns_address().port()));
    let count = ports.len();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), count, "{ports:?}");
    assert_ne!(pdns[0].api_key(), pdns[1].api_key());
    assert_ne!(binds[0].tsig_secret_base64(), binds[1].tsig_secret_base64());

    // Each instance serves only its own changes.
    let name = "_acme-challenge.www.example.test.";
    assert_eq!(patch_txt(&pdns[0], "example.test.", name, &["p0"]).0, 204);
    assert_eq!(patch_txt(&pdns[1], "example.test.", name, &["p1"]).0, 204);
    assert_eq!(pdns[0].txt(name), ["p0"]);
    assert_eq!(pdns[1].txt(name), ["p1"]);
    for (i, bind) in binds.iter().enumerate() {
        let out = nsupdate(
            bind,
            &key_of(bind),
            "example.test",
            &format!("update add {name} 60 TXT \"b{i}\""),
        );
        assert!(out.status.success(), "{out:?}");
    }
    assert_eq!(binds[0].txt(name), ["b0"]);
    assert_eq!(binds[1].txt(name), ["b1"]);
    // Keys are per instance.
    let out = nsupdate(
        &binds[0],
        &key_of(&binds[1]),
        "example.test",
        &format!("update delete {name} TXT"),
    );
    assert!(!out.status.success(), "{out:?}");

    let pids: Vec<u32> = pdns
        .iter()
        .map(PowerDns::process_id)
        .chain(binds.iter().map(Bind::process_id))
        .collect();
    let dirs: Vec<_> = pdns
        .iter()
        .map(|p| p.work_dir().to_owned())
        .chain(binds.iter().map(|b| b.work_dir().to_owned()))
        .collect();
    drop(pdns);
    drop(binds);
    for pid in pids {
        assert_gone(pid);
    }
    for dir in dirs {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}

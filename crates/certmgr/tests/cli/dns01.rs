//! DNS-01 end to end: Pebble validating through a real PowerDNS that certmgr
//! updates through the declarative `powerdns` provider definition.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use certmgr_testkit::pebble::{PebbleOptions, pebble_available};
use certmgr_testkit::powerdns::{PowerDns, powerdns_available};

use crate::acme::AcmeEnv;
use crate::need_pebble;

pub(crate) fn setup() -> Option<(PowerDns, AcmeEnv)> {
    let (pdns, t) = setup_zones(&["example.test"])?;
    let server = pdns.dns_address().to_string();
    powerdns_account(
        &t,
        &pdns,
        "pd",
        "example.test",
        &["--nameserver", &server, "--propagation-timeout", "10"],
    );
    Some((pdns, t))
}

/// `dns account create NAME --provider powerdns --zone ZONE` with this
/// PowerDNS's API URL and key (from a file), plus `extra` arguments.
fn powerdns_account(t: &AcmeEnv, pdns: &PowerDns, name: &str, zone: &str, extra: &[&str]) {
    t.env.file("pdns.key", format!("{}\n", pdns.api_key()));
    let api_url = format!("api_url={}", pdns.api_url());
    let mut args = vec![
        "dns",
        "account",
        "create",
        name,
        "--provider",
        "powerdns",
        "--zone",
        zone,
        "--set",
        &api_url,
        "--set",
        "api_key=@pdns.key",
        // PowerDNS on loopback, over plain http: the account must allow both.
        "--allow-private-network",
        "--allow-plain-http",
    ];
    args.extend_from_slice(extra);
    t.env.ok(&args);
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
    crate::util::wait_for_dead_instance();
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

#[test]
fn rfc2136_with_tsig_through_bind() {
    need_pebble!();
    if !certmgr_testkit::bind::bind_available() {
        return;
    }
    let bind = certmgr_testkit::bind::Bind::start(&["rfc2136.test"]);
    let t = AcmeEnv::start_with(
        PebbleOptions {
            dns_server: Some(bind.dns_address()),
            ..PebbleOptions::default()
        },
        true,
    );
    t.env
        .file("tsig.key", format!("{}\n", bind.tsig_secret_base64()));
    let server = bind.dns_address().to_string();
    t.env.ok(&[
        "dns",
        "account",
        "create",
        "bind",
        "--provider",
        "rfc2136",
        "--zone",
        "rfc2136.test",
        "--set",
        &format!("server={server}"),
        "--set",
        &format!("key_name={}", bind.tsig_name()),
        "--set",
        &format!("key_algorithm={}", bind.tsig_algorithm()),
        "--set",
        "key_secret=@tsig.key",
        "--nameserver",
        &server,
        "--propagation-timeout",
        "10",
    ]);
    t.env.ok(&["dns", "account", "test", "bind"]);
    t.env.ok(&[
        "cred",
        "create",
        "b",
        "--host",
        "rfc2136.test",
        "--host",
        "*.rfc2136.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
    ]);
    let out = t.env.run(&["cred", "issue", "b"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    t.verify("b", &[""]);
    assert!(
        bind.txt("_acme-challenge.rfc2136.test").is_empty(),
        "nothing left behind"
    );
    // A wrong key is refused with a message that says what to fix.
    t.env
        .file("wrong.key", "d3JvbmcgYnV0IHZhbGlkIGJhc2U2NA==\n");
    t.env.ok(&[
        "dns",
        "account",
        "create",
        "wrong",
        "--provider",
        "rfc2136",
        "--zone",
        "other.rfc2136.test",
        "--set",
        &format!("server={server}"),
        "--set",
        &format!("key_name={}", bind.tsig_name()),
        "--set",
        "key_secret=@wrong.key",
    ]);
    let err = t.env.fails(1, &["dns", "account", "test", "wrong"]);
    assert!(err.contains("failed the test"), "{err}");
    let out = t.env.run(&["dns", "account", "test", "wrong"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("NOTAUTH"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_script_provider_and_cname_delegation_to_another_account() {
    need_pebble!();
    let Some((pdns, t)) = setup_zones(&["example.test", "validation.test"]) else {
        return;
    };
    // The script writes into the validation zone through PowerDNS's API with curl.
    let script = t.env.file(
        "dns-hook.sh",
        format!(
            r#"#!/bin/sh
set -e
name="$CERTMGR_RECORD_NAME."
if [ "$1" = add ]; then
  body=$(printf '{{"rrsets":[{{"name":"%s","type":"TXT","ttl":60,"changetype":"REPLACE","records":[{{"content":"\"%s\"","disabled":false}}]}}]}}' "$name" "$CERTMGR_VALUE")
elif [ "$1" = delete ]; then
  body=$(printf '{{"rrsets":[{{"name":"%s","type":"TXT","changetype":"DELETE"}}]}}' "$name")
else
  echo "unknown action $1" >&2; exit 2
fi
curl -sS --fail-with-body -X PATCH -H 'X-API-Key: {key}' -H 'Content-Type: application/json' -d "$body" "{api}/api/v1/servers/localhost/zones/$CERTMGR_ZONE." >&2
"#,
            key = pdns.api_key(),
            api = pdns.api_url()
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let server = pdns.dns_address().to_string();
    t.env.ok(&[
        "dns",
        "account",
        "create",
        "hook",
        "--provider",
        "script",
        "--zone",
        "validation.test",
        "--set",
        &format!("command={}", script.display()),
        "--nameserver",
        &server,
        "--propagation-timeout",
        "10",
    ]);
    t.env.ok(&["dns", "account", "test", "hook"]);
    // _acme-challenge.www.example.test is delegated to the validation zone.
    delegate(
        &pdns,
        "_acme-challenge.www.example.test.",
        "www.validation.test.",
    );
    t.env.ok(&[
        "cred",
        "create",
        "d",
        "--host",
        "www.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
    ]);
    let out = t.env.run(&["cred", "issue", "d"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        t.pebble.logs()
    );
    t.verify("d", &[""]);
    assert!(
        pdns.records_named("validation.test", "www.validation.test")
            .iter()
            .all(|n| !n.contains("TXT"))
    );
    assert!(
        pdns.txt("www.validation.test").is_empty(),
        "the delegated record is removed"
    );

    // A failing script: its stderr reaches the user.
    let bad = t.env.file(
        "bad-hook.sh",
        "#!/bin/sh\necho 'API said no: quota exceeded' >&2\nexit 3\n",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    t.env.ok(&[
        "dns",
        "account",
        "create",
        "bad",
        "--provider",
        "script",
        "--zone",
        "bad.test",
        "--set",
        &format!("command={}", bad.display()),
    ]);
    let out = t.env.run(&["dns", "account", "test", "bad"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("quota exceeded"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

pub(crate) fn setup_zones(zones: &[&str]) -> Option<(PowerDns, AcmeEnv)> {
    if !pebble_available() || !powerdns_available() {
        return None;
    }
    let pdns = PowerDns::start(zones);
    let t = AcmeEnv::start_with(
        PebbleOptions {
            dns_server: Some(pdns.dns_address()),
            ..PebbleOptions::default()
        },
        true,
    );
    Some((pdns, t))
}

#[test]
fn imported_definitions_and_explicit_dns_accounts() {
    need_pebble!();
    let Some((pdns, t)) = setup_zones(&["example.test", "validation.test"]) else {
        return;
    };
    // A user's own definition: the built-in PowerDNS one under another id.
    let builtin = std::fs::read_to_string(
        certmgr_testkit::repo_root().join("providers/powerdns/provider.toml"),
    )
    .unwrap();
    let mine = builtin.replacen("id = \"powerdns\"", "id = \"my-pdns\"", 1);
    assert_ne!(mine, builtin);
    t.env.file("my-pdns.toml", &mine);
    let before = t.env.digest();
    // Bad definitions are refused naming file, step and field, and store nothing.
    t.env.file(
        "typo.toml",
        mine.replacen("{{ params.api_url }}", "{{ params.api_ulr }}", 1),
    );
    let err = t.env.fails(2, &["dns", "provider", "import", "typo.toml"]);
    assert!(
        err.contains("typo.toml") && err.contains("step") && err.contains("url"),
        "{err}"
    );
    t.env.file("broken.toml", "[provider\nid = ");
    let err = t
        .env
        .fails(2, &["dns", "provider", "import", "broken.toml"]);
    assert!(err.contains("broken.toml"), "{err}");
    let err = t.env.fails(
        2,
        &[
            "dns",
            "provider",
            "import",
            &t.env.file("dup.toml", &builtin).display().to_string(),
        ],
    );
    assert!(err.contains("built in"), "{err}");
    assert_eq!(t.env.digest(), before);
    t.env.ok(&["dns", "provider", "import", "my-pdns.toml"]);
    let list = t.env.json(&["dns", "provider", "list"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "my-pdns"),
        "{list}"
    );

    t.env.file("pdns.key", format!("{}\n", pdns.api_key()));
    let server = pdns.dns_address().to_string();
    for (name, zone) in [("mine", "example.test"), ("other", "validation.test")] {
        t.env.ok(&[
            "dns",
            "account",
            "create",
            name,
            "--provider",
            "my-pdns",
            "--zone",
            zone,
            "--set",
            &format!("api_url={}", pdns.api_url()),
            "--set",
            "api_key=@pdns.key",
            "--nameserver",
            &server,
            "--allow-private-network",
            "--allow-plain-http",
        ]);
    }
    let err = t.env.fails(
        2,
        &[
            "cred",
            "create",
            "x",
            "--host",
            "x.example.test",
            "--issuer",
            "acme:pb",
            "--challenge",
            "dns-01",
            "--dns-account",
            "nope",
        ],
    );
    assert!(err.contains("--dns-account"), "{err}");
    // Naming an account that does not serve the name fails clearly.
    t.env.ok(&[
        "cred",
        "create",
        "wrong",
        "--host",
        "w.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
        "--dns-account",
        "other",
    ]);
    let err = t.env.fails(2, &["cred", "issue", "wrong"]);
    assert!(err.contains("serves validation.test"), "{err}");
    t.env.ok(&[
        "cred",
        "create",
        "right",
        "--host",
        "r.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
        "--dns-account",
        "mine",
    ]);
    t.env.ok(&["cred", "issue", "right"]);
    t.verify("right", &[""]);
    assert!(
        pdns.records_named("example.test", "_acme-challenge")
            .is_empty()
    );
}

/// A script provider that writes to server A at once and to server B after
/// `lag` seconds (or never, when `lag` is empty): a secondary that lags.
fn lagging_hook(t: &AcmeEnv, a: &PowerDns, b: &PowerDns, lag: &str) -> std::path::PathBuf {
    let patch = |pdns: &PowerDns| {
        format!(
            "curl -sS --fail-with-body -X PATCH -H 'X-API-Key: {}' -H 'Content-Type: application/json' -d \"$body\" \"{}/api/v1/servers/localhost/zones/$CERTMGR_ZONE.\" >&2",
            pdns.api_key(),
            pdns.api_url()
        )
    };
    let late = if lag.is_empty() {
        String::new()
    } else {
        format!("( sleep {lag}; {} ) >/dev/null 2>&1 &", patch(b))
    };
    let script = t.env.file(
        &format!("lag-{}.sh", if lag.is_empty() { "never" } else { lag }),
        format!(
            r#"#!/bin/sh
set -e
name="$CERTMGR_RECORD_NAME."
if [ "$1" = add ]; then
  body=$(printf '{{"rrsets":[{{"name":"%s","type":"TXT","ttl":60,"changetype":"REPLACE","records":[{{"content":"\\"%s\\"","disabled":false}}]}}]}}' "$name" "$CERTMGR_VALUE")
  {a}
  {late}
else
  body=$(printf '{{"rrsets":[{{"name":"%s","type":"TXT","changetype":"DELETE"}}]}}' "$name")
  {a}
  {b}
fi
"#,
            a = patch(a),
            b = patch(b),
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
fn propagation_waits_for_a_lagging_nameserver_and_names_it_on_timeout() {
    need_pebble!();
    let Some((a, t)) = setup_zones(&["example.test"]) else {
        return;
    };
    let b = PowerDns::start(&["example.test"]);
    let servers = [a.dns_address().to_string(), b.dns_address().to_string()];
    // B catches up after 2 s: certmgr waits for it, then the CA validates.
    let slow = lagging_hook(&t, &a, &b, "2");
    t.env.ok(&[
        "dns",
        "account",
        "create",
        "slow",
        "--provider",
        "script",
        "--zone",
        "example.test",
        "--set",
        &format!("command={}", slow.display()),
        "--nameserver",
        &servers[0],
        "--nameserver",
        &servers[1],
        "--propagation-timeout",
        "15",
    ]);
    t.env.ok(&[
        "cred",
        "create",
        "p",
        "--host",
        "p.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
    ]);
    let started = std::time::Instant::now();
    t.env.ok(&["cred", "issue", "p"]);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "it waited for B"
    );
    t.verify("p", &[""]);
    assert!(
        a.txt("_acme-challenge.p.example.test").is_empty()
            && b.txt("_acme-challenge.p.example.test").is_empty()
    );

    // B never gets it: the issuance fails naming B, and cleans up.
    let never = lagging_hook(&t, &a, &b, "");
    t.env.ok(&[
        "dns",
        "account",
        "create",
        "never",
        "--provider",
        "script",
        "--zone",
        "example.test",
        "--set",
        &format!("command={}", never.display()),
        "--nameserver",
        &servers[0],
        "--nameserver",
        &servers[1],
        "--propagation-timeout",
        "2",
    ]);
    t.env.ok(&[
        "cred",
        "create",
        "n",
        "--host",
        "x.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
        "--dns-account",
        "never",
    ]);
    let err = t.env.fails(1, &["cred", "issue", "n"]);
    assert!(
        err.contains("not served in time by") && err.contains(&servers[1]),
        "{err}"
    );
    assert!(
        !err.contains(&format!("by {}", servers[0])),
        "A is not blamed: {err}"
    );
    assert!(
        a.records_named("example.test", "_acme-challenge")
            .is_empty(),
        "cleaned up after the failure"
    );
}

#[test]
fn an_explicit_challenge_alias_needs_no_cname_lookup() {
    need_pebble!();
    let Some((pdns, t)) = setup_zones(&["example.test", "validation.test"]) else {
        return;
    };
    // No --nameserver: certmgr cannot look the CNAME up (as with split DNS).
    powerdns_account(&t, &pdns, "v", "validation.test", &[]);
    delegate(
        &pdns,
        "_acme-challenge.a.example.test.",
        "a.validation.test.",
    );
    let err = t.env.fails(
        2,
        &[
            "cred",
            "create",
            "bad",
            "--host",
            "b.example.test",
            "--issuer",
            "acme:pb",
            "--challenge-alias",
            "a.validation.test",
        ],
    );
    assert!(err.contains("dns-01 only"), "{err}");
    t.env.ok(&[
        "cred",
        "create",
        "a",
        "--host",
        "a.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
        "--challenge-alias",
        "a.validation.test",
    ]);
    let out = t.env.run(&["cred", "issue", "a"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    t.verify("a", &[""]);
    assert!(
        pdns.txt("a.validation.test").is_empty(),
        "the record at the alias is removed"
    );
}

/// Put a CNAME `from` -> `to` into PowerDNS's example.test zone (both FQDNs with a dot).
fn delegate(pdns: &PowerDns, from: &str, to: &str) {
    let rrsets = serde_json::json!({"rrsets": [{
        "name": from, "type": "CNAME", "ttl": 60, "changetype": "REPLACE",
        "records": [{"content": to, "disabled": false}]
    }]});
    let (status, body) = pdns
        .api(
            "PATCH",
            "/api/v1/servers/localhost/zones/example.test.",
            Some(&rrsets.to_string()),
        )
        .unwrap();
    assert_eq!(status, 204, "{body}");
}

/// Without `--nameserver`, the zone's authoritative servers are found through
/// the resolver (here the PowerDNS itself) and every one of them is checked:
/// once the zone names a second nameserver that never answers, issuance waits
/// for it and then names it.
#[test]
fn nameservers_are_discovered_through_the_resolver() {
    need_pebble!();
    let Some((pdns, t)) = setup_zones(&["example.test"]) else {
        return;
    };
    let port = pdns.dns_address().port().to_string();
    let resolver = pdns.dns_address().to_string();
    let discovery = [
        "--resolver",
        &resolver,
        "--nameserver-port",
        &port,
        "--propagation-timeout",
        "3",
    ];
    powerdns_account(&t, &pdns, "pd", "example.test", &discovery);
    let shown = t.env.json(&["dns", "account", "show", "pd"]);
    assert_eq!(shown["resolver"], pdns.dns_address().to_string(), "{shown}");
    for name in ["a", "b"] {
        t.env.ok(&[
            "cred",
            "create",
            name,
            "--host",
            &format!("{name}.example.test"),
            "--issuer",
            "acme:pb",
            "--challenge",
            "dns-01",
        ]);
    }
    let out = t.env.run(&["cred", "issue", "a"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{}", t.pebble.logs());
    assert!(!stderr.contains("warning"), "discovery fell back: {stderr}");
    t.verify("a", &[""]);

    let body = serde_json::json!({"rrsets": [
        {"name": "example.test.", "type": "NS", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "ns1.example.test.", "disabled": false},
                     {"content": "ns2.example.test.", "disabled": false}]},
        {"name": "ns2.example.test.", "type": "A", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "127.0.0.2", "disabled": false}]},
    ]});
    let (status, text) = pdns
        .api(
            "PATCH",
            "/api/v1/servers/localhost/zones/example.test.",
            Some(&body.to_string()),
        )
        .unwrap();
    assert_eq!(status, 204, "{text}");
    let msg = t.env.fails(1, &["cred", "issue", "b"]);
    assert!(
        msg.contains("not served in time by") && msg.contains(&format!("127.0.0.2:{port}")),
        "{msg}"
    );
    assert!(
        !msg.contains(&format!("127.0.0.1:{port}")),
        "the answering server is not named: {msg}"
    );
    assert!(
        pdns.records_named("example.test", "_acme-challenge")
            .is_empty(),
        "no challenge record is left behind"
    );
}

/// Accounts that find their nameservers through a resolver also follow
/// `_acme-challenge` CNAMEs through it: the record is written in the
/// delegation target's zone by the account serving it, and removed.
#[test]
fn cname_delegation_is_followed_through_the_resolver() {
    need_pebble!();
    let Some((pdns, t)) = setup_zones(&["example.test", "validation.test"]) else {
        return;
    };
    let port = pdns.dns_address().port().to_string();
    let resolver = pdns.dns_address().to_string();
    let discovery = [
        "--resolver",
        &resolver,
        "--nameserver-port",
        &port,
        "--propagation-timeout",
        "10",
    ];
    for (name, zone) in [("ex", "example.test"), ("val", "validation.test")] {
        powerdns_account(&t, &pdns, name, zone, &discovery);
    }
    delegate(
        &pdns,
        "_acme-challenge.c.example.test.",
        "_acme-challenge.c.validation.test.",
    );
    t.env.ok(&[
        "cred",
        "create",
        "c",
        "--host",
        "c.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
    ]);
    let out = t.env.run(&["cred", "issue", "c"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{}", t.pebble.logs());
    assert!(!stderr.contains("warning"), "{stderr}");
    // Pebble follows the CNAME too: the validation only succeeds with the
    // record at the target.
    t.verify("c", &[""]);
    assert!(
        pdns.records_named("validation.test", "_acme-challenge")
            .is_empty()
            && pdns.txt("_acme-challenge.c.example.test").is_empty(),
        "no challenge record is left behind"
    );
}

/// Issue 9 item 2: a provider reaches loopback and plain http only when the
/// account opts in; the refusal names the host and the option, and nothing
/// reaches PowerDNS. `dns provider show` and `import` list the destinations.
#[test]
fn powerdns_on_loopback_needs_the_opt_in_and_destinations_are_listed() {
    need_pebble!();
    let Some((pdns, t)) = setup_zones(&["example.test"]) else {
        return;
    };
    t.env.file("pdns.key", format!("{}\n", pdns.api_key()));
    let api_url = format!("api_url={}", pdns.api_url());
    let create = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "dns",
            "account",
            "create",
            name,
            "--provider",
            "powerdns",
            "--zone",
            "example.test",
            "--set",
            &api_url,
            "--set",
            "api_key=@pdns.key",
        ];
        args.extend_from_slice(extra);
        t.env.ok(&args);
    };
    create("bare", &[]);
    let out = t.env.run(&["dns", "account", "test", "bare"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("plain http://") && stdout.contains("--allow-plain-http"),
        "{stdout}"
    );
    create("http-only", &["--allow-plain-http"]);
    let out = t.env.run(&["dns", "account", "test", "http-only"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("127.0.0.1")
            && stdout.contains("loopback")
            && stdout.contains("--allow-private-network"),
        "{stdout}"
    );
    assert!(
        pdns.records_named("example.test", "_certmgr-test")
            .is_empty()
    );
    let shown = t.env.json(&["dns", "account", "show", "http-only"]);
    assert_eq!(shown["allow_private_network"], false, "{shown}");
    assert_eq!(shown["allow_plain_http"], true, "{shown}");

    // Where providers send requests.
    let show = t.env.json(&["dns", "provider", "show", "powerdns"]);
    assert_eq!(
        show["destinations"]["from_account_parameters"][0]["parameter"], "api_url",
        "{show}"
    );
    let text = t.env.ok(&["dns", "provider", "show", "powerdns"]);
    assert!(
        text.contains("and the host of the account's api_url"),
        "{text}"
    );
    t.env.file(
        "crafted.toml",
        r#"[provider]
id = "crafted"
name = "Crafted"
website = "https://crafted.example"
api_docs = "https://crafted.example/docs"
min_ttl = 60
multi_value_txt = true
hosts = ["eu.api.crafted.example"]

[[parameter]]
name = "token"
help = "token"
secret = true

[[step]]
phase = "add"
name = "add"
method = "POST"
url = "https://api.crafted.example/v1/{{ zone }}"
json = '{"token": {{ params.token | tojson }}}'
"#,
    );
    let out = t.env.ok(&["dns", "provider", "import", "crafted.toml"]);
    assert!(
        out.contains("sends requests to: api.crafted.example, eu.api.crafted.example"),
        "{out}"
    );
    let show = t.env.json(&["dns", "provider", "show", "crafted"]);
    assert_eq!(
        show["destinations"]["hosts"],
        serde_json::json!(["api.crafted.example", "eu.api.crafted.example"]),
        "{show}"
    );
}

/// A DNS account whose provider may not reach where it points makes the
/// issuance fail as bad input (exit 2), naming the option that allows it;
/// the failure is recorded on the credential. (Before the engine classified
/// errors once, this was exit 1: the refusal was flattened to text inside
/// the ACME client.)
#[test]
fn an_issuance_through_a_refused_destination_is_bad_input_naming_the_fix() {
    need_pebble!();
    let Some((pdns, t)) = setup_zones(&["example.test"]) else {
        return;
    };
    t.env.file("pdns.key", format!("{}\n", pdns.api_key()));
    let api_url = format!("api_url={}", pdns.api_url());
    let server = pdns.dns_address().to_string();
    t.env.ok(&[
        "dns",
        "account",
        "create",
        "lan",
        "--provider",
        "powerdns",
        "--zone",
        "example.test",
        "--set",
        &api_url,
        "--set",
        "api_key=@pdns.key",
        "--allow-plain-http",
        "--nameserver",
        &server,
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
    let err = t.env.fails(2, &["cred", "issue", "d"]);
    assert!(
        err.contains("loopback") && err.contains("--allow-private-network"),
        "{err}"
    );
    let shown = t.env.json(&["cred", "show", "d"]);
    assert_eq!(shown["credential"]["status"], "failed", "{shown}");
    assert!(
        pdns.records_named("example.test", "_acme-challenge.d")
            .is_empty()
    );
}

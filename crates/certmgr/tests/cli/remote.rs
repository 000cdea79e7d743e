//! The command line as a client (`--server`): the main scenarios — MicroCA,
//! the manual flow, ACME HTTP-01 against Pebble, DNS-01 through PowerDNS —
//! run against a real `certmgr server` over HTTPS, and print what the same
//! commands print on a store of their own (numbers, serials and URLs aside).

use std::io::{BufRead, BufReader};
use std::process::{Child, Output, Stdio};

use certmgr_testkit::pebble::pebble_available;
use certmgr_testkit::powerdns::powerdns_available;

use crate::acme::AcmeEnv;
use crate::need_pebble;
use crate::util::{Env, openssl, openssl_ca};

/// A manager on a test's store, and the command line pointed at it.
struct Manager<'a> {
    env: &'a Env,
    child: Child,
    url: String,
    ca_file: String,
    token: String,
}

impl<'a> Manager<'a> {
    /// `certmgr server` on `env`'s store, answering HTTP-01 on `http_listen`
    /// (or `off`), with an admin token for the command line.
    fn start(env: &'a Env, http_listen: &str) -> Manager<'a> {
        let token = env
            .ok(&["token", "create", "cli", "--role", "admin"])
            .trim()
            .to_owned();
        let mut child = env
            .command(&[
                "server",
                "--listen",
                "127.0.0.1:0",
                "--http-listen",
                http_listen,
                "--https-listen",
                "off",
                "--no-renew",
            ])
            .env("CERTMGR_ADMIN_PASSWORD", "the first admin's password")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut url = None;
        let mut seen = String::new();
        while url.is_none() {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                let _ = child.kill();
                panic!("the server ended before it listened:\n{seen}");
            }
            url = line
                .strip_prefix("certmgr server: https://")
                .and_then(|rest| rest.split('/').next())
                .map(|address| format!("https://{address}"));
            seen.push_str(&line);
        }
        // Keep draining its log, so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in stderr.lines() {});
        let ca = env.ok(&["ca", "show", "default", "--pem"]);
        let ca_file = env.file("manager-ca.pem", ca).display().to_string();
        Manager {
            env,
            child,
            url: url.unwrap_or_default(),
            ca_file,
            token,
        }
    }

    /// Run a command through the manager.
    fn run(&self, args: &[&str]) -> Output {
        self.env
            .command(args)
            .env("CERTMGR_SERVER", &self.url)
            .env("CERTMGR_SERVER_CA", &self.ca_file)
            .env("CERTMGR_TOKEN", &self.token)
            // Nothing here may read the store itself.
            .env("CERTMGR_DATA_DIR", "/nonexistent")
            .env_remove("CERTMGR_DATABASE_URL")
            .output()
            .unwrap()
    }

    /// Run through the manager and expect success; returns stdout.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "certmgr --server {args:?} failed ({:?}):\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Manager<'_> {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Output with its variable parts made equal: every run of hex digits
/// that holds a decimal digit (numbers, serials, fingerprints, dates).
fn shape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().any(|c| c.is_ascii_digit()) {
            out.push('#');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Run `args` here and through the manager: both succeed and print the same.
#[track_caller]
fn same(local: &Env, manager: &Manager<'_>, args: &[&str]) -> String {
    let here = local.ok(args);
    let there = manager.ok(args);
    assert_eq!(
        shape(&there),
        shape(&here),
        "certmgr {args:?} prints differently through --server"
    );
    there
}

#[test]
fn microca_and_manual_flow_through_the_manager_print_what_they_print_here() {
    let managed = Env::new();
    let local = Env::new();
    let manager = Manager::start(&managed, "off");
    same(&local, &manager, &["ca", "create", "lab"]);
    same(
        &local,
        &manager,
        &[
            "cred",
            "create",
            "www",
            "--host",
            "www.example.test",
            "--issuer",
            "ca:lab",
            "--tag",
            "team=web",
        ],
    );
    same(&local, &manager, &["cred", "issue", "www"]);
    same(&local, &manager, &["cred", "show", "www"]);
    same(&local, &manager, &["cred", "tag", "www", "env=prod"]);
    same(&local, &manager, &["cred", "list", "--tag", "team=web"]);
    same(&local, &manager, &["cred", "export", "www", "--out", "out"]);
    let dir = managed.store.work_dir();
    openssl(dir, &["x509", "-in", "out/cert.pem", "-noout", "-subject"]);
    // A MicroCA without an intermediate: the root signs the leaf.
    let verified = openssl(dir, &["verify", "-CAfile", "out/root.pem", "out/cert.pem"]);
    assert!(verified.contains(": OK"), "{verified}");

    // The manual flow: our key and CSR, an external CA's signature.
    for env in [&managed, &local] {
        openssl_ca(env.store.work_dir(), "ext");
    }
    same(
        &local,
        &manager,
        &[
            "cred",
            "create",
            "m",
            "--host",
            "m.example.test",
            "--issuer",
            "manual",
        ],
    );
    same(&local, &manager, &["cred", "csr", "m", "--out", "req.pem"]);
    for env in [&managed, &local] {
        openssl(
            env.store.work_dir(),
            &[
                "x509",
                "-req",
                "-in",
                "req.pem",
                "-CA",
                "ext.pem",
                "-CAkey",
                "ext.key",
                "-CAcreateserial",
                "-days",
                "30",
                "-copy_extensions",
                "copy",
                "-out",
                "signed.pem",
            ],
        );
        env.ok(&["trust", "add", "ext.pem"]);
    }
    same(
        &local,
        &manager,
        &["cred", "import", "m", "--cert", "signed.pem"],
    );
    same(&local, &manager, &["cred", "show", "m", "--events"]);

    // Refusals: the same class (exit code) and reason.
    for args in [
        &["cred", "issue", "nothing"][..],
        &["cred", "create", "x", "--issuer", "ca:lab"][..],
        &[
            "cred",
            "create",
            "www",
            "--host",
            "w.example.test",
            "--issuer",
            "ca:lab",
        ][..],
    ] {
        let here = local.run(args);
        let there = manager.run(args);
        assert_eq!(there.status.code(), here.status.code(), "{args:?}");
        assert_eq!(there.status.code(), Some(2), "{args:?}");
    }
    // What runs only where the store is says so.
    let audit = manager.run(&["audit", "verify"]);
    assert_eq!(audit.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&audit.stderr).contains("without --server"));
}

#[test]
fn a_bad_token_or_an_untrusted_manager_is_refused() {
    let managed = Env::new();
    let manager = Manager::start(&managed, "off");
    let out = managed
        .command(&["cred", "list"])
        .env("CERTMGR_SERVER", &manager.url)
        .env("CERTMGR_SERVER_CA", &manager.ca_file)
        .env("CERTMGR_TOKEN", "cmt_not-a-token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown API token"));
    // Without the manager's CA, its certificate is not trusted.
    let other = Env::new();
    other.ok(&["ca", "create", "other"]);
    let wrong_ca = other.ok(&["ca", "show", "other", "--pem"]);
    let wrong = managed.file("wrong-ca.pem", wrong_ca);
    let out = managed
        .command(&["cred", "list"])
        .env("CERTMGR_SERVER", &manager.url)
        .env("CERTMGR_SERVER_CA", &wrong)
        .env("CERTMGR_TOKEN", &manager.token)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the manager"));
}

#[test]
fn acme_http01_through_the_manager_prints_the_same_steps() {
    need_pebble!();
    let t = AcmeEnv::start_with(certmgr_testkit::pebble::PebbleOptions::default(), false);
    let manager = Manager::start(&t.env, &t.http01());
    let url = t.pebble.directory_url();
    let bundle = t.pebble.ca_bundle_path().to_str().unwrap().to_owned();
    manager.ok(&[
        "acme",
        "account",
        "create",
        "pb",
        "--directory",
        &url,
        "--ca-bundle",
        &bundle,
        "--email",
        "admin@example.test",
        "--agree-tos",
    ]);
    manager.ok(&[
        "cred",
        "create",
        "web",
        "--host",
        "www.example.test",
        "--issuer",
        "acme:pb",
    ]);
    let out = manager.run(&["cred", "issue", "web"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{}", t.pebble.logs());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "credential \"web\" issued (version 1, status valid)\n"
    );
    for step in [
        "order created",
        "challenge ready",
        "finalized",
        "certificate downloaded",
    ] {
        assert!(
            stderr.contains(step),
            "the job's progress shows {step:?}: {stderr}"
        );
    }
    // The chain the manager holds verifies against Pebble's root.
    t.verify("web", &[""]);
}

#[test]
fn dns01_through_powerdns_via_the_manager() {
    need_pebble!();
    if !powerdns_available() {
        return;
    }
    // Pebble and its account "pb" (registered here), PowerDNS serving the zone.
    let Some((pdns, t)) = crate::dns01::setup_zones(&["example.test"]) else {
        return;
    };
    let manager = Manager::start(&t.env, "off");
    t.env.file("pdns.key", format!("{}\n", pdns.api_key()));
    let api_url = format!("api_url={}", pdns.api_url());
    let server = pdns.dns_address().to_string();
    let created = manager.ok(&[
        "dns",
        "account",
        "create",
        "pd",
        "--provider",
        "powerdns",
        "--zone",
        "example.test",
        "--set",
        &api_url,
        "--set",
        "api_key=@pdns.key",
        "--allow-private-network",
        "--allow-plain-http",
        "--nameserver",
        &server,
        "--propagation-timeout",
        "10",
    ]);
    assert!(created.contains("DNS account \"pd\""), "{created}");
    let tested = manager.ok(&["dns", "account", "test", "pd"]);
    assert!(
        tested.contains("add _certmgr-test.example.test TXT: ok"),
        "{tested}"
    );
    assert!(!tested.contains(pdns.api_key()), "{tested}");
    manager.ok(&[
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
    let out = manager.run(&["cred", "issue", "w"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        t.pebble.logs()
    );
    let text = &t.verify("w", &[""])[0];
    assert!(text.contains("DNS:*.example.test"), "{text}");
}

#[test]
fn login_keeps_a_session_that_later_commands_use() {
    let managed = Env::new();
    let manager = Manager::start(&managed, "off");
    let password = managed.file("alice.pw", "a password of some length\n");
    managed.ok(&[
        "user",
        "add",
        "alice",
        "--role",
        "operator",
        "--password-file",
        password.to_str().unwrap(),
    ]);
    let config = managed.path("config");
    let login = |password_file: &std::path::Path| {
        managed
            .command(&[
                "login",
                &manager.url,
                "--user",
                "alice",
                "--password-file",
                password_file.to_str().unwrap(),
            ])
            .env("XDG_CONFIG_HOME", &config)
            .env("CERTMGR_SERVER_CA", &manager.ca_file)
            .output()
            .unwrap()
    };
    let wrong = managed.file("wrong.pw", "not the password at all\n");
    let refused = login(&wrong);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("wrong user name or password"));
    let out = login(&password);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("as user:alice (operator)"));
    let saved = config.join("certmgr/login.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // No token: the saved session, with its CSRF token for changes.
    let with_session = |args: &[&str]| {
        managed
            .command(args)
            .env("XDG_CONFIG_HOME", &config)
            .env("CERTMGR_SERVER", &manager.url)
            .env("CERTMGR_SERVER_CA", &manager.ca_file)
            .env_remove("CERTMGR_TOKEN")
            .output()
            .unwrap()
    };
    let made = with_session(&[
        "cred",
        "create",
        "s",
        "--host",
        "s.example.test",
        "--issuer",
        "ca:default",
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let listed = with_session(&["cred", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("s.example.test"));
    // An operator reads no key: the manager refuses, the CLI exits 2.
    let export = with_session(&["cred", "export", "s", "--out", "x"]);
    assert_eq!(export.status.code(), Some(2));
    let entries = managed.json(&["audit", "list", "--actor", "user:alice"]);
    let actions: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["cred.create", "cred.export"]);
}

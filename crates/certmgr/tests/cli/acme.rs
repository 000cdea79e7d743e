//! ACME end to end against a real Pebble (one private instance per test).

use certmgr_testkit::pebble::{Pebble, PebbleOptions, pebble_available};

use crate::util::{Env, openssl};

/// An initialised certmgr with an account "pb" at a fresh Pebble whose root it trusts.
pub struct AcmeEnv {
    pub env: Env,
    pub pebble: Pebble,
}

impl AcmeEnv {
    pub fn start() -> AcmeEnv {
        Self::start_with(PebbleOptions::default(), true)
    }

    pub fn start_with(options: PebbleOptions, register: bool) -> AcmeEnv {
        let pebble = Pebble::start_with(options);
        let env = Env::new();
        env.file("pebble-root.pem", pebble.root_pem());
        env.ok(&["trust", "add", "pebble-root.pem"]);
        let acme = AcmeEnv { env, pebble };
        if register {
            acme.register("pb", &[]);
        }
        acme
    }

    pub fn register(&self, name: &str, extra: &[&str]) -> String {
        let url = self.pebble.directory_url();
        let bundle = self.pebble.ca_bundle_path().to_str().unwrap().to_owned();
        let mut args = vec![
            "acme",
            "account",
            "create",
            name,
            "--directory",
            &url,
            "--ca-bundle",
            &bundle,
            "--email",
            "admin@example.test",
            "--agree-tos",
        ];
        args.extend_from_slice(extra);
        self.env.ok(&args)
    }

    pub fn http01(&self) -> String {
        format!("127.0.0.1:{}", self.pebble.http01_port())
    }

    pub fn tls_alpn01(&self) -> String {
        format!("127.0.0.1:{}", self.pebble.tls_alpn01_port())
    }

    /// Export the credential and verify every key's chain with openssl against Pebble's root.
    pub fn verify(&self, name: &str, families: &[&str]) -> Vec<String> {
        let out = format!("out-{name}");
        self.env.ok(&["cred", "export", name, "--out", &out]);
        let dir = self.env.store.work_dir();
        families
            .iter()
            .map(|family| {
                let suffix = if family.is_empty() {
                    String::new()
                } else {
                    format!("-{family}")
                };
                let cert = format!("{out}/cert{suffix}.pem");
                let chain = format!("{out}/chain{suffix}.pem");
                let verified = openssl(
                    dir,
                    &[
                        "verify",
                        "-CAfile",
                        "pebble-root.pem",
                        "-untrusted",
                        &chain,
                        &cert,
                    ],
                );
                assert!(verified.contains(": OK"), "{verified}");
                openssl(dir, &["x509", "-in", &cert, "-noout", "-text"])
            })
            .collect()
    }
}

/// Return early (skipping the test, visibly) when Pebble is not installed.
#[macro_export]
macro_rules! need_pebble {
    () => {
        if !pebble_available() {
            return;
        }
    };
}

#[test]
fn http01_single_name() {
    need_pebble!();
    let t = AcmeEnv::start();
    t.env.ok(&[
        "cred",
        "create",
        "web",
        "--host",
        "www.example.test",
        "--issuer",
        "acme:pb",
    ]);
    let out = t
        .env
        .run(&["cred", "issue", "web", "--http01-listen", &t.http01()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{}", t.pebble.logs());
    for step in [
        "order created",
        "challenge ready",
        "finalized",
        "certificate downloaded",
    ] {
        assert!(stderr.contains(step), "progress shows {step:?}: {stderr}");
    }
    let show = t.env.json(&["cred", "show", "web", "--events"]);
    assert_eq!(show["credential"]["status"], "valid");
    let kinds: Vec<&str> = show["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "issuing", "order-created", "issued"]);
    let text = t.verify("web", &[""]);
    assert!(text[0].contains("DNS:www.example.test"), "{}", text[0]);
}

#[test]
fn http01_five_names_and_an_ip_address() {
    need_pebble!();
    let t = AcmeEnv::start();
    let mut args = vec!["cred", "create", "many", "--issuer", "acme:pb"];
    let hosts = [
        "a.example.test",
        "b.example.test",
        "c.example.test",
        "d.example.test",
        "e.example.test",
        "127.0.0.1",
    ];
    for host in &hosts {
        args.extend_from_slice(&["--host", host]);
    }
    t.env.ok(&args);
    t.env
        .ok(&["cred", "issue", "many", "--http01-listen", &t.http01()]);
    let text = &t.verify("many", &[""])[0];
    for host in &hosts[..5] {
        assert!(text.contains(&format!("DNS:{host}")), "{text}");
    }
    assert!(text.contains("IP Address:127.0.0.1"), "{text}");
}

#[test]
fn dual_credential_gets_one_certificate_per_key() {
    need_pebble!();
    let t = AcmeEnv::start();
    t.env.ok(&[
        "cred",
        "create",
        "dual",
        "--host",
        "dual.example.test",
        "--key",
        "rsa-2048",
        "--key",
        "ecdsa-p384",
        "--issuer",
        "acme:pb",
    ]);
    let result = t
        .env
        .json(&["cred", "issue", "dual", "--http01-listen", &t.http01()]);
    assert_eq!(result["status"], "valid");
    let texts = t.verify("dual", &["rsa", "ecdsa"]);
    assert!(texts[0].contains("rsaEncryption"));
    assert!(texts[1].contains("NIST CURVE: P-384"));
}

#[test]
fn tls_alpn01() {
    need_pebble!();
    let t = AcmeEnv::start();
    t.env.ok(&[
        "cred",
        "create",
        "alpn",
        "--host",
        "alpn.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "tls-alpn-01",
    ]);
    t.env.ok(&[
        "cred",
        "issue",
        "alpn",
        "--tls-alpn01-listen",
        &t.tls_alpn01(),
    ]);
    t.verify("alpn", &[""]);
}

#[test]
fn eab_is_required_and_used() {
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
    let url = t.pebble.directory_url();
    let bundle = t.pebble.ca_bundle_path().to_str().unwrap().to_owned();
    let base = [
        "acme",
        "account",
        "create",
        "eab",
        "--directory",
        &url,
        "--ca-bundle",
        &bundle,
        "--agree-tos",
    ];
    let before = t.env.digest();
    let err = t.env.fails(1, &base);
    assert!(
        err.contains("externalAccountRequired"),
        "the CA's problem type is shown: {err}"
    );
    assert_eq!(
        t.env.digest(),
        before,
        "a refused registration stores nothing"
    );
    t.env.file("eab.key", format!("{hmac}\n"));
    let mut with_eab = base.to_vec();
    with_eab.extend_from_slice(&["--eab-kid", "kid-1", "--eab-hmac-file", "eab.key"]);
    t.env.ok(&with_eab);
    let show = t.env.json(&["acme", "account", "show", "eab"]);
    assert_eq!(show["eab_kid"], "kid-1");
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

#[test]
fn revocation_with_a_reason() {
    need_pebble!();
    let t = AcmeEnv::start();
    t.env.ok(&[
        "cred",
        "create",
        "r",
        "--host",
        "r.example.test",
        "--issuer",
        "acme:pb",
    ]);
    t.env
        .ok(&["cred", "issue", "r", "--http01-listen", &t.http01()]);
    let err = t
        .env
        .fails(2, &["cred", "revoke", "r", "--reason", "ca-compromise"]);
    assert!(err.contains("unknown revocation reason"), "{err}");
    t.env
        .ok(&["cred", "revoke", "r", "--reason", "key-compromise"]);
    let show = t.env.json(&["cred", "show", "r", "--events"]);
    assert_eq!(show["credential"]["status"], "revoked");
    let last = show["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "revoked");
    assert!(
        last["message"].as_str().unwrap().contains("code 1"),
        "{last}"
    );
    // The CA agrees: revoking again is refused by Pebble ("already revoked").
    let err = t.env.fails(2, &["cred", "revoke", "r"]);
    assert!(err.contains("already revoked"), "{err}");
}

#[test]
fn key_rollover_and_deactivation() {
    need_pebble!();
    let t = AcmeEnv::start();
    let before = t.env.json(&["acme", "account", "show", "pb"]);
    t.env.ok(&["acme", "account", "rollover", "pb"]);
    let after = t.env.json(&["acme", "account", "show", "pb"]);
    assert_eq!(
        before["account_url"], after["account_url"],
        "same account, new key"
    );
    // The new key works for ordering.
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
    t.verify("k", &[""]);
    t.env.ok(&["acme", "account", "deactivate", "pb"]);
    assert_eq!(
        t.env.json(&["acme", "account", "show", "pb"])["status"],
        "deactivated"
    );
    let err = t.env.fails(
        2,
        &[
            "cred",
            "create",
            "k2",
            "--host",
            "k2.example.test",
            "--issuer",
            "acme:pb",
        ],
    );
    assert!(err.contains("deactivated"), "{err}");
}

#[test]
fn failed_validation_is_recorded_with_the_ca_problem() {
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
    // Answer on a port Pebble does not connect to: validation fails.
    let err = t
        .env
        .fails(1, &["cred", "issue", "f", "--http01-listen", "127.0.0.1:0"]);
    assert!(err.contains("validation of f.example.test failed"), "{err}");
    let show = t.env.json(&["cred", "show", "f"]);
    assert_eq!(show["credential"]["status"], "failed");
    assert_eq!(show["credential"]["health"], "error");
    let last_error = show["credential"]["last_error"].as_str().unwrap();
    assert!(
        last_error.contains("urn:ietf:params:acme:error:"),
        "the CA's problem type is kept: {last_error}"
    );
}

#[test]
fn catalog_and_account_input_errors() {
    let env = Env::new();
    let cas = env.json(&["acme", "cas"]);
    assert!(
        cas.as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "letsencrypt")
    );
    let before = env.digest();
    let err = env.fails(
        2,
        &[
            "acme",
            "account",
            "create",
            "z",
            "--ca",
            "zerossl",
            "--agree-tos",
        ],
    );
    assert!(err.contains("External Account Binding"), "{err}");
    let err = env.fails(
        2,
        &[
            "acme",
            "account",
            "create",
            "b",
            "--ca",
            "buypass",
            "--agree-tos",
        ],
    );
    assert!(err.contains("no longer issues"), "{err}");
    let err = env.fails(
        2,
        &[
            "acme",
            "account",
            "create",
            "x",
            "--ca",
            "nope",
            "--agree-tos",
        ],
    );
    assert!(err.contains("letsencrypt"), "{err}");
    let err = env.fails(
        2,
        &[
            "acme",
            "account",
            "create",
            "x",
            "--directory",
            "http://insecure.example/dir",
            "--agree-tos",
        ],
    );
    assert!(err.contains("https://"), "{err}");
    let err = env.fails(
        2,
        &[
            "cred",
            "create",
            "w",
            "--host",
            "*.example.test",
            "--issuer",
            "acme:none",
        ],
    );
    assert!(
        err.contains("wildcard") || err.contains("no ACME account"),
        "{err}"
    );
    assert_eq!(env.digest(), before);
}

#[test]
fn preferred_chain_picks_the_alternate_that_leads_to_the_named_root() {
    need_pebble!();
    let t = AcmeEnv::start_with(
        PebbleOptions {
            alternate_roots: 1,
            ..PebbleOptions::default()
        },
        true,
    );
    let dir = t.env.store.work_dir();
    t.env.file("alt-root.pem", t.pebble.root_pem_at(1));
    let subject = openssl(
        dir,
        &[
            "x509",
            "-in",
            "alt-root.pem",
            "-noout",
            "-subject",
            "-nameopt",
            "RFC2253",
        ],
    );
    let cn = subject
        .trim()
        .trim_start_matches("subject=")
        .trim_start_matches("CN=")
        .to_owned();
    assert!(cn.starts_with("Pebble"), "{subject}");
    t.env.ok(&["trust", "add", "alt-root.pem"]);
    t.env.ok(&[
        "cred",
        "create",
        "alt",
        "--host",
        "alt.example.test",
        "--issuer",
        "acme:pb",
        "--preferred-chain",
        &cn,
    ]);
    let out = t
        .env
        .run(&["cred", "issue", "alt", "--http01-listen", &t.http01()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("using the chain to"), "{stderr}");
    t.env.ok(&["cred", "export", "alt", "--out", "alt"]);
    let verified = openssl(
        dir,
        &[
            "verify",
            "-CAfile",
            "alt-root.pem",
            "-untrusted",
            "alt/chain.pem",
            "alt/cert.pem",
        ],
    );
    assert!(verified.contains(": OK"), "{verified}");
    // Negative control: that chain does not lead to the default root.
    let other = crate::util::openssl_output(
        dir,
        &[
            "verify",
            "-CAfile",
            "pebble-root.pem",
            "-untrusted",
            "alt/chain.pem",
            "alt/cert.pem",
        ],
    );
    assert!(
        !other.status.success(),
        "the default root must not verify the alternate chain"
    );

    // A preference nobody offers keeps the default chain, with a warning.
    t.env.ok(&[
        "cred",
        "create",
        "none",
        "--host",
        "none.example.test",
        "--issuer",
        "acme:pb",
        "--preferred-chain",
        "No Such Root",
    ]);
    let out = t
        .env
        .run(&["cred", "issue", "none", "--http01-listen", &t.http01()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("no chain offered by the CA leads to"),
        "{stderr}"
    );
    t.verify("none", &[""]);
}

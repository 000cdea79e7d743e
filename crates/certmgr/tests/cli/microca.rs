//! MicroCA issuance, checked with the real openssl.

use crate::util::{Env, openssl};

#[test]
fn dual_credential_from_a_microca_with_intermediate_verifies_in_openssl() {
    let env = Env::new();
    env.ok(&["ca", "create", "lab", "--intermediate"]);
    env.ok(&[
        "cred",
        "create",
        "web1",
        "--host",
        "a.example.test",
        "--host",
        "*.example.test",
        "--host",
        "192.0.2.7",
        "--key",
        "ecdsa-p256",
        "--key",
        "rsa-2048",
        "--issuer",
        "ca:lab",
    ]);
    env.ok(&["cred", "issue", "web1"]);
    let root = env.ok(&["ca", "show", "lab", "--pem"]);
    let dir = env.store.work_dir();
    std::fs::write(dir.join("root.pem"), root).unwrap();
    env.ok(&["cred", "export", "web1", "--format", "pem", "--out", "out"]);
    let out = env.path("out");
    for family in ["rsa", "ecdsa"] {
        let cert = format!("out/cert-{family}.pem");
        let chain = format!("out/chain-{family}.pem");
        let verified = openssl(
            dir,
            &[
                "verify",
                "-x509_strict",
                "-purpose",
                "sslserver",
                "-CAfile",
                "root.pem",
                "-untrusted",
                &chain,
                &cert,
            ],
        );
        assert!(verified.contains(": OK"), "{verified}");
        let text = openssl(dir, &["x509", "-in", &cert, "-noout", "-text"]);
        for needle in [
            "X509v3 Subject Alternative Name",
            "DNS:a.example.test",
            "DNS:*.example.test",
            "IP Address:192.0.2.7",
            "TLS Web Server Authentication",
            "X509v3 Authority Key Identifier",
            "X509v3 Subject Key Identifier",
            "CA:FALSE",
        ] {
            assert!(
                text.contains(needle),
                "{family} certificate lacks {needle}:\n{text}"
            );
        }
        let key_type = if family == "rsa" {
            "rsaEncryption"
        } else {
            "id-ecPublicKey"
        };
        assert!(
            text.contains(key_type),
            "{family} export holds the wrong key:\n{text}"
        );
        // The exported key belongs to the exported certificate.
        let cert_pub = openssl(dir, &["x509", "-in", &cert, "-noout", "-pubkey"]);
        let key_pub = openssl(
            dir,
            &["pkey", "-in", &format!("out/key-{family}.pem"), "-pubout"],
        );
        assert_eq!(cert_pub, key_pub);
        // fullchain = cert + chain
        let full = std::fs::read_to_string(out.join(format!("fullchain-{family}.pem"))).unwrap();
        let parts = std::fs::read_to_string(out.join(format!("cert-{family}.pem"))).unwrap()
            + &std::fs::read_to_string(out.join(format!("chain-{family}.pem"))).unwrap();
        assert_eq!(full, parts);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for family in ["rsa", "ecdsa"] {
            let mode = std::fs::metadata(out.join(format!("key-{family}.pem")))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "key files are private");
        }
    }
}

#[test]
fn root_only_ca_and_custom_validity() {
    let env = Env::new();
    env.ok(&[
        "ca",
        "create",
        "plain",
        "--key",
        "rsa-3072",
        "--validity-days",
        "365",
    ]);
    env.ok(&[
        "cred",
        "create",
        "api",
        "--host",
        "api.example.test",
        "--key",
        "ecdsa-p384",
        "--issuer",
        "ca:plain",
        "--validity-days",
        "7",
    ]);
    env.ok(&["cred", "issue", "api"]);
    env.ok(&["cred", "export", "api", "--out", "out"]);
    let dir = env.store.work_dir();
    std::fs::write(
        dir.join("root.pem"),
        env.ok(&["ca", "show", "plain", "--pem"]),
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(env.path("out/chain.pem")).unwrap(),
        ""
    );
    let verified = openssl(dir, &["verify", "-CAfile", "root.pem", "out/cert.pem"]);
    assert!(verified.contains(": OK"), "{verified}");
    // 7 days (plus the minute of back-dating): checkend 8 days says it expires, 6 days says it does not.
    assert!(
        crate::util::openssl_output(
            dir,
            &[
                "x509",
                "-in",
                "out/cert.pem",
                "-noout",
                "-checkend",
                &(6 * 86400).to_string()
            ]
        )
        .status
        .success()
    );
    assert!(
        !crate::util::openssl_output(
            dir,
            &[
                "x509",
                "-in",
                "out/cert.pem",
                "-noout",
                "-checkend",
                &(8 * 86400).to_string()
            ]
        )
        .status
        .success()
    );
    let list = env.json(&["cred", "list"]);
    assert_eq!(list[0]["name"], "api");
    assert_eq!(list[0]["status"], "valid");
    assert_eq!(list[0]["health"], "ok");
    assert_eq!(list[0]["key_specs"][0], "ecdsa-p384");
    // Seven days from issuance: 6 full days left once a second has passed.
    let days = list[0]["days_to_expiry"].as_i64().unwrap();
    assert!((6..=7).contains(&days), "{days}");
}

#[test]
fn reissue_keeps_history_and_serials_are_random() {
    let env = Env::new();
    env.ok(&["ca", "create", "lab"]);
    env.ok(&[
        "cred",
        "create",
        "w",
        "--host",
        "w.example.test",
        "--issuer",
        "ca:lab",
    ]);
    env.ok(&["cred", "issue", "w"]);
    let first = env.json(&["cred", "show", "w"]);
    env.ok(&["cred", "issue", "w"]);
    let second = env.json(&["cred", "show", "w", "--events"]);
    assert_eq!(second["credential"]["current_version"], 2);
    assert_eq!(second["versions"], serde_json::json!([1, 2]));
    let serial = |v: &serde_json::Value| {
        v["keys"][0]["certificate"]["serial"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_ne!(serial(&first), serial(&second));
    assert!(
        serial(&first).len() >= 16,
        "serial has at least 64 random bits"
    );
    let kinds: Vec<&str> = second["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "issued", "issued"]);
}

#[test]
fn quickstart_issues_a_localhost_credential() {
    let env = Env::empty();
    env.ok(&["init", "--quickstart"]);
    let show = env.json(&["cred", "show", "localhost"]);
    assert_eq!(show["credential"]["status"], "valid");
    assert_eq!(
        show["credential"]["hostnames"],
        serde_json::json!(["localhost", "127.0.0.1", "::1"])
    );
    let cas = env.json(&["ca", "list"]);
    assert_eq!(cas[0]["name"], "local");
    // A second init refuses to touch the existing store.
    let err = env.fails(2, &["init"]);
    assert!(err.contains("already exists"), "{err}");
}

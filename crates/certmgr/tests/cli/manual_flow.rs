//! Manual flow: our key and CSR, an external (openssl) CA's signature.

use crate::util::{Env, openssl, openssl_ca, openssl_leaf};

fn sign_csr(env: &Env, csr: &str, out: &str) {
    openssl(
        env.store.work_dir(),
        &[
            "x509",
            "-req",
            "-in",
            csr,
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
            out,
        ],
    );
}

#[test]
fn csr_signed_by_an_external_ca_imports_and_verifies() {
    let env = Env::new();
    let dir = env.store.work_dir();
    openssl_ca(dir, "ext");
    env.ok(&["trust", "add", env.path("ext.pem").to_str().unwrap()]);
    env.ok(&[
        "cred",
        "create",
        "mail",
        "--host",
        "mail.example.test",
        "--host",
        "smtp.example.test",
        "--key",
        "rsa-2048",
    ]);
    env.ok(&[
        "cred",
        "csr",
        "mail",
        "--out",
        env.path("req.pem").to_str().unwrap(),
    ]);
    let req = openssl(
        dir,
        &["req", "-in", "req.pem", "-noout", "-text", "-verify"],
    );
    assert!(
        req.contains("DNS:mail.example.test") && req.contains("DNS:smtp.example.test"),
        "{req}"
    );
    assert_eq!(
        env.json(&["cred", "show", "mail"])["credential"]["status"],
        "pending"
    );

    // Asking for the CSR again reuses the waiting key.
    env.ok(&[
        "cred",
        "csr",
        "mail",
        "--out",
        env.path("req2.pem").to_str().unwrap(),
    ]);
    let pub1 = openssl(dir, &["req", "-in", "req.pem", "-noout", "-pubkey"]);
    let pub2 = openssl(dir, &["req", "-in", "req2.pem", "-noout", "-pubkey"]);
    assert_eq!(pub1, pub2);

    sign_csr(&env, "req.pem", "signed.pem");
    env.ok(&[
        "cred",
        "import",
        "mail",
        "--cert",
        env.path("signed.pem").to_str().unwrap(),
    ]);
    let show = env.json(&["cred", "show", "mail"]);
    assert_eq!(show["credential"]["status"], "valid");
    assert_eq!(show["keys"][0]["certificate"]["issuer"], "CN=ext");

    env.ok(&["cred", "export", "mail", "--out", "out"]);
    let verified = openssl(dir, &["verify", "-CAfile", "ext.pem", "out/cert.pem"]);
    assert!(verified.contains(": OK"), "{verified}");
    let cert_pub = openssl(dir, &["x509", "-in", "out/cert.pem", "-noout", "-pubkey"]);
    assert_eq!(cert_pub, pub1, "the certificate carries the key of our CSR");
}

#[test]
fn a_certificate_for_another_key_is_refused_and_changes_nothing() {
    let env = Env::new();
    let dir = env.store.work_dir();
    openssl_ca(dir, "ext");
    env.ok(&["trust", "add", env.path("ext.pem").to_str().unwrap()]);
    env.ok(&["cred", "create", "www", "--host", "www.example.test"]);
    env.ok(&[
        "cred",
        "csr",
        "www",
        "--out",
        env.path("req.pem").to_str().unwrap(),
    ]);
    // A certificate the same CA issued, but for a key openssl made.
    openssl_leaf(
        dir,
        "ext",
        "other",
        &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "30",
    );
    let before = env.digest();
    let err = env.fails(
        2,
        &[
            "cred",
            "import",
            "www",
            "--cert",
            env.path("other.pem").to_str().unwrap(),
        ],
    );
    assert!(err.contains("does not match"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one-line reason: {err}");
    assert_eq!(env.digest(), before);
    assert_eq!(
        env.json(&["cred", "show", "www"])["credential"]["status"],
        "pending"
    );
}

#[test]
fn dual_csr_writes_one_request_per_key() {
    let env = Env::new();
    let dir = env.store.work_dir();
    openssl_ca(dir, "ext");
    env.ok(&["trust", "add", env.path("ext.pem").to_str().unwrap()]);
    env.ok(&[
        "cred",
        "create",
        "d",
        "--host",
        "d.example.test",
        "--key",
        "rsa-3072",
        "--key",
        "ecdsa-p384",
    ]);
    env.ok(&[
        "cred",
        "csr",
        "d",
        "--out",
        env.path("req.pem").to_str().unwrap(),
    ]);
    sign_csr(&env, "req-rsa.pem", "rsa.pem");
    sign_csr(&env, "req-ecdsa.pem", "ecdsa.pem");
    env.ok(&[
        "cred",
        "import",
        "d",
        "--cert",
        env.path("rsa.pem").to_str().unwrap(),
    ]);
    assert_eq!(
        env.json(&["cred", "show", "d"])["credential"]["status"],
        "pending",
        "still waiting for the ECDSA certificate"
    );
    env.ok(&[
        "cred",
        "import",
        "d",
        "--cert",
        env.path("ecdsa.pem").to_str().unwrap(),
    ]);
    assert_eq!(
        env.json(&["cred", "show", "d"])["credential"]["status"],
        "valid"
    );
    env.ok(&["cred", "export", "d", "--out", "out"]);
    for family in ["rsa", "ecdsa"] {
        let verified = openssl(
            dir,
            &[
                "verify",
                "-CAfile",
                "ext.pem",
                &format!("out/cert-{family}.pem"),
            ],
        );
        assert!(verified.contains(": OK"), "{verified}");
    }
}

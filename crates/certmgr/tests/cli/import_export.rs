//! Import of PEM bundles and PKCS#12 made by openssl; export to PEM and PKCS#12.

use crate::util::{Env, openssl, openssl_ca, openssl_leaf, openssl_output};

const PASSWORD: &str = "s3cret pass";

/// An env with a trusted openssl CA `ext` and leaves `ec` (P-256) and `rsa` (RSA-2048).
fn env_with_leaves() -> Env {
    let env = Env::new();
    let dir = env.store.work_dir();
    openssl_ca(dir, "ext");
    openssl_leaf(
        dir,
        "ext",
        "ec",
        &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "30",
    );
    openssl_leaf(dir, "ext", "rsa", &["rsa:2048"], "30");
    env.file("password.txt", format!("{PASSWORD}\n"));
    env.file("wrong.txt", "not the password\n");
    env
}

fn p(env: &Env, name: &str) -> String {
    env.path(name).to_str().unwrap().to_owned()
}

#[test]
fn openssl_pkcs12_variants_import() {
    let env = env_with_leaves();
    let dir = env.store.work_dir();
    env.ok(&["trust", "add", &p(&env, "ext.pem")]);
    let variants: [(&str, &[&str]); 3] = [
        ("aes", &[]),
        ("legacy", &["-legacy"]),
        ("descert", &["-legacy", "-descert"]),
    ];
    for leaf in ["ec", "rsa"] {
        for (variant, flags) in variants {
            let file = format!("{leaf}-{variant}.p12");
            let key = format!("{leaf}.key");
            let cert = format!("{leaf}.pem");
            let passout = format!("pass:{PASSWORD}");
            let mut args = vec![
                "pkcs12",
                "-export",
                "-inkey",
                &key,
                "-in",
                &cert,
                "-certfile",
                "ext.pem",
                "-passout",
                &passout,
                "-out",
                &file,
            ];
            args.extend_from_slice(flags);
            openssl(dir, &args);
            let name = format!("{leaf}-{variant}");
            env.ok(&[
                "cred",
                "import",
                &name,
                "--pkcs12",
                &p(&env, &file),
                "--password-file",
                &p(&env, "password.txt"),
            ]);
            let show = env.json(&["cred", "show", &name]);
            assert_eq!(show["credential"]["status"], "valid", "{name}");
            assert_eq!(
                show["credential"]["hostnames"][0],
                format!("{leaf}.example.test")
            );
            let spec = if leaf == "ec" {
                "ecdsa-p256"
            } else {
                "rsa-2048"
            };
            assert_eq!(show["keys"][0]["key_spec"], spec);
            // The imported key is the one openssl made.
            env.ok(&["cred", "export", &name, "--out", &format!("out-{name}")]);
            let ours = openssl(
                dir,
                &["pkey", "-in", &format!("out-{name}/key.pem"), "-pubout"],
            );
            let theirs = openssl(dir, &["pkey", "-in", &key, "-pubout"]);
            assert_eq!(ours, theirs, "{name}");
        }
    }
}

#[test]
fn wrong_pkcs12_password_fails_clearly_and_changes_nothing() {
    let env = env_with_leaves();
    let dir = env.store.work_dir();
    env.ok(&["trust", "add", &p(&env, "ext.pem")]);
    openssl(
        dir,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "ec.key",
            "-in",
            "ec.pem",
            "-passout",
            &format!("pass:{PASSWORD}"),
            "-out",
            "a.p12",
        ],
    );
    openssl(
        dir,
        &[
            "pkcs12",
            "-export",
            "-legacy",
            "-inkey",
            "ec.key",
            "-in",
            "ec.pem",
            "-passout",
            &format!("pass:{PASSWORD}"),
            "-out",
            "l.p12",
        ],
    );
    let before = env.digest();
    for file in ["a.p12", "l.p12"] {
        let err = env.fails(
            2,
            &[
                "cred",
                "import",
                "x",
                "--pkcs12",
                &p(&env, file),
                "--password-file",
                &p(&env, "wrong.txt"),
            ],
        );
        assert!(err.contains("wrong password"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert_eq!(env.digest(), before);
    env.fails(2, &["cred", "show", "x"]);
}

#[test]
fn pem_bundle_in_any_order_with_encrypted_key() {
    let env = env_with_leaves();
    let dir = env.store.work_dir();
    openssl(
        dir,
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "rsa.key",
            "-out",
            "rsa-enc.key",
            "-passout",
            &format!("pass:{PASSWORD}"),
        ],
    );
    // Root first, then the encrypted key, then the leaf: order must not matter.
    let bundle = [
        std::fs::read_to_string(env.path("ext.pem")).unwrap(),
        std::fs::read_to_string(env.path("rsa-enc.key")).unwrap(),
        std::fs::read_to_string(env.path("rsa.pem")).unwrap(),
    ]
    .concat();
    let bundle_path = env.file("bundle.pem", bundle);
    // The root in the bundle is not trusted yet: refused with the way out named.
    let err = env.fails(
        2,
        &[
            "cred",
            "import",
            "b",
            "--cert",
            bundle_path.to_str().unwrap(),
            "--key-password-file",
            &p(&env, "password.txt"),
        ],
    );
    assert!(err.contains("trust add"), "{err}");
    // Without the passphrase: refused, naming the problem.
    let err = env.fails(
        2,
        &[
            "cred",
            "import",
            "b",
            "--cert",
            bundle_path.to_str().unwrap(),
            "--trust-bundled-root",
        ],
    );
    assert!(
        err.to_lowercase().contains("password") || err.to_lowercase().contains("passphrase"),
        "{err}"
    );
    env.ok(&[
        "cred",
        "import",
        "b",
        "--cert",
        bundle_path.to_str().unwrap(),
        "--key-password-file",
        &p(&env, "password.txt"),
        "--trust-bundled-root",
    ]);
    assert_eq!(
        env.json(&["cred", "show", "b"])["credential"]["status"],
        "valid"
    );
    // Separate --cert and --key files work too, and a second import makes version 2.
    env.ok(&["trust", "add", &p(&env, "ext.pem")]);
    env.ok(&[
        "cred",
        "import",
        "b",
        "--cert",
        &p(&env, "rsa.pem"),
        "--key",
        &p(&env, "rsa.key"),
    ]);
    assert_eq!(
        env.json(&["cred", "show", "b"])["credential"]["current_version"],
        2
    );
}

#[test]
fn expired_certificates_are_refused_unless_allowed() {
    let env = env_with_leaves();
    let dir = env.store.work_dir();
    env.ok(&["trust", "add", &p(&env, "ext.pem")]);
    crate::util::openssl_expired(dir, "ext", "ec.csr", "old.pem");
    let before = env.digest();
    let err = env.fails(
        2,
        &[
            "cred",
            "import",
            "old",
            "--cert",
            &p(&env, "old.pem"),
            "--key",
            &p(&env, "ec.key"),
        ],
    );
    assert!(
        err.contains("expired") && err.contains("--allow-expired"),
        "{err}"
    );
    assert_eq!(env.digest(), before);
    let out = env.run(&[
        "cred",
        "import",
        "old",
        "--cert",
        &p(&env, "old.pem"),
        "--key",
        &p(&env, "ec.key"),
        "--allow-expired",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning"),
        "the user is warned"
    );
    let show = env.json(&["cred", "show", "old"]);
    assert_eq!(show["credential"]["status"], "expired");
    assert_eq!(show["credential"]["health"], "error");
}

#[test]
fn pkcs12_exports_open_in_openssl() {
    let env = Env::new();
    let dir = env.store.work_dir();
    env.file("password.txt", format!("{PASSWORD}\n"));
    env.ok(&["ca", "create", "lab", "--intermediate"]);
    env.ok(&[
        "cred",
        "create",
        "w",
        "--host",
        "w.example.test",
        "--key",
        "rsa-2048",
        "--key",
        "ecdsa-p256",
        "--issuer",
        "ca:lab",
    ]);
    env.ok(&["cred", "issue", "w"]);
    env.ok(&[
        "cred",
        "export",
        "w",
        "--format",
        "pkcs12",
        "--password-file",
        &p(&env, "password.txt"),
        "--out",
        "modern",
    ]);
    env.ok(&[
        "cred",
        "export",
        "w",
        "--format",
        "pkcs12",
        "--legacy",
        "--password-file",
        &p(&env, "password.txt"),
        "--out",
        "legacy",
    ]);
    env.ok(&[
        "cred",
        "export",
        "w",
        "--format",
        "pkcs12",
        "--key",
        "ecdsa",
        "--password-file",
        &p(&env, "password.txt"),
        "--out",
        "one",
    ]);
    let pass = format!("pass:{PASSWORD}");
    for family in ["rsa", "ecdsa"] {
        let modern = format!("modern/w-{family}.p12");
        let info = openssl_output(
            dir,
            &[
                "pkcs12", "-info", "-noout", "-in", &modern, "-passin", &pass,
            ],
        );
        assert!(
            info.status.success(),
            "{}",
            String::from_utf8_lossy(&info.stderr)
        );
        let text = String::from_utf8_lossy(&info.stderr);
        assert!(
            text.contains("AES-256-CBC") && text.contains("MAC: sha256"),
            "modern export uses AES-256 and a SHA-256 MAC: {text}"
        );
        let legacy = format!("legacy/w-{family}.p12");
        let info = openssl_output(
            dir,
            &[
                "pkcs12", "-legacy", "-info", "-noout", "-in", &legacy, "-passin", &pass,
            ],
        );
        assert!(
            info.status.success(),
            "{}",
            String::from_utf8_lossy(&info.stderr)
        );
        let text = String::from_utf8_lossy(&info.stderr);
        assert!(
            text.contains("pbeWithSHA1And3-KeyTripleDES-CBC") && text.contains("MAC: sha1"),
            "legacy export uses 3DES and a SHA-1 MAC: {text}"
        );
        // The files round-trip into another store.
        env.ok(&[
            "cred",
            "import",
            &format!("back-{family}"),
            "--pkcs12",
            &p(&env, &modern),
            "--password-file",
            &p(&env, "password.txt"),
        ]);
        // The key inside is the family the file name says.
        let dump = openssl(
            dir,
            &[
                "pkcs12", "-in", &modern, "-passin", &pass, "-nodes", "-nocerts",
            ],
        );
        let key_text = openssl_with_stdin(dir, &["pkey", "-noout", "-text"], &dump);
        let expect = if family == "rsa" {
            "Private-Key: (2048 bit"
        } else {
            "NIST CURVE: P-256"
        };
        assert!(key_text.contains(expect), "{family}: {key_text}");
    }
    assert!(env.path("one/w-ecdsa.p12").exists());
    assert!(
        !env.path("one/w-rsa.p12").exists(),
        "--key ecdsa exports only that key"
    );
    // A wrong password on our export fails in openssl too.
    assert!(
        !openssl_output(
            dir,
            &[
                "pkcs12",
                "-info",
                "-noout",
                "-in",
                "modern/w-rsa.p12",
                "-passin",
                "pass:nope"
            ]
        )
        .status
        .success()
    );
}

fn openssl_with_stdin(dir: &std::path::Path, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

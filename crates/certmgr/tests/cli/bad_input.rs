//! A corpus of bad inputs: each is refused with exit code 2 (bad input) or 1
//! (failed), a one-line reason, and a store that is exactly as it was.

use crate::util::{Env, openssl, openssl_ca, openssl_expired, openssl_leaf};

struct Case {
    what: &'static str,
    args: Vec<String>,
    code: i32,
    /// A word the reason must contain (case-insensitive).
    reason: &'static str,
}

fn case(what: &'static str, code: i32, reason: &'static str, args: &[&str]) -> Case {
    Case {
        what,
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        code,
        reason,
    }
}

#[test]
fn bad_inputs_are_refused_and_change_nothing() {
    let env = Env::new();
    let dir = env.store.work_dir();
    env.ok(&["ca", "create", "lab"]);
    env.ok(&[
        "cred",
        "create",
        "web1",
        "--host",
        "web1.example.test",
        "--issuer",
        "ca:lab",
    ]);
    env.ok(&["cred", "issue", "web1"]);
    openssl_ca(dir, "ext");
    openssl_ca(dir, "ghost"); // never trusted
    env.ok(&["trust", "add", env.path("ext.pem").to_str().unwrap()]);
    env.ok(&["cred", "create", "man", "--host", "man.example.test"]);
    env.ok(&[
        "cred",
        "csr",
        "man",
        "--out",
        env.path("req.pem").to_str().unwrap(),
    ]);
    openssl_leaf(
        dir,
        "ext",
        "ec",
        &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "30",
    );
    openssl_leaf(dir, "ext", "rsa", &["rsa:2048"], "30");
    openssl_leaf(
        dir,
        "ghost",
        "haunted",
        &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "30",
    );
    openssl_expired(dir, "ext", "ec.csr", "old.pem");
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
            "pass:right",
            "-out",
            "ec.p12",
        ],
    );
    openssl(
        dir,
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "ec.key",
            "-out",
            "ec-enc.key",
            "-passout",
            "pass:right",
        ],
    );

    let ec_pem = std::fs::read_to_string(env.path("ec.pem")).unwrap();
    let f = |name: &str, contents: Vec<u8>| env.file(name, contents).to_str().unwrap().to_owned();
    let truncated = f(
        "truncated.pem",
        ec_pem.as_bytes()[..ec_pem.len() / 2].to_vec(),
    );
    let garbage = f(
        "garbage.bin",
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect(),
    );
    let empty = f("empty.pem", Vec::new());
    let huge = f("huge.pem", vec![b'A'; 2 * 1024 * 1024]);
    let two_keys = f(
        "two-keys.pem",
        [
            std::fs::read(env.path("ec.key")).unwrap(),
            std::fs::read(env.path("rsa.key")).unwrap(),
            ec_pem.clone().into_bytes(),
        ]
        .concat(),
    );
    let with_key = f(
        "with-key.pem",
        [
            std::fs::read(env.path("ec.key")).unwrap(),
            ec_pem.clone().into_bytes(),
        ]
        .concat(),
    );
    let not_pem = f("words.txt", b"this is not a certificate\n".to_vec());
    let wrong = f("wrong.txt", b"wrong\n".to_vec());
    // An encrypted PKCS#8 key asking for scrypt N=2^40 (128 TiB); its
    // ciphertext is junk. Made with certmgr-pki's `encrypted_with` test helper.
    let scrypt_bomb = f(
        "scrypt-bomb.key",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGiMF4GCSqGSIb3DQEFDTBRMDAGCSsGAQQB2kcECzAjBBABAQEBAQEBAQEBAQEB
AQEBAgYBAAAAAAACAQgCAQECASAwHQYJYIZIAWUDBAEqBBAHBwcHBwcHBwcHBwcH
BwcHBEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
AAAAAAAAAAAAAAAAAAAAAAAAAAAA
-----END ENCRYPTED PRIVATE KEY-----
"
        .to_vec(),
    );
    let p = |name: &str| env.path(name).to_str().unwrap().to_owned();
    let (ec_key, rsa_key, ec_cert, p12) = (p("ec.key"), p("rsa.key"), p("ec.pem"), p("ec.p12"));
    let missing = p("no-such-file.pem");

    let cases = vec![
        case(
            "truncated PEM",
            2,
            "damaged",
            &[
                "cred", "import", "x", "--cert", &truncated, "--key", &ec_key,
            ],
        ),
        case(
            "garbage certificate",
            2,
            "pem",
            &["cred", "import", "x", "--cert", &garbage, "--key", &ec_key],
        ),
        case(
            "garbage PKCS#12",
            2,
            "pkcs#12",
            &[
                "cred",
                "import",
                "x",
                "--pkcs12",
                &garbage,
                "--password-file",
                &wrong,
            ],
        ),
        case(
            "empty certificate file",
            2,
            "empty",
            &["cred", "import", "x", "--cert", &empty, "--key", &ec_key],
        ),
        case(
            "empty key file",
            2,
            "empty",
            &["cred", "import", "x", "--cert", &ec_cert, "--key", &empty],
        ),
        case(
            "huge certificate file",
            2,
            "larger",
            &["cred", "import", "x", "--cert", &huge, "--key", &ec_key],
        ),
        case(
            "huge PKCS#12 file",
            2,
            "larger",
            &[
                "cred",
                "import",
                "x",
                "--pkcs12",
                &huge,
                "--password-file",
                &wrong,
            ],
        ),
        case(
            "text that is not PEM",
            2,
            "pem",
            &["cred", "import", "x", "--cert", &not_pem, "--key", &ec_key],
        ),
        case(
            "missing file",
            2,
            "no-such-file",
            &["cred", "import", "x", "--cert", &missing, "--key", &ec_key],
        ),
        case(
            "wrong PKCS#12 password",
            2,
            "wrong password",
            &[
                "cred",
                "import",
                "x",
                "--pkcs12",
                &p12,
                "--password-file",
                &wrong,
            ],
        ),
        case(
            "wrong key passphrase",
            2,
            "password",
            &[
                "cred",
                "import",
                "x",
                "--cert",
                &ec_cert,
                "--key",
                &p("ec-enc.key"),
                "--key-password-file",
                &wrong,
            ],
        ),
        case(
            "encrypted key asking for 128 TiB of scrypt memory",
            2,
            "scrypt memory",
            &[
                "cred",
                "import",
                "x",
                "--cert",
                &ec_cert,
                "--key",
                &scrypt_bomb,
                "--key-password-file",
                &wrong,
            ],
        ),
        case(
            "missing key passphrase",
            2,
            "password",
            &[
                "cred",
                "import",
                "x",
                "--cert",
                &ec_cert,
                "--key",
                &p("ec-enc.key"),
            ],
        ),
        case(
            "mismatched key",
            2,
            "match",
            &["cred", "import", "x", "--cert", &ec_cert, "--key", &rsa_key],
        ),
        case(
            "two keys in one bundle",
            2,
            "key",
            &["cred", "import", "x", "--cert", &two_keys],
        ),
        case(
            "key given twice",
            2,
            "already holds a private key",
            &["cred", "import", "x", "--cert", &with_key, "--key", &ec_key],
        ),
        case(
            "expired certificate",
            2,
            "expired",
            &[
                "cred",
                "import",
                "x",
                "--cert",
                &p("old.pem"),
                "--key",
                &ec_key,
            ],
        ),
        case(
            "broken chain (untrusted issuer)",
            2,
            "ghost",
            &[
                "cred",
                "import",
                "x",
                "--cert",
                &p("haunted.pem"),
                "--key",
                &p("haunted.key"),
            ],
        ),
        case(
            "a CSR where a certificate belongs",
            2,
            "certificate request",
            &[
                "cred",
                "import",
                "x",
                "--cert",
                &p("req.pem"),
                "--key",
                &ec_key,
            ],
        ),
        case(
            "certificate without key, no such credential",
            2,
            "no credential",
            &["cred", "import", "x", "--cert", &ec_cert],
        ),
        case(
            "certificate for another key than the CSR's",
            2,
            "does not match",
            &["cred", "import", "man", "--cert", &ec_cert],
        ),
        case(
            "invalid hostname: empty label",
            2,
            "invalid hostname",
            &["cred", "create", "x", "--host", "a..example.test"],
        ),
        case(
            "invalid hostname: underscore",
            2,
            "invalid hostname",
            &["cred", "create", "x", "--host", "under_score.example.test"],
        ),
        case(
            "invalid hostname: inner wildcard",
            2,
            "wildcard",
            &["cred", "create", "x", "--host", "www.*.example.test"],
        ),
        case(
            "invalid hostname: bad IP",
            2,
            "invalid hostname",
            &["cred", "create", "x", "--host", "300.1.2.3"],
        ),
        case(
            "invalid hostname: label too long",
            2,
            "63",
            &[
                "cred",
                "create",
                "x",
                "--host",
                &format!("{}.example.test", "a".repeat(64)),
            ],
        ),
        case(
            "hostname given twice",
            2,
            "twice",
            &[
                "cred",
                "create",
                "x",
                "--host",
                "a.example.test",
                "--host",
                "A.example.test",
            ],
        ),
        case(
            "duplicate credential name",
            2,
            "already exists",
            &["cred", "create", "web1", "--host", "b.example.test"],
        ),
        case(
            "invalid credential name",
            2,
            "invalid name",
            &["cred", "create", "bad/name", "--host", "b.example.test"],
        ),
        case(
            "unknown key type",
            2,
            "unknown key type",
            &[
                "cred",
                "create",
                "x",
                "--host",
                "b.example.test",
                "--key",
                "rsa-1024",
            ],
        ),
        case(
            "unsupported key type",
            2,
            "unknown key type",
            &[
                "cred",
                "create",
                "x",
                "--host",
                "b.example.test",
                "--key",
                "ed25519",
            ],
        ),
        case(
            "two ECDSA keys",
            2,
            "one rsa and one ecdsa",
            &[
                "cred",
                "create",
                "x",
                "--host",
                "b.example.test",
                "--key",
                "ecdsa-p256",
                "--key",
                "ecdsa-p384",
            ],
        ),
        case(
            "three keys",
            2,
            "at most two",
            &[
                "cred",
                "create",
                "x",
                "--host",
                "b.example.test",
                "--key",
                "ecdsa-p256",
                "--key",
                "rsa-2048",
                "--key",
                "rsa-4096",
            ],
        ),
        case(
            "unknown issuer kind",
            2,
            "invalid issuer",
            &[
                "cred",
                "create",
                "x",
                "--host",
                "b.example.test",
                "--issuer",
                "vault:x",
            ],
        ),
        case(
            "issuer CA that does not exist",
            2,
            "no ca named",
            &[
                "cred",
                "create",
                "x",
                "--host",
                "b.example.test",
                "--issuer",
                "ca:nope",
            ],
        ),
        case(
            "zero validity",
            2,
            "validity",
            &[
                "cred",
                "create",
                "x",
                "--host",
                "b.example.test",
                "--issuer",
                "ca:lab",
                "--validity-days",
                "0",
            ],
        ),
        case(
            "issue an unknown credential",
            2,
            "no credential",
            &["cred", "issue", "nope"],
        ),
        case(
            "issue a manual credential",
            2,
            "manual flow",
            &["cred", "issue", "man"],
        ),
        case(
            "CSR for a MicroCA credential",
            2,
            "cred issue",
            &["cred", "csr", "web1", "--out", &p("x.csr")],
        ),
        case(
            "export without a certificate",
            2,
            "no certificate",
            &["cred", "export", "man", "--out", &p("outdir")],
        ),
        case(
            "PKCS#12 export without password",
            2,
            "password-file",
            &[
                "cred",
                "export",
                "web1",
                "--format",
                "pkcs12",
                "--out",
                &p("outdir"),
            ],
        ),
        case(
            "export of an unknown key family",
            2,
            "rsa or ecdsa",
            &[
                "cred",
                "export",
                "web1",
                "--key",
                "dsa",
                "--out",
                &p("outdir"),
            ],
        ),
        case(
            "duplicate CA",
            2,
            "already exists",
            &["ca", "create", "lab"],
        ),
        case(
            "CA with unknown key type",
            2,
            "unknown key type",
            &["ca", "create", "x", "--key", "dsa-1024"],
        ),
        case(
            "trust a leaf certificate",
            2,
            "not a ca certificate",
            &["trust", "add", &ec_cert],
        ),
        case("trust garbage", 2, "pem", &["trust", "add", &garbage]),
        case(
            "delete an unknown credential",
            2,
            "no credential",
            &["cred", "delete", "nope"],
        ),
        case(
            "usage: create without --host",
            2,
            "--host",
            &["cred", "create", "x"],
        ),
        case(
            "usage: unknown subcommand",
            2,
            "unrecognized",
            &["cred", "frobnicate"],
        ),
    ];
    assert!(cases.len() >= 30);
    let before = env.digest();
    let listing = env.json(&["cred", "list"]);
    for case in &cases {
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let out = env.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(case.code),
            "{}: wrong exit code; stderr: {stderr}",
            case.what
        );
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.to_lowercase().contains(&case.reason.to_lowercase()),
            "{}: the first line of stderr should name the problem ({:?}): {stderr}",
            case.what,
            case.reason
        );
        if first.starts_with("certmgr:") {
            assert_eq!(
                stderr.trim_end().lines().count(),
                1,
                "{}: one-line reason: {stderr}",
                case.what
            );
        }
        assert!(out.stdout.is_empty(), "{}: nothing on stdout", case.what);
        assert_eq!(env.digest(), before, "{}: the store changed", case.what);
    }
    assert_eq!(env.json(&["cred", "list"])[0]["name"], listing[0]["name"]);
    assert_eq!(
        env.json(&["cred", "list"]).as_array().map(Vec::len),
        listing.as_array().map(Vec::len)
    );
}

#[test]
fn a_store_opened_with_the_wrong_master_key_is_refused() {
    let env = Env::new();
    env.ok(&["cred", "create", "x", "--host", "x.example.test"]);
    let out = env
        .command(&["cred", "list"])
        .env(
            "CERTMGR_MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("master key does not open this store"));
    let uninitialised = Env::empty();
    let err = uninitialised.fails(2, &["cred", "list"]);
    assert!(err.contains("certmgr init"), "{err}");
}

#[test]
fn errors_under_json_are_json_objects() {
    let env = Env::new();
    let cases: [(&[&str], &str, i32, &str); 3] = [
        (
            &["--json", "cred", "show", "nope"],
            "bad_input",
            2,
            "no credential",
        ),
        (
            &["cred", "frobnicate", "--json"],
            "usage",
            2,
            "unrecognized",
        ),
        (
            &[
                "--json",
                "--data-dir",
                "/proc/certmgr-cannot-be-here",
                "init",
            ],
            "failed",
            1,
            "cannot create",
        ),
    ];
    for (args, kind, code, words) in cases {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let error: serde_json::Value = serde_json::from_str(stderr.trim())
            .unwrap_or_else(|e| panic!("{args:?}: stderr is not one JSON object ({e}): {stderr}"));
        let error = &error["error"];
        assert_eq!(error["kind"], kind, "{args:?}: {stderr}");
        assert_eq!(error["exit_code"], code, "{args:?}: {stderr}");
        let message = error["message"].as_str().unwrap();
        assert!(
            !message.is_empty() && message.to_lowercase().contains(words),
            "{args:?}: {stderr}"
        );
    }
    // Without --json, the same error stays one line of text.
    let err = env.fails(2, &["cred", "show", "nope"]);
    assert!(err.starts_with("certmgr: "), "{err}");
}

#[test]
fn a_reader_closing_the_pipe_ends_a_listing_quietly() {
    let env = Env::new();
    env.ok(&["ca", "create", "lab"]);
    env.ok(&[
        "cred",
        "create",
        "web",
        "--host",
        "web.example.test",
        "--issuer",
        "ca:lab",
    ]);
    for args in [&["cred", "list"][..], &["--json", "cred", "list"][..]] {
        let mut child = env
            .command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before certmgr writes (as `| head -0` would).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

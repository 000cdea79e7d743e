//! No private key is ever in the database in the clear.

use crate::util::{Env, openssl, openssl_ca, openssl_leaf};

/// What identifies a private key file's secret: its whole DER, every base64
/// line of its PEM body, and 24-byte windows of its secret numbers (RSA private
/// exponent and primes, EC private scalar). Windows of the whole DER would also
/// hit the public key, which certificates rightly carry.
fn key_fingerprints(env: &Env, pem_file: &str) -> Vec<Vec<u8>> {
    let dir = env.store.work_dir();
    let der_file = format!("{pem_file}.der");
    openssl(
        dir,
        &[
            "pkey", "-in", pem_file, "-outform", "DER", "-out", &der_file,
        ],
    );
    let der = std::fs::read(dir.join(&der_file)).unwrap();
    let pem = std::fs::read_to_string(dir.join(pem_file)).unwrap();
    let mut needles = vec![der];
    needles.extend(
        pem.lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 32)
            .map(|l| l.as_bytes().to_vec()),
    );
    let text = openssl(dir, &["pkey", "-in", pem_file, "-noout", "-text"]);
    for secret in secret_numbers(&text) {
        assert!(secret.len() >= 24, "{pem_file}: secret number too short");
        needles.extend(secret.windows(24).step_by(8).map(<[u8]>::to_vec));
    }
    needles
}

/// The secret numbers in `openssl pkey -text` output, as bytes.
fn secret_numbers(text: &str) -> Vec<Vec<u8>> {
    let mut numbers = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in text.lines() {
        if line.starts_with(' ') {
            if let Some(bytes) = current.as_mut() {
                bytes.extend(
                    line.trim()
                        .split(':')
                        .filter(|h| !h.is_empty())
                        .map(|h| u8::from_str_radix(h, 16).unwrap()),
                );
            }
            continue;
        }
        numbers.extend(current.take());
        let label = line.trim_end_matches(':');
        if ["privateExponent", "prime1", "prime2", "priv"].contains(&label) {
            current = Some(Vec::new());
        }
    }
    numbers.extend(current);
    numbers
}

#[test]
fn database_holds_no_private_key_in_the_clear() {
    let env = Env::new();
    let dir = env.store.work_dir();
    // Keys made by MicroCA issuance (dual), by the manual flow, and imported.
    env.ok(&["ca", "create", "lab", "--intermediate", "--key", "rsa-2048"]);
    env.ok(&[
        "cred",
        "create",
        "m",
        "--host",
        "m.example.test",
        "--key",
        "rsa-2048",
        "--key",
        "ecdsa-p384",
        "--issuer",
        "ca:lab",
    ]);
    env.ok(&["cred", "issue", "m"]);
    env.ok(&["cred", "export", "m", "--out", "m"]);
    openssl_ca(dir, "ext");
    env.ok(&["trust", "add", env.path("ext.pem").to_str().unwrap()]);
    env.ok(&["cred", "create", "csr", "--host", "c.example.test"]);
    env.ok(&[
        "cred",
        "csr",
        "csr",
        "--out",
        env.path("req.pem").to_str().unwrap(),
    ]);
    openssl(
        dir,
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
            "9",
            "-copy_extensions",
            "copy",
            "-out",
            "signed.pem",
        ],
    );
    env.ok(&[
        "cred",
        "import",
        "csr",
        "--cert",
        env.path("signed.pem").to_str().unwrap(),
    ]);
    env.ok(&["cred", "export", "csr", "--out", "c"]);
    openssl_leaf(dir, "ext", "imp", &["rsa:2048"], "30");
    env.ok(&[
        "cred",
        "import",
        "imp",
        "--cert",
        env.path("imp.pem").to_str().unwrap(),
        "--key",
        env.path("imp.key").to_str().unwrap(),
    ]);

    let mut needles = Vec::new();
    for file in ["m/key-rsa.pem", "m/key-ecdsa.pem", "c/key.pem", "imp.key"] {
        needles.extend(key_fingerprints(&env, file));
    }
    assert!(needles.len() > 20);
    let raw = env.store.raw_bytes();
    assert!(
        raw.len() > 10_000,
        "the scan sees the real database ({} bytes)",
        raw.len()
    );
    // Control: public material is there, so the scan would find key bytes if they were stored.
    let cert_der = {
        openssl(
            dir,
            &[
                "x509",
                "-in",
                "m/cert-rsa.pem",
                "-outform",
                "DER",
                "-out",
                "m/cert.der",
            ],
        );
        std::fs::read(dir.join("m/cert.der")).unwrap()
    };
    let cert_probe: Vec<u8> = match env.store.backend() {
        certmgr_testkit::TestBackend::Sqlite => cert_der[..64].to_vec(),
        // pg_dump prints bytea as hex
        certmgr_testkit::TestBackend::Postgres => cert_der[..64]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into_bytes(),
    };
    assert!(
        raw.windows(cert_probe.len())
            .any(|w| w == cert_probe.as_slice()),
        "control: the certificate is found"
    );
    for needle in &needles {
        let hex: Vec<u8> = needle
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into_bytes();
        for probe in [needle, &hex] {
            assert!(
                !raw.windows(probe.len()).any(|w| w == probe.as_slice()),
                "private key bytes found in the clear in the database"
            );
        }
    }
}

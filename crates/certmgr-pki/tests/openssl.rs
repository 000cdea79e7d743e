//! Interoperability tests against the real `openssl` 3 command line tool.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use certmgr_pki::{
    CaMaterial, CaOptions, ChainOptions, Hostname, KeySpec, LeafOptions, PkiError, PrivateKey,
    TrustAnchors, build_chain, certificate_info, certs_to_pem, create_ca, create_csr, issue_leaf,
    key_matches, read_certificates, read_pem_bundle, read_pkcs12, write_pkcs12,
};

/// Run openssl in `dir`; returns (success, stdout + stderr).
fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn openssl_ok(dir: &Path, args: &[&str]) -> String {
    let (ok, text) = openssl(dir, args);
    assert!(ok, "openssl {args:?} failed:\n{text}");
    text
}

fn hosts(names: &[&str]) -> Vec<Hostname> {
    names.iter().map(|h| h.parse().unwrap()).collect()
}

fn ca(spec: KeySpec, intermediate: bool) -> CaMaterial {
    create_ca(&CaOptions {
        common_name: "certmgr Test Root".into(),
        organization: Some("certmgr tests".into()),
        key: spec,
        validity_days: 365,
        intermediate,
    })
    .unwrap()
}

fn write(dir: &Path, name: &str, data: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), data).unwrap();
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

#[test]
fn microca_leaves_verify_with_openssl() {
    let names = hosts(&[
        "www.example.test",
        "*.api.example.test",
        "192.0.2.10",
        "2001:db8::5",
    ]);
    for (ca_spec, leaf_spec, intermediate) in [
        (KeySpec::EcdsaP256, KeySpec::EcdsaP256, true),
        (KeySpec::EcdsaP384, KeySpec::Rsa2048, false),
        (KeySpec::Rsa2048, KeySpec::EcdsaP384, true),
        (KeySpec::Rsa2048, KeySpec::Rsa2048, false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = ca(ca_spec, intermediate);
        let key = PrivateKey::generate(leaf_spec).unwrap();
        let (issuer, issuer_key) = ca.issuer();
        let leaf = issue_leaf(issuer, issuer_key, &key, &names, &LeafOptions::default()).unwrap();
        write(d, "root.pem", certs_to_pem(&[&ca.root_der]));
        write(d, "cert.pem", certs_to_pem(&[&leaf]));
        write(d, "key.pem", key.to_pkcs8_pem().as_bytes());
        let verify = if let Some((int, _)) = &ca.intermediate {
            write(d, "chain.pem", certs_to_pem(&[int]));
            openssl_ok(
                d,
                &[
                    "verify",
                    "-x509_strict",
                    "-purpose",
                    "sslserver",
                    "-CAfile",
                    "root.pem",
                    "-untrusted",
                    "chain.pem",
                    "cert.pem",
                ],
            )
        } else {
            openssl_ok(
                d,
                &[
                    "verify",
                    "-x509_strict",
                    "-purpose",
                    "sslserver",
                    "-CAfile",
                    "root.pem",
                    "cert.pem",
                ],
            )
        };
        assert!(verify.contains("cert.pem: OK"), "{verify}");
        let text = openssl_ok(d, &["x509", "-in", "cert.pem", "-text", "-noout"]);
        for needle in [
            "Subject Alternative Name",
            "TLS Web Server Authentication",
            "Authority Key Identifier",
            "Subject Key Identifier",
            "DNS:www.example.test",
            "DNS:*.api.example.test",
            "IP Address:192.0.2.10",
            "IP Address:2001:DB8:0:0:0:0:0:5",
            "CA:FALSE",
            "Subject: CN = www.example.test",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        if leaf_spec.family() == certmgr_pki::KeySpec::Rsa2048.family() {
            assert!(
                text.contains("Digital Signature, Key Encipherment"),
                "{text}"
            );
        } else {
            assert!(text.contains("Digital Signature\n"), "{text}");
        }
        let root_text = openssl_ok(d, &["x509", "-in", "root.pem", "-text", "-noout"]);
        assert!(root_text.contains("CA:TRUE"), "{root_text}");
        assert!(
            root_text.contains("Certificate Sign, CRL Sign"),
            "{root_text}"
        );
        // The key file is readable by openssl and belongs to the certificate.
        let pubkey = openssl_ok(
            d,
            &[
                "pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der",
            ],
        );
        assert!(pubkey.is_empty() || !pubkey.contains("error"));
        assert_eq!(read(d, "pub.der"), key.public_key_der());
        assert_eq!(
            certificate_info(&leaf).unwrap().spki_der,
            key.public_key_der()
        );
    }
}

#[test]
fn csr_verifies_and_openssl_signed_cert_matches_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = PrivateKey::generate(KeySpec::Rsa2048).unwrap();
    let csr = create_csr(
        &key,
        &hosts(&["csr.example.test", "alt.example.test", "10.1.2.3"]),
    )
    .unwrap();
    write(d, "req.pem", &csr);
    let out = openssl_ok(d, &["req", "-in", "req.pem", "-verify", "-noout"]);
    assert!(out.contains("verify OK"), "{out}");
    let text = openssl_ok(d, &["req", "-in", "req.pem", "-text", "-noout"]);
    for needle in [
        "CN = csr.example.test",
        "DNS:csr.example.test",
        "DNS:alt.example.test",
        "IP Address:10.1.2.3",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // An openssl CA signs it.
    openssl_ok(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=OpenSSL Test CA/O=Elsewhere",
            "-days",
            "30",
        ],
    );
    openssl_ok(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "req.pem",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "signed.pem",
            "-days",
            "30",
            "-copy_extensions",
            "copy",
        ],
    );
    let signed = read_certificates(&read(d, "signed.pem")).unwrap();
    assert_eq!(signed.len(), 1);
    assert!(key_matches(&key, &signed[0]).unwrap());
    let other = PrivateKey::generate(KeySpec::Rsa2048).unwrap();
    assert!(!key_matches(&other, &signed[0]).unwrap());
    let info = certificate_info(&signed[0]).unwrap();
    assert_eq!(info.dns_names, ["csr.example.test", "alt.example.test"]);
    assert_eq!(info.key_spec, Some(KeySpec::Rsa2048));

    // The chain builds against the openssl CA as a trust anchor.
    let ca_der = read_certificates(&read(d, "ca.pem")).unwrap().remove(0);
    let mut anchors = TrustAnchors::new();
    anchors.add_der(ca_der.clone()).unwrap();
    let chain = build_chain(&signed[0], &[], &anchors, &ChainOptions::default()).unwrap();
    assert_eq!(chain.root, Some(ca_der.clone()));

    // The openssl CA (key from PEM) can also act as issuer for issue_leaf.
    let ca_key =
        PrivateKey::from_pem(&String::from_utf8(read(d, "ca.key")).unwrap(), None).unwrap();
    let leaf = issue_leaf(
        &ca_der,
        &ca_key,
        &key,
        &hosts(&["x.example.test"]),
        &LeafOptions::default(),
    )
    .unwrap();
    write(d, "x.pem", certs_to_pem(&[&leaf]));
    let out = openssl_ok(d, &["verify", "-CAfile", "ca.pem", "x.pem"]);
    assert!(out.contains("x.pem: OK"), "{out}");
    build_chain(&leaf, &[], &anchors, &ChainOptions::default()).unwrap();
}

#[test]
fn reads_every_openssl_key_form() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_ok(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:3072",
            "-out",
            "rsa8.pem",
        ],
    );
    openssl_ok(
        d,
        &["rsa", "-in", "rsa8.pem", "-traditional", "-out", "rsa1.pem"],
    );
    openssl_ok(
        d,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-out",
            "ec256.pem",
        ],
    );
    openssl_ok(
        d,
        &[
            "ecparam",
            "-name",
            "secp384r1",
            "-genkey",
            "-noout",
            "-out",
            "ec384.pem",
        ],
    );
    openssl_ok(
        d,
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "ec384.pem",
            "-out",
            "enc.pem",
            "-passout",
            "pass:hunter2",
        ],
    );
    openssl_ok(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
            "rsa1024.pem",
        ],
    );
    openssl_ok(d, &["genpkey", "-algorithm", "ED25519", "-out", "ed.pem"]);
    openssl_ok(
        d,
        &[
            "ecparam",
            "-name",
            "secp521r1",
            "-genkey",
            "-noout",
            "-out",
            "ec521.pem",
        ],
    );
    let text = |name: &str| String::from_utf8(read(d, name)).unwrap();
    assert!(text("rsa1.pem").contains("BEGIN RSA PRIVATE KEY"));
    assert!(text("ec256.pem").contains("BEGIN EC PARAMETERS"));
    assert!(text("ec256.pem").contains("BEGIN EC PRIVATE KEY"));

    for (file, spec, password) in [
        ("rsa8.pem", KeySpec::Rsa3072, None),
        ("rsa1.pem", KeySpec::Rsa3072, None),
        ("ec256.pem", KeySpec::EcdsaP256, None),
        ("ec384.pem", KeySpec::EcdsaP384, None),
        ("enc.pem", KeySpec::EcdsaP384, Some(&b"hunter2"[..])),
    ] {
        let key =
            PrivateKey::from_pem(&text(file), password).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(key.spec(), spec, "{file}");
        openssl_ok(
            d,
            &[
                "pkey",
                "-in",
                file,
                "-passin",
                "pass:hunter2",
                "-pubout",
                "-outform",
                "DER",
                "-out",
                "pub.der",
            ],
        );
        assert_eq!(read(d, "pub.der"), key.public_key_der(), "{file}");
        // What we store opens in openssl too.
        write(d, "ours.pem", key.to_pkcs8_pem().as_bytes());
        openssl_ok(d, &["pkey", "-in", "ours.pem", "-noout"]);
    }
    // PKCS#1 and PKCS#8 of the same key convert to the same thing.
    let a = PrivateKey::from_pem(&text("rsa8.pem"), None).unwrap();
    let b = PrivateKey::from_pem(&text("rsa1.pem"), None).unwrap();
    assert_eq!(a.public_key_der(), b.public_key_der());

    assert!(matches!(
        PrivateKey::from_pem(&text("enc.pem"), None),
        Err(PkiError::PasswordRequired)
    ));
    let wrong = PrivateKey::from_pem(&text("enc.pem"), Some(b"wrong")).unwrap_err();
    assert!(matches!(wrong, PkiError::WrongPassword { .. }));
    assert_eq!(
        wrong.to_string(),
        "wrong password for the encrypted private key, or the file is damaged"
    );
    let bundle = read_pem_bundle(text("enc.pem").as_bytes(), Some(b"hunter2")).unwrap();
    assert_eq!(bundle.key.unwrap().spec(), KeySpec::EcdsaP384);
    assert!(matches!(
        read_pem_bundle(text("enc.pem").as_bytes(), None),
        Err(PkiError::PasswordRequired)
    ));

    for (file, what) in [
        ("rsa1024.pem", "RSA-1024"),
        ("ed.pem", "Ed25519"),
        ("ec521.pem", "P-521"),
    ] {
        let err = PrivateKey::from_pem(&text(file), None).unwrap_err();
        assert!(
            matches!(err, PkiError::UnsupportedKey { .. }),
            "{file}: {err}"
        );
        assert!(err.to_string().contains(what), "{file}: {err}");
    }
}

/// Key, leaf and chain files for the PKCS#12 tests.
fn p12_material(d: &Path, spec: KeySpec) -> (PrivateKey, Vec<u8>, Vec<Vec<u8>>) {
    let ca = ca(KeySpec::EcdsaP256, true);
    let key = PrivateKey::generate(spec).unwrap();
    let (issuer, issuer_key) = ca.issuer();
    let leaf = issue_leaf(
        issuer,
        issuer_key,
        &key,
        &hosts(&["p12.example.test"]),
        &LeafOptions::default(),
    )
    .unwrap();
    let chain = vec![ca.intermediate.clone().unwrap().0, ca.root_der.clone()];
    write(d, "key.pem", key.to_pkcs8_pem().as_bytes());
    write(d, "cert.pem", certs_to_pem(&[&leaf]));
    write(d, "chain.pem", certs_to_pem(&chain));
    (key, leaf, chain)
}

#[test]
fn imports_openssl_pkcs12_variants() {
    for spec in [KeySpec::EcdsaP256, KeySpec::Rsa2048] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (key, leaf, chain) = p12_material(d, spec);
        let base = [
            "pkcs12",
            "-export",
            "-inkey",
            "key.pem",
            "-in",
            "cert.pem",
            "-certfile",
            "chain.pem",
            "-passout",
            "pass:pfx-pass",
            "-name",
            "imported",
        ];
        let variants: [(&str, &[&str]); 5] = [
            ("modern.p12", &[]),
            ("legacy.p12", &["-legacy"]),
            ("legacy-des.p12", &["-legacy", "-descert"]),
            ("descert.p12", &["-descert"]),
            (
                "windows.p12",
                &[
                    "-keypbe",
                    "PBE-SHA1-3DES",
                    "-certpbe",
                    "PBE-SHA1-3DES",
                    "-macalg",
                    "sha1",
                ],
            ),
        ];
        for (file, extra) in variants {
            let mut args: Vec<&str> = base.to_vec();
            args.extend_from_slice(extra);
            args.extend_from_slice(&["-out", file]);
            openssl_ok(d, &args);
            let data = read(d, file);
            let bundle =
                read_pkcs12(&data, "pfx-pass").unwrap_or_else(|e| panic!("{spec} {file}: {e}"));
            let got = bundle.key.as_ref().unwrap();
            assert_eq!(got.spec(), spec);
            assert_eq!(got.public_key_der(), key.public_key_der());
            assert_eq!(bundle.certs[0], leaf, "{file}: leaf first");
            assert_eq!(bundle.certs.len(), 3, "{file}");
            for c in &chain {
                assert!(bundle.certs.contains(c), "{file}");
            }
            let err = read_pkcs12(&data, "not-it").unwrap_err();
            assert!(
                matches!(err, PkiError::WrongPassword { .. }),
                "{file}: {err}"
            );
            assert_eq!(
                err.to_string(),
                "wrong password for the PKCS#12 file, or the file is damaged"
            );
        }
    }
}

#[test]
fn exported_pkcs12_opens_in_openssl() {
    for spec in [KeySpec::EcdsaP384, KeySpec::Rsa2048] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (key, leaf, chain) = p12_material(d, spec);
        for legacy in [false, true] {
            let data = write_pkcs12(&key, &leaf, &chain, "exp0rt", "web server", legacy).unwrap();
            write(d, "out.p12", &data);
            let mut info = vec![
                "pkcs12",
                "-info",
                "-in",
                "out.p12",
                "-passin",
                "pass:exp0rt",
                "-noout",
            ];
            if legacy {
                info.push("-legacy");
            }
            let text = openssl_ok(d, &info);
            if legacy {
                assert!(text.contains("MAC: sha1"), "{text}");
                assert!(text.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{text}");
            } else {
                assert!(text.contains("MAC: sha256"), "{text}");
                assert!(text.contains("AES-256-CBC"), "{text}");
            }
            // Full extraction, without the legacy provider even for the 3DES file.
            let pem = openssl_ok(
                d,
                &[
                    "pkcs12",
                    "-in",
                    "out.p12",
                    "-passin",
                    "pass:exp0rt",
                    "-nodes",
                ],
            );
            assert!(pem.contains("BEGIN PRIVATE KEY"), "{pem}");
            assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 3, "{pem}");
            assert!(pem.contains("friendlyName: web server"), "{pem}");
            let bundle = read_pem_bundle(pem.as_bytes(), None).unwrap();
            assert_eq!(bundle.key.unwrap().pkcs8_der(), key.pkcs8_der());
            let (ok, _) = openssl(
                d,
                &["pkcs12", "-in", "out.p12", "-passin", "pass:bad", "-noout"],
            );
            assert!(!ok);
            let back = read_pkcs12(&data, "exp0rt").unwrap();
            assert_eq!(back.certs[0], leaf);
            assert_eq!(back.key.unwrap().public_key_der(), key.public_key_der());
        }
    }
}

#[test]
fn damaged_pem_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_, leaf, chain) = p12_material(d, KeySpec::EcdsaP256);
    let mut all = certs_to_pem(&[&leaf]);
    all.push_str(&certs_to_pem(&chain));
    let cut = &all[..all.len() / 2];
    let err = read_pem_bundle(cut.as_bytes(), None).unwrap_err();
    assert!(matches!(err, PkiError::PemDamaged { .. }), "{err}");
    // A block with valid armour but a base64 line cut short.
    let pem = certs_to_pem(&[leaf]);
    let mut lines: Vec<&str> = pem.lines().collect();
    let shortened = &lines[2][..10];
    lines[2] = shortened;
    let broken = lines.join("\n");
    let err = read_certificates(broken.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            PkiError::PemDamaged { index: 1 } | PkiError::BadCertificate { .. }
        ),
        "{err}"
    );
    assert!(matches!(
        read_certificates(b"\x00\x01garbage"),
        Err(PkiError::NotPem)
    ));
    assert!(matches!(
        read_pkcs12(&all.into_bytes(), "x"),
        Err(PkiError::Pkcs12 { .. })
    ));
}

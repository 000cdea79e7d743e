//! Chain building and verification: from an unordered set of certificates to
//! a verified path leaf -> intermediates -> trusted root.

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;

use crate::error::PkiError;
use crate::info::{
    authority_key_id, explicitly_not_ca, is_self_signed, names_equal, parse_certificate, parse_one,
    same_public_key, subject_key_id, to_time, ymd,
};
use crate::key::PrivateKey;

/// The longest chain accepted, leaf and root included.
const MAX_CHAIN_LEN: usize = 10;

/// The certificates certmgr trusts as ends of chains (roots, possibly intermediates).
///
/// Exists so that chain building can complete a bundle with CA certificates
/// that the user added once with `certmgr trust add` or that the system trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    certs: Vec<Vec<u8>>,
}

impl TrustAnchors {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a trusted certificate (DER); refuses data that does not parse.
    pub fn add_der(&mut self, der: Vec<u8>) -> Result<(), PkiError> {
        parse_one(&der)?;
        if !self.certs.contains(&der) {
            self.certs.push(der);
        }
        Ok(())
    }

    /// The system's trusted roots: `$SSL_CERT_FILE`, else
    /// `/etc/ssl/certs/ca-certificates.crt`; empty when neither can be read.
    pub fn with_system_roots() -> Self {
        let path = std::env::var_os("SSL_CERT_FILE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into());
        let mut anchors = Self::new();
        let Ok(data) = std::fs::read(path) else {
            return anchors;
        };
        // The system bundle may exceed the user-input size limit, so parse it directly.
        if let Ok(blocks) = crate::import::pem_blocks(&data) {
            for block in blocks {
                if block.label() == "CERTIFICATE" && parse_certificate(block.contents()).is_ok() {
                    anchors.certs.push(block.contents().to_vec());
                }
            }
        }
        anchors
    }

    /// The trusted certificates, DER.
    pub fn certs(&self) -> &[Vec<u8>] {
        &self.certs
    }

    /// Number of trusted certificates.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Whether no certificate is trusted.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Whether `cert` is trusted: byte-equal to an anchor, or same name and key
    /// (a re-issued root).
    fn trusts(&self, cert: &X509Certificate<'_>, der: &[u8]) -> bool {
        self.certs.iter().any(|anchor| {
            anchor.as_slice() == der
                || parse_certificate(anchor).is_ok_and(|a| {
                    names_equal(a.subject(), cert.subject())
                        && same_public_key(a.public_key().raw, cert.public_key().raw)
                })
        })
    }
}

/// How strict [`build_chain`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainOptions {
    /// Accept expired certificates, with a warning (for importing old material for the record).
    pub allow_expired: bool,
    /// The time at which validity is checked.
    pub now: OffsetDateTime,
    /// Accept a self-signed root that came with the bundle even if it is not a trust anchor.
    pub trust_bundle_root: bool,
}

impl Default for ChainOptions {
    fn default() -> Self {
        ChainOptions {
            allow_expired: false,
            now: OffsetDateTime::now_utc(),
            trust_bundle_root: false,
        }
    }
}

/// A verified certification path, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedChain {
    /// The end-entity certificate.
    pub leaf: Vec<u8>,
    /// Intermediates, the leaf's issuer first; the root is not included.
    pub intermediates: Vec<Vec<u8>>,
    /// The self-signed root that ended the path; `None` when the path ended at a
    /// trusted intermediate (a trust anchor that is not self-signed).
    pub root: Option<Vec<u8>>,
    /// Things the user should know, e.g. that an expired certificate was accepted.
    pub warnings: Vec<String>,
}

struct Node<'a> {
    der: &'a [u8],
    cert: X509Certificate<'a>,
    from_bundle: bool,
}

fn subject_of(cert: &X509Certificate<'_>) -> String {
    let s = cert.subject().to_string();
    if s.is_empty() {
        "(empty subject)".to_owned()
    } else {
        s
    }
}

fn check_validity(
    cert: &X509Certificate<'_>,
    options: &ChainOptions,
    warnings: &mut Vec<String>,
) -> Result<(), PkiError> {
    let not_before = to_time(cert.validity().not_before.timestamp());
    let not_after = to_time(cert.validity().not_after.timestamp());
    if options.now < not_before {
        return Err(PkiError::NotYetValid {
            subject: subject_of(cert),
            date: ymd(not_before),
        });
    }
    if options.now > not_after {
        if !options.allow_expired {
            return Err(PkiError::Expired {
                subject: subject_of(cert),
                date: ymd(not_after),
            });
        }
        warnings.push(format!(
            "certificate '{}' expired on {}, imported because expired certificates were allowed",
            subject_of(cert),
            ymd(not_after)
        ));
    }
    Ok(())
}

/// Could `issuer` have issued `cert`, judging by names and key identifiers?
fn may_issue(issuer: &X509Certificate<'_>, cert: &X509Certificate<'_>) -> bool {
    if !names_equal(issuer.subject(), cert.issuer()) || explicitly_not_ca(issuer) {
        return false;
    }
    match (authority_key_id(cert), subject_key_id(issuer)) {
        (Some(aki), Some(ski)) => aki == ski,
        _ => true,
    }
}

/// Build and verify the path from `leaf` to a trusted root.
///
/// `others` may be in any order and may hold the root and unrelated
/// certificates; missing issuers are taken from `anchors`. Each link is
/// matched by name (and AKI/SKI when present) and its signature verified.
/// The path must end at a self-signed root that is a trust anchor, or that
/// came with the bundle when `options.trust_bundle_root` is set, or at a
/// trusted intermediate.
pub fn build_chain(
    leaf: &[u8],
    others: &[Vec<u8>],
    anchors: &TrustAnchors,
    options: &ChainOptions,
) -> Result<VerifiedChain, PkiError> {
    let leaf_cert = parse_one(leaf)?;
    let mut pool: Vec<Node<'_>> = Vec::new();
    for (i, der) in others.iter().enumerate() {
        crate::check_size(der)?;
        let cert = parse_certificate(der).map_err(|reason| PkiError::BadCertificate {
            index: i + 2,
            reason,
        })?;
        if der.as_slice() != leaf && !pool.iter().any(|n| n.der == der.as_slice()) {
            pool.push(Node {
                der,
                cert,
                from_bundle: true,
            });
        }
    }
    for der in anchors.certs() {
        if der.as_slice() == leaf || pool.iter().any(|n| n.der == der.as_slice()) {
            continue;
        }
        if let Ok(cert) = parse_certificate(der) {
            pool.push(Node {
                der,
                cert,
                from_bundle: false,
            });
        }
    }

    let mut warnings = Vec::new();
    let mut path: Vec<usize> = Vec::new();
    let mut current = &leaf_cert;
    let mut current_der = leaf;
    loop {
        check_validity(current, options, &mut warnings)?;
        if names_equal(current.subject(), current.issuer()) {
            if current.verify_signature(None).is_err() {
                return Err(PkiError::SignatureInvalid {
                    subject: subject_of(current),
                    issuer: subject_of(current),
                });
            }
            if !anchors.trusts(current, current_der) {
                if options.trust_bundle_root && !path.is_empty() {
                    warnings.push(format!(
                        "root '{}' came with the bundle and is not in the trust store; accepted as asked",
                        subject_of(current)
                    ));
                } else {
                    return Err(PkiError::UntrustedRoot {
                        subject: subject_of(current),
                    });
                }
            }
            let root = current_der.to_vec();
            let intermediates = path
                .iter()
                .take(path.len().saturating_sub(1))
                .map(|&i| pool[i].der.to_vec())
                .collect();
            return Ok(VerifiedChain {
                leaf: leaf.to_vec(),
                intermediates,
                root: Some(root),
                warnings,
            });
        }
        if path.len() + 1 >= MAX_CHAIN_LEN {
            return Err(PkiError::ChainTooLong {
                subject: subject_of(&leaf_cert),
                max: MAX_CHAIN_LEN,
            });
        }
        let candidates: Vec<usize> = (0..pool.len())
            .filter(|&i| !path.contains(&i) && may_issue(&pool[i].cert, current))
            .collect();
        let issuer = candidates.iter().copied().find(|&i| {
            current
                .verify_signature(Some(pool[i].cert.public_key()))
                .is_ok()
        });
        match (issuer, candidates.first()) {
            (Some(i), _) => {
                path.push(i);
                current = &pool[i].cert;
                current_der = pool[i].der;
            }
            (None, Some(&first)) => {
                return Err(PkiError::SignatureInvalid {
                    subject: subject_of(current),
                    issuer: subject_of(&pool[first].cert),
                });
            }
            (None, None) => {
                // A trusted intermediate (not self-signed) may end the path.
                let trusted_here = !path.is_empty()
                    && path.last().is_some_and(|&i| {
                        !pool[i].from_bundle || anchors.trusts(current, current_der)
                    });
                if trusted_here {
                    return Ok(VerifiedChain {
                        leaf: leaf.to_vec(),
                        intermediates: path.iter().map(|&i| pool[i].der.to_vec()).collect(),
                        root: None,
                        warnings,
                    });
                }
                return Err(PkiError::BrokenChain {
                    subject: subject_of(current),
                    issuer: current.issuer().to_string(),
                });
            }
        }
    }
}

/// Pick which certificate is the leaf.
///
/// With a key: the certificate whose public key is the key's (a non-CA one if
/// several). Without: the one that issues none of the others (a non-CA one if
/// several). Exists because bundles come in any order.
pub fn find_leaf(certs: &[Vec<u8>], key: Option<&PrivateKey>) -> Result<usize, PkiError> {
    if certs.is_empty() {
        return Err(PkiError::NoCertificate);
    }
    let parsed = certs
        .iter()
        .enumerate()
        .map(|(i, der)| {
            crate::check_size(der)?;
            parse_certificate(der).map_err(|reason| PkiError::BadCertificate {
                index: i + 1,
                reason,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let candidates: Vec<usize> = match key {
        Some(key) => {
            let spki = key.public_key_der();
            let matching: Vec<usize> = (0..parsed.len())
                .filter(|&i| same_public_key(parsed[i].public_key().raw, &spki))
                .collect();
            if matching.is_empty() {
                return Err(PkiError::NoLeaf {
                    reason: format!(
                        "none of the {} certificates matches the private key; check that you have the right key",
                        certs.len()
                    ),
                });
            }
            matching
        }
        None => {
            let issues_nobody = |i: usize| {
                !(0..parsed.len()).any(|j| {
                    j != i
                        && !is_self_signed(&parsed[j])
                        && may_issue(&parsed[i], &parsed[j])
                        && parsed[j]
                            .verify_signature(Some(parsed[i].public_key()))
                            .is_ok()
                })
            };
            (0..parsed.len()).filter(|&i| issues_nobody(i)).collect()
        }
    };
    let non_ca: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| !parsed[i].is_ca())
        .collect();
    match (non_ca.as_slice(), candidates.as_slice()) {
        ([only], _) => Ok(*only),
        ([], [only]) => Ok(*only),
        ([], []) => Err(PkiError::NoLeaf {
            reason: "every certificate issues another one (a loop?)".to_owned(),
        }),
        _ => Err(PkiError::NoLeaf {
            reason: "the bundle holds several unrelated end-entity certificates; import them one at a time".to_owned(),
        }),
    }
}

/// Whether `cert_der`'s public key is `key`'s public key.
pub fn key_matches(key: &PrivateKey, cert_der: &[u8]) -> Result<bool, PkiError> {
    let cert = parse_one(cert_der)?;
    Ok(same_public_key(
        cert.public_key().raw,
        &key.public_key_der(),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::{CaMaterial, CaOptions, KeySpec, LeafOptions, create_ca, issue_leaf};
    use rcgen::{CertificateParams, DnType, Issuer};
    use time::Duration;

    fn ca(name: &str, intermediate: bool) -> CaMaterial {
        create_ca(&CaOptions {
            common_name: name.into(),
            organization: None,
            key: KeySpec::EcdsaP256,
            validity_days: 365,
            intermediate,
        })
        .unwrap()
    }

    fn leaf_for(ca: &CaMaterial, key: &PrivateKey) -> Vec<u8> {
        let (issuer, issuer_key) = ca.issuer();
        issue_leaf(
            issuer,
            issuer_key,
            key,
            &["chain.example.test".parse().unwrap()],
            &LeafOptions::default(),
        )
        .unwrap()
    }

    /// A leaf with an arbitrary validity window, which `issue_leaf` cannot make.
    fn leaf_with_validity(ca: &CaMaterial, start: OffsetDateTime, end: OffsetDateTime) -> Vec<u8> {
        let (issuer_der, issuer_key) = ca.issuer();
        let issuer_pair = issuer_key.key_pair().unwrap();
        let issuer = Issuer::from_ca_cert_der(&issuer_der.to_vec().into(), &issuer_pair).unwrap();
        let mut params = CertificateParams::new(vec!["old.example.test".to_owned()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "old.example.test");
        params.use_authority_key_identifier_extension = true;
        params.not_before = start;
        params.not_after = end;
        let key = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        params
            .signed_by(&key.key_pair().unwrap(), &issuer)
            .unwrap()
            .der()
            .to_vec()
    }

    fn anchors(certs: &[&[u8]]) -> TrustAnchors {
        let mut a = TrustAnchors::new();
        for c in certs {
            a.add_der(c.to_vec()).unwrap();
        }
        a
    }

    #[test]
    fn shuffled_bundle_with_root_and_noise() {
        let ca = ca("Shuffle Root", true);
        let unrelated = self::ca("Unrelated Root", false);
        let key = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        let leaf = leaf_for(&ca, &key);
        let int = ca.intermediate.clone().unwrap().0;
        let others = vec![ca.root_der.clone(), unrelated.root_der.clone(), int.clone()];
        let chain = build_chain(
            &leaf,
            &others,
            &anchors(&[&ca.root_der]),
            &ChainOptions::default(),
        )
        .unwrap();
        assert_eq!(chain.leaf, leaf);
        assert_eq!(chain.intermediates, vec![int]);
        assert_eq!(chain.root, Some(ca.root_der.clone()));
        assert!(chain.warnings.is_empty());
    }

    #[test]
    fn completes_missing_intermediate_from_anchors() {
        let ca = ca("Anchor Root", true);
        let key = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        let leaf = leaf_for(&ca, &key);
        let int = ca.intermediate.clone().unwrap().0;
        let chain = build_chain(
            &leaf,
            &[],
            &anchors(&[&ca.root_der, &int]),
            &ChainOptions::default(),
        )
        .unwrap();
        assert_eq!(chain.intermediates, vec![int.clone()]);
        assert_eq!(chain.root, Some(ca.root_der.clone()));
        // With only the intermediate trusted, the path ends there.
        let chain = build_chain(&leaf, &[], &anchors(&[&int]), &ChainOptions::default()).unwrap();
        assert_eq!(chain.intermediates, vec![int]);
        assert_eq!(chain.root, None);
    }

    #[test]
    fn broken_chain_names_the_orphan() {
        let ca = ca("Broken Root", true);
        let key = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        let leaf = leaf_for(&ca, &key);
        let err = build_chain(
            &leaf,
            &[],
            &anchors(&[&ca.root_der]),
            &ChainOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(&err, PkiError::BrokenChain { subject, .. } if subject == "CN=chain.example.test")
        );
        assert!(
            err.to_string().contains("add it to the trust store"),
            "{err}"
        );
        let err =
            build_chain(&leaf, &[], &TrustAnchors::new(), &ChainOptions::default()).unwrap_err();
        assert!(matches!(err, PkiError::BrokenChain { .. }));
    }

    #[test]
    fn untrusted_bundle_root_needs_opt_in() {
        let ca = ca("Private Root", true);
        let key = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        let leaf = leaf_for(&ca, &key);
        let others = vec![ca.intermediate.clone().unwrap().0, ca.root_der.clone()];
        let err = build_chain(
            &leaf,
            &others,
            &TrustAnchors::new(),
            &ChainOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(&err, PkiError::UntrustedRoot { subject } if subject == "CN=Private Root")
        );
        assert!(err.to_string().contains("add it to the trust store first"));
        let options = ChainOptions {
            trust_bundle_root: true,
            ..ChainOptions::default()
        };
        let chain = build_chain(&leaf, &others, &TrustAnchors::new(), &options).unwrap();
        assert_eq!(chain.root, Some(ca.root_der.clone()));
        assert_eq!(chain.warnings.len(), 1);
        // A self-signed leaf is never accepted through trust_bundle_root.
        let err = build_chain(&ca.root_der, &[], &TrustAnchors::new(), &options).unwrap_err();
        assert!(matches!(err, PkiError::UntrustedRoot { .. }));
    }

    #[test]
    fn expired_leaf_needs_allow_expired() {
        let ca = ca("Expiry Root", false);
        let now = OffsetDateTime::now_utc();
        let leaf = leaf_with_validity(&ca, now - Duration::days(400), now - Duration::days(10));
        let trust = anchors(&[&ca.root_der]);
        let err = build_chain(&leaf, &[], &trust, &ChainOptions::default()).unwrap_err();
        let date = ymd(now - Duration::days(10));
        assert!(
            matches!(&err, PkiError::Expired { subject, date: d } if subject == "CN=old.example.test" && *d == date)
        );
        assert!(
            err.to_string()
                .contains("when expired certificates are allowed")
        );
        let options = ChainOptions {
            allow_expired: true,
            ..ChainOptions::default()
        };
        let chain = build_chain(&leaf, &[], &trust, &options).unwrap();
        assert_eq!(chain.warnings.len(), 1);
        assert!(chain.warnings[0].contains("expired certificates were allowed"));
    }

    #[test]
    fn not_yet_valid_is_refused() {
        let ca = ca("Future Root", false);
        let now = OffsetDateTime::now_utc();
        let leaf = leaf_with_validity(&ca, now - Duration::days(1), now + Duration::days(10));
        let options = ChainOptions {
            now: now - Duration::days(30),
            ..ChainOptions::default()
        };
        let err = build_chain(&leaf, &[], &anchors(&[&ca.root_der]), &options).unwrap_err();
        assert!(matches!(err, PkiError::NotYetValid { .. }));
    }

    #[test]
    fn tampered_signature_is_refused() {
        let ca = ca("Tamper Root", false);
        let key = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        let mut leaf = leaf_for(&ca, &key);
        // Flip a bit inside the subject public key: still parses, no longer verifies.
        let spki = key.public_key_der();
        let pos = leaf
            .windows(spki.len())
            .position(|w| w == spki.as_slice())
            .unwrap();
        let last = pos + spki.len() - 1;
        leaf[last] ^= 0x01;
        let err = build_chain(
            &leaf,
            &[],
            &anchors(&[&ca.root_der]),
            &ChainOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, PkiError::SignatureInvalid { .. }), "{err}");
    }

    #[test]
    fn finds_the_leaf_with_and_without_key() {
        let ca = ca("Find Root", true);
        let key = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        let leaf = leaf_for(&ca, &key);
        let certs = vec![
            ca.root_der.clone(),
            leaf.clone(),
            ca.intermediate.clone().unwrap().0,
        ];
        assert_eq!(find_leaf(&certs, Some(&key)).unwrap(), 1);
        assert_eq!(find_leaf(&certs, None).unwrap(), 1);
        let other = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        assert!(matches!(
            find_leaf(&certs, Some(&other)),
            Err(PkiError::NoLeaf { .. })
        ));
        assert!(key_matches(&key, &leaf).unwrap());
        assert!(!key_matches(&other, &leaf).unwrap());
        assert!(matches!(find_leaf(&[], None), Err(PkiError::NoCertificate)));
        let second = leaf_for(&ca, &other);
        let certs = vec![leaf, second];
        assert!(matches!(
            find_leaf(&certs, None),
            Err(PkiError::NoLeaf { .. })
        ));
        assert_eq!(find_leaf(&certs, Some(&other)).unwrap(), 1);
    }

    #[test]
    fn system_roots_load_or_stay_empty() {
        let anchors = TrustAnchors::with_system_roots();
        if std::path::Path::new("/etc/ssl/certs/ca-certificates.crt").exists() {
            assert!(!anchors.is_empty());
        }
    }
}

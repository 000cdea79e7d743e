//! The one error type of this crate, with messages written for end users.

/// Everything that can go wrong with keys, certificates and their files.
///
/// Each message is one line that names the problem and, where there is one,
/// the fix, so the CLI can print it as is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The input is larger than [`crate::MAX_INPUT_LEN`].
    #[error(
        "the input is {size} bytes, over the 1 MiB limit for certificate and key files: check that this is the right file"
    )]
    TooLarge {
        /// The size that was given.
        size: usize,
    },
    /// No PEM block at all was found.
    #[error(
        "not a PEM file: no '-----BEGIN ...-----' block found (DER certificates are accepted only on their own)"
    )]
    NotPem,
    /// A PEM block is truncated or its base64 is garbled.
    #[error(
        "PEM block {index} is damaged (truncated or invalid base64): copy the file again from its source"
    )]
    PemDamaged {
        /// 1-based number of the block in the file.
        index: usize,
    },
    /// A PEM block of a kind certmgr does not read.
    #[error(
        "PEM block {index} is a '{label}', which certmgr cannot read: expected CERTIFICATE or a PRIVATE KEY"
    )]
    UnsupportedPemBlock {
        /// 1-based number of the block in the file.
        index: usize,
        /// The block's label.
        label: String,
    },
    /// The input holds no certificate where one was needed.
    #[error("no certificate found in the input: pass a PEM or DER certificate file")]
    NoCertificate,
    /// More than one private key in one bundle.
    #[error("the file holds more than one private key: split it so that each file holds one key")]
    MultipleKeys,
    /// A certificate could not be parsed.
    #[error(
        "certificate {index} cannot be parsed ({reason}): the file is damaged or not an X.509 certificate"
    )]
    BadCertificate {
        /// 1-based number of the certificate in the input.
        index: usize,
        /// What the parser said.
        reason: String,
    },
    /// A private key could not be parsed.
    #[error("the private key cannot be read ({reason}): the file is damaged or not a private key")]
    BadKey {
        /// What the parser said.
        reason: String,
    },
    /// A key of a type or size certmgr does not handle.
    #[error("unsupported key: {what}; certmgr supports RSA 2048/3072/4096 and ECDSA P-256/P-384")]
    UnsupportedKey {
        /// Description of the key that was found.
        what: String,
    },
    /// An encrypted key asks for a key derivation too costly to run.
    #[error(
        "the encrypted private key asks for {asked}, above certmgr's limit of {limit}: \
         re-encrypt it with ordinary parameters, e.g. `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
    )]
    KdfTooCostly {
        /// The cost the file asks for.
        asked: String,
        /// certmgr's limit.
        limit: String,
    },
    /// An encrypted key was given without a password.
    #[error("the private key is encrypted: supply its password")]
    PasswordRequired,
    /// The password is wrong (or the data is damaged, which looks the same).
    #[error("wrong password for the {what}, or the file is damaged")]
    WrongPassword {
        /// What was being opened, e.g. "PKCS#12 file".
        what: &'static str,
    },
    /// The certificate does not belong to the key.
    #[error("the certificate's public key does not match the credential's key")]
    KeyMismatch,
    /// No certificate in the set could be chosen as the leaf.
    #[error("cannot tell which certificate is the server certificate: {reason}")]
    NoLeaf {
        /// Why no leaf could be chosen.
        reason: String,
    },
    /// The issuer of a certificate is nowhere to be found.
    #[error(
        "certificate chain is broken: the issuer '{issuer}' of '{subject}' is neither in the bundle nor in the trust store; add it to the trust store"
    )]
    BrokenChain {
        /// Subject of the certificate whose issuer is missing.
        subject: String,
        /// The issuer name that was looked for.
        issuer: String,
    },
    /// A signature in the chain does not verify.
    #[error(
        "the signature on '{subject}' does not verify with the key of its issuer '{issuer}': the bundle is damaged or mixes up CAs"
    )]
    SignatureInvalid {
        /// Subject of the certificate with the bad signature.
        subject: String,
        /// Subject of the issuer tried.
        issuer: String,
    },
    /// A certificate of the chain has expired.
    #[error(
        "certificate '{subject}' expired on {date}: an expired certificate is imported only for the record, when expired certificates are allowed"
    )]
    Expired {
        /// Subject of the expired certificate.
        subject: String,
        /// Its notAfter, as YYYY-MM-DD.
        date: String,
    },
    /// A certificate of the chain is not valid yet.
    #[error(
        "certificate '{subject}' is not valid before {date}: check the system clock or import it later"
    )]
    NotYetValid {
        /// Subject of the certificate.
        subject: String,
        /// Its notBefore, as YYYY-MM-DD.
        date: String,
    },
    /// The chain ends at a root that is not trusted.
    #[error(
        "root '{subject}' in the bundle is not trusted: if you trust it, add it to the trust store first"
    )]
    UntrustedRoot {
        /// Subject of the untrusted root.
        subject: String,
    },
    /// The chain is longer than any sane chain.
    #[error(
        "certificate chain of '{subject}' is longer than {max} certificates or loops: the bundle is not a usable chain"
    )]
    ChainTooLong {
        /// Subject of the leaf.
        subject: String,
        /// The limit.
        max: usize,
    },
    /// A request had no usable hostname.
    #[error("at least one hostname is needed for a certificate or CSR")]
    NoHostnames,
    /// A certificate authority option is out of range.
    #[error("invalid option: {reason}")]
    InvalidOption {
        /// What is wrong.
        reason: String,
    },
    /// The issuing certificate cannot sign (not a CA, or not parseable as one).
    #[error("the issuing certificate cannot be used as a CA ({reason}): check the CA material")]
    BadIssuer {
        /// What is wrong.
        reason: String,
    },
    /// A PKCS#12 file could not be read for a reason other than the password.
    #[error("cannot read the PKCS#12 file ({reason}): it is damaged or not a PKCS#12/PFX file")]
    Pkcs12 {
        /// What the parser said.
        reason: String,
    },
    /// A cryptographic operation failed unexpectedly.
    #[error(
        "{operation} failed ({reason}): this is a bug or a broken crypto library, please report it"
    )]
    Crypto {
        /// What was being done.
        operation: &'static str,
        /// What the library said.
        reason: String,
    },
}

impl PkiError {
    /// Wrap an unexpected crypto library failure.
    pub(crate) fn crypto(operation: &'static str, reason: impl std::fmt::Display) -> Self {
        PkiError::Crypto {
            operation,
            reason: reason.to_string(),
        }
    }
}

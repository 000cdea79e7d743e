//! ID tokens made and signed here (ES256 and RS256 with aws-lc-rs), to check
//! each refusal of [`verify_id_token`] without a provider.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;
use crate::claims::groups_claim;

const ISSUER: &str = "https://id.example.test/realm";
const CLIENT: &str = "certmgr";
const NONCE: &str = "nonce-of-this-login";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Signs a JWS signing input, giving the raw signature.
type SignFn = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// A signing key and its public JWK.
struct Signer {
    alg: &'static str,
    kid: &'static str,
    sign: SignFn,
    jwk: Value,
}

fn es256() -> Signer {
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key");
    // Uncompressed point: 0x04 || x || y.
    let point = key.public_key().as_ref().to_vec();
    let jwk = json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": "ec-1",
                     "x": b64(&point[1..33]), "y": b64(&point[33..65])});
    let sign = Box::new(move |msg: &[u8]| {
        key.sign(&SystemRandom::new(), msg)
            .expect("ECDSA signature")
            .as_ref()
            .to_vec()
    });
    Signer {
        alg: "ES256",
        kid: "ec-1",
        sign,
        jwk,
    }
}

fn rs256() -> Signer {
    let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("RSA key");
    let public = key.public_key();
    let jwk = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "rsa-1",
                     "n": b64(public.modulus().big_endian_without_leading_zero()),
                     "e": b64(public.exponent().big_endian_without_leading_zero())});
    let sign = Box::new(move |msg: &[u8]| {
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut signature)
            .expect("RSA signature");
        signature
    });
    Signer {
        alg: "RS256",
        kid: "rsa-1",
        sign,
        jwk,
    }
}

fn claims() -> Value {
    json!({"iss": ISSUER, "aud": CLIENT, "sub": "user-1", "iat": now(), "exp": now() + 300,
           "nonce": NONCE, "name": "User One", "groups": ["pki-admins", "staff"]})
}

fn compact(header: &Value, claims: &Value, sign: &dyn Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

fn token(signer: &Signer, claims: &Value) -> CertmgrIdToken {
    let header = json!({"alg": signer.alg, "kid": signer.kid, "typ": "JWT"});
    compact(&header, claims, &*signer.sign)
        .parse()
        .expect("a JWT")
}

fn jwks(signers: &[&Signer]) -> JsonWebKeySet<CoreJsonWebKey> {
    let keys: Vec<Value> = signers.iter().map(|s| s.jwk.clone()).collect();
    serde_json::from_value(json!({ "keys": keys })).expect("a key set")
}

fn verify(
    token: &CertmgrIdToken,
    keys: &JsonWebKeySet<CoreJsonWebKey>,
    access_token: Option<&AccessToken>,
) -> Result<CertmgrIdTokenClaims, Refusal> {
    verify_id_token(
        token,
        &ClientId::new(CLIENT.to_owned()),
        &IssuerUrl::new(ISSUER.to_owned()).expect("issuer URL"),
        keys,
        &Nonce::new(NONCE.to_owned()),
        access_token,
    )
}

fn refusal(result: Result<CertmgrIdTokenClaims, Refusal>) -> String {
    match result {
        Ok(_) => panic!("the token was accepted"),
        Err(Refusal::UnknownKey) => "unknown key".to_owned(),
        Err(Refusal::Invalid(why)) => why,
    }
}

#[test]
fn es256_and_rs256_tokens_verify_and_carry_groups() {
    let (ec, rsa) = (es256(), rs256());
    let keys = jwks(&[&ec, &rsa]);
    for signer in [&ec, &rsa] {
        let verified = verify(&token(signer, &claims()), &keys, None)
            .unwrap_or_else(|r| panic!("{} refused: {r:?}", signer.alg));
        assert_eq!(verified.subject().as_str(), "user-1");
        let groups = groups_claim(verified.additional_claims(), "groups").expect("groups");
        assert_eq!(
            groups,
            Some(vec!["pki-admins".to_owned(), "staff".to_owned()])
        );
    }
}

#[test]
fn a_changed_payload_breaks_the_signature() {
    let ec = es256();
    let keys = jwks(&[&ec]);
    let good = token(&ec, &claims()).to_string();
    let mut forged_claims = claims();
    forged_claims["groups"] = json!(["pki-admins", "root"]);
    let parts: Vec<&str> = good.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(forged_claims.to_string().as_bytes()),
        parts[2]
    );
    let why = refusal(verify(&forged.parse().expect("JWT"), &keys, None));
    assert!(why.to_lowercase().contains("signature"), "{why}");
}

#[test]
fn wrong_issuer_audience_nonce_or_expired_is_refused() {
    let rsa = rs256();
    let keys = jwks(&[&rsa]);
    let cases = [
        ("iss", json!("https://evil.example.test/realm"), "issuer"),
        ("aud", json!("another-client"), "audience"),
        ("nonce", json!("another-nonce"), "nonce"),
        ("exp", json!(now() - 60), "expired"),
    ];
    for (claim, value, expected) in cases {
        let mut c = claims();
        c[claim] = value;
        let why = refusal(verify(&token(&rsa, &c), &keys, None));
        assert!(why.to_lowercase().contains(expected), "{claim}: {why}");
    }
    let mut c = claims();
    c.as_object_mut().expect("object").remove("nonce");
    let why = refusal(verify(&token(&rsa, &c), &keys, None));
    assert!(
        why.to_lowercase().contains("nonce"),
        "a missing nonce: {why}"
    );
}

#[test]
fn hmac_and_unsigned_tokens_are_refused() {
    let ec = es256();
    let keys = jwks(&[&ec]);
    // HS256 keyed with what an attacker might know (the client secret).
    let hmac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, b"client-secret");
    let hs256 = compact(&json!({"alg": "HS256", "typ": "JWT"}), &claims(), &|msg| {
        aws_lc_rs::hmac::sign(&hmac_key, msg).as_ref().to_vec()
    });
    let why = refusal(verify(&hs256.parse().expect("JWT"), &keys, None));
    assert!(why.contains("HS256"), "{why}");
    // alg "none" with an empty signature.
    let none = compact(&json!({"alg": "none"}), &claims(), &|_| Vec::new());
    let why = refusal(verify(&none.parse().expect("JWT"), &keys, None));
    assert!(why.contains("No signature"), "{why}");
}

#[test]
fn a_key_missing_from_the_set_asks_for_a_refresh() {
    let (ec, other) = (es256(), rs256());
    let result = verify(&token(&other, &claims()), &jwks(&[&ec]), None);
    assert!(matches!(result, Err(Refusal::UnknownKey)), "{result:?}");
}

#[test]
fn at_hash_must_match_the_access_token() {
    let ec = es256();
    let keys = jwks(&[&ec]);
    let access_token = AccessToken::new("the-access-token".to_owned());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"the-access-token");
    let mut c = claims();
    c["at_hash"] = json!(b64(&digest.as_ref()[..16]));
    verify(&token(&ec, &c), &keys, Some(&access_token)).expect("a matching at_hash");
    let other = AccessToken::new("another-access-token".to_owned());
    let why = refusal(verify(&token(&ec, &c), &keys, Some(&other)));
    assert!(why.contains("at_hash"), "{why}");
}

//! Who may use the manager: local users (argon2id password hashes) and API
//! tokens (random secrets shown once, stored as their SHA-256), each with one
//! role and an optional tag scope. The REST API authenticates with these;
//! the command line on the manager creates them.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use certmgr_core::Role;
use certmgr_store::{NewPrincipal, TagScope, TokenRecord, UserRecord};
use zeroize::Zeroizing;

use crate::Engine;
use crate::error::{EngineError, EngineResult};

/// What every token's secret starts with, so that scanners (and people)
/// recognise one.
pub const TOKEN_PREFIX: &str = "cmt_";

/// How precisely a token's last use is kept, in seconds.
const TOUCH_SECS: i64 = 60;

/// Longest validity of a token, in days.
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// Who a request comes from, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `user:NAME` or `token:NAME`, as the audit log records it.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Only over credentials with this tag, if set.
    pub scope: Option<TagScope>,
}

/// Parse a tag scope written `key=value`.
pub fn parse_scope(text: &str) -> EngineResult<TagScope> {
    let tag_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    match text.split_once('=') {
        Some((key, value))
            if !key.is_empty()
                && !value.is_empty()
                && key.chars().all(tag_char)
                && value.chars().all(tag_char) =>
        {
            Ok(TagScope {
                key: key.to_owned(),
                value: value.to_owned(),
            })
        }
        _ => Err(EngineError::bad_input(format!(
            "tag {text:?}: write key=value with letters, digits, '-', '_' or '.' (e.g. team=web)"
        ))),
    }
}

/// A token just created: its record, and its secret, which is shown this
/// once and never stored.
pub struct IssuedToken {
    /// The stored token.
    pub record: TokenRecord,
    /// The secret to hand to its user.
    pub secret: Zeroizing<String>,
}

/// Create an API token with `role` (over `scope`'s credentials only, if
/// given) that expires after `days`, if given.
pub async fn create_token(
    engine: &Engine<'_>,
    name: &str,
    role: Role,
    scope: Option<&TagScope>,
    days: Option<u32>,
) -> EngineResult<IssuedToken> {
    certmgr_core::validate_name(name)?;
    let expires_at = match days {
        Some(days) if (1..=MAX_TOKEN_DAYS).contains(&days) => {
            Some(engine.now() + i64::from(days) * 86_400)
        }
        Some(days) => {
            return Err(EngineError::bad_input(format!(
                "a token valid {days} days: use 1 to {MAX_TOKEN_DAYS}"
            )));
        }
        None => None,
    };
    let secret = Zeroizing::new(format!("{TOKEN_PREFIX}{}", random_text(32)?));
    let record = engine
        .store()
        .create_token(
            &NewPrincipal { name, role, scope },
            &secret_hash(&secret),
            expires_at,
        )
        .await?;
    Ok(IssuedToken { record, secret })
}

/// The principal a token's secret stands for. Unknown, revoked and expired
/// tokens are refused, each saying which.
pub async fn authenticate_token(engine: &Engine<'_>, secret: &str) -> EngineResult<Principal> {
    let store = engine.store();
    let Some(token) = store.token_by_secret_hash(&secret_hash(secret)).await? else {
        return Err(EngineError::bad_input("unknown API token"));
    };
    if token.revoked_at.is_some() {
        return Err(EngineError::bad_input(format!(
            "API token {:?} was revoked",
            token.name
        )));
    }
    if token.expires_at.is_some_and(|at| at <= engine.now()) {
        return Err(EngineError::bad_input(format!(
            "API token {:?} has expired",
            token.name
        )));
    }
    // Last use to the minute: one write a minute per token, not one per request.
    if token
        .last_used_at
        .is_none_or(|at| engine.now() - at >= TOUCH_SECS)
    {
        store.touch_token(&token).await?;
    }
    Ok(Principal {
        name: format!("token:{}", token.name),
        role: token.role,
        scope: token.scope,
    })
}

/// Add a local user. Without a password, one is made and returned (to be
/// shown once).
pub async fn create_user(
    engine: &Engine<'_>,
    name: &str,
    role: Role,
    scope: Option<&TagScope>,
    password: Option<Zeroizing<String>>,
) -> EngineResult<(UserRecord, Option<Zeroizing<String>>)> {
    certmgr_core::validate_name(name)?;
    let (password, made) = match password {
        Some(password) => {
            if password.chars().count() < 12 {
                return Err(EngineError::bad_input(
                    "a password needs at least 12 characters",
                ));
            }
            (password, false)
        }
        None => (Zeroizing::new(random_text(18)?), true),
    };
    let hash = hash_password(&password)?;
    let user = engine
        .store()
        .create_user(&NewPrincipal { name, role, scope }, Some(&hash))
        .await?;
    Ok((user, made.then_some(password)))
}

/// The principal of a local user whose password is `password`. A wrong
/// password and an unknown user are refused alike.
pub async fn check_password(
    engine: &Engine<'_>,
    name: &str,
    password: &str,
) -> EngineResult<Principal> {
    let refused = || EngineError::bad_input("wrong user name or password");
    let user = match engine.store().user(name).await {
        Ok(user) => Some(user),
        Err(certmgr_store::StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let Some((user, hash)) = user
        .as_ref()
        .and_then(|u| u.password_hash().map(|h| (u, h)))
    else {
        // As long as a wrong password takes, so that timing does not tell
        // which user names exist.
        let _ = hash_password(password);
        return Err(refused());
    };
    let parsed = PasswordHash::new(hash).map_err(|e| EngineError::failed(e.to_string()))?;
    if user.disabled_at.is_some()
        || argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_err()
    {
        return Err(refused());
    }
    Ok(Principal {
        name: format!("user:{}", user.name),
        role: user.role,
        scope: user.scope.clone(),
    })
}

/// argon2id (the crate's defaults: 19 MiB, 2 passes, 1 lane) with a random salt.
fn hash_password(password: &str) -> EngineResult<String> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt)
        .map_err(|_| EngineError::failed("the system's random generator failed"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| EngineError::failed(e.to_string()))?;
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| EngineError::failed(e.to_string()))?
        .to_string())
}

/// Hex SHA-256 of a token's secret: what the store keeps. Tokens are 256
/// random bits, so a fast hash is enough (no dictionary to try).
pub(crate) fn secret_hash(secret: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    hex::encode(digest.as_ref())
}

/// `bytes` random bytes as base64url text.
pub(crate) fn random_text(bytes: usize) -> EngineResult<String> {
    let mut random = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut random)
        .map_err(|_| EngineError::failed("the system's random generator failed"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_key_equals_value() {
        assert_eq!(
            parse_scope("team=web").unwrap(),
            TagScope {
                key: "team".into(),
                value: "web".into()
            }
        );
        for bad in ["team", "=web", "team=", "te am=web", "team=w=eb"] {
            assert!(parse_scope(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        let parsed = PasswordHash::new(&hash).unwrap();
        let argon = argon2::Argon2::default();
        assert!(
            argon
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        assert!(argon.verify_password(b"wrong", &parsed).is_err());
        assert_ne!(hash, hash_password("correct horse battery").unwrap());
    }
}

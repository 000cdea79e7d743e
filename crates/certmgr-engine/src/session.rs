//! Browser sessions: sign in with a password (or through OpenID Connect,
//! whose front end calls [`start`] once the provider vouched for the user),
//! a cookie secret shown once, a CSRF token derived from it, sign out.

use certmgr_store::{NewSession, SessionRecord};
use zeroize::Zeroizing;

use crate::Engine;
use crate::access::{Principal, check_password, random_text, secret_hash};
use crate::error::{EngineError, EngineResult};

/// How long a session lasts from sign-in, in seconds: a working day. It
/// does not slide: a stolen cookie is worth at most this.
pub const SESSION_SECS: i64 = 12 * 3600;

/// A session just started: its record and the cookie's secret.
pub struct Session {
    /// The stored session.
    pub record: SessionRecord,
    /// The cookie's value, handed to the browser and never stored.
    pub secret: Zeroizing<String>,
}

/// Start a session for `principal` (already authenticated).
pub async fn start(engine: &Engine<'_>, principal: &Principal) -> EngineResult<Session> {
    let secret = Zeroizing::new(random_text(32)?);
    let record = engine
        .store()
        .create_session(
            &NewSession {
                principal: &principal.name,
                role: principal.role,
                scope: principal.scope.as_ref(),
                expires_at: engine.now() + SESSION_SECS,
            },
            &secret_hash(&secret),
        )
        .await?;
    Ok(Session { record, secret })
}

/// Sign a local user in with their password.
pub async fn sign_in(engine: &Engine<'_>, user: &str, password: &str) -> EngineResult<Session> {
    let principal = check_password(engine, user, password).await?;
    start(engine, &principal).await
}

/// The principal and session of a cookie's secret. Unknown and expired
/// sessions are refused.
pub async fn authenticate(
    engine: &Engine<'_>,
    secret: &str,
) -> EngineResult<(Principal, SessionRecord)> {
    let Some(session) = engine
        .store()
        .session_by_secret_hash(&secret_hash(secret))
        .await?
    else {
        return Err(EngineError::bad_input(
            "the session is unknown or was signed out: sign in again",
        ));
    };
    if session.expires_at <= engine.now() {
        return Err(EngineError::bad_input(
            "the session has expired: sign in again",
        ));
    }
    Ok((
        Principal {
            name: session.principal.clone(),
            role: session.role,
            scope: session.scope.clone(),
        },
        session,
    ))
}

/// The CSRF token of a session: derived from the cookie's secret, so it
/// needs no storage, and a page of another site (which can send the cookie
/// but not read it) cannot know it.
pub fn csrf_token(secret: &str) -> String {
    secret_hash(&format!("certmgr csrf\u{0}{secret}"))
}

/// End a session.
pub async fn sign_out(engine: &Engine<'_>, session: &SessionRecord) -> EngineResult<()> {
    Ok(engine.store().delete_session(&session.id).await?)
}

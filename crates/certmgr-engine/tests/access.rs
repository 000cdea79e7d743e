//! Users and API tokens through the engine, on a real store (SQLite, or
//! PostgreSQL when the run asks for it) and a clock the test moves.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use certmgr_core::Role;
use certmgr_engine::access::{
    TOKEN_PREFIX, authenticate_token, check_password, create_token, create_user, parse_scope,
};
use certmgr_engine::{Engine, FixedClock};
use certmgr_store::{MasterKey, Store};
use certmgr_testkit::TestStore;
use zeroize::Zeroizing;

async fn open(test: &TestStore) -> Store {
    Store::open(&test.url_for_library(), MasterKey::generate().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_token_works_until_it_expires_or_is_revoked() {
    let test = TestStore::new();
    let store = open(&test).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let clock = FixedClock::at(now);
    let engine = Engine::with_clock(&store, &clock);
    let scope = parse_scope("team=web").unwrap();
    let issued = create_token(
        &engine,
        "deploy-web",
        Role::Operator,
        Some(&scope),
        Some(30),
    )
    .await
    .unwrap();
    assert!(issued.secret.starts_with(TOKEN_PREFIX));
    assert!(issued.secret.len() > 40);
    assert_eq!(issued.record.expires_at, Some(now + 30 * 86_400));

    let principal = authenticate_token(&engine, &issued.secret).await.unwrap();
    assert_eq!(principal.name, "token:deploy-web");
    assert_eq!(principal.role, Role::Operator);
    assert_eq!(principal.scope, Some(scope));
    assert!(
        store
            .token("deploy-web")
            .await
            .unwrap()
            .last_used_at
            .is_some()
    );

    // Unknown, expired (by the clock), revoked: each refused, saying which.
    let err = authenticate_token(&engine, "cmt_nope").await.unwrap_err();
    assert_eq!(err.to_string(), "unknown API token");
    clock.advance(30 * 86_400);
    let err = authenticate_token(&engine, &issued.secret)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("has expired"), "{err}");
    clock.set(now);
    store.revoke_token("deploy-web").await.unwrap();
    let err = authenticate_token(&engine, &issued.secret)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("was revoked"), "{err}");

    // The store keeps a hash, never the secret.
    let listed = serde_json::to_string(&store.list_tokens().await.unwrap()).unwrap();
    assert!(!listed.contains(issued.secret.as_str()), "{listed}");
    assert!(
        create_token(&engine, "x", Role::Viewer, None, Some(0))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_user_signs_in_with_the_right_password_only() {
    let test = TestStore::new();
    let store = open(&test).await;
    let engine = Engine::new(&store);
    let (user, made) = create_user(&engine, "alice", Role::Admin, None, None)
        .await
        .unwrap();
    let password = made.expect("a password is made when none is given");
    assert!(password.len() >= 20);
    assert!(user.has_password);
    let principal = check_password(&engine, "alice", &password).await.unwrap();
    assert_eq!(principal.name, "user:alice");
    assert_eq!(principal.role, Role::Admin);
    let wrong = check_password(&engine, "alice", "not the password")
        .await
        .unwrap_err();
    let unknown = check_password(&engine, "mallory", &password)
        .await
        .unwrap_err();
    assert_eq!(wrong.to_string(), unknown.to_string());

    let short = create_user(
        &engine,
        "bob",
        Role::Viewer,
        None,
        Some(Zeroizing::new("short".into())),
    )
    .await;
    assert!(short.is_err());
    let (_, made) = create_user(
        &engine,
        "bob",
        Role::Viewer,
        None,
        Some(Zeroizing::new("a long enough password".into())),
    )
    .await
    .unwrap();
    assert!(made.is_none());
    assert!(
        check_password(&engine, "bob", "a long enough password")
            .await
            .is_ok()
    );
    let listed = serde_json::to_string(&store.list_users().await.unwrap()).unwrap();
    assert!(!listed.contains("argon2"), "{listed}");
}

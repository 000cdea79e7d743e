//! `certmgr token ...` and `certmgr user ...`: secrets shown once and never
//! listed, bad input refused without a trace, every change audited, and a
//! token row planted with SQL refused.

use crate::store_integrity::sql;
use crate::util::Env;

#[test]
fn tokens_are_shown_once_listed_without_secrets_and_revoked() {
    let env = Env::new();
    let secret = env.ok(&[
        "token",
        "create",
        "deploy-web",
        "--role",
        "operator",
        "--tag",
        "team=web",
        "--expires",
        "30",
    ]);
    let secret = secret.trim();
    assert!(secret.starts_with("cmt_") && secret.len() > 40, "{secret}");
    let listed = env.ok(&["--json", "token", "list"]);
    assert!(!listed.contains(secret), "{listed}");
    let tokens: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(tokens[0]["role"], "operator", "{tokens}");
    assert_eq!(tokens[0]["scope"]["key"], "team", "{tokens}");
    assert!(tokens[0]["expires_at"].is_i64(), "{tokens}");

    // Refusals change nothing.
    let before = env.digest();
    for args in [
        &["token", "create", "t2", "--role", "root"][..],
        &["token", "create", "t2", "--role", "viewer", "--tag", "team"],
        &[
            "token",
            "create",
            "t2",
            "--role",
            "viewer",
            "--expires",
            "0",
        ],
        &["token", "create", "deploy-web", "--role", "viewer"],
        &["user", "add", "bob", "--role", "nobody"],
    ] {
        env.fails(2, args);
    }
    assert_eq!(env.digest(), before);

    env.ok(&["token", "revoke", "deploy-web"]);
    let err = env.fails(2, &["token", "revoke", "deploy-web"]);
    assert!(err.contains("already revoked"), "{err}");
    let tokens = env.json(&["token", "list"]);
    assert!(tokens[0]["revoked_at"].is_i64(), "{tokens}");

    let actions: Vec<String> = env
        .json(&["audit", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "store.init ok",
            "token.create ok",
            "token.create bad-input",
            "token.create bad-input",
            "token.create bad-input",
            "token.create bad-input",
            "user.add bad-input",
            "token.revoke ok",
            "token.revoke bad-input",
        ]
    );
}

#[test]
fn users_get_a_password_once_and_it_is_never_listed() {
    let env = Env::new();
    let made = env.ok(&["user", "add", "alice", "--role", "admin"]);
    assert!(made.trim().len() >= 20, "{made}");
    env.file("short.txt", "too short\n");
    let err = env.fails(
        2,
        &[
            "user",
            "add",
            "bob",
            "--role",
            "viewer",
            "--password-file",
            "short.txt",
        ],
    );
    assert!(err.contains("at least 12"), "{err}");
    env.file("pw.txt", "a long enough password\n");
    let out = env.ok(&[
        "user",
        "add",
        "bob",
        "--role",
        "viewer",
        "--tag",
        "env=prod",
        "--password-file",
        "pw.txt",
    ]);
    assert!(!out.contains("long enough"), "{out}");
    let listed = env.ok(&["--json", "user", "list"]);
    assert!(
        !listed.contains("argon2") && !listed.contains(made.trim()),
        "{listed}"
    );
    let users: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(users[1]["scope"]["value"], "prod", "{users}");
}

#[test]
fn a_token_row_planted_with_sql_is_refused() {
    let env = Env::new();
    env.ok(&["token", "create", "real", "--role", "viewer"]);
    // Someone with SQL access grants themselves an admin token.
    sql(
        &env,
        &[
            "INSERT INTO api_tokens (id, name, secret_hash, role, created_at) \
           VALUES ('planted', 'planted', 'abc', 'admin', 0)",
        ],
    );
    let err = env.fails(1, &["token", "list"]);
    assert!(
        err.contains("api_tokens row 'planted' fails its integrity check"),
        "{err}"
    );
    // Raising a real token's role is refused the same way.
    sql(
        &env,
        &[
            "DELETE FROM api_tokens WHERE id = 'planted'",
            "UPDATE api_tokens SET role = 'admin' WHERE name = 'real'",
        ],
    );
    let err = env.fails(1, &["token", "list"]);
    assert!(err.contains("api_tokens row 'real'"), "{err}");
}

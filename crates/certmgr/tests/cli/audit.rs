//! The audit log end to end: every command that changes something or reads
//! a secret writes exactly one entry (with its outcome), reads write none,
//! and a row edited or deleted with SQL makes `certmgr audit verify` fail,
//! naming the entry.

use crate::store_integrity::sql;
use crate::util::Env;

/// The (action, target, outcome) of every entry.
fn entries(env: &Env) -> Vec<(String, String, String)> {
    env.json(&["audit", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn entry(action: &str, target: &str, outcome: &str) -> (String, String, String) {
    (action.into(), target.into(), outcome.into())
}

#[test]
fn each_change_and_each_secret_read_writes_one_entry_and_reads_write_none() {
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
    env.ok(&["cred", "issue", "web"]);
    // Reads: nothing recorded.
    env.ok(&["cred", "list"]);
    env.ok(&["cred", "show", "web"]);
    env.ok(&["ca", "list"]);
    env.ok(&["renew", "--due", "--dry-run"]);
    // A secret read, a refusal and a failure-free delete.
    env.ok(&["cred", "export", "web", "--out", "tls"]);
    env.fails(2, &["cred", "create", "web", "--host", "web.example.test"]);
    env.fails(2, &["cred", "issue", "nope"]);
    env.ok(&["cred", "delete", "web"]);
    assert_eq!(
        entries(&env),
        vec![
            entry(
                "store.init",
                &env.store.data_dir().display().to_string(),
                "ok"
            ),
            entry("ca.create", "lab", "ok"),
            entry("cred.create", "web", "ok"),
            entry("cred.issue", "web", "ok"),
            entry("cred.export", "web", "ok"),
            entry("cred.create", "web", "bad-input"),
            entry("cred.issue", "nope", "bad-input"),
            entry("cred.delete", "web", "ok"),
        ]
    );
    let list = env.json(&["audit", "list", "--action", "cred.export"]);
    let export = &list.as_array().unwrap()[0];
    assert!(
        export["actor"].as_str().unwrap().starts_with("local:"),
        "{export}"
    );
    assert_eq!(export["detail"], "cred export web --out tls", "{export}");
    let refused = env.json(&["audit", "list", "--after", "5", "--limit", "1"]);
    assert!(
        refused[0]["detail"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{refused}"
    );
    assert!(env.ok(&["audit", "verify"]).contains("intact: 8 entries"));
}

#[test]
fn an_edited_or_deleted_entry_fails_verify_and_is_named() {
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
    env.ok(&["cred", "issue", "web"]);
    env.ok(&["cred", "export", "web", "--out", "tls"]);
    env.ok(&["audit", "verify"]);
    // Someone with SQL access hides who exported the key.
    sql(
        &env,
        &["UPDATE audit_log SET actor = 'local:nobody' WHERE seq = 5"],
    );
    let err = env.fails(1, &["audit", "verify"]);
    assert!(
        err.contains("entry 5") && err.contains("cred.export web"),
        "{err}"
    );

    let env = Env::new();
    env.ok(&["ca", "create", "lab"]);
    env.ok(&["ca", "create", "lab2"]);
    env.ok(&["ca", "create", "lab3"]);
    sql(&env, &["DELETE FROM audit_log WHERE seq = 3"]);
    let err = env.fails(1, &["audit", "verify"]);
    assert!(err.contains("entry 3") && err.contains("deleted"), "{err}");
}

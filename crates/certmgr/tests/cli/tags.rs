//! Credential tags: set at creation or later, shown, removed; bad tags
//! refused without a trace; each change audited; a tag planted with SQL
//! refused; deleting a credential removes its tags.

use crate::store_integrity::sql;
use crate::util::Env;

#[test]
fn tags_are_set_shown_changed_and_removed() {
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
        "--tag",
        "team=web",
    ]);
    let shown = env.json(&["cred", "show", "web"]);
    assert_eq!(
        shown["tags"],
        serde_json::json!({ "team": "web" }),
        "{shown}"
    );
    env.ok(&["cred", "tag", "web", "env=prod", "team=platform"]);
    let shown = env.json(&["cred", "show", "web"]);
    assert_eq!(
        shown["tags"],
        serde_json::json!({ "env": "prod", "team": "platform" }),
        "{shown}"
    );
    assert!(
        env.ok(&["cred", "show", "web"])
            .contains("tags:        env=prod team=platform")
    );

    let before = env.digest();
    for args in [
        &["cred", "tag", "web", "team"][..],
        &["cred", "tag", "web", "a=1", "a=2"],
        &["cred", "untag", "web", "owner"],
        &["cred", "tag", "nope", "a=1"],
        &[
            "cred",
            "create",
            "x",
            "--host",
            "x.example.test",
            "--tag",
            "bad tag=1",
        ],
    ] {
        env.fails(2, args);
    }
    assert_eq!(env.digest(), before, "refused tag changes leave no trace");

    env.ok(&["cred", "untag", "web", "env"]);
    let shown = env.json(&["cred", "show", "web"]);
    assert_eq!(
        shown["tags"],
        serde_json::json!({ "team": "platform" }),
        "{shown}"
    );
    let tagging: Vec<String> = env
        .json(&["audit", "list"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().contains("tag"))
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        tagging,
        [
            "cred.tag ok",
            "cred.tag bad-input",
            "cred.tag bad-input",
            "cred.untag bad-input",
            "cred.tag bad-input",
            "cred.untag ok",
        ]
    );

    // Deleting the credential removes its tags with it.
    env.ok(&["cred", "delete", "web"]);
    env.ok(&[
        "cred",
        "create",
        "web",
        "--host",
        "web.example.test",
        "--issuer",
        "ca:lab",
    ]);
    assert_eq!(
        env.json(&["cred", "show", "web"])["tags"],
        serde_json::json!({})
    );
}

#[test]
fn a_tag_planted_with_sql_is_refused() {
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
        "--tag",
        "team=web",
    ]);
    // Someone with SQL access moves the credential into another team's scope.
    sql(&env, &["UPDATE credential_tags SET tag_value = 'payments'"]);
    let err = env.fails(1, &["cred", "show", "web"]);
    assert!(
        err.contains("credential_tags row") && err.contains("fails its integrity check"),
        "{err}"
    );
}

/// The names `cred list` prints with these filters.
fn listed(env: &Env, filters: &[&str]) -> Vec<String> {
    let mut args = vec!["cred", "list"];
    args.extend_from_slice(filters);
    env.json(&args)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn listings_filter_by_tag_issuer_status_expiry_and_hostname() {
    let env = Env::new();
    env.ok(&["ca", "create", "lab"]);
    env.ok(&[
        "cred",
        "create",
        "a",
        "--host",
        "a.web.example.test",
        "--issuer",
        "ca:lab",
        "--tag",
        "team=web",
    ]);
    env.ok(&["cred", "create", "b", "--host", "b.db.example.test"]);
    env.ok(&[
        "cred",
        "create",
        "c",
        "--host",
        "c.web.example.test",
        "--issuer",
        "ca:lab",
        "--tag",
        "team=db",
    ]);
    env.ok(&["cred", "issue", "c"]);
    assert_eq!(listed(&env, &[]), ["a", "b", "c"]);
    assert_eq!(listed(&env, &["--tag", "team=web"]), ["a"]);
    assert_eq!(listed(&env, &["--issuer", "ca:lab"]), ["a", "c"]);
    assert_eq!(listed(&env, &["--issuer", "manual"]), ["b"]);
    assert_eq!(listed(&env, &["--status", "valid"]), ["c"]);
    assert_eq!(
        listed(&env, &["--status", "pending", "--host", "WEB"]),
        ["a"]
    );
    assert_eq!(listed(&env, &["--expiring-within", "100"]), ["c"]);
    assert!(listed(&env, &["--expiring-within", "30"]).is_empty());
    assert!(listed(&env, &["--tag", "team=ops"]).is_empty());
    let err = env.fails(2, &["cred", "list", "--status", "fine"]);
    assert!(err.contains("--status"), "{err}");
    env.fails(2, &["cred", "list", "--tag", "team"]);
    env.fails(2, &["cred", "list", "--issuer", "vault:x"]);
}

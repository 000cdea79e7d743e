//! The authorization matrix, generated from the router: every route of the
//! OpenAPI document (the router's own, built by the same calls) × every
//! kind of caller gets the status the policy table says, and every change
//! writes exactly one audit entry.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use axum::http::{Method, StatusCode};
use certmgr_core::Role;
use certmgr_engine::access::create_token;
use certmgr_server::policy::{self, RULES, Scoping};
use common::Api;

/// The callers: nobody, two dead tokens, and the three roles (one of them
/// limited to credentials tagged team=web).
const CALLERS: [Option<&str>; 7] = [
    None,
    Some("expired"),
    Some("revoked"),
    Some("viewer"),
    Some("web-operator"),
    Some("operator"),
    Some("admin"),
];

#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Allowed,
    Unauthenticated,
    Forbidden,
}

/// The roles, written out again here (not the server's ranking): which
/// callers hold a role at least `needed`.
fn holds(who: &str, needed: Role) -> bool {
    let held: &[Role] = match who {
        "admin" => &[Role::Admin, Role::Operator, Role::Viewer],
        "operator" | "web-operator" => &[Role::Operator, Role::Viewer],
        "viewer" => &[Role::Viewer],
        other => panic!("unknown caller {other}"),
    };
    held.contains(&needed)
}

fn expect(policy: policy::Policy, who: Option<&str>) -> Expect {
    let Some(needed) = policy.role else {
        return Expect::Allowed;
    };
    let who = match who {
        None | Some("expired") | Some("revoked") => return Expect::Unauthenticated,
        Some(who) => who,
    };
    if !holds(who, needed) {
        return Expect::Forbidden;
    }
    if policy.scoping == Scoping::Unscoped && who == "web-operator" {
        return Expect::Forbidden;
    }
    Expect::Allowed
}

/// The documented routes, as (method, path).
fn documented() -> Vec<(Method, String)> {
    let document = certmgr_server::api::openapi();
    let mut routes = Vec::new();
    for (path, item) in &document.paths.paths {
        for (method, operation) in [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::DELETE, &item.delete),
            (Method::PATCH, &item.patch),
        ] {
            if operation.is_some() {
                routes.push((method, path.clone()));
            }
        }
    }
    routes
}

#[test]
fn every_route_is_in_the_policy_table_and_every_row_is_a_route() {
    let routes = documented();
    assert!(routes.len() > 30, "only {} routes documented", routes.len());
    for (method, path) in &routes {
        assert!(
            policy::policy(method, path).is_some(),
            "{method} {path} is missing from the policy table"
        );
    }
    for rule in RULES {
        assert!(
            certmgr_server::api::UNDOCUMENTED.contains(&rule.path)
                || routes
                    .iter()
                    .any(|(m, p)| m.as_str() == rule.method && p == rule.path),
            "the policy table has {} {}, which is no route",
            rule.method,
            rule.path
        );
    }
}

#[test]
fn the_document_names_every_answer_of_the_gate_and_unique_operation_ids() {
    let document = certmgr_server::api::openapi();
    let json: serde_json::Value =
        serde_json::from_str(&document.to_json().unwrap()).expect("the document is JSON");
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in json["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            let policy = policy::policy(&method.to_uppercase().parse().unwrap(), path).unwrap();
            let responses = operation["responses"].as_object().unwrap();
            let mut expected = vec!["500"];
            if policy.role.is_some() {
                expected.extend(["401", "403"]);
            }
            if path.contains('{') {
                expected.push("404");
            }
            for status in expected {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not document {status}"
                );
            }
            for (status, response) in responses {
                if status.starts_with(['4', '5']) {
                    let content = response["content"].as_object().unwrap();
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    // One schema per name: a second type of the same name would replace the first.
    let health = &json["components"]["schemas"]["ServerHealth"];
    assert_eq!(health["properties"]["status"]["type"], "string");
}

/// The rules, stated apart from the table: what it must say.
#[test]
fn the_policy_table_keeps_the_rules_of_the_roles() {
    for (method, path) in documented() {
        let policy = policy::policy(&method, &path).unwrap();
        if path.starts_with("/api/credentials/{name}") {
            assert_eq!(
                policy.scoping,
                Scoping::Credential,
                "{method} {path}: one credential, so its scope"
            );
        }
        if path.ends_with("/export")
            || path.starts_with("/api/tokens")
            || path.starts_with("/api/users")
            || path == "/api/audit"
        {
            assert_eq!(
                policy.role,
                Some(Role::Admin),
                "{method} {path}: secrets and access are the admins'"
            );
        }
        if path.starts_with("/api/tokens") || path.starts_with("/api/users") || path == "/api/audit"
        {
            assert_eq!(
                policy.scoping,
                Scoping::Unscoped,
                "{method} {path}: never for a scoped role"
            );
        }
        if method != Method::GET || path.ends_with("/export") {
            assert!(
                policy.audit.is_some(),
                "{method} {path} changes something or reads a secret: audited"
            );
            assert!(
                policy.role.is_some() || path == "/api/session",
                "{method} {path} changes something: not open to anyone but signing in"
            );
        } else if path == "/api/oidc/callback" {
            assert!(policy.audit.is_some(), "a single sign-on is audited");
        } else {
            assert!(policy.audit.is_none(), "{method} {path} is a plain read");
        }
        if policy.role.is_none() {
            assert!(
                [
                    "GET /api/health",
                    "GET /healthz",
                    "GET /readyz",
                    "POST /api/session",
                    "GET /api/oidc/login",
                    "GET /api/oidc/callback",
                ]
                .contains(&format!("{method} {path}").as_str())
                    || certmgr_server::api::UNDOCUMENTED.contains(&path.as_str()),
                "{method} {path} is open to anyone"
            );
        }
    }
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_policy_table_says() {
    let api = Api::new().await;
    api.issued("job-web", &["team=web"]).await;
    let started = api
        .call(
            Method::POST,
            "/api/credentials/job-web/issue",
            Some("admin"),
            None,
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text());
    let job = started.json()["id"].as_str().unwrap().to_owned();
    let mut routes = documented();
    for path in certmgr_server::api::UNDOCUMENTED {
        routes.push((Method::GET, path.into()));
    }
    let mut checked = 0;
    for (method, path) in routes {
        let policy = policy::policy(&method, &path)
            .unwrap_or_else(|| panic!("{method} {path} is missing from the policy table"));
        for who in CALLERS {
            checked += 1;
            // Fresh objects for every call: a delete or revoke cannot
            // change what the next caller finds.
            let credential = format!("m{checked}");
            api.credential(&credential, &["team=web", "env=prod"]).await;
            let token = format!("t{checked}");
            create_token(&api.engine(), &token, Role::Viewer, None, None)
                .await
                .unwrap();
            let zone = format!("z{checked}");
            api.dns_account(&zone).await;
            let channel = format!("c{checked}");
            api.channel(&channel).await;
            let uri = fill(&path, &credential, &token, &job)
                .replace(
                    "/api/dns/accounts/zone",
                    &format!("/api/dns/accounts/{zone}"),
                )
                .replace(
                    "/api/notifications/channels/unused",
                    &format!("/api/notifications/channels/{channel}"),
                );
            let body = matches!(method, Method::POST | Method::PUT).then(|| serde_json::json!({}));
            // Jobs started by earlier calls change the store as they run.
            while api.state.jobs().running() > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            let before = api.audit_count().await;
            let digest = api.store.content_digest().await.unwrap();
            let answer = api.call(method.clone(), &uri, who, body.clone()).await;
            let what = format!(
                "{method} {uri} as {who:?}: {} {}",
                answer.status,
                answer.text()
            );
            if PEER_ROUTES.contains(&path.as_str()) && answer.status == StatusCode::BAD_GATEWAY {
                // The CA or DNS server is not there: the call got past the gate.
                assert_eq!(
                    answer.json()["type"],
                    "urn:certmgr:problem:upstream-failed",
                    "{what}"
                );
            } else {
                assert!(answer.status.as_u16() < 500, "{what}");
            }
            match expect(policy, who) {
                Expect::Unauthenticated => {
                    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}")
                }
                Expect::Forbidden => assert_eq!(answer.status, StatusCode::FORBIDDEN, "{what}"),
                Expect::Allowed => assert!(
                    ![401, 403, 404, 405].contains(&answer.status.as_u16()),
                    "{what}"
                ),
            }
            if answer.status.is_client_error() {
                assert_eq!(
                    answer.headers["content-type"], "application/problem+json",
                    "{what}"
                );
                let problem = answer.json();
                assert!(
                    problem["type"]
                        .as_str()
                        .unwrap()
                        .starts_with("urn:certmgr:problem:"),
                    "{what}"
                );
                assert_eq!(problem["status"], answer.status.as_u16(), "{what}");
            }
            if answer.status.is_client_error() {
                // Refused: nothing changed but the audit log (outside the digest).
                assert_eq!(
                    api.store.content_digest().await.unwrap(),
                    digest,
                    "{what} changed the store"
                );
            }
            let written = api.audit_count().await - before;
            let authenticated = answer.status != StatusCode::UNAUTHORIZED;
            // A sign-in is audited whoever calls; anything else once the
            // caller is known.
            let expected =
                usize::from(policy.audit.is_some() && (authenticated || policy.role.is_none()));
            assert_eq!(written, expected, "audit entries written by {what}");
            if path.starts_with("/api/credentials/{name}")
                && expect(policy, who) == Expect::Allowed
                && who == Some("web-operator")
            {
                // Outside the scope: the same 404 as for no credential at all.
                let other = format!("o{checked}");
                api.credential(&other, &["team=db"]).await;
                let outside = api
                    .call(
                        method.clone(),
                        &fill(&path, &other, &token, &job),
                        who,
                        body.clone(),
                    )
                    .await;
                let missing = api
                    .call(
                        method.clone(),
                        &fill(&path, "no-such", &token, &job),
                        who,
                        body,
                    )
                    .await;
                assert_eq!(
                    outside.status,
                    StatusCode::NOT_FOUND,
                    "{method} {path} outside the scope"
                );
                assert_eq!(
                    outside.json()["detail"]
                        .as_str()
                        .unwrap()
                        .replace(&other, "X"),
                    missing.json()["detail"]
                        .as_str()
                        .unwrap()
                        .replace("no-such", "X"),
                );
                assert!(
                    api.store.credential(&other).await.is_ok(),
                    "{other} survived"
                );
            }
        }
    }
    assert!(checked >= 7 * 30, "only {checked} calls");
}

/// Routes that reach a CA, a DNS server or a notification peer: here, one
/// that is not there.
const PEER_ROUTES: [&str; 4] = [
    "/api/acme/accounts/{name}/rollover",
    "/api/acme/accounts/{name}/deactivate",
    "/api/dns/accounts/{name}/test",
    "/api/notifications/channels/{name}/test",
];

/// The route's path with its parameters filled in.
fn fill(path: &str, credential: &str, token: &str, job: &str) -> String {
    let name = if path.starts_with("/api/credentials/") {
        credential
    } else if path.starts_with("/api/cas/") {
        "lab"
    } else if path.starts_with("/api/dns/providers/") {
        "cloudflare"
    } else if path.starts_with("/api/acme/accounts/") {
        "le"
    } else if path.starts_with("/api/dns/accounts/") {
        "zone"
    } else if path.starts_with("/api/tokens/") {
        token
    } else {
        "unused"
    };
    path.replace("{name}", name)
        .replace("{key}", "env")
        .replace("{id}", job)
}

//! Who may call which route: one table, read by the gate in front of every
//! route ([`crate::gate`]) and by the authorization matrix test. A route
//! that is not in the table is refused to everyone, so a new route is
//! closed until someone decides who may call it.

use axum::http::Method;
use certmgr_core::Role;

/// Which credentials a policy reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoping {
    /// Any principal, scoped or not: reads that show no credential (the CA
    /// catalog, DNS providers) and listings the handler filters by scope.
    Any,
    /// The credential named by the path's `{name}` must carry the
    /// principal's scope tag; otherwise the answer is 404, as if it did not
    /// exist.
    Credential,
    /// Principals without a scope only (a scoped principal gets 403):
    /// infrastructure, users, tokens, the audit log.
    Unscoped,
}

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The least role that may call it; `None` for routes open to anyone.
    pub role: Option<Role>,
    /// Which credentials it reaches.
    pub scoping: Scoping,
    /// The audit log's name of the action, for routes that change
    /// something or read a secret; `None` for plain reads.
    pub audit: Option<&'static str>,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The HTTP method.
    pub method: &'static str,
    /// The route as the router writes it (`/api/credentials/{name}`).
    pub path: &'static str,
    /// Who may call it.
    pub policy: Policy,
}

const fn rule(
    method: &'static str,
    path: &'static str,
    role: Option<Role>,
    scoping: Scoping,
    audit: Option<&'static str>,
) -> Rule {
    Rule {
        method,
        path,
        policy: Policy {
            role,
            scoping,
            audit,
        },
    }
}

use Role::{Admin, Operator, Viewer};
use Scoping::{Any, Credential, Unscoped};

/// Every route of the API and who may call it.
///
/// Operators create, issue, renew, revoke and import, within their scope;
/// they never read a private key or a secret and manage no users. Viewers
/// read, never a secret. Admins do everything; reading a private key
/// (export) is audited like a change.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    rule("GET", "/api/health", None, Any, None),
    // Health and metrics (the metrics handler filters by scope).
    rule("GET", "/healthz", None, Any, None),
    rule("GET", "/readyz", None, Any, None),
    rule("GET", "/metrics", Some(Viewer), Any, None),
    rule("GET", "/api/openapi.json", None, Any, None),
    rule("GET", "/api/docs", None, Any, None),
    rule("GET", "/api/docs/docs.js", None, Any, None),
    rule("GET", "/api/docs/docs.css", None, Any, None),
    rule("POST", "/api/session", None, Any, Some("session.sign-in")),
    rule("GET", "/api/session", Some(Viewer), Any, None),
    rule("GET", "/api/oidc/login", None, Any, None),
    rule("GET", "/api/oidc/callback", None, Any, Some("session.sign-in")),
    rule("DELETE", "/api/session", Some(Viewer), Any, Some("session.sign-out")),
    // Credentials.
    rule("GET", "/api/dashboard", Some(Viewer), Any, None),
    rule("GET", "/api/credentials", Some(Viewer), Any, None),
    rule("POST", "/api/credentials", Some(Operator), Any, Some("cred.create")),
    rule("GET", "/api/credentials/{name}", Some(Viewer), Credential, None),
    rule("DELETE", "/api/credentials/{name}", Some(Admin), Credential, Some("cred.delete")),
    rule("GET", "/api/credentials/{name}/events", Some(Viewer), Credential, None),
    rule("POST", "/api/credentials/{name}/issue", Some(Operator), Credential, Some("cred.issue")),
    rule("POST", "/api/credentials/{name}/renew", Some(Operator), Credential, Some("cred.renew")),
    rule("POST", "/api/credentials/{name}/revoke", Some(Operator), Credential, Some("cred.revoke")),
    rule("POST", "/api/credentials/{name}/csr", Some(Operator), Credential, Some("cred.csr")),
    rule("POST", "/api/credentials/{name}/import", Some(Operator), Credential, Some("cred.import")),
    rule("POST", "/api/credentials/{name}/export", Some(Admin), Credential, Some("cred.export")),
    rule("PUT", "/api/credentials/{name}/tags", Some(Operator), Credential, Some("cred.tag")),
    rule("DELETE", "/api/credentials/{name}/tags/{key}", Some(Operator), Credential, Some("cred.untag")),
    // Jobs (the handler checks the job's credential against the scope).
    rule("GET", "/api/jobs/{id}", Some(Viewer), Any, None),
    rule("GET", "/api/jobs/{id}/events", Some(Viewer), Any, None),
    // Issuers and trust.
    rule("GET", "/api/cas", Some(Viewer), Any, None),
    rule("POST", "/api/cas", Some(Admin), Unscoped, Some("ca.create")),
    rule("GET", "/api/cas/{name}", Some(Viewer), Any, None),
    rule("GET", "/api/trust", Some(Viewer), Any, None),
    rule("POST", "/api/trust", Some(Admin), Unscoped, Some("trust.add")),
    rule("GET", "/api/cas/{name}/certificate", Some(Viewer), Any, None),
    rule("GET", "/api/acme/accounts", Some(Viewer), Any, None),
    rule("POST", "/api/acme/accounts", Some(Admin), Unscoped, Some("acme.create")),
    rule("GET", "/api/acme/accounts/{name}", Some(Viewer), Any, None),
    rule("POST", "/api/acme/accounts/{name}/rollover", Some(Admin), Unscoped, Some("acme.rollover")),
    rule("POST", "/api/acme/accounts/{name}/deactivate", Some(Admin), Unscoped, Some("acme.deactivate")),
    rule("GET", "/api/acme/catalog", Some(Viewer), Any, None),
    // DNS.
    rule("GET", "/api/dns/providers", Some(Viewer), Any, None),
    rule("POST", "/api/dns/providers", Some(Admin), Unscoped, Some("dns.provider.import")),
    rule("GET", "/api/dns/providers/{name}", Some(Viewer), Any, None),
    rule("GET", "/api/dns/providers/{name}/dxl", Some(Viewer), Any, None),
    rule("GET", "/api/dns/accounts", Some(Viewer), Any, None),
    rule("POST", "/api/dns/accounts", Some(Admin), Unscoped, Some("dns.account.create")),
    rule("GET", "/api/dns/accounts/{name}", Some(Viewer), Any, None),
    rule("DELETE", "/api/dns/accounts/{name}", Some(Admin), Unscoped, Some("dns.account.delete")),
    rule("POST", "/api/dns/accounts/{name}/test", Some(Admin), Unscoped, Some("dns.account.test")),
    // Renewal.
    rule("GET", "/api/renewal", Some(Viewer), Any, None),
    rule("POST", "/api/renewal/run", Some(Operator), Unscoped, Some("renew.run")),
    // Access and the audit log.
    rule("GET", "/api/audit", Some(Admin), Unscoped, None),
    rule("GET", "/api/tokens", Some(Admin), Unscoped, None),
    rule("POST", "/api/tokens", Some(Admin), Unscoped, Some("token.create")),
    rule("DELETE", "/api/tokens/{name}", Some(Admin), Unscoped, Some("token.revoke")),
    rule("GET", "/api/users", Some(Admin), Unscoped, None),
    rule("POST", "/api/users", Some(Admin), Unscoped, Some("user.add")),
    // Notifications: channels hold secrets and decide where notices go
    // (admins); the notices name credentials of every scope (unscoped).
    rule("GET", "/api/notifications/channels", Some(Admin), Unscoped, None),
    rule("POST", "/api/notifications/channels", Some(Admin), Unscoped, Some("notify.channel.create")),
    rule("GET", "/api/notifications/channels/{name}", Some(Admin), Unscoped, None),
    rule("PUT", "/api/notifications/channels/{name}", Some(Admin), Unscoped, Some("notify.channel.update")),
    rule("DELETE", "/api/notifications/channels/{name}", Some(Admin), Unscoped, Some("notify.channel.delete")),
    rule("POST", "/api/notifications/channels/{name}/test", Some(Admin), Unscoped, Some("notify.channel.test")),
    rule("GET", "/api/notifications", Some(Viewer), Unscoped, None),
];

/// The policy of `method` on the route `path`, if the table has one.
pub fn policy(method: &Method, path: &str) -> Option<Policy> {
    // HEAD is GET without the body.
    let method = if *method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    RULES
        .iter()
        .find(|rule| rule.path == path && rule.method == method)
        .map(|rule| rule.policy)
}

/// Every route a principal with `role` (tag-scoped or not) may call, as
/// `METHOD /route`, in the table's order.
pub fn allowed(role: Role, scoped: bool) -> Vec<String> {
    RULES
        .iter()
        .filter(|rule| match rule.policy.role {
            None => true,
            Some(needed) => {
                allows(role, needed) && !(scoped && rule.policy.scoping == Scoping::Unscoped)
            }
        })
        .map(|rule| format!("{} {}", rule.method, rule.path))
        .collect()
}

/// Whether `role` is at least `needed`.
pub fn allows(role: Role, needed: Role) -> bool {
    fn rank(role: Role) -> u8 {
        match role {
            Role::Viewer => 0,
            Role::Operator => 1,
            Role::Admin => 2,
        }
    }
    rank(role) >= rank(needed)
}

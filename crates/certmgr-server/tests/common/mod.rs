//! A populated store behind the API, and a client that calls the router
//! in-process (no listener): what the API tests share.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // tests: a panic is the failure report

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use certmgr_core::{KeySpec, Role};
use certmgr_engine::access::{create_token, parse_scope};
use certmgr_engine::credential::CredentialRequest;
use certmgr_engine::microca::NewMicroCa;
use certmgr_engine::{Engine, FixedClock};
use certmgr_server::AppState;
use certmgr_store::{MasterKey, Store};
use certmgr_testkit::TestStore;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

/// The API on a store with a MicroCA, and tokens of every kind.
pub struct Api {
    pub test: TestStore,
    pub store: Arc<Store>,
    pub clock: Arc<FixedClock>,
    pub router: Router,
    pub state: AppState,
    /// Secrets by principal: admin, operator, viewer, web-operator (scoped
    /// team=web), expired, revoked.
    pub tokens: std::collections::BTreeMap<&'static str, String>,
}

/// An answer: status, headers and body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub const NOW: i64 = 1_800_000_000;

impl Api {
    pub async fn new() -> Api {
        let test = TestStore::new();
        let store = Arc::new(
            Store::open(&test.url_for_library(), MasterKey::generate().unwrap())
                .await
                .unwrap(),
        );
        let clock = Arc::new(FixedClock::at(NOW));
        let engine = Engine::with_clock(&store, &*clock);
        certmgr_engine::microca::create_ca(
            &engine,
            &NewMicroCa {
                name: "lab".into(),
                key: KeySpec::EcdsaP256,
                validity_days: 3650,
                intermediate: false,
                common_name: None,
                organization: None,
            },
        )
        .await
        .unwrap();
        // An ACME account whose CA is not there (no test reaches a CA
        // through it).
        store
            .create_acme_account(&certmgr_store::NewAcmeAccount {
                name: "le".into(),
                ca_id: None,
                directory_url: "https://127.0.0.1:9/directory".into(),
                account_url: "https://127.0.0.1:9/acct/1".into(),
                contacts: vec![],
                eab_kid: None,
                credentials_json: b"{}",
                ca_bundle_pem: None,
                profile: None,
                max_concurrent_orders: None,
                preferred_chain: None,
            })
            .await
            .unwrap();
        let mut tokens = std::collections::BTreeMap::new();
        let web = parse_scope("team=web").unwrap();
        for (name, role, scope, days) in [
            ("admin", Role::Admin, None, None),
            ("operator", Role::Operator, None, None),
            ("viewer", Role::Viewer, None, None),
            ("web-operator", Role::Operator, Some(&web), None),
            ("expired", Role::Admin, None, Some(1)),
            ("revoked", Role::Admin, None, None),
        ] {
            let issued = create_token(&engine, name, role, scope, days)
                .await
                .unwrap();
            tokens.insert(name, issued.secret.to_string());
        }
        store.revoke_token("revoked").await.unwrap();
        let state = AppState::with_clock(store.clone(), clock.clone());
        let router = certmgr_server::api::router(state.clone());
        let api = Api {
            test,
            store,
            clock,
            router,
            state,
            tokens,
        };
        // The expired token's day has passed.
        api.clock.set(NOW + 2 * 86_400);
        api
    }

    pub fn engine(&self) -> Engine<'_> {
        Engine::with_clock(&self.store, &*self.clock)
    }

    /// An RFC 2136 DNS account (with a TSIG secret) whose server is not there.
    pub async fn dns_account(&self, name: &str) {
        certmgr_engine::dns01::create_account(
            &self.engine(),
            certmgr_engine::dns01::DnsAccountRequest {
                name: name.into(),
                provider: "rfc2136".into(),
                zones: vec!["example.test".into()],
                params: [
                    ("server".to_owned(), "127.0.0.1:9".to_owned()),
                    ("key_name".to_owned(), "certmgr".to_owned()),
                    (
                        "key_secret".to_owned(),
                        "c2VjcmV0LXRzaWcta2V5LXZhbHVl".to_owned(),
                    ),
                ]
                .into(),
                nameservers: vec![],
                resolver: None,
                nameserver_port: None,
                propagation_timeout_secs: 5,
                propagation: certmgr_engine::dns01::Propagation::Check,
                network: certmgr_dns::NetworkAccess {
                    private_network: true,
                    plain_http: false,
                },
            },
        )
        .await
        .unwrap();
    }

    /// A generic webhook channel whose receiver is not there.
    pub async fn channel(&self, name: &str) {
        certmgr_engine::notify::create_channel(
            &self.engine(),
            &certmgr_engine::notify::ChannelRequest {
                name: Some(name.into()),
                webhook: Some(certmgr_engine::notify::WebhookRequest {
                    url: Some("http://127.0.0.1:9/hook".into()),
                    secret: Some("a-secret-of-sixteen-or-more".into()),
                    allow_plain_http: true,
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }

    /// A MicroCA credential tagged `tags` (not issued).
    pub async fn credential(&self, name: &str, tags: &[&str]) {
        let request = CredentialRequest {
            name: name.into(),
            hosts: vec![format!("{name}.example.test")],
            issuer: "ca:lab".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..CredentialRequest::default()
        };
        certmgr_engine::credential::create(&self.engine(), &request.parse().unwrap())
            .await
            .unwrap();
    }

    /// A MicroCA credential tagged `tags`, issued.
    pub async fn issued(&self, name: &str, tags: &[&str]) {
        self.credential(name, tags).await;
        certmgr_engine::issuance::issue(
            &self.engine(),
            name,
            &certmgr_engine::responders::AnswerOptions::default(),
        )
        .await
        .unwrap();
    }

    /// Call the API as `who` (a key of `tokens`, or `None` for nobody).
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        who: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Answer {
        let authorization = who.map(|who| format!("Bearer {}", self.tokens[who]));
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|value| ("authorization", value.as_str()))
            .collect();
        self.call_with(method, uri, &headers, body).await
    }

    /// Call the API with these headers.
    pub async fn call_with(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Call the API with a session cookie (`name=value`) and, when given,
    /// the session's CSRF token.
    pub async fn call_with_session(
        &self,
        method: Method,
        uri: &str,
        cookie: &str,
        csrf: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Answer {
        let mut headers = vec![("cookie", cookie)];
        if let Some(csrf) = csrf {
            headers.push(("x-csrf-token", csrf));
        }
        self.call_with(method, uri, &headers, body).await
    }

    /// How many audit entries there are.
    pub async fn audit_count(&self) -> usize {
        self.audit_entries().await.len()
    }

    /// Every audit entry, oldest first.
    pub async fn audit_entries(&self) -> Vec<certmgr_store::AuditEntry> {
        let mut entries = Vec::new();
        loop {
            let query = certmgr_store::AuditQuery {
                after: entries
                    .last()
                    .map_or(0, |e: &certmgr_store::AuditEntry| e.seq),
                limit: 1000,
                actor: None,
                action: None,
                target: None,
            };
            let page = certmgr_engine::audit::list(&self.engine(), &query)
                .await
                .unwrap();
            if page.is_empty() {
                return entries;
            }
            entries.extend(page);
        }
    }
}

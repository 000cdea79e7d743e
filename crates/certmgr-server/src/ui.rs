//! The web UI: one page shell and its scripts and styles, compiled into the
//! binary and served from memory. Everything a page shows or changes goes
//! through the REST API, called by the browser with the session cookie and
//! its CSRF token: the UI has no path to the store of its own, so the
//! gate's roles, tag scopes and audit log apply to it unchanged.
//!
//! The shell is served for every page's address (`/`, `/credentials/web`,
//! ...), so that links can be bookmarked and reloaded; the scripts route
//! in the browser. Assets are revalidated with an `ETag` (a hash of their
//! bytes, computed when the binary is built), so an upgraded server is
//! picked up at once and an unchanged asset costs a `304`.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::problem::{Problem, ProblemKind};

/// The first segment of every page's address; the shell is served for
/// each, alone or followed by more segments.
pub const SECTIONS: &[&str] = &[
    "login",
    "credentials",
    "cas",
    "acme",
    "dns",
    "trust",
    "users",
    "tokens",
    "audit",
];

/// One file of the UI.
struct Asset {
    /// Its name under `/ui/`.
    name: &'static str,
    /// Its media type.
    content_type: &'static str,
    /// Its bytes.
    body: &'static [u8],
    /// Its entity tag (FNV-1a of the bytes).
    etag: u64,
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../assets/ui/", $name)),
            etag: fnv1a(include_bytes!(concat!("../assets/ui/", $name))),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the UI.
const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("chart.js", JS),
    asset!("job.js", JS),
    asset!("pages/login.js", JS),
    asset!("pages/dashboard.js", JS),
    asset!("pages/credentials.js", JS),
    asset!("pages/credential.js", JS),
    asset!("pages/new-credential.js", JS),
    asset!("pages/flows.js", JS),
    asset!("pages/dns.js", JS),
    asset!("pages/issuers.js", JS),
    asset!("pages/access.js", JS),
];

/// A 64-bit FNV-1a hash, at compile time: an entity tag that changes with
/// the bytes.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The UI's routes: the shell at `/` and under every section, the assets
/// under `/ui/`. Open to anyone (they hold no data); not behind the gate.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/", get(shell))
        .route("/ui/{*file}", get(file));
    for section in SECTIONS {
        router = router
            .route(&format!("/{section}"), get(shell))
            .route(&format!("/{section}/{{*rest}}"), get(shell));
    }
    router
}

async fn shell(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    if name == "index.html" {
        return not_found(&name);
    }
    serve(&name, &headers)
}

fn not_found(name: &str) -> Response {
    Problem::new(ProblemKind::NotFound, format!("the UI has no file {name}")).into_response()
}

/// The asset `name`, or `304` when the client's copy is current.
fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return not_found(name);
    };
    let etag = format!("\"{:016x}\"", asset.etag);
    let current = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    // Revalidated every time: cheap (a 304), and an upgrade shows at once.
    let cache = HeaderValue::from_static("no-cache");
    if current {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_a_page_loads_is_served() {
        // Every module the scripts import and every file the shell links
        // must be in ASSETS, or the page breaks only in the browser.
        let mut wanted = Vec::new();
        for asset in ASSETS {
            let text = std::str::from_utf8(asset.body).unwrap();
            for quote in ['"', '\''] {
                for piece in text.split(quote) {
                    if let Some(rest) = piece.strip_prefix("/ui/") {
                        wanted.push(rest.to_owned());
                    } else if let Some(rest) = piece.strip_prefix("./") {
                        if rest.ends_with(".js") {
                            let dir = asset.name.rsplit_once('/').map_or("", |(d, _)| d);
                            let joined = if dir.is_empty() {
                                rest.to_owned()
                            } else {
                                format!("{dir}/{rest}")
                            };
                            wanted.push(joined);
                        }
                    } else if let Some(rest) = piece.strip_prefix("../")
                        && rest.ends_with(".js")
                    {
                        wanted.push(rest.to_owned());
                    }
                }
            }
        }
        assert!(!wanted.is_empty());
        for name in wanted {
            assert!(
                ASSETS.iter().any(|a| a.name == name),
                "{name} is referenced but not served"
            );
        }
    }

    #[test]
    fn the_entity_tag_changes_with_the_bytes() {
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }
}

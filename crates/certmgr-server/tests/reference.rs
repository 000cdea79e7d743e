//! The API reference page: served from the binary, nothing from elsewhere,
//! no inline script (the CSP allows none), and it reads the document the
//! server generates.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use axum::http::{Method, StatusCode};
use common::Api;

#[tokio::test]
async fn the_reference_page_is_built_in_and_runs_under_the_csp() {
    let api = Api::new().await;
    let page = api.call(Method::GET, "/api/docs", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = page.text();
    // Every script has a source on this server: none is inline.
    for script in html.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap();
        assert!(
            tag.contains("src=\"/api/docs/"),
            "inline or foreign script: {tag}"
        );
        assert!(
            script.starts_with(&format!("{tag}></script>")),
            "a script with a body"
        );
    }
    let mut assets = 0;
    for (path, kind) in [
        ("/api/docs/docs.js", "text/javascript"),
        ("/api/docs/docs.css", "text/css"),
    ] {
        assert!(html.contains(path), "the page loads {path}");
        let asset = api.call(Method::GET, path, None, None).await;
        assert_eq!(asset.status, StatusCode::OK, "{path}");
        assert!(
            asset.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        let text = asset.text();
        for foreign in ["http://", "https://", "//cdn", "@import"] {
            assert!(!text.contains(foreign), "{path} reaches out: {foreign}");
        }
        assets += text.len();
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(assets > 2000, "the page's script and style are there");
    // What the page renders is the generated document.
    let js = api
        .call(Method::GET, "/api/docs/docs.js", None, None)
        .await
        .text();
    assert!(js.contains("fetch(\"/api/openapi.json\")"));
    let document = api
        .call(Method::GET, "/api/openapi.json", None, None)
        .await
        .json();
    assert_eq!(document["openapi"].as_str().unwrap().get(..3), Some("3.1"));
    assert!(document["paths"].as_object().unwrap().len() > 30);
    assert!(document["components"]["securitySchemes"]["token"].is_object());
}

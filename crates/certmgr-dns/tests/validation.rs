//! Import-time validation of provider definitions.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use certmgr_dns::{Definition, DnsError, catalog};

const FILE: &str = "providers/foo/provider.toml";

fn base(steps: &str) -> String {
    format!(
        r#"[provider]
id = "foo"
name = "Foo"
website = "https://foo.example/"
api_docs = "https://foo.example/api"
min_ttl = 60
multi_value_txt = true

[[parameter]]
name = "api_url"
help = "base URL"
required = true

[[parameter]]
name = "api_key"
help = "key"
required = true
secret = true

{steps}"#
    )
}

fn err(steps: &str) -> String {
    let e = Definition::parse(&base(steps), FILE).unwrap_err();
    let s = e.to_string();
    assert!(!s.contains('\n'), "one line: {s}");
    s
}

/// The conformance tests, where every provider of the catalog must have one.
const CONFORMANCE_SOURCES: [(&str, &str); 4] = [
    ("providers.rs", include_str!("providers.rs")),
    ("providers_signed.rs", include_str!("providers_signed.rs")),
    ("providers_cloud.rs", include_str!("providers_cloud.rs")),
    ("providers_text.rs", include_str!("providers_text.rs")),
];

#[test]
fn catalog_loads_and_every_provider_has_a_conformance_test() {
    let c = catalog().unwrap();
    let folders = std::fs::read_dir(certmgr_testkit::repo_root().join("providers"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(
        c.len(),
        folders,
        "every folder of providers/ is in the catalog"
    );
    let mut missing = Vec::new();
    for d in c {
        assert_eq!(d.file, format!("providers/{}/provider.toml", d.id()));
        // A test named after the provider that runs its definition.
        let test_fn = format!("async fn {}()", d.id().replace('-', "_"));
        let runs = [
            format!("id: \"{}\"", d.id()),
            format!("provider(\"{}\")", d.id()),
        ];
        let found = CONFORMANCE_SOURCES.iter().any(|(_, src)| {
            src.contains(&test_fn) && runs.iter().any(|r| src.contains(r.as_str()))
        });
        if !found {
            missing.push(d.id().to_owned());
        }
    }
    assert!(
        missing.is_empty(),
        "providers without a conformance test (a test fn named after the provider in {}): {missing:?}",
        CONFORMANCE_SOURCES.map(|(f, _)| f).join(", ")
    );
}

#[test]
fn syntax_error_has_file_and_line() {
    let e = Definition::parse("[provider]\nid = \n", FILE).unwrap_err();
    assert!(matches!(e, DnsError::Syntax { line: 2, .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("providers/foo/provider.toml: line 2"),
        "{e}"
    );
}

#[test]
fn unknown_step_field() {
    let s = err(
        "[[step]]\nphase = \"add\"\nname = \"add\"\nmethod = \"POST\"\nurl = \"{{ params.api_url }}\"\nbodyy = \"x\"\n",
    );
    assert!(
        s.starts_with("providers/foo/provider.toml: line 25, column 1:"),
        "{s}"
    );
    assert!(s.contains("unknown field `bodyy`"), "{s}");
}

#[test]
fn unknown_top_level_field() {
    let s = Definition::parse(&format!("{}\n[extra]\nx = 1\n", base("")), FILE)
        .unwrap_err()
        .to_string();
    assert!(s.contains("unknown field `extra`"), "{s}");
}

#[test]
fn undefined_variable_is_named() {
    let s = err(
        "[[step]]\nphase = \"add\"\nname = \"add\"\nmethod = \"POST\"\nurl = \"{{ paramz.api_url }}/x\"\n",
    );
    assert!(
        s.starts_with(
            r#"providers/foo/provider.toml: step "add" field "url": undefined variable "paramz""#
        ),
        "{s}"
    );
}

#[test]
fn undeclared_parameter_is_named() {
    let s = err(
        "[[step]]\nphase = \"add\"\nname = \"add\"\nmethod = \"POST\"\nurl = \"{{ params.api_url }}/x\"\nheaders = { \"X-Key\" = \"{{ params.token }}\" }\n",
    );
    assert!(
        s.contains(r#"step "add" field "headers.X-Key": undefined variable "params.token""#),
        "{s}"
    );
}

#[test]
fn unknown_capture_is_named() {
    let s = err(
        "[[step]]\nphase = \"add\"\nname = \"add\"\nmethod = \"POST\"\nurl = \"{{ params.api_url }}/{{ captures.zone }}\"\n",
    );
    assert!(s.contains(r#"undefined variable "captures.zone""#), "{s}");
}

#[test]
fn template_syntax_error() {
    let s = err(
        "[[step]]\nphase = \"add\"\nname = \"add\"\nmethod = \"POST\"\nurl = \"{{ params.api_url }}\"\njson = '''{\"a\": {{ value | tojson }'''\n",
    );
    assert!(
        s.contains(r#"step "add" field "json": syntax error"#),
        "{s}"
    );
}

#[test]
fn unknown_filter() {
    let s = err(
        "[[step]]\nphase = \"add\"\nname = \"add\"\nmethod = \"POST\"\nurl = \"{{ params.api_url | nosuch }}\"\n",
    );
    assert!(
        s.contains(r#"step "add" field "url""#) && s.contains("nosuch"),
        "{s}"
    );
}

#[test]
fn json_body_must_render_to_json() {
    let s = err(
        "[[step]]\nphase = \"add\"\nname = \"add\"\nmethod = \"POST\"\nurl = \"{{ params.api_url }}\"\njson = '''{\"a\": {{ value }}}'''\n",
    );
    assert!(
        s.contains(r#"field "json": does not render to JSON"#),
        "{s}"
    );
}

#[test]
fn bad_jsonpath_names_capture() {
    let s = err(
        "[[step]]\nphase = \"add\"\nname = \"add\"\nmethod = \"POST\"\nurl = \"{{ params.api_url }}\"\ncapture = { id = \"$.result[\" }\n",
    );
    assert!(
        s.starts_with(r#"providers/foo/provider.toml: step "add" capture "id": invalid JSONPath"#),
        "{s}"
    );
}

#[test]
fn bad_when_expression() {
    let s = err(
        "[[step]]\nphase = \"add\"\nname = \"add\"\nmethod = \"POST\"\nurl = \"{{ params.api_url }}\"\nwhen = \"captures.nope is defined\"\n",
    );
    assert!(
        s.contains(r#"field "when": undefined variable "captures.nope""#),
        "{s}"
    );
}

#[test]
fn bad_method_and_missing_add() {
    let s = err(
        "[[step]]\nphase = \"add\"\nname = \"add\"\nmethod = \"FETCH\"\nurl = \"{{ params.api_url }}\"\n",
    );
    assert!(s.contains(r#"field "method""#), "{s}");
    let s = err(
        "[[step]]\nphase = \"delete\"\nname = \"d\"\nmethod = \"DELETE\"\nurl = \"{{ params.api_url }}\"\n",
    );
    assert!(s.contains("no step with phase = \"add\""), "{s}");
}

#[test]
fn missing_parameter_at_binding() {
    let d = Definition::parse(
        &base("[[step]]\nphase = \"add\"\nname = \"add\"\nmethod = \"POST\"\nurl = \"{{ params.api_url }}\"\n"),
        FILE,
    )
    .unwrap();
    let e = d.bind([("api_url", "http://x")]).unwrap_err();
    assert!(matches!(e, DnsError::MissingParameter { .. }));
    assert!(
        e.to_string()
            .contains("missing required parameter \"api_key\""),
        "{e}"
    );
    let e = d
        .bind([("api_url", "http://x"), ("api_key", "k"), ("zz", "1")])
        .unwrap_err();
    assert!(e.to_string().contains("unknown parameter \"zz\""), "{e}");
    let p = d
        .bind([("api_url", "http://x"), ("api_key", "TOPSECRET")])
        .unwrap();
    let dbg = format!("{p:?}");
    assert!(
        !dbg.contains("TOPSECRET") && dbg.contains("<redacted>"),
        "{dbg}"
    );
}

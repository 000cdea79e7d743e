//! `docs/providers.md` is generated from the definitions and must match them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

#[test]
fn provider_docs_are_up_to_date() {
    let generated = certmgr_dns::catalog_markdown(&certmgr_dns::catalog().unwrap());
    let path = certmgr_testkit::repo_root().join("docs/providers.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/providers.md is out of date: run `cargo run -p certmgr -- dns provider docs > docs/providers.md`"
    );
    for definition in certmgr_dns::catalog().unwrap() {
        assert!(
            generated.contains(&definition.provider.api_docs),
            "{}",
            definition.provider.id
        );
    }
}

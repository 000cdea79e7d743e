//! Run by `bench/ui.sh`: loads pages of a running `certmgr server` in
//! headless chromium (through chromedriver, as the browser tests do) and
//! prints, per page, the median over runs of the time to first byte, the
//! time until the page is usable (its data shown: the UI's
//! `certmgr:page` performance mark), the load event, and the bytes
//! transferred (the page, its scripts and styles, and the API answers),
//! as one JSON line per page.
//!
//! Usage: `ui-bench BASE_URL USER PASSWORD RUNS PATH...`. Every run is a
//! cold load: the browser's cache is off.

use std::time::Duration;

use certmgr_testkit::browser::Browser;
use serde_json::{Value, json};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, user, password, runs, paths @ ..] = args.as_slice() else {
        eprintln!("usage: ui-bench BASE_URL USER PASSWORD RUNS PATH...");
        std::process::exit(2);
    };
    let runs: usize = runs.parse().unwrap_or(5);
    let browser = Browser::start("bench", 1280, 900);
    let cdp = |cmd: &str, params: Value| {
        browser.command(
            "POST",
            "goog/cdp/execute",
            json!({"cmd": cmd, "params": params}),
        );
    };
    // Cold loads: no HTTP cache (the domain must be on for that to hold).
    cdp("Network.enable", json!({}));
    cdp("Network.setCacheDisabled", json!({"cacheDisabled": true}));
    browser.goto(&format!("{base}/login"));
    browser.fill("user", user);
    browser.fill("password", password);
    browser.click(&browser.wait("form button.primary"));
    browser.wait("#nav a");
    for path in paths {
        let mut samples = Vec::new();
        for _ in 0..runs {
            cdp("Network.clearBrowserCache", json!({}));
            browser.goto(&format!("{base}{path}"));
            let mut sample = Value::Null;
            browser.wait_until("the page to be usable", || {
                sample = browser.execute(
                    "const nav = performance.getEntriesByType('navigation')[0];
                     const page = performance.getEntriesByName('certmgr:page')[0];
                     if (!nav || !page || nav.loadEventEnd === 0) return null;
                     const all = [nav, ...performance.getEntriesByType('resource')];
                     // A body from the memory cache has no transfer size:
                     // count the body then, so the weight is never understated.
                     const bytes = all.reduce((n, r) => n + Math.max(r.transferSize, r.encodedBodySize), 0);
                     return {ttfb: nav.responseStart - nav.startTime, usable: page.startTime,
                             load: nav.loadEventEnd - nav.startTime, bytes,
                             requests: performance.getEntriesByType('resource').length + 1};",
                    vec![],
                );
                !sample.is_null()
            });
            samples.push(sample);
            std::thread::sleep(Duration::from_millis(200));
        }
        let median = |key: &str| {
            let mut values: Vec<f64> = samples.iter().filter_map(|s| s[key].as_f64()).collect();
            values.sort_by(|a, b| a.total_cmp(b));
            values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
        };
        println!(
            "{}",
            json!({"path": path, "runs": runs, "ttfb_ms": median("ttfb"), "usable_ms": median("usable"),
                   "load_ms": median("load"), "kb": median("bytes") / 1024.0, "requests": median("requests")})
        );
    }
}

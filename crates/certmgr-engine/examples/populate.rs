//! Fill a store with many credentials, for benchmarks (`bench/scheduler.sh`).
//!
//! ```sh
//! certmgr init && certmgr ca create bench
//! cargo run --release -p certmgr-engine --example populate -- DATA_DIR COUNT [FIRST]
//! ```
//!
//! Adds credentials `c<FIRST>` .. `c<FIRST+COUNT-1>` (ECDSA P-256,
//! `c<i>.example.test`) to the SQLite store in `DATA_DIR` (its `master.key`
//! and `certmgr.db`, as `certmgr init` made them), most of them issued by
//! the MicroCA `bench`, in one process (a `cred create` + `cred issue` per
//! credential would spend its time starting processes). By `i % 100`:
//!
//! | `i % 100` | credential | a renewal pass says |
//! |---|---|---|
//! | 0 | issued, 30 days valid, renew 30 days before expiry | due (renewal time reached) |
//! | 1 | created, never issued | due (no certificate yet) |
//! | 2 | issuer `manual`, no certificate | not due (issued outside certmgr) |
//! | 3 | issued, then a failure recorded | not due (backing off) for 5 minutes |
//! | other | issued, 90 days valid, default policy | not due (renews at ...) |

use std::path::PathBuf;

use certmgr_engine::Engine;
use certmgr_engine::credential::{CredentialRequest, create};
use certmgr_engine::microca::issue;
use certmgr_store::{MasterKey, Store};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: populate DATA_DIR COUNT [FIRST]";
    let dir = PathBuf::from(args.next().ok_or_else(|| anyhow::anyhow!(usage))?);
    let count: u64 = args.next().ok_or_else(|| anyhow::anyhow!(usage))?.parse()?;
    let first: u64 = args.next().map_or(Ok(1), |text| text.parse())?;
    let key = MasterKey::read_file(&dir.join("master.key"))?;
    let store = Store::open(&Store::sqlite_url(&dir.join("certmgr.db")), key).await?;
    let engine = Engine::new(&store);
    let started = std::time::Instant::now();
    for i in first..first + count {
        let kind = i % 100;
        let request = CredentialRequest {
            name: format!("c{i}"),
            hosts: vec![format!("c{i}.example.test")],
            issuer: if kind == 2 { "manual" } else { "ca:bench" }.to_owned(),
            validity_days: Some(if kind == 0 { 30 } else { 90 }),
            renew_before_days: (kind == 0).then_some(30),
            ..CredentialRequest::default()
        };
        let credential = create(&engine, &request.parse()?).await?;
        if kind != 1 && kind != 2 {
            issue(&engine, &credential).await?;
        }
        if kind == 3 {
            let credential = store.credential(&credential.name).await?;
            store
                .record_failure(&credential, "issue-failed", "benchmark: a failure")
                .await?;
        }
        if (i - first + 1).is_multiple_of(10_000) {
            eprintln!(
                "populate: {} credentials in {:.1} s",
                i - first + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    store.close().await;
    Ok(())
}

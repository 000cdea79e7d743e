//! One pass of `certmgr server`'s scheduler over a store, as a dry run, for
//! benchmarks (`bench/scheduler.sh`): the credentials the due index selects
//! ([`Scope::Due`]), planned, nothing issued.
//!
//! ```sh
//! cargo run --release -p certmgr-engine --example scheduler_pass -- DATA_DIR
//! ```
//!
//! Prints how many credentials the pass looked at and how many were due.

use std::path::PathBuf;

use certmgr_engine::Engine;
use certmgr_engine::renewal::{Scope, SolverChoice, renew_due};
use certmgr_engine::responders::AnswerOptions;
use certmgr_store::{MasterKey, Store};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or_else(|| anyhow::anyhow!("usage: scheduler_pass DATA_DIR"))?,
    );
    let key = MasterKey::read_file(&dir.join("master.key"))?;
    let store = Store::open(&Store::sqlite_url(&dir.join("certmgr.db")), key).await?;
    let engine = Engine::new(&store);
    let solver = SolverChoice::FromOptions(AnswerOptions::default());
    let decisions = renew_due(&engine, solver, true, Scope::Due).await?;
    let due = decisions.iter().filter(|d| d.due).count();
    println!("looked at {}, due {due}", decisions.len());
    store.close().await;
    Ok(())
}

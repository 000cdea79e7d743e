//! certmgr's credential lifecycle, as a library.
//!
//! The command line, the server and (later) the agent are front ends: they
//! parse what the user asked, call the same function here, and render what
//! it returns. Issuance runs one way through the crates:
//!
//! ```text
//! front end → certmgr-engine → certmgr-acme (orders) → ChallengeSolver (solver.rs)
//!                            ↘ certmgr-store          ↘ dns01 → certmgr-dns / certmgr-dnswire
//! ```
//!
//! - [`Engine`]: the store and the clock one run works with.
//! - [`credential`]: what a new credential may be (the rules, checked once).
//! - [`issuance`], [`microca`], [`import`], [`acme`]: the ways a certificate comes to be.
//! - [`renewal`]: the planner (what is due, and when) and the renewal run.
//! - [`dns01`], [`solver`], [`answers`]: DNS accounts and providers, publishing and serving challenge answers.
//! - [`dxl_import`]: moving a Domino CertMgr setup over.
//! - [`trust`]: the trust store.
//! - [`serving`]: the manager's own TLS certificate.
//! - [`check`]: the pre-flight check of HTTP-01 and TLS-ALPN-01 reachability.
//! - [`limits`], [`instance`]: issuance deadlines and leases, and this process as their owner.
//! - [`access`]: users and API tokens, roles and tag scopes; [`session`]: browser sessions.
//! - [`audit`]: the audit log (who did what, from where, how it ended).
//! - [`notify`]: notifications (e-mail, webhooks) about credentials that need people.
//! - [`progress`]: the `tracing` targets of the events front ends show.
//! - [`view`]: what front ends show (`--json`, the REST API), secrets left out.
//! - [`error`]: one error type, classified once as bad input or failure.

pub mod access;
pub mod acme;
pub mod answers;
pub mod audit;
pub mod check;
pub mod clock;
pub mod credential;
mod danger;
pub mod dashboard;
pub mod dns01;
pub mod dxl_import;
pub mod error;
pub mod export;
pub mod import;
pub mod instance;
pub mod issuance;
pub mod limits;
pub mod microca;
pub mod notify;
pub mod progress;
pub mod records;
pub mod renewal;
pub mod responders;
pub mod serving;
pub mod session;
pub mod solver;
pub mod telemetry;
pub mod trust;
pub mod view;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{EngineError, EngineResult, ErrorKind, Hint, InputError};

use certmgr_store::Store;

/// What one run of the lifecycle works with: the store and the clock.
///
/// Cheap to copy; every front end makes one per command or request.
#[derive(Clone, Copy)]
pub struct Engine<'a> {
    store: &'a Store,
    clock: &'a dyn Clock,
}

impl<'a> Engine<'a> {
    /// The lifecycle on this store, on the system clock.
    pub fn new(store: &'a Store) -> Self {
        Engine {
            store,
            clock: &SystemClock,
        }
    }

    /// The lifecycle on this store, reading the time from `clock` (tests).
    pub fn with_clock(store: &'a Store, clock: &'a dyn Clock) -> Self {
        Engine { store, clock }
    }

    /// The store.
    pub fn store(&self) -> &'a Store {
        self.store
    }

    /// The clock.
    pub fn clock(&self) -> &'a dyn Clock {
        self.clock
    }

    /// Now, in Unix seconds, by this engine's clock.
    pub fn now(&self) -> i64 {
        self.clock.unix()
    }
}

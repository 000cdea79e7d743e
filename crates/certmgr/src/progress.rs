//! The engine's progress events, printed as lines on stderr.
//!
//! The engine emits `tracing` events ([`certmgr_engine::progress`]); this
//! layer prints steps as `  step`, results of a run over many credentials
//! as `  name: result`, and warnings as `warning: text`. Which of them a
//! command shows is its [`Show`]; warnings always show.

use std::io::Write as _;

use certmgr_engine::progress::{RESULT, STEP, WARNING};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// Which progress lines a command prints.
#[derive(Debug, Clone, Copy)]
pub struct Show {
    /// Steps of one operation (orders placed, chains chosen).
    pub steps: bool,
    /// One line per credential of a run over many.
    pub results: bool,
}

/// Print the engine's events for the rest of the process, as `show` says.
pub fn install(show: Show) {
    // Only fails if a subscriber is already installed: then that one prints.
    let _ = tracing_subscriber::registry()
        .with(Lines { show })
        .try_init();
}

struct Lines {
    show: Show,
}

impl<S: Subscriber> Layer<S> for Lines {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let target = event.metadata().target();
        let lead = match target {
            STEP if self.show.steps => "  ",
            RESULT if self.show.results => "  ",
            WARNING => "warning: ",
            _ => return,
        };
        // A closed stderr leaves nowhere to say anything.
        let _ = writeln!(
            std::io::stderr().lock(),
            "{lead}{}",
            certmgr_engine::progress::message(event)
        );
    }
}

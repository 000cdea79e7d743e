//! Long operations (issuing, renewing) as jobs: the request returns 202 at
//! once, the operation runs in its own task (it goes on when the client
//! goes away), and its progress — the engine's `tracing` events, the same
//! steps the command line prints — is kept with the job and streamed to
//! whoever watches it. The final state stays until [`KEPT_JOBS`] newer
//! jobs have finished.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use certmgr_engine::progress::{RESULT, STEP, WARNING};
use serde::Serialize;
use tokio::sync::broadcast;
use tracing::instrument::WithSubscriber as _;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use utoipa::ToSchema;

use crate::problem::Problem;

/// How many finished jobs are kept for their watchers.
pub const KEPT_JOBS: usize = 1000;

/// One line of a job's progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobEvent {
    /// 1, 2, ... in the order the engine emitted them.
    pub seq: u64,
    /// `step`, `warning` or `result`.
    pub level: String,
    /// What happened, as the command line prints it.
    pub message: String,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Still running.
    Running,
    /// Done as asked.
    Succeeded,
    /// Ended with a problem.
    Failed,
}

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    /// The job's id (a UUID).
    pub id: String,
    /// `issue` or `renew`.
    pub kind: String,
    /// The credential it works on.
    pub credential: String,
    /// Who started it.
    pub actor: String,
    /// Where it is.
    pub status: JobStatus,
    /// Its progress so far.
    pub events: Vec<JobEvent>,
    /// What it produced, once succeeded: for an issue or a renewal the
    /// credential's name, version, status and expiry (an object); for a
    /// renewal run the decisions (an array).
    #[schema(value_type = Value)]
    pub result: Option<serde_json::Value>,
    /// Why it failed, once failed.
    pub problem: Option<Problem>,
}

/// What a watcher is told.
#[derive(Debug, Clone)]
pub enum JobMessage {
    /// A new line of progress.
    Event(JobEvent),
    /// The job ended (its view holds the outcome).
    Finished,
}

/// One job: its view, and the channel its watchers listen on.
pub struct Job {
    view: Mutex<JobView>,
    watchers: broadcast::Sender<JobMessage>,
}

impl Job {
    fn lock(&self) -> MutexGuard<'_, JobView> {
        // A panic while holding the lock leaves a view that is still whole
        // (every write is one assignment or push).
        self.view
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The job as it is now.
    pub fn view(&self) -> JobView {
        self.lock().clone()
    }

    /// The job as it is now, and a receiver of everything after it (taken
    /// together, so nothing falls between them).
    pub fn watch(&self) -> (JobView, broadcast::Receiver<JobMessage>) {
        let view = self.lock();
        (view.clone(), self.watchers.subscribe())
    }

    /// The events after `seq`, and whether the job has ended.
    pub fn since(&self, seq: u64) -> (Vec<JobEvent>, bool) {
        let view = self.lock();
        (
            view.events
                .iter()
                .filter(|e| e.seq > seq)
                .cloned()
                .collect(),
            view.status != JobStatus::Running,
        )
    }

    fn push(&self, level: &str, message: String) {
        let mut view = self.lock();
        let event = JobEvent {
            seq: view.events.len() as u64 + 1,
            level: level.to_owned(),
            message,
        };
        view.events.push(event.clone());
        // No watcher is fine.
        let _ = self.watchers.send(JobMessage::Event(event));
    }

    fn finish(&self, outcome: Result<serde_json::Value, Problem>) {
        let mut view = self.lock();
        match outcome {
            Ok(result) => {
                view.status = JobStatus::Succeeded;
                view.result = Some(result);
            }
            Err(problem) => {
                view.status = JobStatus::Failed;
                view.problem = Some(problem);
            }
        }
        let _ = self.watchers.send(JobMessage::Finished);
    }
}

/// The server's jobs.
#[derive(Clone, Default)]
pub struct Jobs {
    inner: Arc<Mutex<JobTable>>,
}

#[derive(Default)]
struct JobTable {
    by_id: HashMap<String, Arc<Job>>,
    /// Ids in the order they were started, to drop the oldest finished.
    order: VecDeque<String>,
}

impl Jobs {
    fn table(&self) -> MutexGuard<'_, JobTable> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The job with this id, if it is still kept.
    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.table().by_id.get(id).cloned()
    }

    /// How many jobs are running.
    pub fn running(&self) -> usize {
        self.table()
            .by_id
            .values()
            .filter(|job| job.lock().status == JobStatus::Running)
            .count()
    }

    /// Start `work` as a job of `kind` on `credential` for `actor`; its
    /// engine events become the job's progress.
    pub fn start<F>(&self, kind: &str, credential: &str, actor: &str, work: F) -> Arc<Job>
    where
        F: Future<Output = Result<serde_json::Value, Problem>> + Send + 'static,
    {
        let (watchers, _) = broadcast::channel(256);
        let job = Arc::new(Job {
            view: Mutex::new(JobView {
                id: uuid::Uuid::now_v7().to_string(),
                kind: kind.to_owned(),
                credential: credential.to_owned(),
                actor: actor.to_owned(),
                status: JobStatus::Running,
                events: Vec::new(),
                result: None,
                problem: None,
            }),
            watchers,
        });
        let id = job.lock().id.clone();
        {
            let mut table = self.table();
            table.by_id.insert(id.clone(), job.clone());
            table.order.push_back(id);
            while table.order.len() > KEPT_JOBS {
                let Some(oldest) = table.order.iter().position(|id| {
                    table
                        .by_id
                        .get(id)
                        .is_none_or(|job| job.lock().status != JobStatus::Running)
                }) else {
                    break;
                };
                if let Some(id) = table.order.remove(oldest) {
                    table.by_id.remove(&id);
                }
            }
        }
        let subscriber = tracing_subscriber::registry().with(Progress { job: job.clone() });
        tokio::spawn({
            let job = job.clone();
            async move {
                let outcome = work.with_subscriber(subscriber).await;
                job.finish(outcome);
            }
        });
        job
    }
}

/// The layer that turns the engine's progress events into a job's events.
struct Progress {
    job: Arc<Job>,
}

impl<S: Subscriber> Layer<S> for Progress {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = match event.metadata().target() {
            STEP => "step",
            RESULT => "result",
            WARNING => "warning",
            _ => return,
        };
        self.job
            .push(level, certmgr_engine::progress::message(event));
    }
}

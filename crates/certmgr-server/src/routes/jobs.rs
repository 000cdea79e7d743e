//! Issue and renew as jobs (202 with the job's URL), the job's state, and
//! its progress as Server-Sent Events.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use certmgr_engine::Engine;
use certmgr_engine::responders::AnswerOptions;
use futures_util::stream::{self, Stream};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use crate::AppState;
use crate::extract::PathParams;
use crate::gate::{Caller, credential_in_scope};
use crate::jobs::{Job, JobMessage, JobView};
use crate::problem::{ApiResult, Problem};

/// A job just started.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobStarted {
    /// The job's id.
    id: String,
    /// Where its state is (`GET`).
    url: String,
    /// Where its progress streams (`GET`, Server-Sent Events).
    events_url: String,
}

/// Issue the credential's first (or next) certificate, as a job.
#[utoipa::path(post, path = "/api/credentials/{name}/issue", tag = "credentials",
    params(("name" = String, Path, description = "The credential's name")),
    responses((status = 202, body = JobStarted), (status = 404, body = Problem)))]
pub async fn issue(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Response> {
    start(state, caller, name, "issue")
}

/// Renew the credential now (a new version), as a job.
#[utoipa::path(post, path = "/api/credentials/{name}/renew", tag = "credentials",
    params(("name" = String, Path, description = "The credential's name")),
    responses((status = 202, body = JobStarted), (status = 404, body = Problem)))]
pub async fn renew(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Response> {
    start(state, caller, name, "renew")
}

/// Renew every credential that is due, as a job (what the scheduler does,
/// now); its result is the list of decisions.
#[utoipa::path(post, path = "/api/renewal/run", tag = "credentials",
    responses((status = 202, body = JobStarted)))]
pub async fn renew_due(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Response> {
    let store = state.shared_store();
    let clock = state.shared_clock();
    let job = state
        .jobs()
        .start("renew-due", "", &caller.actor.name, async move {
            let engine = Engine::with_clock(&store, &*clock);
            let decisions = certmgr_engine::renewal::renew_due(
                &engine,
                certmgr_engine::renewal::SolverChoice::FromOptions(AnswerOptions::default()),
                false,
                certmgr_engine::renewal::Scope::Every,
            )
            .await?;
            serde_json::to_value(decisions)
                .map_err(|e| Problem::failed(format!("the renewal run's decisions: {e}")))
        });
    Ok(accepted(&job.view().id))
}

/// Start issuing `name` in its own task: the answers go through this
/// server's challenge listeners (the engine finds it registered in the store).
fn start(state: AppState, caller: Caller, name: String, kind: &str) -> ApiResult<Response> {
    let store = state.shared_store();
    let clock = state.shared_clock();
    let job = state.jobs().start(kind, &name, &caller.actor.name, {
        let name = name.clone();
        async move {
            let engine = Engine::with_clock(&store, &*clock);
            let version =
                certmgr_engine::issuance::issue(&engine, &name, &AnswerOptions::default()).await?;
            let credential = store
                .credential(&name)
                .await
                .map_err(certmgr_engine::EngineError::from)?;
            Ok(serde_json::json!({
                "name": name,
                "version": version,
                "status": credential.status,
                "not_after": credential.not_after,
            }))
        }
    });
    Ok(accepted(&job.view().id))
}

/// 202 with the job's URLs.
fn accepted(id: &str) -> Response {
    let url = format!("/api/jobs/{id}");
    let mut response = (
        StatusCode::ACCEPTED,
        Json(JobStarted {
            events_url: format!("{url}/events"),
            url: url.clone(),
            id: id.to_owned(),
        }),
    )
        .into_response();
    if let Ok(location) = url.parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The job `id`, if the caller may see it: its credential must be in the
/// caller's scope (a job of a credential since deleted is the admins').
async fn visible_job(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Arc<Job>> {
    let not_found = || {
        Problem::not_found(format!(
            "no job {id:?} (jobs are kept until the server restarts)"
        ))
    };
    let job = state.jobs().get(id).ok_or_else(not_found)?;
    if caller.principal.scope.is_some() {
        let credential = job.view().credential;
        if credential.is_empty() {
            return Err(not_found());
        }
        credential_in_scope(state, caller, &credential)
            .await
            .map_err(|_| not_found())?;
    }
    Ok(job)
}

/// A job's state, progress and outcome.
#[utoipa::path(get, path = "/api/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses((status = 200, body = JobView), (status = 404, body = Problem)))]
pub async fn job(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Json<JobView>> {
    Ok(Json(visible_job(&state, &caller, &id).await?.view()))
}

/// A job's progress as Server-Sent Events: every step so far, then each new
/// one as it happens (`event: step|warning|result`, the data a JSON
/// `JobEvent`), and at the end one `event: end` with the job's final state.
#[utoipa::path(get, path = "/api/jobs/{id}/events", tag = "jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses((status = 200, content_type = "text/event-stream", body = JobStreamEvent),
        (status = 404, body = Problem)))]
pub async fn job_events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let job = visible_job(&state, &caller, &id).await?;
    Ok(Sse::new(event_stream(job)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// One event of a job's stream, as the document describes it (the schema
/// of each event of `text/event-stream`, as OpenAPI 3.2 reads it).
pub struct JobStreamEvent;

impl utoipa::PartialSchema for JobStreamEvent {
    fn schema() -> RefOr<Schema> {
        let text = || ObjectBuilder::new().schema_type(Type::String);
        ObjectBuilder::new()
            .description(Some("One Server-Sent Event of a job's progress"))
            .property(
                "event",
                text()
                    .enum_values(Some(["step", "warning", "result", "end"]))
                    .description(Some(
                        "step, warning or result (the data a JobEvent), or end (the data the job's final JobView)",
                    )),
            )
            .required("event")
            .property(
                "id",
                text().description(Some("The step's sequence number (not on end)")),
            )
            .property(
                "data",
                text()
                    .content_media_type("application/json")
                    .description(Some("The JobEvent or JobView, JSON")),
            )
            .required("data")
            .into()
    }
}

impl utoipa::ToSchema for JobStreamEvent {}

/// Where a watcher is.
enum Watch {
    /// Sending what happened, then waiting for more after `seq`.
    Live {
        job: Arc<Job>,
        pending: std::collections::VecDeque<crate::jobs::JobEvent>,
        receiver: tokio::sync::broadcast::Receiver<JobMessage>,
        seq: u64,
        ended: bool,
    },
    /// The `end` event went out.
    Done,
}

fn event_stream(job: Arc<Job>) -> impl Stream<Item = Result<Event, Infallible>> {
    let (view, receiver) = job.watch();
    let ended = view.status != crate::jobs::JobStatus::Running;
    let start = Watch::Live {
        job,
        pending: view.events.into(),
        receiver,
        seq: 0,
        ended,
    };
    stream::unfold(start, |watch| async move {
        let Watch::Live {
            job,
            mut pending,
            mut receiver,
            mut seq,
            mut ended,
        } = watch
        else {
            return None;
        };
        loop {
            if let Some(event) = pending.pop_front() {
                if event.seq <= seq {
                    continue;
                }
                seq = event.seq;
                let sse = Event::default()
                    .event(event.level.clone())
                    .id(event.seq.to_string())
                    .json_data(&event)
                    .unwrap_or_default();
                let next = Watch::Live {
                    job,
                    pending,
                    receiver,
                    seq,
                    ended,
                };
                return Some((Ok(sse), next));
            }
            if ended {
                let end = Event::default()
                    .event("end")
                    .json_data(job.view())
                    .unwrap_or_default();
                return Some((Ok(end), Watch::Done));
            }
            match receiver.recv().await {
                Ok(JobMessage::Event(event)) => pending.push_back(event),
                Ok(JobMessage::Finished) | Err(RecvError::Closed) => {
                    let (rest, _) = job.since(seq);
                    pending.extend(rest);
                    ended = true;
                }
                Err(RecvError::Lagged(_)) => {
                    let (rest, finished) = job.since(seq);
                    pending.extend(rest);
                    ended = finished;
                }
            }
        }
    })
}

//! The Sessions pane's list: what runs (in every project, so other projects' are one
//! click away) and a bounded page of a project's newest ended sessions, so a project with
//! thousands of ended sessions costs the same as one with ten.

use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Most ended sessions of a project the pane is sent unless it asks for more (the newest
/// by when they ended); "Older sessions" asks for this many more each time.
pub const ENDED_SHOWN: usize = 50;
/// The most ended sessions the pane is sent however many it asks for (older ones are in
/// their tasks' details, `GET /api/sessions` and `maestro session list`).
pub const ENDED_MAX: usize = page::PAGE_ROWS_MAX;
/// Most running sessions of other projects the pane is sent.
pub const OTHERS_SHOWN: usize = 200;

/// A project's sessions as the Sessions pane lists them, as of `seq`.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PaneSessions {
    /// Running: this project's (a page), then other projects' (at most [`OTHERS_SHOWN`]).
    pub running: Vec<Session>,
    /// This project's newest ended, as many as asked (at most [`ENDED_MAX`]), newest first.
    pub ended: Vec<Session>,
    /// Older ended sessions exist than those sent.
    pub more_ended: bool,
    pub seq: u64,
}

/// Where "Clear finished" cleared a project's pane to: the `Session::ended_key` of the
/// newest session it took off (those that ended up to it are not listed again).
pub type ClearedTo = (Millis, String);

/// `ended`: how many of the newest ended to send ([`ENDED_SHOWN`] when not said), of those
/// that ended after `cleared_to`.
#[server(prefix = "/sfn", input = Json)]
pub async fn list_pane_sessions(
    project_id: String,
    ended: Option<usize>,
    cleared_to: Option<ClearedTo>,
) -> Result<PaneSessions, FnError> {
    let store = super::ssr::store()?;
    let shown = ended.unwrap_or(ENDED_SHOWN).clamp(1, ENDED_MAX);
    let ((running, ended, more_ended), seq) = store.read_at(|s| {
        let pid = project_id.as_str();
        let run = |here: bool, limit| {
            let rows = s.sessions_where(None, None, Some(SessionStatus::Running));
            page::page(rows.filter(move |x| (x.project_id == pid) == here), None, limit).rows
        };
        let mut running = run(true, page::PAGE_ROWS_MAX);
        running.extend(run(false, OTHERS_SHOWN));
        // Only the newest ended are sorted and copied.
        let kept = |x: &Session| cleared_to.as_ref().is_none_or(|(at, id)| x.ended_key() > (*at, id.as_str()));
        let mut ended: Vec<&Session> = s
            .sessions_where(None, Some(&project_id), None)
            .filter(|x| x.status != SessionStatus::Running && kept(x))
            .collect();
        let newest = |a: &&Session, b: &&Session| b.ended_key().cmp(&a.ended_key());
        let more = ended.len() > shown;
        if more {
            ended.select_nth_unstable_by(shown, newest);
            ended.truncate(shown);
        }
        ended.sort_by(newest);
        let copy = |v: Vec<&Session>| v.into_iter().cloned().collect::<Vec<_>>();
        (copy(running), copy(ended), more)
    });
    Ok(PaneSessions { running, ended, more_ended, seq })
}

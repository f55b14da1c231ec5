//! `maestro watch`: live events, one per line, in `seq` order, resuming with `?since=`
//! after a drop (the client's `watch` does that); `resync` is printed when the server says
//! events were missed.

use super::exit::Done;
use super::output::{self, Out};
use crate::model::*;
use crate::rest_client::{Client, ClientError};
use futures::StreamExt;

#[derive(clap::Args, Debug)]
pub struct WatchArgs {
    /// Start after this `seq` (replaying what the log retains) instead of from now.
    #[arg(long)]
    since: Option<u64>,
    /// Only these events: a name (`task:updated`) or a kind (`task`); repeatable.
    #[arg(long = "event", value_name = "KIND")]
    events: Vec<String>,
    /// Stop after printing this many events.
    #[arg(long)]
    count: Option<u64>,
}

pub async fn run(client: &Client, out: Out, args: WatchArgs) -> Done {
    let wanted = |name: &str| {
        args.events.is_empty()
            || args.events.iter().any(|k| k == name || name.split(':').next() == Some(k.trim_end_matches(':')))
    };
    let mut printed = 0;
    if args.count == Some(0) {
        return Ok(());
    }
    // Unreachable or refused at the start is an error; a drop later is waited out.
    if let Err(e) = client.health().await {
        if e.status() != Some(503) {
            return Err(e.into()); // 503: up, but degraded; events still flow
        }
    }
    let mut stream = std::pin::pin!(client.watch(args.since));
    while let Some(msg) = stream.next().await {
        let msg = match msg {
            Ok(m) => m,
            Err(e @ ClientError::Api { status: 400..=499, .. }) => return Err(e.into()),
            Err(e) => {
                eprintln!("maestro: {e}; reconnecting");
                continue;
            }
        };
        match msg {
            ServerMessage::Resync { seq } => {
                if out.json {
                    output::println_safe(&ServerMessage::resync_json(seq));
                } else {
                    output::println_safe(&format!("resync\t{seq}"));
                }
            }
            ServerMessage::Event(e) => {
                if !wanted(e.data.name()) {
                    continue;
                }
                if out.json {
                    out_line_json(&e);
                } else {
                    output::println_safe(&line(out, &e));
                }
                printed += 1;
                if args.count.is_some_and(|c| printed >= c) {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

fn out_line_json(e: &Event) {
    output::println_safe(&serde_json::to_string(e).unwrap_or_default());
}

/// `seq  time  event  id  what`: aligned on a terminal, tab-separated when piped.
fn line(out: Out, e: &Event) -> String {
    let (id, what) = describe(out, &e.data);
    let cells = [e.seq.to_string(), output::when(e.timestamp), e.data.name().to_string(), id, what];
    if out.tty {
        format!("{:>6}  {}  {:<21}  {:<24}  {}", cells[0], cells[1], cells[2], cells[3], cells[4])
    } else {
        cells.map(|c| c.replace(['\t', '\n', '\r'], " ")).join("\t")
    }
}

/// The entity an event is about, and a few words on it.
fn describe(out: Out, d: &EventData) -> (String, String) {
    use EventData::*;
    match d {
        ProjectCreated(p) | ProjectUpdated(p) => (p.id.clone(), p.name.clone()),
        TaskCreated(t) | TaskUpdated(t) => (t.id.clone(), format!("{} {}", out.status(t.status.as_str()), t.title)),
        SessionCreated(s) | SessionUpdated(s) => {
            (s.id.clone(), format!("{} {}", out.status(s.status.as_str()), s.name))
        }
        WorkspaceCreated(w) | WorkspaceUpdated(w) => {
            let c = &w.changes;
            (w.id.clone(), format!("{} {} +{} -{}", out.status(w.status.as_str()), w.branch, c.additions, c.deletions))
        }
        CommentCreated(c) | CommentUpdated(c) => (
            c.id.clone(),
            format!("{} {} {}", out.status(c.status.as_str()), c.place(), c.body.lines().next().unwrap_or("")),
        ),
        ProjectDeleted(x) | TaskDeleted(x) | SessionDeleted(x) | WorkspaceDeleted(x) | CommentDeleted(x) => {
            (x.id.clone(), String::new())
        }
        SessionTaskAdded(l) | SessionTaskRemoved(l) => (l.session_id.clone(), l.task_id.clone()),
        TaskSessionAdded(l) | TaskSessionRemoved(l) => (l.task_id.clone(), l.session_id.clone()),
    }
}

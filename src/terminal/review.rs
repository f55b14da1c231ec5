//! "Send to agent" (SPEC §8 "Review"): a workspace's draft comments as one message, typed
//! into the terminal of the agent's session running in it as its next prompt — the way a
//! person types it — or, with none running, the prompt of a session started on it (never
//! into a shell's, which would run the words as commands). Then
//! the drafts typed become `sent` (one written meanwhile stays a draft).
//!
//! Typing: an interactive agent (Claude Code, Codex, aider) reads its keyboard in raw mode
//! and takes a carriage return as "send", so a message of several lines is typed as a
//! bracketed paste (`ESC[200~ … ESC[201~`, newlines and all, then the return) when the
//! program asked for those (`ESC[?2004h`, the last such switch within its scrollback).
//! A program that did not (one reading lines) would take each line as a prompt of its own,
//! so it gets the message as one line.

use super::{Term, Terminals, INPUT_CHUNK};
use crate::http::AppError;
use crate::model::limits::SESSION_PROMPT_MAX;
use crate::model::{
    review_message, CommentStatus, CommentsSent, NewSession, ReviewComment, SendComments, Session, SessionStatus,
    WorkspaceStatus,
};
use crate::store::{Command, IdempotencyKey, Outcome};
use axum::http::StatusCode;
use bytes::Bytes;
use std::sync::atomic::Ordering;

const PASTE_ON: &[u8] = b"\x1b[?2004h";
const PASTE_OFF: &[u8] = b"\x1b[?2004l";

impl Terminals {
    /// Sends workspace `id`'s drafts to its agent (see the module). Passed to the node
    /// holding the workspace when that is another (`relayed`: this request was passed here).
    pub async fn send_comments(
        &self,
        id: &str,
        req: &SendComments,
        relayed: bool,
        key: Option<IdempotencyKey>,
    ) -> Result<CommentsSent, AppError> {
        let w = self.store.read_fresh(|st| st.workspaces.get(id).cloned()).await;
        let w = w.ok_or_else(|| AppError::not_found(format!("workspace {id} not found")))?;
        let drafts: Vec<ReviewComment> = self.store.read(|st| {
            let all = st.workspace_comments(id).into_iter();
            all.filter(|c| c.status == CommentStatus::Draft).cloned().collect()
        });
        if w.status != WorkspaceStatus::Active {
            return Err(conflict(format!("workspace {id} is {}: its agent has nothing to work on", w.status.as_str())));
        }
        if let Some(ws) = &self.workspaces {
            let body = serde_json::to_value(req).map_err(|e| AppError::invalid(e.to_string()))?;
            if let Some(answer) = ws.relayed(relayed).pass(&w, "/comments/send", body, key.as_ref()).await {
                return answer;
            }
        }
        if drafts.is_empty() {
            return Err(conflict(format!("workspace {id} has no draft comments to send")));
        }
        let text = review_message(&drafts.iter().collect::<Vec<_>>()).replace('\r', "");
        if text.len() > SESSION_PROMPT_MAX {
            return Err(conflict(format!(
                "the drafts come to {} KiB together, more than the {} KiB one message may hold: send fewer (delete or \
                 resolve some)",
                text.len().div_ceil(1024),
                SESSION_PROMPT_MAX / 1024
            )));
        }
        let (session_id, started) = match self.running_in(id) {
            Some((s, term)) => {
                type_message(&term, &text).await.map_err(|why| {
                    AppError::new(StatusCode::CONFLICT, "conflict", format!("session {}: {why}", s.id))
                })?;
                (s.id, false)
            }
            None => (self.start_with(&w, req, text, key.clone()).await?, true),
        };
        let ids = drafts.into_iter().map(|c| c.id).collect();
        let comments =
            match self.store.execute(Command::SendComments { workspace_id: id.to_string(), ids }, None).await? {
                Outcome::Comments(c) => c,
                _ => Vec::new(),
            };
        Ok(CommentsSent { session_id, started, comments })
    }

    /// The newest running agent's session in workspace `id` whose terminal runs here. A
    /// session without an agent is a shell: what it is typed, it runs as commands.
    fn running_in(&self, id: &str) -> Option<(Session, std::sync::Arc<Term>)> {
        let mut sessions: Vec<Session> = self.store.read(|st| {
            st.sessions
                .values()
                .filter(|s| s.workspace_id.as_deref() == Some(id) && s.status == SessionStatus::Running)
                .filter(|s| s.agent_id.is_some())
                .cloned()
                .collect()
        });
        sessions.sort_by_key(|s| std::cmp::Reverse(s.started_at));
        sessions.into_iter().find_map(|s| {
            let term = self.get(&s.id)?;
            let running = term.exited.borrow().is_none();
            running.then_some((s, term))
        })
    }

    /// A session on the workspace's task, in it, with the message as its prompt; its agent
    /// started. Its id.
    async fn start_with(
        &self,
        w: &crate::model::Workspace,
        req: &SendComments,
        text: String,
        key: Option<IdempotencyKey>,
    ) -> Result<String, AppError> {
        let agent = match &req.agent_id {
            Some(a) => a.clone(),
            None => self.agents.list(&w.project_id).into_iter().next().map(|a| a.id).ok_or_else(|| {
                conflict(format!(
                    "no agent runs in workspace {} (a shell is not typed comments: it would run them) and no agent \
                     is configured to start one with them",
                    w.id
                ))
            })?,
        };
        self.agents.check(&w.project_id, Some(&agent)).map_err(AppError::invalid)?;
        let ns = NewSession {
            project_id: w.project_id.clone(),
            task_ids: vec![w.task_id.clone()],
            agent_id: Some(agent),
            workspace: Some(w.id.clone()),
            prompt: Some(text),
            ..Default::default()
        };
        match self.store.execute(Command::CreateSession { session: ns }, key).await? {
            Outcome::Session(s) => {
                self.start_agent(&s).await;
                Ok(s.id)
            }
            _ => Err(AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "no session was made")),
        }
    }
}

/// Types `text` into `term` then a carriage return (see the module for how).
async fn type_message(term: &Term, text: &str) -> Result<(), String> {
    let mut bytes = Vec::with_capacity(text.len() + 16);
    if pastes(term) {
        bytes.extend_from_slice(b"\x1b[200~");
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(b"\x1b[201~");
    } else {
        let line: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        bytes.extend_from_slice(line.join(" ").as_bytes());
    }
    bytes.push(b'\r');
    // Said before the program can see it: what it prints in answer is working.
    term.typed.store(true, Ordering::Relaxed);
    for piece in bytes.chunks(INPUT_CHUNK) {
        let room = term.input.reserve().await.map_err(|_| "its terminal has closed".to_string())?;
        term.queue(room, Bytes::copy_from_slice(piece));
    }
    Ok(())
}

/// Whether the program in `term` last asked for bracketed paste (within its recent output).
fn pastes(term: &Term) -> bool {
    let all = term.recent.held();
    let last = |pat: &[u8]| all.windows(pat.len()).rposition(|w| w == pat);
    match (last(PASTE_ON), last(PASTE_OFF)) {
        (Some(on), Some(off)) => on > off,
        (on, _) => on.is_some(),
    }
}

fn conflict(why: String) -> AppError {
    AppError::new(StatusCode::CONFLICT, "conflict", why)
}

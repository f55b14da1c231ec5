//! Review comments (SPEC §8): written on an active workspace's diff as drafts, edited or
//! deleted while drafts, marked sent when "Send to agent" typed them (the ones it typed:
//! a draft written meanwhile stays a draft), and resolved. They go with their workspace.

use super::{Inputs, Plan};
use crate::model::limits::{COMMENT_MAX, NAME_MAX, PATH_MAX, WORKSPACE_COMMENTS_MAX};
use crate::model::{
    CommentPatch, CommentSide, CommentStatus, Deleted, EventData, NewComment, ReviewComment, WorkspaceStatus,
};
use crate::store::state::validate::{bounded, clean};
use crate::store::state::State;
use crate::store::{Outcome, StoreError};

/// Who wrote a comment when no one said.
pub const PERSON: &str = "person";

impl State {
    pub(super) fn create_comment(
        &self,
        workspace_id: &str,
        nc: &NewComment,
        ctx: &mut Inputs<'_>,
    ) -> Result<Plan, StoreError> {
        let w = self.workspace(workspace_id)?;
        if w.status != WorkspaceStatus::Active {
            return Err(StoreError::Conflict(format!(
                "workspace {workspace_id} is {}: comments are written on an active one",
                w.status.as_str()
            )));
        }
        let path = nc.path.as_str();
        if path.trim().is_empty() || path.len() > PATH_MAX || path.chars().any(char::is_control) {
            return Err(StoreError::Invalid(format!(
                "path must name a file of the diff: not blank, no control characters, at most {PATH_MAX} bytes"
            )));
        }
        // A range given backwards (shift-click upwards) is the same range.
        let end = nc.end_line.unwrap_or(nc.line);
        let (line, end_line) = (nc.line.min(end), nc.line.max(end));
        if line == 0 {
            return Err(StoreError::Invalid("lines count from 1".into()));
        }
        let body = body(&nc.body)?;
        let author = match nc.author.as_deref() {
            Some(a) => clean("author", a, NAME_MAX)?,
            None => PERSON.to_string(),
        };
        if self.comments.values().filter(|c| c.workspace_id == workspace_id).count() >= WORKSPACE_COMMENTS_MAX {
            return Err(StoreError::Conflict(format!(
                "workspace {workspace_id} already has {WORKSPACE_COMMENTS_MAX} comments; delete resolved ones first"
            )));
        }
        let c = ReviewComment {
            id: (ctx.new_id)("cmt"),
            workspace_id: workspace_id.to_string(),
            path: path.to_string(),
            line,
            end_line,
            side: nc.side.unwrap_or(CommentSide::New),
            body,
            status: CommentStatus::Draft,
            author,
            created_at: ctx.now,
            updated_at: ctx.now,
            version: 1,
        };
        Ok(Plan { events: vec![EventData::CommentCreated(c.clone())], outcome: Outcome::Comment(c) })
    }

    /// A new body is a draft's only (what was sent was sent); any status may follow any,
    /// but `sent` is "Send to agent"'s to set.
    pub(super) fn update_comment(
        &self,
        id: &str,
        patch: &CommentPatch,
        ctx: &mut Inputs<'_>,
    ) -> Result<Plan, StoreError> {
        let old = self.comment(id)?;
        let mut c = old.clone();
        if let Some(b) = &patch.body {
            let b = body(b)?;
            if b != old.body && old.status != CommentStatus::Draft {
                return Err(StoreError::Conflict(format!(
                    "comment {id} is {}: only a draft can be edited",
                    old.status.as_str()
                )));
            }
            c.body = b;
        }
        if let Some(s) = patch.status {
            if s == CommentStatus::Sent && old.status != CommentStatus::Sent {
                return Err(StoreError::Conflict(format!("comment {id} becomes sent by being sent to the agent")));
            }
            c.status = s;
        }
        Ok(self.comment_changed(old, c, ctx))
    }

    pub(super) fn delete_comment(&self, id: &str) -> Result<Plan, StoreError> {
        self.comment(id)?;
        Ok(Plan { events: vec![EventData::CommentDeleted(Deleted { id: id.to_string() })], outcome: Outcome::Deleted })
    }

    /// Marks `ids` (drafts of the workspace, as typed to its agent) sent; one no longer a
    /// draft, or gone, is left as it is. The workspace's comments in list order come back.
    pub(super) fn send_comments(
        &self,
        workspace_id: &str,
        ids: &[String],
        ctx: &mut Inputs<'_>,
    ) -> Result<Plan, StoreError> {
        self.workspace(workspace_id)?;
        let mut events = Vec::new();
        for id in ids {
            let Some(old) = self.comments.get(id) else { continue };
            if old.workspace_id != workspace_id || old.status != CommentStatus::Draft {
                continue;
            }
            let c = ReviewComment { status: CommentStatus::Sent, ..old.clone() };
            events.extend(self.comment_changed(old, c, ctx).events);
        }
        let mut all: Vec<ReviewComment> = self.workspace_comments(workspace_id).into_iter().cloned().collect();
        for e in &events {
            if let EventData::CommentUpdated(c) = e {
                if let Some(x) = all.iter_mut().find(|x| x.id == c.id) {
                    *x = c.clone();
                }
            }
        }
        Ok(Plan { events, outcome: Outcome::Comments(all) })
    }

    fn comment_changed(&self, old: &ReviewComment, mut c: ReviewComment, ctx: &Inputs<'_>) -> Plan {
        if c == *old {
            return Plan::unchanged(Outcome::Comment(c));
        }
        c.version += 1;
        c.updated_at = ctx.now;
        Plan { events: vec![EventData::CommentUpdated(c.clone())], outcome: Outcome::Comment(c) }
    }

    pub fn comment(&self, id: &str) -> Result<&ReviewComment, StoreError> {
        self.comments.get(id).ok_or_else(|| StoreError::NotFound(format!("comment {id} not found")))
    }

    /// A workspace's comments, by file, then line, then when written.
    pub fn workspace_comments(&self, workspace_id: &str) -> Vec<&ReviewComment> {
        let mut v: Vec<&ReviewComment> = self.comments.values().filter(|c| c.workspace_id == workspace_id).collect();
        v.sort_by(|a, b| ReviewComment::in_order(a, b));
        v
    }

    /// The `comment:deleted` events of a workspace that goes.
    pub(super) fn forget_comments(&self, workspace_id: &str, events: &mut Vec<EventData>) {
        for c in self.workspace_comments(workspace_id) {
            events.push(EventData::CommentDeleted(Deleted { id: c.id.clone() }));
        }
    }
}

/// A comment's body: not blank, free text, at most `COMMENT_MAX` characters.
fn body(b: &str) -> Result<String, StoreError> {
    if b.trim().is_empty() {
        return Err(StoreError::Invalid("body must not be blank".into()));
    }
    bounded("body", b, COMMENT_MAX)
}

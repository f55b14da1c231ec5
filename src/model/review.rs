//! Review comments (SPEC §8 "Review"): what a person says of a line or a range of lines of
//! a workspace's diff, kept as a draft until it is sent to the workspace's agent as one
//! message, then resolved.
//!
//! Lines are numbered as in the diff's gutter: on the new side (the file as the agent left
//! it) for added and unchanged lines, on the old side (the file at the merge-base) for
//! deleted lines, so that a comment on a deleted line still names it. `side` says which.

#[cfg(feature = "ssr")]
use super::schema;
use super::Millis;
use serde::{Deserialize, Serialize};

/// Where a comment stands: written (`draft`), handed to the agent (`sent`), done with.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CommentStatus {
    #[default]
    Draft,
    Sent,
    Resolved,
}

impl CommentStatus {
    pub const ALL: [CommentStatus; 3] = [Self::Draft, Self::Sent, Self::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Sent => "sent",
            Self::Resolved => "resolved",
        }
    }
}

/// Which file's numbers a comment's lines are: the new one, or the old one (deleted lines).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CommentSide {
    #[default]
    New,
    Old,
}

/// A comment on lines `line..=endLine` of `path` in a workspace's diff.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ReviewComment {
    pub id: String,
    pub workspace_id: String,
    /// The file, relative to the worktree, as the diff names it.
    pub path: String,
    /// The first line, from 1.
    pub line: u32,
    /// The last line (`line` for one line).
    pub end_line: u32,
    pub side: CommentSide,
    pub body: String,
    pub status: CommentStatus,
    /// Who wrote it: `person` from the browser, or what a client said.
    pub author: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub version: u64,
}

impl ReviewComment {
    /// `path:line` or `path:line-endLine`, with `(old)` for the old side's numbers.
    pub fn place(&self) -> String {
        let lines = match self.end_line > self.line {
            true => format!("{}-{}", self.line, self.end_line),
            false => self.line.to_string(),
        };
        let old = if self.side == CommentSide::Old { " (deleted lines)" } else { "" };
        format!("{}:{lines}{old}", self.path)
    }

    /// In a workspace's list: by file, then line, then when written.
    pub fn in_order(a: &ReviewComment, b: &ReviewComment) -> std::cmp::Ordering {
        (&a.path, a.line, a.created_at, &a.id).cmp(&(&b.path, b.line, b.created_at, &b.id))
    }
}

/// What an agent is told of `drafts` (in list order): one message, a heading, then each
/// comment's place and body. Typed into its terminal or handed over as a new session's prompt.
pub fn review_message(drafts: &[&ReviewComment]) -> String {
    let mut out = String::from("Review comments on your changes; please address each:\n");
    for c in drafts {
        out.push_str(&format!("\n{}\n{}\n", c.place(), c.body.trim_end()));
    }
    out.trim_end().to_string()
}

/// Body of `POST /api/workspaces/:id/comments`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewComment {
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::diff_path))]
    pub path: String,
    #[serde(deserialize_with = "crate::model::json::whole")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 4294967295_u64))]
    pub line: u32,
    /// Left out or null: `line`. Not before `line`.
    #[serde(default, deserialize_with = "crate::model::json::whole_or_null", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 4294967295_u64))]
    pub end_line: Option<u32>,
    /// Left out or null: `new`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<CommentSide>,
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::comment))]
    pub body: String,
    /// Left out or null: `person`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::author_or_null))]
    pub author: Option<String>,
}

/// Body of `PATCH /api/comments/:id`: a new body (a draft's only), or a new status.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommentPatch {
    #[serde(default, deserialize_with = "super::request::present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::comment))]
    pub body: Option<String>,
    #[serde(default, deserialize_with = "super::request::present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = CommentStatus))]
    pub status: Option<CommentStatus>,
}

/// Body of `POST /api/workspaces/:id/comments/send`: with no session running in the
/// workspace, the one started runs `agentId` (left out or null: the project's first).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendComments {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::agent_or_null))]
    pub agent_id: Option<String>,
}

/// What "Send to agent" did: the session that got the message (`started` when it was
/// made for it), and the comments now sent.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentsSent {
    pub session_id: String,
    pub started: bool,
    pub comments: Vec<ReviewComment>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_each_place_then_says_its_body() {
        let c = |path: &str, line, end_line, side, body: &str| ReviewComment {
            path: path.into(),
            line,
            end_line,
            side,
            body: body.into(),
            ..Default::default()
        };
        let a = c("src/a.rs", 3, 3, CommentSide::New, "Use a Vec.\n");
        let b = c("b.txt", 7, 9, CommentSide::Old, "Why remove these?");
        assert_eq!(
            review_message(&[&a, &b]),
            "Review comments on your changes; please address each:\n\nsrc/a.rs:3\nUse a Vec.\n\n\
             b.txt:7-9 (deleted lines)\nWhy remove these?"
        );
    }
}

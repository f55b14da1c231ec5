//! What the OpenAPI document says of fields whose rules are more than their Rust type: the
//! limits the store enforces, as JSON Schema, so that whoever generates valid requests
//! from the document (a client generator, schemathesis) makes requests the server accepts,
//! and invalid ones it refuses.

use super::limits::*;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

/// What `str::trim` removes (Rust's `White_Space`), as the body of a regex class.
const WS: &str = r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// `char::is_control`.
const CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";

fn string(pattern: String, max: usize, about: &str, nullable: bool) -> RefOr<Schema> {
    let ty = match nullable {
        true => SchemaType::from_iter([Type::String, Type::Null]),
        false => SchemaType::Type(Type::String),
    };
    let s = ObjectBuilder::new().schema_type(ty).pattern(Some(pattern)).max_length(Some(max));
    s.description(Some(about)).build().into()
}

/// A one-line text: more than whitespace, and no control characters once trimmed.
fn line(max: usize, nullable: bool) -> RefOr<Schema> {
    let pattern = format!("^[{WS}]*[^{WS}{CONTROL}]([^{CONTROL}]*[^{WS}{CONTROL}])?[{WS}]*$");
    string(pattern, max, "Trimmed; not blank; no control characters.", nullable)
}

pub fn name() -> RefOr<Schema> {
    line(NAME_MAX, false)
}

pub fn title() -> RefOr<Schema> {
    line(TITLE_MAX, false)
}

/// An agent's name, or null for none. The document served lists the configured ones.
pub fn agent_or_null() -> RefOr<Schema> {
    line(AGENT_ID_MAX, true)
}

/// Free text: line breaks and tabs, but no other control characters (escape sequences).
pub fn text() -> RefOr<Schema> {
    let pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$".to_string();
    string(pattern, TEXT_MAX, "Line breaks and tabs allowed; no other control characters.", false)
}

/// A commit message: free text (see [`text`]) that is not blank, at most a quarter of
/// `TEXT_MAX` characters (so that it is surely within its bytes).
pub fn message() -> RefOr<Schema> {
    not_blank_text(TEXT_MAX / 4)
}

/// Free text (see [`text`]) that is not blank.
fn not_blank_text(max: usize) -> RefOr<Schema> {
    let other = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";
    let pattern = format!("^[^{other}]*[^{WS}{CONTROL}][^{other}]*$");
    string(pattern, max, "Not blank; line breaks and tabs allowed; no other control characters.", false)
}

/// A review comment's body.
pub fn comment() -> RefOr<Schema> {
    not_blank_text(COMMENT_MAX)
}

/// A file of a workspace's diff, as the diff names it: not blank, no control characters.
pub fn diff_path() -> RefOr<Schema> {
    let pattern = format!("^[^{CONTROL}]*[^{WS}{CONTROL}][^{CONTROL}]*$");
    string(pattern, PATH_MAX / 4, "A file as the workspace's diff names it.", false)
}

/// Who wrote a comment, or null for `person`.
pub fn author_or_null() -> RefOr<Schema> {
    line(NAME_MAX, true)
}

/// A new session's extra instructions: free text (see [`text`]), at most a quarter of
/// `SESSION_PROMPT_MAX` characters (so that it is surely within its bytes).
pub fn session_prompt() -> RefOr<Schema> {
    let pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$".to_string();
    let about = "Told to the agent after its tasks' prompt. Line breaks and tabs allowed; no other control characters.";
    string(pattern, SESSION_PROMPT_MAX / 4, about, false)
}

/// What a session's agent asks or says: as [`line`], or blank (or null) for none.
pub fn state_message() -> RefOr<Schema> {
    let pattern = format!("^[{WS}]*([^{WS}{CONTROL}]([^{CONTROL}]*[^{WS}{CONTROL}])?[{WS}]*)?$");
    string(pattern, TITLE_MAX, "Trimmed; no control characters; blank or null for none.", true)
}

/// An id a client may choose.
pub fn id() -> RefOr<Schema> {
    string(format!("^[A-Za-z0-9_-]{{1,{ID_MAX}}}$"), ID_MAX, "1–128 of A–Z, a–z, 0–9, _ and -.", false)
}

/// Where a new session runs: `new`, `none`, a workspace's id, or null for the task's own.
pub fn workspace_choice() -> RefOr<Schema> {
    let about = "`new` (a new workspace for the task), `none` (the project's directory), a workspace's id, \
                 or null (the task's workspace in a git project, made on its first session).";
    string(format!("^[A-Za-z0-9_-]{{1,{ID_MAX}}}$"), ID_MAX, about, true)
}

/// An absolute directory on the server (blank or null: none). That it exists is checked
/// too. At most a quarter of `PATH_MAX` characters, so that it is surely within its bytes.
pub fn base_path_or_null() -> RefOr<Schema> {
    let pattern = format!("^[{WS}]*(/([^{CONTROL}]*[^{WS}{CONTROL}])?)?[{WS}]*$");
    let about = "An absolute path of a directory that exists on the server; blank or null for none.";
    string(pattern, PATH_MAX / 4, about, true)
}

/// A branch (or commit) to start from: what git would not read as an option, no spaces
/// or control characters. That it names a commit is checked by git.
pub fn branch() -> RefOr<Schema> {
    let pattern = format!("^[^-{CONTROL} ][^{CONTROL} ]*$");
    string(pattern, BRANCH_MAX, "A branch or commit of the project's repository.", false)
}

/// A project's base branch, or null for the branch checked out in its directory. Git's
/// rules (`check-ref-format --branch`) are checked by the server; this states their part
/// a pattern can.
pub fn branch_or_null() -> RefOr<Schema> {
    let pattern = format!(r"^[^-{CONTROL} ~^:?*\[\\][^{CONTROL} ~^:?*\[\\]*$");
    string(pattern, BRANCH_MAX, "A branch name git accepts; null for the branch checked out in basePath.", true)
}

/// A shell command run in a new workspace; blank or null for `.maestro/setup.sh`.
pub fn setup_or_null() -> RefOr<Schema> {
    let pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$".to_string();
    let about = "A shell command (line breaks and tabs allowed; no other control characters); blank or null for the repository's .maestro/setup.sh.";
    string(pattern, SETUP_MAX, about, true)
}

/// A path on the server to look at: not blank, no control characters, at most a quarter of
/// `PATH_MAX` characters (so surely within its bytes).
pub fn path_to_inspect() -> RefOr<Schema> {
    line(PATH_MAX / 4, false)
}

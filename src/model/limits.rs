//! The limits of what a request may hold, as the store enforces them (and the API's
//! document states them).

/// Longest id a client may choose.
pub const ID_MAX: usize = 128;
/// Longest project or session name, in characters.
pub const NAME_MAX: usize = 200;
/// Longest task or subtask title, in characters.
pub const TITLE_MAX: usize = 500;
/// Longest description or prompt, in characters.
pub const TEXT_MAX: usize = 100_000;
/// Lines of a session's timeline kept (the oldest dropped first); each is at most
/// `TITLE_MAX` characters, so that a session stays small on the wire.
pub const TIMELINE_MAX: usize = 20;
/// Longest `basePath`, in bytes (Linux `PATH_MAX`).
pub const PATH_MAX: usize = 4096;
/// Longest `agentId`, in characters.
pub const AGENT_ID_MAX: usize = 100;
/// Longest branch name accepted (git has no limit; file systems and people do).
pub const BRANCH_MAX: usize = 200;
/// Longest setup command of a project, in characters (a longer one belongs in
/// `.maestro/setup.sh`).
pub const SETUP_MAX: usize = 8192;
/// Longest `prompt` of a new session (extra instructions after its tasks' own), in bytes:
/// it may be handed to the agent as one command-line argument with the tasks' prompt.
pub const SESSION_PROMPT_MAX: usize = 64 * 1024;
/// Longest review comment, in characters; all of a workspace's drafts are sent as one
/// message, within `SESSION_PROMPT_MAX` bytes.
pub const COMMENT_MAX: usize = 4000;
/// Most comments one workspace keeps (resolved ones included: delete those to add more).
pub const WORKSPACE_COMMENTS_MAX: usize = 500;

//! `maestro hook claude`: Claude Code's hooks call it (SPEC §9), with the hook's JSON on
//! stdin, and it says what the session's agent is doing: a prompt submitted → working; a
//! notification or a permission asked → needs input, with its message; stopped → idle.
//! Other agents can be wired the same way, or call `maestro session state` themselves.
//!
//! A hook must never stop the agent: whatever goes wrong is said on stderr, and the exit
//! code is 0 (Claude Code treats 2 as "block").

use super::defaults::Here;
use crate::model::{SessionState, SessionStateUpdate};
use crate::rest_client::Client;
use std::io::Read;

/// The most of stdin read: a hook's JSON is small (a prompt at most).
const STDIN_MAX: u64 = 1 << 20;

#[derive(clap::Subcommand, Debug)]
pub enum HookCmd {
    /// A Claude Code hook: reads its JSON on stdin (`hook_event_name`, `message`, …).
    Claude {
        /// The session [default: this one].
        #[arg(long)]
        session: Option<String>,
        /// The hook's event (`UserPromptSubmit`, `PostToolUse`, `Notification`,
        /// `PermissionRequest`, `Stop`) [default: the JSON's `hook_event_name`].
        event: Option<String>,
    },
}

/// What a Claude Code hook's JSON says the agent is doing, if anything.
pub fn claude_state(hook: &serde_json::Value) -> Option<SessionStateUpdate> {
    let text = |k: &str| hook.get(k).and_then(|v| v.as_str()).map(|s| s.chars().take(500).collect::<String>());
    let (state, message) = match hook.get("hook_event_name")?.as_str()? {
        "UserPromptSubmit" | "PostToolUse" => (SessionState::Working, None),
        "Notification" => (SessionState::NeedsInput, text("message")),
        "PermissionRequest" => {
            let tool = text("tool_name").unwrap_or_else(|| "a tool".into());
            (SessionState::NeedsInput, Some(format!("May it use {tool}?")))
        }
        "Stop" => (SessionState::Idle, None),
        _ => return None,
    };
    // One line, no control characters: what the store takes.
    let message = message.map(|m| m.chars().map(|c| if c.is_control() { ' ' } else { c }).collect());
    Some(SessionStateUpdate { state, message })
}

pub(super) async fn run(client: &Client, here: &Here, cmd: HookCmd) -> std::process::ExitCode {
    let HookCmd::Claude { session, event } = cmd;
    let mut input = String::new();
    if let Err(e) = std::io::stdin().take(STDIN_MAX).read_to_string(&mut input) {
        eprintln!("maestro hook: cannot read the hook's input: {e}");
        return std::process::ExitCode::SUCCESS;
    }
    let mut hook: Option<serde_json::Value> = serde_json::from_str(&input).ok();
    if let (Some(serde_json::Value::Object(h)), Some(e)) = (&mut hook, event) {
        h.insert("hook_event_name".into(), e.into());
    }
    let update = match hook.as_ref().and_then(claude_state) {
        Some(u) => u,
        None => return std::process::ExitCode::SUCCESS, // an event that says nothing of it
    };
    let said = match here.session(session) {
        Ok(id) => client.set_session_state(&id, &update).await.map(drop).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = said {
        eprintln!("maestro hook: {e}");
    }
    std::process::ExitCode::SUCCESS
}

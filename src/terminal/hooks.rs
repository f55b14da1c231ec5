//! Hooks Maestro wires for the agents it knows when it launches them (SPEC §9), so that
//! they say what they are doing without the person setting anything up. For Claude Code:
//! a settings file of the session's own (in a private directory under the prompts', 0600,
//! removed when the terminal ends) passed with `--settings`, which Claude Code merges
//! over the person's own settings; `~/.claude` is never read or written.

use super::prompts::PromptDir;
use crate::agents::Hooks;
use std::path::PathBuf;

/// The settings file's name in the session's directory.
pub(super) const CLAUDE_SETTINGS: &str = "claude-settings.json";

/// Claude Code's hook events wired, each to `maestro hook claude … EVENT`: a prompt
/// submitted and a tool used → working; a notification (a permission asked, or waiting
/// for input) → needs input; stopped → idle.
const CLAUDE_EVENTS: [&str; 4] = ["UserPromptSubmit", "PostToolUse", "Notification", "Stop"];

/// Claude Code's settings (its documented `hooks` shape) whose hooks call `maestro`, the
/// command that runs this binary, for session `session`.
fn claude_settings(maestro: &str, session: &str) -> String {
    let quote = |s: &str| shlex::try_quote(s).map(|q| q.into_owned()).unwrap_or_else(|_| "maestro".into());
    let (maestro, session) = (quote(maestro), quote(session));
    let hooks: serde_json::Map<String, serde_json::Value> = CLAUDE_EVENTS
        .iter()
        .map(|event| {
            let command = format!("{maestro} hook claude --session {session} {event}");
            let mut group = serde_json::json!({ "hooks": [{ "type": "command", "command": command, "timeout": 10 }] });
            if *event == "PostToolUse" {
                group["matcher"] = "*".into(); // every tool
            }
            (event.to_string(), serde_json::Value::Array(vec![group]))
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "hooks": hooks })).unwrap_or_default()
}

/// `program` with `hooks` wired for session `id`: the files written into the session's
/// own directory and named on its command line. The directory, to remove when it ends.
pub(super) fn wire(prompts: &PromptDir, id: &str, hooks: Hooks, program: &str) -> Result<(String, PathBuf), String> {
    match hooks {
        Hooks::Claude => {
            let exe = std::env::current_exe().map(|p| p.to_string_lossy().into_owned());
            let settings = claude_settings(exe.as_deref().unwrap_or("maestro"), id);
            let dir = prompts.write_private(id, CLAUDE_SETTINGS, &settings)?;
            let file = dir.join(CLAUDE_SETTINGS);
            let file = shlex::try_quote(&file.to_string_lossy())
                .map(|q| q.into_owned())
                .map_err(|e| format!("cannot quote the settings file's path: {e}"))?;
            // At the end of its command line: where `claude {prompt}` takes options.
            Ok((format!("{program} --settings {file}"), dir))
        }
    }
}

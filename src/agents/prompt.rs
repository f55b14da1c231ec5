//! What an agent is told (its tasks' prompt), and its command with the prompt put in.

use super::placeholders::placeholders;
use crate::model::Task;
use std::path::Path;

/// What an agent is told: the task's prompt (its title and description when it has none);
/// for several tasks, each under a heading.
pub fn prompt_text(tasks: &[Task]) -> String {
    let one = |t: &Task| {
        if t.prompt.trim().is_empty() {
            format!("{}\n\n{}", t.title, t.description).trim_end().to_string()
        } else {
            t.prompt.clone()
        }
    };
    match tasks {
        [t] => one(t),
        many => {
            many.iter().map(|t| format!("## {} ({})\n\n{}", t.title, t.id, one(t))).collect::<Vec<_>>().join("\n\n")
        }
    }
}

/// What a session's agent is told: its tasks' prompt, then what the session was started
/// with besides (a review's comments, a merge's conflicts), after a blank line.
pub fn session_prompt(tasks: &[Task], extra: Option<&str>) -> String {
    let tasks = prompt_text(tasks);
    match extra.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) if tasks.trim().is_empty() => e.to_string(),
        Some(e) => format!("{tasks}\n\n{e}"),
        None => tasks,
    }
}

/// `command` with `{prompt}` and `{prompt_file}` replaced, each by one shell-quoted word
/// that the shell hands over literally (a placeholder anywhere else is refused, as when the
/// command was loaded).
pub fn substitute(command: &str, prompt: &str, prompt_file: &Path) -> Result<String, String> {
    let quote =
        |s: &str| shlex::try_quote(s).map(|q| q.into_owned()).map_err(|e| format!("cannot quote the prompt: {e}"));
    let mut out = String::with_capacity(command.len() + prompt.len());
    let mut from = 0;
    for spot in placeholders(command) {
        if let Some(problem) = spot.problem {
            return Err(format!("{} {problem} in the agent's command", spot.name));
        }
        out.push_str(&command[from..spot.at]);
        match spot.name {
            "{prompt}" => out.push_str(&quote(prompt)?),
            _ => out.push_str(&quote(&prompt_file.to_string_lossy())?),
        }
        from = spot.at + spot.name.len();
    }
    out.push_str(&command[from..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sessions_own_prompt_follows_its_tasks() {
        let t = Task { title: "Fix it".into(), prompt: "Fix the bug.".into(), ..Default::default() };
        assert_eq!(
            session_prompt(std::slice::from_ref(&t), Some("  src/a.rs:3 use a Vec\n")),
            "Fix the bug.\n\nsrc/a.rs:3 use a Vec"
        );
        assert_eq!(session_prompt(std::slice::from_ref(&t), None), "Fix the bug.");
        assert_eq!(session_prompt(&[], Some("only this")), "only this");
    }

    #[test]
    fn prompts_are_quoted_where_the_command_asks() {
        let cmd =
            substitute("agent --say {prompt} --file {prompt_file}", "it's $HOME; `rm -rf`", Path::new("/t/p 1.md"))
                .unwrap();
        // Whatever the quoting, the shell hands the program the text as it was.
        let out = std::process::Command::new("/bin/sh").args(["-c", &cmd.replace("agent", "printf '%s|'")]).output();
        assert_eq!(String::from_utf8(out.unwrap().stdout).unwrap(), "--say|it's $HOME; `rm -rf`|--file|/t/p 1.md|");
    }
}

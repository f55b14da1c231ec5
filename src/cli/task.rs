//! `maestro task`: list, create, show, change and delete tasks; `subtask` for their
//! checklists.

use super::defaults::Here;
use super::exit::{Done, Failure};
use super::output::{self, Out};
use super::subtask::{self, SubtaskCmd};
use super::values;
use crate::model::{NewTask, Priority, SubtaskStatus, Task, TaskPatch, TaskStatus};
use crate::rest_client::{Client, TaskQuery};

#[derive(clap::Subcommand, Debug)]
pub enum TaskCmd {
    /// List a project's tasks, newest first.
    List {
        /// [default: $MAESTRO_PROJECT_ID, else every project]
        #[arg(long)]
        project: Option<String>,
        #[arg(long, value_parser = values::task_status)]
        status: Option<TaskStatus>,
    },
    /// Create a task.
    Create {
        title: String,
        /// [default: $MAESTRO_PROJECT_ID]
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// What an agent working on it is told.
        #[arg(long)]
        prompt: Option<String>,
        #[arg(long, value_parser = values::priority)]
        priority: Option<Priority>,
        #[arg(long, value_parser = values::task_status)]
        status: Option<TaskStatus>,
    },
    /// Show tasks with their prompts and subtasks [default: this session's tasks].
    Get { ids: Vec<String> },
    /// Change tasks [default: this session's tasks].
    Update {
        ids: Vec<String>,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        prompt: Option<String>,
        #[arg(long, value_parser = values::task_status)]
        status: Option<TaskStatus>,
        #[arg(long, value_parser = values::priority)]
        priority: Option<Priority>,
    },
    /// Delete a task (its sessions lose the link).
    Delete { id: String },
    /// A task's checklist.
    #[command(subcommand)]
    Subtask(SubtaskCmd),
}

pub(super) async fn run(client: &Client, out: Out, here: &Here, cmd: TaskCmd) -> Done {
    match cmd {
        TaskCmd::List { project, status } => {
            let q = TaskQuery { project_id: project.or_else(|| here.project.clone()), status };
            let list = client.tasks(&q).await?;
            if out.json {
                out.json(&list);
                return Ok(());
            }
            let rows = list.iter().map(|t| {
                vec![
                    t.id.clone(),
                    out.status(t.status.as_str()),
                    out.status(t.priority.as_str()),
                    t.session_count.to_string(),
                    t.title.clone(),
                ]
            });
            out.table(&["ID", "STATUS", "PRIORITY", "SESSIONS", "TITLE"], rows.collect());
        }
        TaskCmd::Create { title, project, description, prompt, priority, status } => {
            let project_id = here.project(project)?;
            let new = NewTask { id: None, project_id, title, description, prompt, priority, status };
            show(out, &client.create_task(&new).await?, false);
        }
        TaskCmd::Get { ids } => {
            let one = ids.len() == 1;
            let ids = here.tasks(client, ids).await?;
            let mut tasks = Vec::with_capacity(ids.len());
            for id in &ids {
                tasks.push(client.task(id).await?);
            }
            if out.json {
                // One id named: the API's object; a session's tasks (any number): an array.
                match one {
                    true => out.json(&tasks[0]),
                    false => out.json(&tasks),
                }
                return Ok(());
            }
            for (i, t) in tasks.iter().enumerate() {
                if i > 0 {
                    output::println_safe("");
                }
                show(out, t, true);
            }
        }
        TaskCmd::Update { ids, title, description, prompt, status, priority } => {
            let patch = TaskPatch { title, description, prompt, status, priority };
            if patch == TaskPatch::default() {
                return Err(Failure::Usage(
                    "nothing to change: give --status, --title, --description, --prompt or --priority".into(),
                ));
            }
            let one = ids.len() == 1;
            let ids = here.tasks(client, ids).await?;
            let mut done = Vec::new();
            for id in &ids {
                done.push(client.update_task(id, &patch).await?);
            }
            if out.json {
                match one {
                    true => out.json(&done[0]),
                    false => out.json(&done),
                }
                return Ok(());
            }
            let rows = done.iter().map(|t| vec![t.id.clone(), out.status(t.status.as_str()), t.title.clone()]);
            out.table(&["ID", "STATUS", "TITLE"], rows.collect());
        }
        TaskCmd::Delete { id } => {
            client.delete_task(&id).await?;
            out.deleted("task", &id);
        }
        TaskCmd::Subtask(c) => show(out, &subtask::run(client, here, c).await?, true),
    }
    Ok(())
}

/// A task as a record; `with_prompt`, on a terminal, its description, prompt and
/// checklist after it.
pub(super) fn show(out: Out, t: &Task, with_prompt: bool) {
    if out.json {
        return out.json(t);
    }
    let done = t.subtasks.iter().filter(|s| s.status == SubtaskStatus::Completed).count();
    out.fields(&[
        ("id", t.id.clone()),
        ("title", t.title.clone()),
        ("status", out.status(t.status.as_str())),
        ("priority", out.status(t.priority.as_str())),
        ("project", t.project_id.clone()),
        ("sessions", t.session_ids.join(", ")),
        ("subtasks", format!("{done}/{} done", t.subtasks.len())),
        ("updated", output::when(t.updated_at)),
    ]);
    if !with_prompt || !out.tty {
        return;
    }
    if !t.description.trim().is_empty() {
        out.block("Description", &t.description);
    }
    if !t.prompt.trim().is_empty() {
        out.block("Prompt", &t.prompt);
    }
    if !t.subtasks.is_empty() {
        let rows = t.subtasks.iter().map(|s| {
            let mark = if s.status == SubtaskStatus::Completed { "[x]" } else { "[ ]" };
            vec![mark.to_string(), s.id.clone(), s.title.clone()]
        });
        out.table(&["", "SUBTASK", "TITLE"], rows.collect());
    }
}

//! `maestro task subtask`: a task's checklist; the task is this session's when it has
//! one and none is named.

use super::defaults::Here;
use super::exit::Failure;
use crate::model::{NewSubtask, SubtaskPatch, SubtaskStatus, Task};
use crate::rest_client::Client;

#[derive(clap::Subcommand, Debug)]
pub enum SubtaskCmd {
    /// Add a subtask.
    Add {
        title: String,
        /// [default: this session's task, when it has one]
        #[arg(long)]
        task: Option<String>,
    },
    /// Tick a subtask off (`--undo`: not done after all).
    Done {
        id: String,
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        undo: bool,
    },
    /// Delete a subtask.
    Delete {
        id: String,
        #[arg(long)]
        task: Option<String>,
    },
}

/// Runs one subtask command: the task as it is after it (the caller shows it).
pub(super) async fn run(client: &Client, here: &Here, cmd: SubtaskCmd) -> Result<Task, Failure> {
    Ok(match cmd {
        SubtaskCmd::Add { title, task } => {
            client.add_subtask(&here.task(client, task).await?, &NewSubtask { title }).await?
        }
        SubtaskCmd::Done { id, task, undo } => {
            let status = Some(if undo { SubtaskStatus::Pending } else { SubtaskStatus::Completed });
            let patch = SubtaskPatch { title: None, status };
            client.update_subtask(&here.task(client, task).await?, &id, &patch).await?
        }
        SubtaskCmd::Delete { id, task } => client.delete_subtask(&here.task(client, task).await?, &id).await?,
    })
}

//! `maestro project`: list, create, show, change (name, directory, workspace settings),
//! delete.

use super::defaults::Here;
use super::exit::Done;
use super::output::{self, Out};
use super::values::{self, on_off};
use crate::model::{MergeStrategy, NewProject, Project, ProjectPatch};
use crate::rest_client::{Client, ClientError};

#[derive(clap::Subcommand, Debug)]
pub enum ProjectCmd {
    /// List every project.
    List,
    /// Create a project.
    Create {
        name: String,
        /// Absolute directory its terminals start in.
        #[arg(long)]
        base_path: Option<String>,
        #[command(flatten)]
        settings: Settings,
    },
    /// Show a project [default: this session's].
    Get { id: Option<String> },
    /// Rename a project, change its directory or how its agents work there.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, conflicts_with = "no_base_path")]
        base_path: Option<String>,
        /// Clear the directory (terminals start in the home directory).
        #[arg(long)]
        no_base_path: bool,
        #[command(flatten)]
        settings: Settings,
        /// Make workspaces from the branch checked out in the directory.
        #[arg(long, conflicts_with = "base_branch")]
        no_base_branch: bool,
        /// Use the repository's .maestro/setup.sh (if any) instead of a setup command.
        #[arg(long, conflicts_with = "setup")]
        no_setup: bool,
        /// How a workspace merges unless told: merge (a merge commit) or squash.
        #[arg(long, value_parser = values::merge_strategy)]
        merge_strategy: Option<MergeStrategy>,
    },
    /// Delete a project (refused while it has tasks or sessions, unless --with-tasks).
    /// Files in its directory are never touched.
    Delete {
        id: String,
        /// Also delete its tasks, ended sessions and workspaces (their worktrees removed,
        /// their branches kept). Refused while a session runs or a worktree holds
        /// uncommitted work.
        #[arg(long)]
        with_tasks: bool,
    },
}

/// How the project's agents work in its git repository (SPEC §8).
#[derive(clap::Args, Debug)]
pub struct Settings {
    /// Whether each task's sessions get their own git worktree (default on).
    #[arg(long, value_name = "on|off", value_parser = on_off)]
    isolation: Option<bool>,
    /// The branch workspaces are made from [default: the one checked out in the directory].
    #[arg(long, value_name = "BRANCH")]
    base_branch: Option<String>,
    /// A shell command run in each new workspace before its agent [default: the
    /// repository's .maestro/setup.sh, if it has one].
    #[arg(long, value_name = "CMD")]
    setup: Option<String>,
}

pub(super) async fn run(client: &Client, out: Out, here: &Here, cmd: ProjectCmd) -> Done {
    match cmd {
        ProjectCmd::List => {
            let list = client.projects().await?;
            if out.json {
                out.json(&list);
                return Ok(());
            }
            let rows = list.iter().map(|p| vec![p.id.clone(), p.name.clone(), p.base_path.clone().unwrap_or_default()]);
            out.table(&["ID", "NAME", "BASE PATH"], rows.collect());
        }
        ProjectCmd::Create { name, base_path, settings } => {
            let Settings { isolation, base_branch, setup: setup_command } = settings;
            let np = NewProject { id: None, name, base_path, isolation, base_branch, setup_command };
            show(out, &client.create_project(&np).await?);
        }
        ProjectCmd::Get { id } => show(out, &client.project(&here.project(id)?).await?),
        ProjectCmd::Update {
            id,
            name,
            base_path,
            no_base_path,
            settings,
            no_base_branch,
            no_setup,
            merge_strategy,
        } => {
            let set_or_clear = |v: Option<String>, clear: bool| if clear { Some(None) } else { v.map(Some) };
            let patch = ProjectPatch {
                name,
                base_path: set_or_clear(base_path, no_base_path),
                isolation: settings.isolation,
                base_branch: set_or_clear(settings.base_branch, no_base_branch),
                setup_command: set_or_clear(settings.setup, no_setup),
                merge_strategy,
            };
            show(out, &client.update_project(&id, &patch).await?);
        }
        ProjectCmd::Delete { id, with_tasks } => {
            if with_tasks {
                client.delete_project_with_contents(&id).await?;
            } else {
                client.delete_project(&id).await.map_err(|e| match e {
                    // The way out, in this command's words.
                    ClientError::Api { status: 409, code, message } => ClientError::Api {
                        status: 409,
                        code,
                        message: format!("{message} (maestro project delete {id} --with-tasks)"),
                    },
                    e => e,
                })?;
            }
            out.deleted("project", &id);
        }
    }
    Ok(())
}

fn show(out: Out, p: &Project) {
    if out.json {
        return out.json(p);
    }
    out.fields(&[
        ("id", p.id.clone()),
        ("name", p.name.clone()),
        ("base path", p.base_path.clone().unwrap_or_default()),
        ("isolation", if p.isolation { "on" } else { "off" }.to_string()),
        ("base branch", p.base_branch.clone().unwrap_or_default()),
        ("setup", p.setup_command.clone().unwrap_or_default()),
        ("merge strategy", p.merge_strategy.as_str().to_string()),
        ("created", output::when(p.created_at)),
        ("updated", output::when(p.updated_at)),
    ]);
}

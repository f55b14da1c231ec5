//! `maestro project`: list, create, show, rename, delete.

use super::defaults::Here;
use super::exit::Done;
use super::output::{self, Out};
use crate::model::{NewProject, Project, ProjectPatch};
use crate::rest_client::Client;

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
    },
    /// Show a project [default: this session's].
    Get { id: Option<String> },
    /// Rename a project or change its directory.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, conflicts_with = "no_base_path")]
        base_path: Option<String>,
        /// Clear the directory (terminals start in the home directory).
        #[arg(long)]
        no_base_path: bool,
    },
    /// Delete a project (refused while it has tasks or sessions).
    Delete { id: String },
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
        ProjectCmd::Create { name, base_path } => {
            let p = client.create_project(&NewProject { id: None, name, base_path }).await?;
            show(out, &p);
        }
        ProjectCmd::Get { id } => show(out, &client.project(&here.project(id)?).await?),
        ProjectCmd::Update { id, name, base_path, no_base_path } => {
            let base_path = if no_base_path { Some(None) } else { base_path.map(Some) };
            show(out, &client.update_project(&id, &ProjectPatch { name, base_path }).await?);
        }
        ProjectCmd::Delete { id } => {
            client.delete_project(&id).await?;
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
        ("created", output::when(p.created_at)),
        ("updated", output::when(p.updated_at)),
    ]);
}

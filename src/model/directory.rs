//! What the server says of a directory a person gives a project (`GET
//! /api/directories/inspect`): whether it is there, and the git repository it is in.

use serde::{Deserialize, Serialize};

/// A directory on the server, as a project's `basePath` would use it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryInfo {
    /// The path looked at (trimmed).
    pub path: String,
    /// Starts with `/`; nothing else is looked at when it does not.
    pub absolute: bool,
    pub exists: bool,
    pub directory: bool,
    /// The top of the git working tree it is in; `null` when it is in none.
    pub repository: Option<String>,
    /// The branch checked out there; `null` when HEAD is detached or there is no repository.
    pub branch: Option<String>,
    /// The repository's branches, most recently committed first (at most 50), for choosing
    /// a base branch.
    pub branches: Vec<String>,
    /// The repository has `.maestro/setup.sh` (run in new workspaces unless the project
    /// names a setup command).
    pub setup_script: bool,
}

impl DirectoryInfo {
    /// What it means for a project's agents, in a few words.
    pub fn summary(&self) -> String {
        match self {
            d if !d.absolute => "not an absolute path: it must start with /".into(),
            d if !d.exists => "does not exist".into(),
            d if !d.directory => "not a directory".into(),
            DirectoryInfo { repository: None, .. } => {
                "not a git repository: agents run here, without workspaces".into()
            }
            DirectoryInfo { branch: Some(b), .. } => format!("git repository, branch {b}"),
            _ => "git repository, detached HEAD".into(),
        }
    }
}

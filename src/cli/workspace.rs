//! `maestro workspace`: tasks' git worktrees (SPEC §8): list and show them, print what one
//! changed as `git diff` and `git diff --stat` do, commit, merge, rebase and push, archive
//! and restore. Inside a session `get`, `diff` and the landing commands are about its
//! workspace when none is named.

use super::defaults::Here;
use super::exit::Done;
use super::output::{self, Out};
use super::values;
use crate::model::units;
use crate::model::{
    ChangeSummary, FileChange, FileDiff, FileStatus, MergeStrategy, MergeWorkspace, Workspace, WorkspaceStatus,
};
use crate::rest_client::{Client, ClientError, WorkspaceQuery};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

/// Files' diffs asked for at once while a whole workspace's prints (in order).
const DIFFS_AT_ONCE: usize = 4;
/// The width `--stat` fits its lines in, as git does on a terminal of 80 columns.
const STAT_WIDTH: usize = 80;

#[derive(clap::Subcommand, Debug)]
pub enum WorkspaceCmd {
    /// List workspaces, newest first.
    List {
        /// [default: $MAESTRO_PROJECT_ID, else every project]
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        task: Option<String>,
        #[arg(long, value_parser = values::workspace_status)]
        status: Option<WorkspaceStatus>,
    },
    /// Show a workspace [default: this session's].
    Get { id: Option<String> },
    /// What a workspace changed against its base, as `git diff` [default: this session's].
    Diff {
        /// The workspace (inside a session it may be left out: `diff src/app.rs`).
        id: Option<String>,
        /// Only this file.
        path: Option<String>,
        /// Files with their added and deleted lines, and the totals (piped: as `git diff
        /// --numstat`).
        #[arg(long)]
        stat: bool,
    },
    /// Commit everything in a workspace [default: this session's].
    Commit {
        id: Option<String>,
        /// [default: the task's title]
        #[arg(short, long)]
        message: Option<String>,
    },
    /// Merge a workspace's branch into its base, as a merge commit [default: this
    /// session's]. Your checkout changes only if it is on the base branch and clean.
    Merge {
        id: Option<String>,
        /// One commit with all the branch's changes [default: the project's strategy].
        #[arg(long)]
        squash: bool,
        /// A merge commit [default: the project's strategy].
        #[arg(long, conflicts_with = "squash")]
        merge_commit: bool,
        /// [default: the task's title]
        #[arg(short, long)]
        message: Option<String>,
    },
    /// Rebase a workspace's branch onto its base [default: this session's].
    Rebase { id: Option<String> },
    /// Push a workspace's branch to the repository's remote [default: this session's].
    Push { id: Option<String> },
    /// Push a workspace's branch and open a GitHub pull request with the server's `gh`
    /// [default: this session's]; prints its address.
    Pr { id: Option<String> },
    /// Remove a workspace's worktree; its branch is kept, and `restore` brings it back.
    Archive {
        id: String,
        /// Even with uncommitted work (which is lost) or a session running in it.
        #[arg(long)]
        force: bool,
    },
    /// Check an archived workspace's branch out again, where it was.
    Restore { id: String },
}

pub(super) async fn run(client: &Client, out: Out, here: &Here, cmd: WorkspaceCmd) -> Done {
    match cmd {
        WorkspaceCmd::List { project, task, status } => {
            let q = WorkspaceQuery { project_id: project.or_else(|| here.project.clone()), task_id: task, status };
            let list = client.workspaces(&q).await?;
            if out.json {
                out.json(&list);
                return Ok(());
            }
            let rows = list.iter().map(|w| {
                vec![
                    w.id.clone(),
                    out.status(w.status.as_str()),
                    w.task_id.clone(),
                    w.branch.clone(),
                    w.changes.files.to_string(),
                    format!("+{}", w.changes.additions),
                    format!("-{}", w.changes.deletions),
                    w.disk_bytes.map(units::bytes).unwrap_or_default(),
                ]
            });
            out.table(&["ID", "STATUS", "TASK", "BRANCH", "FILES", "ADDED", "DELETED", "DISK"], rows.collect());
        }
        WorkspaceCmd::Get { id } => show(out, &client.workspace(&here.workspace(client, id).await?).await?),
        WorkspaceCmd::Diff { id, path, stat } => {
            // Inside a session one word is a file of its workspace, unless it is a workspace.
            let (id, path) = match (id, path) {
                (Some(word), None) if here.in_session() && !word.starts_with("ws_") => (None, Some(word)),
                named => named,
            };
            let id = here.workspace(client, id).await?;
            diff(client, out, &id, path.as_deref(), stat).await?;
        }
        WorkspaceCmd::Archive { id, force } => {
            let archived = client.archive_workspace(&id, force).await.map_err(|e| match e {
                // The server's "archive with force" is this command's flag.
                ClientError::Api { status, code, message } => ClientError::Api {
                    status,
                    code,
                    message: message.replace("archive with force", "archive with --force"),
                },
                e => e,
            });
            show(out, &archived?);
        }
        WorkspaceCmd::Restore { id } => show(out, &client.restore_workspace(&id).await?),
        WorkspaceCmd::Commit { id, message } => {
            show(out, &client.commit_workspace(&here.workspace(client, id).await?, message).await?)
        }
        WorkspaceCmd::Merge { id, squash, merge_commit, message } => {
            let strategy = match (squash, merge_commit) {
                (true, _) => Some(MergeStrategy::Squash),
                (_, true) => Some(MergeStrategy::Merge),
                _ => None,
            };
            let body = MergeWorkspace { strategy, message };
            show(out, &client.merge_workspace(&here.workspace(client, id).await?, &body).await?)
        }
        WorkspaceCmd::Rebase { id } => show(out, &client.rebase_workspace(&here.workspace(client, id).await?).await?),
        WorkspaceCmd::Push { id } => show(out, &client.push_workspace(&here.workspace(client, id).await?).await?),
        WorkspaceCmd::Pr { id } => {
            let pr = client.open_pull_request(&here.workspace(client, id).await?).await?;
            if out.json {
                out.json(&pr);
            } else {
                println!("{}", pr.url);
            }
        }
    }
    Ok(())
}

/// A workspace as a record.
fn show(out: Out, w: &Workspace) {
    if out.json {
        return out.json(w);
    }
    let mut fields = vec![
        ("id", w.id.clone()),
        ("status", out.status(w.status.as_str())),
        ("branch", w.branch.clone()),
        ("base", format!("{} (from {})", w.base, w.base_commit.get(..10).unwrap_or(&w.base_commit))),
        ("task", w.task_id.clone()),
        ("project", w.project_id.clone()),
        ("path", w.path.clone()),
    ];
    fields.extend(w.node.clone().map(|n| ("node", n)));
    fields.extend([
        ("changes", summary(&w.changes)),
        ("disk", w.disk_bytes.map(units::bytes).unwrap_or_else(|| "-".into())),
        ("created", output::when(w.created_at)),
        ("updated", output::when(w.updated_at)),
    ]);
    out.fields(&fields);
}

/// "3 files, +10 -2, 1 commit ahead, uncommitted work".
fn summary(c: &ChangeSummary) -> String {
    let mut s = format!("{} file{}, +{} -{}", c.files, plural(c.files), c.additions, c.deletions);
    if c.ahead > 0 {
        s.push_str(&format!(", {} commit{} ahead", c.ahead, plural(c.ahead)));
    }
    if c.behind > 0 {
        s.push_str(&format!(", {} behind", c.behind));
    }
    if c.dirty {
        s.push_str(", uncommitted work");
    }
    s
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A changed file with its diff: one element of `diff --json` without a path.
#[derive(Serialize)]
struct FileWithDiff<'a> {
    #[serde(flatten)]
    file: &'a FileChange,
    diff: FileDiff,
}

/// `diff`: every changed file's diff one after another (or `path`'s), or `--stat`'s list.
async fn diff(client: &Client, out: Out, id: &str, path: Option<&str>, stat: bool) -> Done {
    let mut files = client.workspace_files(id).await?;
    if let Some(p) = path {
        files.files.retain(|f| f.path == p || f.old_path.as_deref() == Some(p));
    }
    if stat {
        match out.json {
            true => out.json(&files),
            false => print_stat(out, &files.files),
        }
        return Ok(());
    }
    if let Some(p) = path {
        // Asked even when unchanged: the server says what is wrong with a path it refuses.
        let file = files.files.first().cloned().unwrap_or(FileChange {
            path: p.to_string(),
            old_path: None,
            status: FileStatus::Modified,
            additions: 0,
            deletions: 0,
        });
        let d = client.workspace_diff(id, &file.path, file.old_path.as_deref()).await?;
        match out.json {
            true => out.json(&d),
            false => print_diff(out, &file, &d),
        }
        return Ok(());
    }
    let diffs = futures::stream::iter(&files.files)
        .map(|f| async move { client.workspace_diff(id, &f.path, f.old_path.as_deref()).await.map(|d| (f, d)) })
        .buffered(DIFFS_AT_ONCE);
    if out.json {
        let all: Vec<FileWithDiff> = diffs.map_ok(|(file, diff)| FileWithDiff { file, diff }).try_collect().await?;
        out.json(&all);
        return Ok(());
    }
    let mut diffs = std::pin::pin!(diffs);
    while let Some((file, d)) = diffs.try_next().await? {
        print_diff(out, file, &d);
    }
    Ok(())
}

/// One file's diff as git prints it; a binary or oversized one says so.
fn print_diff(out: Out, file: &FileChange, d: &FileDiff) {
    let (a, b) = (file.old_path.as_deref().unwrap_or(&file.path), &file.path);
    let head = out.paint("1", &format!("diff --git a/{a} b/{b}"));
    let text = match d {
        FileDiff::Unchanged => return,
        FileDiff::Text { diff } if !out.color => diff.clone(),
        FileDiff::Text { diff } => diff.lines().map(|l| colour_line(out, l) + "\n").collect(),
        FileDiff::Binary => {
            let from = if file.status == FileStatus::Added { "/dev/null".into() } else { format!("a/{a}") };
            let to = if file.status == FileStatus::Deleted { "/dev/null".into() } else { format!("b/{b}") };
            format!("{head}\nBinary files {from} and {to} differ\n")
        }
        FileDiff::TooLarge { limit } => {
            format!("{head}\n(the diff is larger than the server sends, {}: not shown)\n", units::bytes(*limit as u64))
        }
    };
    output::print_safe(&text);
}

/// A diff's line coloured as git colours it.
fn colour_line(out: Out, line: &str) -> String {
    let sgr = match line {
        l if l.starts_with("diff ")
            || l.starts_with("index ")
            || l.starts_with("--- ")
            || l.starts_with("+++ ")
            || l.starts_with("new file")
            || l.starts_with("deleted file")
            || l.starts_with("similarity")
            || l.starts_with("rename ") =>
        {
            "1"
        }
        l if l.starts_with("@@") => "36",
        l if l.starts_with('+') => "32",
        l if l.starts_with('-') => "31",
        _ => return line.to_string(),
    };
    out.paint(sgr, line)
}

/// `--stat`: on a terminal as `git diff --stat` (a bar per file and the totals), piped as
/// `git diff --numstat` (`-` for a binary file's counts).
fn print_stat(out: Out, files: &[FileChange]) {
    let name = |f: &FileChange| match &f.old_path {
        Some(old) => format!("{old} => {}", f.path),
        None => f.path.clone(),
    };
    if !out.tty {
        let lines: String = files
            .iter()
            .map(|f| match f.status {
                FileStatus::Binary => format!("-\t-\t{}\n", f.path),
                _ => format!("{}\t{}\t{}\n", f.additions, f.deletions, f.path),
            })
            .collect();
        return output::print_safe(&lines);
    }
    let names: Vec<String> = files.iter().map(name).collect();
    let name_width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let most = files.iter().map(|f| f.additions + f.deletions).max().unwrap_or(0);
    let count_width = most.to_string().len();
    let bar_width = STAT_WIDTH.saturating_sub(name_width + count_width + 4).max(10) as u64;
    let mut text = String::new();
    for (f, n) in files.iter().zip(&names) {
        let pad = " ".repeat(name_width - n.chars().count());
        if f.status == FileStatus::Binary {
            text.push_str(&format!(" {n}{pad} | Bin\n"));
            continue;
        }
        let changed = f.additions + f.deletions;
        // Scaled to fit, as git does: every changed file keeps at least one mark.
        let (plus, minus) = match changed {
            0 => (0, 0),
            c if most <= bar_width => (f.additions, c - f.additions),
            c => {
                let total = (c * bar_width / most).max(1);
                let plus = (f.additions * total).div_ceil(c).min(total);
                (plus, total - plus)
            }
        };
        let bar = out.paint("32", &"+".repeat(plus as usize)) + &out.paint("31", &"-".repeat(minus as usize));
        text.push_str(&format!(" {n}{pad} | {changed:>count_width$} {bar}\n"));
    }
    let (adds, dels): (u64, u64) =
        files.iter().map(|f| (f.additions, f.deletions)).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let n = files.len() as u64;
    text.push_str(&format!(" {n} file{} changed", plural(n)));
    if adds > 0 || dels == 0 {
        text.push_str(&format!(", {adds} insertion{}(+)", plural(adds)));
    }
    if dels > 0 || adds == 0 {
        text.push_str(&format!(", {dels} deletion{}(-)", plural(dels)));
    }
    text.push('\n');
    output::print_safe(&text);
}

//! `maestro workspace` against a real server process and a real repository: list, get, diff
//! (every file as `git diff` prints it, one file, `--stat` on a terminal and piped, binary
//! files), archive refused with uncommitted work and then forced, restore, a session's
//! default, commit, push without a remote, a squash merge, and the exit codes of a wrong id
//! or word.

use super::{fixture, write};
use crate::cli::{cli, cli_env, json, ok, on_terminal, stdout};
use crate::common::Start;
use maestro::model::*;
use std::process::Output;

/// Exit code and stderr.
fn failed(o: Output) -> (Option<i32>, String) {
    assert!(o.stdout.is_empty(), "errors go to stderr only: {}", stdout(&o));
    (o.status.code(), String::from_utf8_lossy(&o.stderr).to_string())
}

#[test]
fn a_workspace_is_listed_shown_diffed_archived_and_restored() {
    let f = fixture();
    let s = Start::default().run_blocking();
    let api = &s.api;
    let p: Project = json(api, &["project", "create", "Repo", "--base-path", f.repo.to_str().unwrap()]);
    let t: Task = json(api, &["task", "create", "Fix the login", "--project", &p.id]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let w = rt.block_on(s.client.create_workspace(&NewWorkspace { task_id: t.id.clone(), base: None })).unwrap();
    let dir = std::path::PathBuf::from(&w.path);
    // An agent's work: a line added, a new file, a file deleted, a binary file changed.
    write(dir.join("README.md"), "one\ntwo\nthree\nfour\n");
    write(dir.join("login.rs"), "fn login() {}\nfn logout() {}\n");
    std::fs::remove_file(dir.join("gone.txt")).unwrap();
    write(dir.join("logo.bin"), [0u8, 9, 9, 0]);

    // --stat: piped as `git diff --numstat`, on a terminal as `git diff --stat`.
    let numstat = ok(api, &["workspace", "diff", &w.id, "--stat"]);
    assert_eq!(numstat, "1\t0\tREADME.md\n0\t1\tgone.txt\n2\t0\tlogin.rs\n-\t-\tlogo.bin\n");
    let (stat, code) = on_terminal(api, &["workspace", "diff", &w.id, "--stat"], &[("NO_COLOR", "1")]);
    assert_eq!(code, 0);
    assert_eq!(
        stat,
        " README.md | 1 +\n gone.txt  | 1 -\n login.rs  | 2 ++\n logo.bin  | Bin\n 4 files changed, 3 insertions(+), 1 deletion(-)\n"
    );
    let files: WorkspaceFiles = json(api, &["workspace", "diff", &w.id, "--stat"]);
    assert_eq!(files, rt.block_on(s.client.workspace_files(&w.id)).unwrap());

    // Every file's diff, one after another in the order --stat lists them, as git prints.
    let all = ok(api, &["workspace", "diff", &w.id]);
    let at = |needle: &str| all.find(needle).unwrap_or_else(|| panic!("{needle:?} not in:\n{all}"));
    assert!(at("diff --git a/README.md b/README.md") < at("+four"));
    assert!(at("+four") < at("diff --git a/gone.txt b/gone.txt"));
    assert!(at("-bye") < at("diff --git a/login.rs b/login.rs"));
    assert!(at("+fn logout() {}") < at("Binary files a/logo.bin and b/logo.bin differ"));
    assert!(!all.contains('\x1b'), "piped: no colour");
    let (coloured, _) = on_terminal(api, &["workspace", "diff", &w.id], &[]);
    assert!(coloured.contains("\x1b[32m+fn logout() {}\x1b[0m"), "{coloured:?}");
    let every: Vec<serde_json::Value> = json(api, &["workspace", "diff", &w.id]);
    assert_eq!(every.len(), 4);
    assert_eq!((every[3]["path"].as_str(), every[3]["diff"]["kind"].as_str()), (Some("logo.bin"), Some("binary")));
    // One file: its diff alone; --json the API's answer.
    let one = ok(api, &["workspace", "diff", &w.id, "login.rs"]);
    assert!(one.starts_with("diff --git a/login.rs b/login.rs") && !one.contains("README"), "{one}");
    match json::<FileDiff>(api, &["workspace", "diff", &w.id, "README.md"]) {
        FileDiff::Text { diff } => assert!(diff.contains("+four"), "{diff}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(ok(api, &["workspace", "diff", &w.id, "src/lib.rs"]), "", "an unchanged file prints nothing");
    let (code, err) = failed(cli(api, &["workspace", "diff", &w.id, "../outside.txt"]));
    assert_eq!(code, Some(1));
    assert!(err.contains("leads out of the workspace"), "{err}");

    // list and get: piped rows and fields, --json the API's.
    let listed = ok(api, &["workspace", "list", "--project", &p.id]);
    let cells: Vec<&str> = listed.trim_end().split('\t').collect();
    assert_eq!(cells[..7], [w.id.as_str(), "active", t.id.as_str(), w.branch.as_str(), "4", "+3", "-1"], "{listed}");
    assert!(json::<Vec<Workspace>>(api, &["workspace", "list", "--task", &t.id, "--status", "archived"]).is_empty());
    let got: Workspace = json(api, &["workspace", "get", &w.id]);
    assert_eq!(got, rt.block_on(s.client.workspace(&w.id)).unwrap());
    let shown = ok(api, &["workspace", "get", &w.id]);
    assert!(shown.contains(&format!("branch\t{}\n", w.branch)), "{shown}");
    assert!(shown.contains("changes\t4 files, +3 -1, uncommitted work\n"), "{shown}");

    // Archiving would lose the work: refused with git's reason, nothing changed; then forced.
    let (code, err) = failed(cli(api, &["workspace", "archive", &w.id]));
    assert_eq!(code, Some(1));
    assert!(err.contains("login.rs") && err.contains("--force"), "{err}");
    assert!(dir.join("login.rs").is_file(), "a refusal changes nothing");
    let archived = ok(api, &["workspace", "archive", &w.id, "--force"]);
    assert!(archived.contains("status\tarchived\n"), "{archived}");
    assert!(!dir.exists());
    let (code, err) = failed(cli(api, &["workspace", "diff", &w.id]));
    assert_eq!(code, Some(1));
    assert!(err.contains("restore it"), "{err}");
    let restored: Workspace = json(api, &["workspace", "restore", &w.id]);
    assert_eq!(restored.status, WorkspaceStatus::Active);
    assert!(dir.join("README.md").is_file() && !dir.join("login.rs").exists());
    assert_eq!(ok(api, &["workspace", "diff", &w.id]), "", "the branch had none of the uncommitted work");
}

#[test]
fn a_workspace_is_committed_and_merged_from_the_cli() {
    let f = fixture();
    let s = Start::default().run_blocking();
    let api = &s.api;
    let p: Project = json(api, &["project", "create", "Repo", "--base-path", f.repo.to_str().unwrap()]);
    let t: Task = json(api, &["task", "create", "Add dark mode", "--project", &p.id]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let w = rt.block_on(s.client.create_workspace(&NewWorkspace { task_id: t.id.clone(), base: None })).unwrap();
    let dir = std::path::PathBuf::from(&w.path);
    write(dir.join("dark.css"), "body {}\n");
    write(dir.join("light.css"), "body {}\n");

    let shown = ok(api, &["workspace", "commit", &w.id, "-m", "Dark and light"]);
    assert!(shown.contains("changes\t2 files, +2 -0, 1 commit ahead\n"), "{shown}");
    assert_eq!(super::git(&dir, &["log", "-1", "--format=%s"]), "Dark and light");
    let (code, err) = failed(cli(api, &["workspace", "commit", &w.id]));
    assert_eq!(code, Some(1));
    assert!(err.contains("nothing to commit"), "{err}");
    let (code, err) = failed(cli(api, &["workspace", "push", &w.id]));
    assert_eq!(code, Some(1));
    assert!(err.contains("no remote"), "{err}");

    let merged: Workspace = json(api, &["workspace", "merge", &w.id, "--squash"]);
    assert_eq!(merged.status, WorkspaceStatus::Merged);
    assert_eq!(super::git(&f.repo, &["log", "-1", "--format=%s%n%P", "main"]).lines().count(), 2, "one parent");
    assert_eq!(super::git(&f.repo, &["log", "-1", "--format=%s", "main"]), "Add dark mode");
    assert!(f.repo.join("dark.css").is_file(), "the clean checkout of main followed");
    let (code, err) = failed(cli(api, &["workspace", "rebase", &w.id]));
    assert_eq!(code, Some(1));
    assert!(err.contains("is merged"), "{err}");
}

#[test]
fn a_wrong_id_or_word_and_a_session_without_a_workspace_say_so() {
    let s = Start::default().run_blocking();
    let api = &s.api;
    for args in [
        &["workspace", "get", "ws_nope"][..],
        &["workspace", "diff", "ws_nope"],
        &["workspace", "diff", "ws_nope", "--stat"],
        &["workspace", "archive", "ws_nope"],
        &["workspace", "restore", "ws_nope"],
        &["workspace", "commit", "ws_nope", "-m", "x"],
        &["workspace", "merge", "ws_nope", "--squash"],
        &["workspace", "rebase", "ws_nope"],
        &["workspace", "push", "ws_nope"],
    ] {
        let (code, err) = failed(cli(api, args));
        assert_eq!(code, Some(3), "{args:?}: {err}");
        assert!(err.contains("workspace ws_nope not found"), "{args:?}: {err}");
    }
    assert_eq!(cli(api, &["workspace", "list", "--status", "gone"]).status.code(), Some(2));
    let (code, err) = failed(cli(api, &["workspace", "diff"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("MAESTRO_SESSION_ID"), "{err}");

    // Inside a session that runs in no workspace: `get` and `diff` say so.
    let p: Project = json(api, &["project", "create", "P"]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let session = rt.block_on(s.client.create_session(&NewSession { project_id: p.id, ..Default::default() })).unwrap();
    let env: Vec<(&str, &str)> = session.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for args in [&["workspace", "get"][..], &["workspace", "diff", "src/main.rs"]] {
        let (code, err) = failed(cli_env(api, args, &env));
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(&format!("session {} runs in no workspace", session.id)), "{err}");
    }
}

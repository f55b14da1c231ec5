//! The git layer over real repositories: making and reusing worktrees, `.worktreeinclude`,
//! changes, diffs and their caps, archive and restore, refusals, isolation between
//! worktrees, and the watcher.

use super::{fixture, git, write};
use maestro::workspace::git::{Git, GitError};
use maestro::workspace::{
    archive, changes, check_branch, copy_included, disk_usage, file_diff, make, repo_of, restore, reuse, watch, Error,
    FileDiff, FileStatus, NewWorktree,
};
use std::fs;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn a_worktree_is_made_on_a_new_branch_and_reused() {
    let f = fixture();
    write(f.repo.join(".maestro/setup.sh"), "#!/bin/sh\necho ready\n");
    git(&f.repo, &["add", "-A"]);
    git(&f.repo, &["commit", "-q", "-m", "setup"]);
    let head = git(&f.repo, &["rev-parse", "HEAD"]);

    let made = f.make("Fix the Login bug!");
    assert!(made.branch.starts_with("maestro/fix-the-login-bug-"), "{}", made.branch);
    assert_eq!(made.path.parent().unwrap(), f.worktrees.join("proj_1"));
    assert_eq!((made.base.as_str(), made.base_commit.as_str()), ("main", head.as_str()));
    assert_eq!(fs::read_to_string(made.path.join("README.md")).unwrap(), "one\ntwo\nthree\n");
    assert_eq!(made.setup, Some(made.path.join(".maestro/setup.sh")));

    let repo = reuse(&made.path, &made.branch).unwrap();
    assert_eq!(repo.branch.as_deref(), Some(made.branch.as_str()));
    assert_eq!(repo.head.as_deref(), Some(head.as_str()));
    assert!(matches!(reuse(&made.path, "main"), Err(Error::Conflict(_))));
    assert!(matches!(reuse(&f.worktrees.join("proj_1/missing"), &made.branch), Err(Error::Conflict(_))));
    // The person's checkout keeps its branch.
    assert_eq!(repo_of(&f.repo).unwrap().branch.as_deref(), Some("main"));

    // A second attempt at the same task gets a branch and directory of its own.
    let again = f.make("Fix the Login bug!");
    assert_ne!((&again.branch, &again.path), (&made.branch, &made.path));

    // A named base and a named branch.
    git(&f.repo, &["branch", "release"]);
    let named = make(&NewWorktree { base: Some("release"), branch: Some("feature/x"), ..f.request("t") }).unwrap();
    assert_eq!((named.branch.as_str(), named.base.as_str()), ("feature/x", "release"));
    assert_eq!(named.path, f.worktrees.join("proj_1/feature-x"));
    assert!(matches!(make(&NewWorktree { branch: Some("feature/x"), ..f.request("t") }), Err(Error::Conflict(_))));
}

#[test]
fn a_directory_outside_git_and_bad_input_are_refused() {
    let f = fixture();
    let plain = f.outside();
    assert!(matches!(repo_of(&plain), Err(Error::Conflict(m)) if m.contains("not inside a git")));
    assert!(matches!(repo_of(&plain.join("missing")), Err(Error::Invalid(_))));
    assert!(matches!(make(&NewWorktree { repo: &plain, ..f.request("t") }), Err(Error::Conflict(_))));

    for bad in ["", "-x", "a..b", "a b", "HEAD", "@{-1}", "x.lock", "a~b", "a:b", "/a", "a//b", "end/", "q?"] {
        assert!(matches!(check_branch(&f.repo, bad), Err(Error::Invalid(_))), "{bad:?}");
        assert!(
            matches!(make(&NewWorktree { branch: Some(bad), ..f.request("t") }), Err(Error::Invalid(_))),
            "{bad:?}"
        );
    }
    for good in ["main2", "feature/login", "maestro/fix-1a2b", "ünï"] {
        check_branch(&f.repo, good).unwrap();
    }
    assert!(matches!(make(&NewWorktree { base: Some("--output=/tmp/x"), ..f.request("t") }), Err(Error::Invalid(_))));
    assert!(matches!(make(&NewWorktree { base: Some("nope"), ..f.request("t") }), Err(Error::Conflict(_))));
    for project in ["", "..", "../x", "a/b"] {
        assert!(matches!(make(&NewWorktree { project, ..f.request("t") }), Err(Error::Invalid(_))), "{project:?}");
    }
    assert!(!f.worktrees.exists(), "nothing made");

    // git's own refusal, in its words.
    match Git::new(&f.repo).args(["rev-parse", "--verify", "nope"]).run() {
        Err(GitError::Failed { reason, .. }) => assert!(!reason.contains("fatal:") && !reason.is_empty(), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn git_is_stopped_at_its_time_limit() {
    let f = fixture();
    let started = Instant::now();
    // A shell alias that outlives the limit: git and its child are killed together.
    let slow = Git::new(&f.repo).args(["-c", "alias.slow=!sleep 30", "slow"]).timeout(Duration::from_millis(300)).run();
    assert!(matches!(slow, Err(GitError::Timeout { .. })), "{slow:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn worktreeinclude_copies_the_ignored_files_it_lists() {
    let f = fixture();
    let outside = f.outside();
    write(outside.join("passwords"), "secret\n");
    write(f.repo.join(".worktreeinclude"), ".env\nconfig/local/\nsecrets/inner.txt\nsecret-link\nnotignored.txt\n");
    git(&f.repo, &["add", ".worktreeinclude"]);
    git(&f.repo, &["commit", "-q", "-m", "include"]);
    write(f.repo.join(".env"), "KEY=1\n");
    write(f.repo.join("config/local/app.json"), "{}\n");
    write(f.repo.join("config/local/deep/more.json"), "[]\n");
    write(f.repo.join("node_modules/pkg/index.js"), "x\n");
    write(f.repo.join("secrets/inner.txt"), "inner\n");
    write(f.repo.join("secrets/other.txt"), "other\n");
    write(f.repo.join("notignored.txt"), "untracked\n");
    std::os::unix::fs::symlink(outside.join("passwords"), f.repo.join("secret-link")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(f.repo.join(".env"), fs::Permissions::from_mode(0o600)).unwrap();
    }

    let made = f.make("include");
    let copied: Vec<_> = made.included.copied.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    assert_eq!(copied, [".env", "config/local/app.json", "config/local/deep/more.json", "secrets/inner.txt"]);
    assert_eq!(fs::read_to_string(made.path.join(".env")).unwrap(), "KEY=1\n");
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(made.path.join(".env")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(!made.path.join("node_modules").exists());
    assert!(!made.path.join("secrets/other.txt").exists());
    assert!(!made.path.join("notignored.txt").exists());
    assert!(fs::symlink_metadata(made.path.join("secret-link")).is_err(), "a link out of the checkout is not followed");
    assert!(made.included.refused.iter().any(|(p, why)| p == Path::new("secret-link") && why.contains("out of")));
    // The copies are ignored: the workspace shows no change.
    assert_eq!(changes(&made.path, "main").unwrap().summary.files, 0);
}

#[test]
fn worktreeinclude_never_writes_through_a_link_or_over_a_file() {
    let f = fixture();
    let outside = f.outside();
    write(f.repo.join(".worktreeinclude"), "config/local/\n.env\n");
    write(f.repo.join("config/local/key"), "k\n");
    write(f.repo.join(".env"), "new\n");
    let to = f._dir.path().join("to");
    fs::create_dir_all(to.join("config")).unwrap();
    std::os::unix::fs::symlink(&outside, to.join("config/local")).unwrap();
    write(to.join(".env"), "kept\n");

    let included = copy_included(&f.repo, &to).unwrap();
    assert!(included.copied.is_empty(), "{included:?}");
    assert_eq!(included.refused.len(), 2, "{included:?}");
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0, "nothing written outside");
    assert_eq!(fs::read_to_string(to.join(".env")).unwrap(), "kept\n");
}

#[test]
fn changes_follow_writes_deletes_renames_commits_and_untracked_files() {
    let f = fixture();
    let ws = f.make("changes").path;
    let none = changes(&ws, "main").unwrap();
    assert_eq!((none.summary.files, none.summary.dirty, none.summary.ahead), (0, false, 0));
    assert_eq!(none.merge_base, git(&f.repo, &["rev-parse", "main"]));

    write(ws.join("README.md"), "one\ntwo\nthree\nfour\n"); // unstaged
    fs::remove_file(ws.join("gone.txt")).unwrap();
    git(&ws, &["mv", "move-me.txt", "moved.txt"]); // staged rename
    write(ws.join("staged.txt"), "s\n");
    git(&ws, &["add", "staged.txt"]);
    write(ws.join("notes/new.txt"), "a\nb"); // untracked, no final newline
    write(ws.join("logo.bin"), [9u8, 0, 9]);
    write(ws.join("build/out.o"), "ignored\n");
    write(ws.join("committed.txt"), "c1\nc2\nc3\n");
    git(&ws, &["add", "committed.txt"]);
    git(&ws, &["commit", "-q", "-m", "on the branch"]);
    // base moves on too.
    write(f.repo.join("elsewhere.txt"), "e\n");
    git(&f.repo, &["add", "elsewhere.txt"]);
    git(&f.repo, &["commit", "-q", "-m", "on main"]);

    let got = changes(&ws, "main").unwrap();
    let row = |p: &str| {
        let c = got.files.iter().find(|c| c.path == p).unwrap_or_else(|| panic!("{p} in {:?}", got.files));
        (c.status, c.additions, c.deletions)
    };
    assert_eq!(row("README.md"), (FileStatus::Modified, 1, 0));
    assert_eq!(row("gone.txt"), (FileStatus::Deleted, 0, 1));
    assert_eq!(row("moved.txt"), (FileStatus::Renamed, 0, 0));
    assert_eq!(got.files.iter().find(|c| c.path == "moved.txt").unwrap().old_path.as_deref(), Some("move-me.txt"));
    assert_eq!(row("staged.txt"), (FileStatus::Added, 1, 0));
    assert_eq!(row("notes/new.txt"), (FileStatus::Added, 2, 0));
    assert_eq!(row("committed.txt"), (FileStatus::Added, 3, 0));
    assert_eq!(row("logo.bin").0, FileStatus::Binary);
    let paths: Vec<_> = got.files.iter().map(|c| c.path.as_str()).collect();
    assert!(!paths.contains(&"build/out.o") && !paths.contains(&"elsewhere.txt"), "{paths:?}");
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    let s = got.summary;
    assert_eq!((s.files, s.additions, s.deletions, s.ahead, s.behind, s.dirty), (7, 7, 1, 1, 1, true));

    // Committing everything leaves the same changes, now clean.
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-q", "-m", "all"]);
    let committed = changes(&ws, "main").unwrap();
    assert_eq!((committed.summary.files, committed.summary.dirty, committed.summary.ahead), (7, false, 2));
    assert!(matches!(changes(&ws, "no-such-branch"), Err(Error::Conflict(_))));
    assert!(matches!(changes(&ws, "-x"), Err(Error::Invalid(_))));
}

#[test]
fn uncommitted_work_is_told_wherever_it_is() {
    let f = fixture();
    let ws = f.make("dirty").path;
    // Staged, then the file put back: only the index differs from HEAD.
    write(ws.join("README.md"), "staged\n");
    git(&ws, &["add", "README.md"]);
    write(ws.join("README.md"), "one\ntwo\nthree\n");
    let staged = changes(&ws, "main").unwrap().summary;
    assert_eq!((staged.files, staged.dirty), (0, true));
    git(&ws, &["reset", "-q"]);
    assert!(!changes(&ws, "main").unwrap().summary.dirty);

    // With a commit on the branch: a file that differs from HEAD, not from the merge-base.
    write(ws.join("README.md"), "one\n");
    git(&ws, &["commit", "-q", "-am", "shorter"]);
    assert!(!changes(&ws, "main").unwrap().summary.dirty);
    write(ws.join("README.md"), "one\ntwo\nthree\n");
    let reverted = changes(&ws, "main").unwrap().summary;
    assert_eq!((reverted.files, reverted.ahead, reverted.dirty), (0, 1, true));
}

#[test]
fn a_file_diff_has_caps_and_stays_inside_the_workspace() {
    let f = fixture();
    let outside = f.outside();
    write(outside.join("file"), "outside\n");
    let ws = f.make("diff").path;
    write(ws.join("README.md"), "one\nTWO\nthree\n");
    write(ws.join("notes/new.txt"), "hello\n");
    write(ws.join("logo.bin"), [7u8, 0, 7]);
    write(ws.join("big.txt"), "x".repeat(10_000));
    git(&ws, &["mv", "move-me.txt", "moved.txt"]);
    std::os::unix::fs::symlink(&outside, ws.join("link")).unwrap();
    let cap = 4096;

    let FileDiff::Text { diff } = file_diff(&ws, "main", "README.md", None, cap).unwrap() else { panic!() };
    assert!(diff.contains("--- a/README.md") && diff.contains("-two\n+TWO\n") && diff.contains("@@"), "{diff}");
    let FileDiff::Text { diff } = file_diff(&ws, "main", "notes/new.txt", None, cap).unwrap() else { panic!() };
    assert!(diff.contains("+++ b/notes/new.txt") && diff.contains("+hello"), "{diff}");
    let FileDiff::Text { diff } = file_diff(&ws, "main", "moved.txt", Some("move-me.txt"), cap).unwrap() else {
        panic!()
    };
    assert!(diff.contains("rename from move-me.txt"), "{diff}");
    assert_eq!(file_diff(&ws, "main", "logo.bin", None, cap).unwrap(), FileDiff::Binary);
    assert_eq!(file_diff(&ws, "main", "big.txt", None, cap).unwrap(), FileDiff::TooLarge { limit: cap });
    assert_eq!(file_diff(&ws, "main", "README.md", None, 20).unwrap(), FileDiff::TooLarge { limit: 20 });
    assert_eq!(file_diff(&ws, "main", "src/lib.rs", None, cap).unwrap(), FileDiff::Unchanged);
    assert_eq!(file_diff(&ws, "main", "no/such/file", None, cap).unwrap(), FileDiff::Unchanged);

    for bad in ["../repo/README.md", "/etc/passwd", ".git/config", "link/file", "", "a/../../x"] {
        assert!(matches!(file_diff(&ws, "main", bad, None, cap), Err(Error::Invalid(_))), "{bad:?}");
    }
    assert!(matches!(file_diff(&ws, "main", "moved.txt", Some("../x"), cap), Err(Error::Invalid(_))));
}

#[test]
fn archive_refuses_uncommitted_work_unless_forced_and_restore_brings_it_back() {
    let f = fixture();
    let made = f.make("archive");
    let ws = &made.path;
    write(ws.join("work.txt"), "w\n");
    let before = disk_usage(ws);
    assert!(before > 0);
    write(ws.join("more.bin"), vec![1u8; 100_000]);
    assert!(disk_usage(ws) >= before + 100_000);
    fs::remove_file(ws.join("more.bin")).unwrap();

    let refused = archive(&f.repo, ws, false).unwrap_err();
    assert!(matches!(&refused, Error::Conflict(m) if m.contains("work.txt")), "{refused}");
    assert!(ws.join("work.txt").exists());

    git(ws, &["add", "work.txt"]);
    git(ws, &["commit", "-q", "-m", "work"]);
    write(ws.join("README.md"), "changed\n");
    assert!(archive(&f.repo, ws, false).is_err());
    archive(&f.repo, ws, true).unwrap();
    assert!(!ws.exists());
    assert!(Git::new(&f.repo).args(["show-ref", "--verify", &format!("refs/heads/{}", made.branch)]).run().is_ok());
    archive(&f.repo, ws, false).unwrap(); // already gone: nothing to do

    assert!(matches!(restore(&f.repo, ws, "bad..name"), Err(Error::Invalid(_))));
    restore(&f.repo, ws, &made.branch).unwrap();
    assert_eq!(fs::read_to_string(ws.join("work.txt")).unwrap(), "w\n", "the committed work is back");
    assert_eq!(fs::read_to_string(ws.join("README.md")).unwrap(), "one\ntwo\nthree\n", "the forced change is gone");
    reuse(ws, &made.branch).unwrap();
    assert!(matches!(restore(&f.repo, ws, &made.branch), Err(Error::Conflict(_))));

    // A clean worktree archives without force; restoring elsewhere works too.
    archive(&f.repo, ws, false).unwrap();
    let elsewhere = f.worktrees.join("proj_1/restored");
    restore(&f.repo, &elsewhere, &made.branch).unwrap();
    // The branch cannot be checked out twice: git's reason comes back.
    assert!(matches!(restore(&f.repo, ws, &made.branch), Err(Error::Git(GitError::Failed { .. }))));
}

#[test]
fn two_worktrees_write_the_same_file_without_touching_each_other() {
    let f = fixture();
    let a = f.make("task a").path;
    let b = f.make("task b").path;
    write(a.join("README.md"), "from a\n");
    write(b.join("README.md"), "from b\nand more\n");
    write(a.join("shared/new.txt"), "a\n");
    write(b.join("shared/new.txt"), "b\n");

    assert_eq!(fs::read_to_string(a.join("README.md")).unwrap(), "from a\n");
    assert_eq!(fs::read_to_string(b.join("README.md")).unwrap(), "from b\nand more\n");
    assert_eq!(fs::read_to_string(f.repo.join("README.md")).unwrap(), "one\ntwo\nthree\n");
    assert!(!f.repo.join("shared").exists());
    assert_eq!(git(&f.repo, &["status", "--porcelain"]), "", "the person's checkout is untouched");
    let (ca, cb) = (changes(&a, "main").unwrap(), changes(&b, "main").unwrap());
    assert_eq!((ca.summary.additions, ca.summary.deletions), (2, 3));
    assert_eq!((cb.summary.additions, cb.summary.deletions), (3, 3));
}

#[test]
fn the_watcher_fires_after_writes_and_commits_not_after_reads() {
    let f = fixture();
    let ws = f.make("watch").path;
    let (tx, rx) = mpsc::channel();
    let _watcher = watch(&ws, Duration::from_millis(50), move || {
        let _ = tx.send(());
    })
    .unwrap();
    let wait = Duration::from_secs(10);
    let drain = |rx: &mpsc::Receiver<()>| while rx.recv_timeout(Duration::from_millis(300)).is_ok() {};

    write(ws.join("src/lib.rs"), "fn main() { changed() }\n");
    rx.recv_timeout(wait).expect("a write is seen");
    drain(&rx);

    // Reading (our own status and diff) and writing ignored files are not changes.
    changes(&ws, "main").unwrap();
    file_diff(&ws, "main", "src/lib.rs", None, 1 << 20).unwrap();
    write(ws.join("build/out.o"), "ignored\n");
    assert!(rx.recv_timeout(Duration::from_millis(500)).is_err(), "no callback for reads or ignored files");

    // A commit outside the tree's files (index and refs) is seen.
    git(&ws, &["commit", "-q", "--allow-empty", "-m", "empty"]);
    rx.recv_timeout(wait).expect("a commit is seen");
    drain(&rx);
    fs::remove_file(ws.join("gone.txt")).unwrap();
    rx.recv_timeout(wait).expect("a delete is seen");
}

//! Landing over real repositories (SPEC §8 "Landing"): commit everything (as Maestro when
//! the repository names no one), merge with a merge commit and squashed, the person's
//! checkout left alone on another branch, brought along when it is base's and clean, refused
//! when dirty; a conflict refused with its files and nothing changed; rebase onto a moved
//! base and with a conflict; push to a bare remote and without one.

use super::{fixture, git, write, Fixture};
use maestro::model::MergeStrategy;
use maestro::workspace::{commit, merge, push, rebase, Error, Made};
use std::fs;
use std::path::Path;

/// A workspace with one committed file of its own, `feature.txt`.
fn with_work(f: &Fixture) -> Made {
    let made = f.make("Add a feature");
    write(made.path.join("feature.txt"), "new\n");
    commit(&made.path, "Add a feature").unwrap();
    made
}

fn squash_or_merge(made: &Made, f: &Fixture, strategy: MergeStrategy) -> Result<maestro::workspace::Merged, Error> {
    merge(&f.repo, &made.path, &made.base, &made.branch, strategy, "Land it")
}

/// Every ref and the person's files, to compare before and after a refusal.
fn state(f: &Fixture, made: &Made) -> (String, String, String) {
    let refs = git(&f.repo, &["for-each-ref", "--format=%(refname) %(objectname)"]);
    let files = git(&f.repo, &["status", "--porcelain", "--untracked-files=all"]);
    let theirs = git(&made.path, &["status", "--porcelain", "--untracked-files=all"]);
    (refs, files, theirs)
}

#[test]
fn commit_takes_everything_with_the_repositorys_author() {
    let f = fixture();
    let made = f.make("Fix it");
    write(made.path.join("new.txt"), "a\n");
    write(made.path.join("README.md"), "one\n");
    fs::remove_file(made.path.join("gone.txt")).unwrap();
    write(made.path.join(".env"), "ignored\n");
    let id = commit(&made.path, "Fix it\n\nAll of it.").unwrap();
    assert_eq!(id, git(&made.path, &["rev-parse", "HEAD"]));
    assert_eq!(
        git(&made.path, &["log", "-1", "--format=%an <%ae>|%B"]),
        "Maestro Test <test@example.com>|Fix it\n\nAll of it."
    );
    assert_eq!(
        git(&made.path, &["show", "--name-status", "--format=", "HEAD"]),
        "M\tREADME.md\nD\tgone.txt\nA\tnew.txt"
    );
    assert_eq!(git(&made.path, &["status", "--porcelain"]), "", "an ignored file stays out");
    match commit(&made.path, "again") {
        Err(Error::Conflict(m)) => assert!(m.contains("nothing to commit"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(git(&made.path, &["rev-parse", "HEAD"]), id);

    // A repository that names no one (blank here, overriding any global name): Maestro.
    git(&f.repo, &["config", "user.name", ""]);
    git(&f.repo, &["config", "user.email", ""]);
    write(made.path.join("new.txt"), "b\n");
    commit(&made.path, "Anonymous").unwrap();
    assert_eq!(git(&made.path, &["log", "-1", "--format=%an <%ae>|%cn"]), "Maestro <maestro@localhost>|Maestro");
}

#[test]
fn a_merge_commit_lands_on_base_and_leaves_a_checkout_on_another_branch_alone() {
    let f = fixture();
    let made = with_work(&f);
    let tip = git(&made.path, &["rev-parse", "HEAD"]);
    let old = git(&f.repo, &["rev-parse", "main"]);
    // The person works on another branch, with uncommitted changes: none of it moves.
    git(&f.repo, &["switch", "-q", "-c", "mine"]);
    write(f.repo.join("README.md"), "mine\n");
    let merged = squash_or_merge(&made, &f, MergeStrategy::Merge).unwrap();
    assert_eq!(merged.checkout, None);
    assert_eq!(git(&f.repo, &["rev-parse", "main"]), merged.commit);
    assert_eq!(git(&f.repo, &["log", "-1", "--format=%P|%s|%an", "main"]), format!("{old} {tip}|Land it|Maestro Test"));
    assert_eq!(git(&f.repo, &["show", "main:feature.txt"]), "new");
    assert_eq!(git(&f.repo, &["branch", "--show-current"]), "mine");
    assert_eq!(fs::read_to_string(f.repo.join("README.md")).unwrap(), "mine\n");
    assert!(!f.repo.join("feature.txt").exists());
    match squash_or_merge(&made, &f, MergeStrategy::Merge) {
        Err(Error::Conflict(m)) => assert!(m.contains("nothing to merge"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_squash_is_one_commit_and_a_clean_checkout_of_base_follows() {
    let f = fixture();
    let made = with_work(&f);
    write(made.path.join("second.txt"), "two\n");
    commit(&made.path, "Second").unwrap();
    let old = git(&f.repo, &["rev-parse", "main"]);
    // The person's checkout is on main and clean (an ignored file does not count).
    write(f.repo.join(".env"), "KEY=1\n");
    let merged = squash_or_merge(&made, &f, MergeStrategy::Squash).unwrap();
    assert_eq!(
        merged.checkout.as_deref().map(Path::canonicalize).transpose().unwrap(),
        Some(f.repo.canonicalize().unwrap())
    );
    assert_eq!(git(&f.repo, &["log", "-1", "--format=%P|%s", "main"]), format!("{old}|Land it"));
    assert_eq!(git(&f.repo, &["rev-list", "--count", &format!("{old}..main")]), "1");
    assert_eq!(git(&f.repo, &["rev-parse", "HEAD"]), merged.commit, "the checkout is at the new commit");
    assert_eq!(fs::read_to_string(f.repo.join("feature.txt")).unwrap(), "new\n");
    assert_eq!(fs::read_to_string(f.repo.join("second.txt")).unwrap(), "two\n");
    assert_eq!(git(&f.repo, &["status", "--porcelain"]), "");
}

#[test]
fn a_dirty_checkout_of_base_uncommitted_work_and_a_conflict_change_nothing() {
    let f = fixture();
    let made = with_work(&f);

    // base is checked out and has uncommitted changes: refused, with where and which.
    write(f.repo.join("src/lib.rs"), "fn main() { todo!() }\n");
    let before = state(&f, &made);
    match squash_or_merge(&made, &f, MergeStrategy::Merge) {
        Err(Error::Conflict(m)) => assert!(m.contains("uncommitted changes") && m.contains("src/lib.rs"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(state(&f, &made), before);
    git(&f.repo, &["checkout", "-q", "--", "src/lib.rs"]);

    // Uncommitted work in the workspace: commit first.
    write(made.path.join("feature.txt"), "newer\n");
    let before = state(&f, &made);
    match squash_or_merge(&made, &f, MergeStrategy::Squash) {
        Err(Error::Conflict(m)) => assert!(m.contains("commit first") && m.contains("feature.txt"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(state(&f, &made), before);
    git(&made.path, &["checkout", "-q", "--", "feature.txt"]);

    // Both changed the same line: refused with the file, no ref and no file changed.
    write(made.path.join("README.md"), "one\nTWO (agent)\nthree\n");
    commit(&made.path, "agent").unwrap();
    write(f.repo.join("README.md"), "one\nTWO (person)\nthree\n");
    git(&f.repo, &["commit", "-q", "-am", "person"]);
    let before = state(&f, &made);
    for strategy in [MergeStrategy::Merge, MergeStrategy::Squash] {
        match squash_or_merge(&made, &f, strategy) {
            Err(Error::Conflicts { message, files }) => {
                assert_eq!(files, ["README.md"]);
                assert!(message.contains("README.md") && message.contains("nothing was changed"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(state(&f, &made), before);
    }
    assert_eq!(fs::read_to_string(f.repo.join("README.md")).unwrap(), "one\nTWO (person)\nthree\n");
}

#[test]
fn rebase_moves_the_branch_onto_base_or_aborts_on_a_conflict() {
    let f = fixture();
    let made = with_work(&f);
    write(f.repo.join("later.txt"), "later\n");
    git(&f.repo, &["add", "later.txt"]);
    git(&f.repo, &["commit", "-q", "-m", "later"]);
    let main = git(&f.repo, &["rev-parse", "main"]);
    rebase(&made.path, "main").unwrap();
    assert_eq!(git(&made.path, &["rev-parse", "HEAD~1"]), main);
    assert_eq!(git(&made.path, &["branch", "--show-current"]), made.branch);
    assert!(made.path.join("later.txt").is_file() && made.path.join("feature.txt").is_file());

    // Uncommitted work: refused.
    write(made.path.join("feature.txt"), "changed\n");
    assert!(matches!(rebase(&made.path, "main"), Err(Error::Conflict(m)) if m.contains("commit first")));
    git(&made.path, &["checkout", "-q", "--", "feature.txt"]);

    // A conflict: aborted, the branch and files as they were.
    write(made.path.join("README.md"), "agent\n");
    commit(&made.path, "agent").unwrap();
    write(f.repo.join("README.md"), "person\n");
    git(&f.repo, &["commit", "-q", "-am", "person"]);
    let before = (state(&f, &made), git(&made.path, &["rev-parse", "HEAD"]));
    match rebase(&made.path, "main") {
        Err(Error::Conflicts { files, message }) => {
            assert_eq!(files, ["README.md"]);
            assert!(message.contains("nothing was changed"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((state(&f, &made), git(&made.path, &["rev-parse", "HEAD"])), before);
    assert_eq!(fs::read_to_string(made.path.join("README.md")).unwrap(), "agent\n");
    assert_eq!(git(&made.path, &["branch", "--show-current"]), made.branch, "no rebase left under way");
}

/// A rebase the agent (or the person) left stopped on a conflict in the workspace, and
/// files left unmerged by a `stash pop`: commit, merge and rebase refuse, saying what is under
/// way, and change nothing (a commit would have taken the conflict markers onto the branch).
#[test]
fn a_stopped_rebase_or_unmerged_files_refuse_commit_merge_and_rebase() {
    let f = fixture();
    let made = with_work(&f);
    write(made.path.join("README.md"), "agent\n");
    commit(&made.path, "agent").unwrap();
    write(f.repo.join("README.md"), "person\n");
    git(&f.repo, &["commit", "-q", "-am", "person"]);
    let stopped = std::process::Command::new("git").args(["rebase", "-q", "main"]).current_dir(&made.path).output();
    assert!(!stopped.unwrap().status.success(), "the rebase stops on the conflict");
    assert!(fs::read_to_string(made.path.join("README.md")).unwrap().contains("<<<<<<<"));
    let before = (state(&f, &made), git(&made.path, &["rev-parse", "HEAD"]));
    let under_way = |r: Result<(), Error>, doing: &str| match r {
        Err(Error::Conflict(m)) => assert!(m.contains("a rebase is under way") && m.contains(doing), "{m}"),
        other => panic!("{doing}: {other:?}"),
    };
    under_way(commit(&made.path, "Land it").map(drop), "then commit again");
    under_way(squash_or_merge(&made, &f, MergeStrategy::Squash).map(drop), "then merge again");
    under_way(rebase(&made.path, "main"), "then rebase again");
    assert_eq!((state(&f, &made), git(&made.path, &["rev-parse", "HEAD"])), before, "nothing changed");
    git(&made.path, &["rebase", "--abort"]);

    // Unmerged with nothing under way: a stash popped onto a conflicting change.
    write(made.path.join("README.md"), "stashed\n");
    git(&made.path, &["stash", "-q"]);
    write(made.path.join("README.md"), "committed\n");
    commit(&made.path, "committed").unwrap();
    let popped = std::process::Command::new("git").args(["stash", "pop", "-q"]).current_dir(&made.path).output();
    assert!(!popped.unwrap().status.success(), "the stash conflicts");
    let head = git(&made.path, &["rev-parse", "HEAD"]);
    match commit(&made.path, "Land it") {
        Err(Error::Conflict(m)) => assert!(m.contains("unresolved conflicts (README.md)"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(git(&made.path, &["rev-parse", "HEAD"]), head);
}

#[test]
fn push_sends_the_branch_to_the_remote_or_says_there_is_none() {
    let f = fixture();
    let made = with_work(&f);
    match push(&made.path, &made.branch) {
        Err(Error::Conflict(m)) => assert!(m.starts_with("no remote"), "{m}"),
        other => panic!("{other:?}"),
    }
    let bare = f.repo.parent().unwrap().join("remote.git");
    git(f.repo.parent().unwrap(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    git(&f.repo, &["remote", "add", "upstream", bare.to_str().unwrap()]);
    assert_eq!(push(&made.path, &made.branch).unwrap(), "upstream", "the only remote");
    assert_eq!(git(&bare, &["rev-parse", &made.branch]), git(&made.path, &["rev-parse", "HEAD"]));

    // Several remotes: origin; one that cannot be reached is git's reason, not a prompt.
    git(&f.repo, &["remote", "add", "origin", "/nonexistent/remote.git"]);
    match push(&made.path, &made.branch) {
        Err(Error::Git(e)) => assert!(e.to_string().contains("nonexistent"), "{e}"),
        other => panic!("{other:?}"),
    }
}

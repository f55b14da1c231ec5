//! Copying the files a repository's `.worktreeinclude` lists (gitignore syntax: `.env`,
//! local config; the convention Claude Code, Conductor and agent-deck share) from the
//! person's checkout into a new worktree.
//!
//! As in that convention only files git ignores are copied: tracked files come with the
//! checkout, and a copied untracked file would show as the agent's change. Candidates come
//! from git (`ls-files --others --ignored --directory`: an ignored directory is one entry,
//! so `node_modules/` is not walked unless `.worktreeinclude` names it or a path under it).
//! Nothing is read or written through a symbolic link that leads out of either tree, and
//! nothing already in the worktree is overwritten.

use super::git::{fields, Git};
use super::Error;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::path::{Component, Path, PathBuf};

/// Most entries walked inside ignored directories that a pattern reaches into.
const WALK_MAX: usize = 100_000;

/// What `.worktreeinclude` brought: files copied, and files (or lines) refused with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Included {
    /// Paths relative to the tree's top.
    pub copied: Vec<PathBuf>,
    pub refused: Vec<(PathBuf, String)>,
}

/// Copies from the checkout at `from` into the worktree at `to` the ignored files that
/// `from/.worktreeinclude` matches. No `.worktreeinclude`: nothing to do.
pub fn copy_included(from: &Path, to: &Path) -> Result<Included, Error> {
    let mut done = Included::default();
    let list = from.join(".worktreeinclude");
    let text = match fs::symlink_metadata(&list) {
        Ok(meta) if meta.is_file() => fs::read_to_string(&list).map_err(|e| Error::io(list.display(), e))?,
        Ok(_) => {
            done.refused.push((".worktreeinclude".into(), "not a regular file".into()));
            return Ok(done);
        }
        Err(_) => return Ok(done),
    };
    let (matcher, prefixes) = patterns(from, &text, &mut done);
    let trees = Trees {
        from: from.canonicalize().map_err(|e| Error::io(from.display(), e))?,
        to: to.canonicalize().map_err(|e| Error::io(to.display(), e))?,
    };
    let listed =
        Git::new(from).args(["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"]).run()?;
    // git may list a directory and one inside it (`config/`, `config/local/`): a set.
    let mut wanted = BTreeSet::new();
    for entry in fields(&listed.stdout) {
        let entry = String::from_utf8_lossy(entry);
        let Some(dir) = entry.strip_suffix('/') else {
            if matcher.matched_path_or_any_parents(&*entry, false).is_ignore() {
                wanted.insert(PathBuf::from(&*entry));
            }
            continue;
        };
        let whole = matcher.matched_path_or_any_parents(dir, true).is_ignore();
        let under = format!("{dir}/");
        let reached =
            prefixes.iter().any(|p| p.starts_with(&under) || (!p.is_empty() && under.starts_with(p.as_str())));
        if whole || reached {
            let files = trees.walk(Path::new(dir), &mut done);
            wanted.extend(
                files.into_iter().filter(|f| whole || matcher.matched_path_or_any_parents(f, false).is_ignore()),
            );
        }
    }
    for file in wanted {
        trees.copy(&file, &mut done);
    }
    Ok(done)
}

/// The matcher, and the literal start of each pattern anchored at a path with a directory
/// (`config/local/*.json` → `config/local/`): the ignored directories worth walking into.
fn patterns(root: &Path, text: &str, done: &mut Included) -> (Gitignore, Vec<String>) {
    let mut builder = GitignoreBuilder::new(root);
    let mut prefixes = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if let Err(e) = builder.add_line(None, line) {
            done.refused.push((".worktreeinclude".into(), format!("line {}: {e}", n + 1)));
            continue;
        }
        let pattern = line.trim().trim_start_matches('/');
        if pattern.starts_with('#') || pattern.starts_with('!') {
            continue;
        }
        if pattern.trim_end_matches('/').contains('/') {
            let literal = pattern.find(['*', '?', '[', '\\']).map_or(pattern, |at| &pattern[..at]);
            prefixes.push(literal.to_string());
        }
    }
    let matcher = builder.build().unwrap_or_else(|e| {
        done.refused.push((".worktreeinclude".into(), e.to_string()));
        Gitignore::empty()
    });
    (matcher, prefixes)
}

/// The two trees, canonical.
struct Trees {
    from: PathBuf,
    to: PathBuf,
}

impl Trees {
    /// The files (and links) under `dir` in the checkout, not following links.
    fn walk(&self, dir: &Path, done: &mut Included) -> Vec<PathBuf> {
        let (mut files, mut stack, mut seen) = (Vec::new(), vec![dir.to_path_buf()], 0);
        while let Some(dir) = stack.pop() {
            let Ok(entries) = fs::read_dir(self.from.join(&dir)) else { continue };
            for entry in entries.flatten() {
                seen += 1;
                if seen > WALK_MAX {
                    done.refused.push((dir, format!("more than {WALK_MAX} entries: not searched further")));
                    return files;
                }
                let rel = dir.join(entry.file_name());
                match entry.file_type() {
                    Ok(t) if t.is_dir() => stack.push(rel),
                    Ok(_) => files.push(rel),
                    Err(_) => {}
                }
            }
        }
        files
    }

    /// Copies one file, or says why not.
    fn copy(&self, rel: &Path, done: &mut Included) {
        match self.try_copy(rel) {
            Ok(()) => done.copied.push(rel.to_path_buf()),
            Err(why) => done.refused.push((rel.to_path_buf(), why)),
        }
    }

    fn try_copy(&self, rel: &Path) -> Result<(), String> {
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err("not a plain relative path".into());
        }
        let src = self.from.join(rel);
        let real = src.canonicalize().map_err(|e| e.to_string())?;
        if !real.starts_with(&self.from) {
            return Err("leads out of the checkout".into());
        }
        let meta = fs::metadata(&real).map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        let dst = self.to.join(rel);
        self.make_parents(rel)?;
        // create_new: never through a link, never over a file the worktree already has.
        let mut out = OpenOptions::new().write(true).create_new(true).open(&dst).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => "already in the worktree".to_string(),
            _ => e.to_string(),
        })?;
        let mut input = File::open(&real).map_err(|e| e.to_string())?;
        std::io::copy(&mut input, &mut out).map_err(|e| e.to_string())?;
        fs::set_permissions(&dst, meta.permissions()).map_err(|e| e.to_string())
    }

    /// Makes the directories above `rel` in the worktree one at a time, refusing a link.
    fn make_parents(&self, rel: &Path) -> Result<(), String> {
        let mut at = self.to.clone();
        for part in rel.parent().into_iter().flat_map(Path::components) {
            at.push(part);
            match fs::symlink_metadata(&at) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => return Err(format!("{} in the worktree is not a directory", at.display())),
                Err(_) => fs::create_dir(&at).map_err(|e| e.to_string())?,
            }
        }
        Ok(())
    }
}

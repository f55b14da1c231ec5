//! Where sessions' prompt files live: a directory only this user can enter (0700; files
//! 0600), emptied at start of what an earlier run left (a killed server removes nothing).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The directory: one given (the data directory's `prompts`), or a temporary one made
/// when first needed.
pub(super) struct PromptDir {
    given: Option<PathBuf>,
    temp: OnceLock<Result<tempfile::TempDir, String>>,
}

/// Temporary directories are named after the server's process, so that a later start
/// can tell which ones were left by a process that is gone.
const PREFIX: &str = "maestro-prompts-";

impl PromptDir {
    /// A temporary directory, made when first needed.
    pub(super) fn temporary() -> PromptDir {
        PromptDir { given: None, temp: OnceLock::new() }
    }

    /// `dir`, made private (created if needed) and emptied, but for the files of sessions
    /// `keep` names (their terminals' holders still run them).
    pub(super) fn at(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<PromptDir, String> {
        let at = |e: &dyn std::fmt::Display| format!("prompt directory {}: {e}", dir.display());
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| at(&e))?;
        let meta = std::fs::symlink_metadata(dir).map_err(|e| at(&e))?;
        if !meta.is_dir() || meta.uid() != uid() {
            return Err(at(&"not a directory of this user's own"));
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| at(&e))?;
        for entry in std::fs::read_dir(dir).map_err(|e| at(&e))?.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let session = name.to_str().and_then(|n| n.strip_suffix(".md").or_else(|| n.strip_suffix(".d")));
            if session.is_some_and(&keep) {
                continue;
            }
            let gone = match entry.file_type() {
                Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
                _ => std::fs::remove_file(&path),
            };
            if let Err(e) = gone {
                tracing::warn!(file = %path.display(), error = %e, "cannot remove an old prompt file");
            }
        }
        Ok(PromptDir { given: Some(dir.to_path_buf()), temp: OnceLock::new() })
    }

    fn dir(&self) -> Result<&Path, String> {
        if let Some(d) = &self.given {
            return Ok(d);
        }
        let temp = self.temp.get_or_init(|| private_temp(PREFIX, "prompt files"));
        temp.as_ref().map(|t| t.path()).map_err(Clone::clone)
    }

    /// Session `id`'s prompt file and private directory, those that exist.
    pub(super) fn session_files(&self, id: &str) -> Vec<PathBuf> {
        let Ok(dir) = self.dir() else { return Vec::new() };
        [format!("{id}.md"), format!("{id}.d")].into_iter().map(|n| dir.join(n)).filter(|p| p.exists()).collect()
    }

    /// Writes session `id`'s prompt into a new file only this user can read; its path.
    pub(super) fn write(&self, id: &str, text: &str) -> Result<PathBuf, String> {
        let path = self.dir()?.join(format!("{id}.md"));
        let write = || {
            // Anything already there (a run before) goes: the file is made new, 0600.
            if let Err(e) = std::fs::remove_file(&path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(e);
                }
            }
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
            f.write_all(text.as_bytes())
        };
        write().map_err(|e| format!("cannot write the prompt file {}: {e}", path.display()))?;
        Ok(path)
    }
}

impl PromptDir {
    /// Writes `text` into `name` in a directory of session `id`'s own (0700, made new; the
    /// file 0600): files handed to its agent besides its prompt (its hooks' settings); the
    /// directory's path, to remove when the session's terminal ends.
    pub(super) fn write_private(&self, id: &str, name: &str, text: &str) -> Result<PathBuf, String> {
        let dir = self.dir()?.join(format!("{id}.d"));
        let write = || {
            match std::fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(dir.join(name))?;
            f.write_all(text.as_bytes())
        };
        write().map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))?;
        Ok(dir)
    }
}

/// A new private (0700) directory `PREFIX PID-…` in `$XDG_RUNTIME_DIR` (this user's own,
/// and memory only), else the temporary directory, after removing the ones servers that
/// are gone left there.
pub(super) fn private_temp(prefix: &str, what: &str) -> Result<tempfile::TempDir, String> {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute() && d.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    remove_abandoned(&base, prefix);
    let made = tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(&base);
    made.map_err(|e| format!("cannot make a directory for {what} in {}: {e}", base.display()))
}

/// Removes this user's `PREFIX PID-*` directories in `base` (prompt files, terminal output)
/// whose server process is gone (killed, so it could not remove them itself).
pub(super) fn remove_abandoned(base: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(base) else { return };
    let me = uid();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(prefix)).and_then(|r| r.split('-').next()) else {
            continue;
        };
        let Ok(pid) = pid.parse::<i32>() else { continue };
        let mine = entry.metadata().is_ok_and(|m| m.is_dir() && m.uid() == me);
        let gone = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) == Err(nix::errno::Errno::ESRCH);
        if mine && gone {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// This process's user.
pub(super) fn uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { nix::libc::getuid() }
}

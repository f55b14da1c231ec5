//! The thread that keeps the file's agents current: it looks at `agents.toml` every
//! [`POLL`] and re-reads it when it changed, so that editing it needs no restart and no
//! request waits on the file.

use super::config::read_timed;
use super::Inner;
use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::time::Duration;

/// How often `agents.toml` is looked at for changes.
const POLL: Duration = Duration::from_secs(1);

/// What tells that the file changed: its modification time, size and inode (`None`: it
/// is not there). `stat` does not open the file, so it cannot block on a FIFO.
type Stamp = Option<(i64, i64, u64, u64)>;

pub(super) fn stamp(path: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.mtime(), m.mtime_nsec(), m.size(), m.ino()))
}

/// The watcher thread: re-reads the file when it changed, until the agents are dropped.
/// A broken edit keeps the last good copy and is logged.
pub(super) fn run(inner: Weak<Inner>, path: PathBuf, mut last: Stamp) {
    loop {
        std::thread::sleep(POLL);
        let Some(inner) = inner.upgrade() else { return };
        let now = stamp(&path);
        if now == last {
            continue;
        }
        last = now;
        match read_timed(&path) {
            Ok(config) => *inner.read.write().unwrap_or_else(|e| e.into_inner()) = config,
            Err(e) => tracing::warn!(error = e, "agents file not reloaded"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Agents;

    #[test]
    fn the_file_is_reread_off_the_callers_and_a_fifo_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("agents.toml");
        std::fs::write(&file, "[agents]\na = \"one {prompt}\"\n").unwrap();
        let agents = Agents::load(&[], Some(file.clone())).unwrap();
        assert_eq!(agents.command("p", "a").as_deref(), Some("one {prompt}"));
        std::fs::write(&file, "[agents]\na = \"two {prompt}\"\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while agents.command("p", "a").as_deref() != Some("two {prompt}") {
            assert!(std::time::Instant::now() < deadline, "the edit was not picked up");
            std::thread::sleep(Duration::from_millis(20));
        }
        // A FIFO would block whoever opens it: refused, at start and on reload alike.
        std::fs::remove_file(&file).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(&file).status().unwrap().success());
        let err = Agents::load(&[], Some(file.clone())).err().unwrap();
        assert!(err.contains("not a regular file"), "{err}");
        let err = read_timed(&file).err().unwrap();
        assert!(err.contains("not a regular file"), "{err}");
        assert!(Agents::load(&[], Some(dir.path().to_path_buf())).err().unwrap().contains("not a regular file"));
        // Meanwhile the last good copy is what is offered.
        assert_eq!(agents.command("p", "a").as_deref(), Some("two {prompt}"));
    }
}

//! Who this node is on a shared database (SCALE-OUT): the same id at every start from one
//! data directory, so a restarted node is the one that ran its sessions and made its
//! workspaces, and re-adopts its terminals before the others judge it dead. One node per
//! data directory: the id file is locked while the node runs.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The file in the data directory.
pub const FILE: &str = "node-id";

/// A node's id and the lock that keeps it this process's (held until dropped).
pub struct NodeId {
    pub id: String,
    _lock: Option<File>,
}

impl NodeId {
    /// A new id for this run only (no data directory).
    pub fn fresh() -> Self {
        NodeId { id: new_id(), _lock: None }
    }

    /// The id kept in `dir`, made at first start. Refused while another node uses `dir`,
    /// or when the file holds something that is not an id.
    pub fn kept(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        let path = dir.join(FILE);
        let shown = path.display();
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| format!("cannot open {shown}: {e}"))?;
        file.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => {
                format!("another maestro node uses the data directory {} (give each node its own)", dir.display())
            }
            std::fs::TryLockError::Error(e) => format!("cannot lock {shown}: {e}"),
        })?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let id = match text.trim() {
            "" => {
                let id = new_id();
                file.write_all(format!("{id}\n").as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| format!("cannot write {shown}: {e}"))?;
                id
            }
            id if valid(id) => id.to_string(),
            _ => return Err(format!("{shown} does not hold a node id; remove it to have a new one made")),
        };
        Ok(NodeId { id, _lock: Some(file) })
    }
}

fn new_id() -> String {
    format!("node_{}", uuid::Uuid::new_v4().simple())
}

fn valid(id: &str) -> bool {
    id.strip_prefix("node_").is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_id_at_every_start_and_one_node_per_directory() {
        let dir = tempfile::tempdir().unwrap();
        let first = NodeId::kept(dir.path()).unwrap();
        assert!(valid(&first.id), "{}", first.id);
        let busy = NodeId::kept(dir.path()).err().expect("a second node on the same directory is refused");
        assert!(busy.contains("another maestro node"), "{busy}");
        let id = first.id.clone();
        drop(first);
        assert_eq!(NodeId::kept(dir.path()).unwrap().id, id);
    }

    #[test]
    fn a_file_that_holds_no_id_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "node_../../etc\n").unwrap();
        let e = NodeId::kept(dir.path()).err().expect("refused");
        assert!(e.contains("does not hold a node id"), "{e}");
        assert_eq!(std::fs::read_to_string(dir.path().join(FILE)).unwrap(), "node_../../etc\n");
    }
}

//! Where the server's access token comes from (SPEC §6): `MAESTRO_TOKEN`, or the file
//! `token` in the data directory, made at first start with 256 random bits and mode 0600.
//! The CLI on the same machine reads the same file, so it needs no set-up.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The shortest token a person may choose.
pub const MIN_LEN: usize = 32;
/// The file in the data directory.
pub const FILE: &str = "token";

/// A new random token: 64 hex digits, from two v4 uuids (244 bits of the operating
/// system's random source).
pub fn generate() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// Refuses a token that is short or not plain visible ASCII (it travels in headers).
pub fn check(token: &str, from: &str) -> Result<(), String> {
    if token.chars().count() < MIN_LEN {
        return Err(format!(
            "{from} is {} characters long; an access token needs at least {MIN_LEN} (unset it to have one generated, or make one with `openssl rand -hex 32`)",
            token.chars().count()
        ));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("{from} may hold only visible ASCII characters (no spaces)"));
    }
    Ok(())
}

/// The token file of data directory `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The token in `dir`, made if there is none. A file others can read is refused: whoever
/// reads it has a shell as this user.
pub fn load_or_create(dir: &Path) -> Result<String, String> {
    let file = path(dir);
    match std::fs::read_to_string(&file) {
        Ok(text) => {
            let mode = std::fs::metadata(&file).map(|m| m.permissions().mode()).unwrap_or(0);
            if mode & 0o077 != 0 {
                return Err(format!(
                    "{} can be read by other accounts (mode {:o}); run `chmod 600 {}`",
                    file.display(),
                    mode & 0o777,
                    file.display()
                ));
            }
            let token = text.trim().to_string();
            check(&token, &file.display().to_string())?;
            Ok(token)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
            let token = generate();
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&file)
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            f.write_all(format!("{token}\n").as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            Ok(token)
        }
        Err(e) => Err(format!("cannot read {}: {e}", file.display())),
    }
}

/// The token the CLI sends to `api_url`: `MAESTRO_TOKEN`, or, for a server on this
/// machine's loopback only, the local server's token file (never handed to another host).
pub fn for_client(api_url: &str) -> Option<String> {
    if let Ok(t) = std::env::var("MAESTRO_TOKEN") {
        if !t.is_empty() {
            return Some(t);
        }
    }
    let host = api_url.split_once("://")?.1.split(['/', '?']).next()?;
    let name =
        host.rsplit_once(':').map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
    if !["127.0.0.1", "localhost", "[::1]"].contains(&name.to_ascii_lowercase().as_str()) {
        return None;
    }
    let text = std::fs::read_to_string(path(&default_data_dir())).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// `MAESTRO_DATA_DIR`, or the user's data directory's `maestro`: where `maestro serve`
/// keeps its files by default.
pub fn default_data_dir() -> PathBuf {
    match std::env::var_os("MAESTRO_DATA_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("maestro"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_private_and_long_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let t = load_or_create(dir.path()).unwrap();
        assert_eq!(t.len(), 64);
        assert_eq!(std::fs::metadata(path(dir.path())).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(load_or_create(dir.path()).unwrap(), t);
        assert_ne!(generate(), generate());
        std::fs::set_permissions(path(dir.path()), std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load_or_create(dir.path()).unwrap_err().contains("chmod 600"));
    }

    #[test]
    fn short_or_odd_tokens_are_refused() {
        assert!(check("s3cret", "MAESTRO_TOKEN").unwrap_err().contains("at least 32"));
        assert!(check(&"a b".repeat(20), "MAESTRO_TOKEN").is_err());
        assert!(check(&"x".repeat(32), "MAESTRO_TOKEN").is_ok());
    }
}

//! The rules for what clients send: ids, one-line texts, free texts, paths, agent ids,
//! branch names and setup commands.

use crate::model::limits::{AGENT_ID_MAX, BRANCH_MAX, ID_MAX, PATH_MAX, SETUP_MAX};
use crate::store::StoreError;

/// Client-supplied ids: `[A-Za-z0-9_-]{1,128}`.
pub fn check_id(id: &str) -> Result<(), StoreError> {
    let ok =
        (1..=ID_MAX).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "id {:?} must be 1–128 characters of A–Z, a–z, 0–9, _ or -",
            id.chars().take(140).collect::<String>()
        )))
    }
}

/// A required one-line text: trimmed, then 1..=max chars, no control characters (an
/// escape sequence in a name would drive the terminal of whoever lists it).
pub(super) fn clean(field: &str, s: &str, max: usize) -> Result<String, StoreError> {
    // The length as sent (not as trimmed): what the API's document can state.
    length(field, s, max)?;
    let t = s.trim();
    if t.is_empty() {
        return Err(StoreError::Invalid(format!("{field} must not be empty")));
    }
    if t.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!("{field} must not contain control characters")));
    }
    length(field, t, max)
}

/// An optional free text: at most `max` chars, kept as given; line breaks and tabs are
/// fine, other control characters (escape sequences) are not.
pub(super) fn bounded(field: &str, s: &str, max: usize) -> Result<String, StoreError> {
    if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(StoreError::Invalid(format!(
            "{field} must not contain control characters other than line breaks and tabs"
        )));
    }
    length(field, s, max)
}

fn length(field: &str, s: &str, max: usize) -> Result<String, StoreError> {
    if s.chars().count() > max {
        return Err(StoreError::Invalid(format!("{field} is longer than {max} characters")));
    }
    Ok(s.to_string())
}

pub(super) fn base_path(p: Option<&str>) -> Result<Option<String>, StoreError> {
    let Some(p) = p else { return Ok(None) };
    let p = p.trim();
    if p.is_empty() {
        return Ok(None);
    }
    if !p.starts_with('/') || p.chars().any(char::is_control) || p.len() > PATH_MAX {
        return Err(StoreError::Invalid(format!(
            "basePath must be an absolute directory path (starting with /), got {:?}",
            p.chars().take(100).collect::<String>()
        )));
    }
    Ok(Some(p.to_string()))
}

pub(super) fn agent_id(a: Option<&str>) -> Result<Option<String>, StoreError> {
    a.map(|a| clean("agentId", a, AGENT_ID_MAX)).transpose()
}

/// A branch name as `git check-ref-format --branch` checks it (the store runs no git):
/// no `..`, `@{`, `//`, control characters, space or `~^:?*[\`; no part starting with
/// `.` or ending with `.lock`; not starting with `-`, ending with `.`, `@` or `HEAD`.
pub(super) fn branch(b: Option<&str>) -> Result<Option<String>, StoreError> {
    let Some(b) = b else { return Ok(None) };
    let bad_char = |c: char| c.is_ascii_control() || " ~^:?*[\\".contains(c);
    let refused = b.is_empty()
        || b.len() > BRANCH_MAX
        || b.starts_with('-')
        || b.ends_with('.')
        || b == "@"
        || b == "HEAD"
        || b.contains("..")
        || b.contains("@{")
        || b.chars().any(bad_char)
        || b.split('/').any(|part| part.is_empty() || part.starts_with('.') || part.ends_with(".lock"));
    if refused {
        return Err(StoreError::Invalid(format!(
            "baseBranch {:?} is not a branch name git accepts (at most {BRANCH_MAX} bytes)",
            b.chars().take(100).collect::<String>()
        )));
    }
    Ok(Some(b.to_string()))
}

/// A setup command: a free text of at most [`SETUP_MAX`] characters; blank means none.
pub(super) fn setup_command(s: Option<&str>) -> Result<Option<String>, StoreError> {
    let Some(s) = s else { return Ok(None) };
    let s = bounded("setupCommand", s, SETUP_MAX)?;
    Ok((!s.trim().is_empty()).then_some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_follow_gits_rules() {
        for ok in ["main", "feature/x-1", "release/1.2", "ünï", "a.b", "@x"] {
            assert_eq!(branch(Some(ok)).unwrap().as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "-x",
            "a..b",
            "a/",
            "/a",
            "a//b",
            ".a",
            "a/.b",
            "a.lock",
            "a/b.lock/c",
            "a.",
            "@",
            "HEAD",
            "a@{1}",
            "a b",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "a\u{7f}",
            "a\tb",
        ] {
            assert!(branch(Some(bad)).is_err(), "{bad:?} should be refused");
        }
        assert!(branch(Some(&"a".repeat(BRANCH_MAX + 1))).is_err());
    }

    #[test]
    fn setup_commands_are_free_text_without_nul() {
        assert_eq!(setup_command(Some("npm ci\nmake\t-j2")).unwrap().as_deref(), Some("npm ci\nmake\t-j2"));
        assert_eq!(setup_command(Some("  \n")).unwrap(), None);
        assert!(setup_command(Some("a\0b")).is_err());
        assert!(setup_command(Some("\u{1b}[2J")).is_err());
        assert!(setup_command(Some(&"x".repeat(SETUP_MAX + 1))).is_err());
    }
}

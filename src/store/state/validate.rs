//! The rules for what clients send: ids, one-line texts, free texts, paths, agent ids.

use crate::model::limits::{AGENT_ID_MAX, ID_MAX, PATH_MAX};
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

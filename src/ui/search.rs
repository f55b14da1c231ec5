//! Finding tasks by what they say: the task panel's search box matches title, description
//! and prompt, ignoring case, and a row's title shows where it matched.

use crate::model::Task;

/// The panel's search as typed, trimmed and lower-cased ("" when not searching); from the
/// URL's `?q=`, so a reload or a shared link shows the same view.
#[derive(Clone, Copy)]
pub struct Search(pub leptos::prelude::Memo<String>);

/// Whether `hay` contains `needle` (lower-case), ignoring case. An ASCII needle compares
/// byte by byte without allocating: each keystroke reads every task of the project.
pub fn contains(hay: &str, needle: &str) -> bool {
    if needle.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        return n.is_empty() || (h.len() >= n.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n)));
    }
    hay.to_lowercase().contains(needle)
}

/// Whether a task matches the search (lower-case).
pub fn matches(t: &Task, needle: &str) -> bool {
    contains(&t.title, needle) || contains(&t.description, needle) || contains(&t.prompt, needle)
}

/// Where `needle` (lower-case) first occurs in `text`, ignoring case: byte offsets into
/// `text`, or `None` (also where lower-casing would change the text's length).
pub fn find(text: &str, needle: &str) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    if needle.is_ascii() {
        // ASCII bytes only ever equal ASCII bytes: the offsets are character boundaries.
        let (h, n) = (text.as_bytes(), needle.as_bytes());
        let i = h.windows(n.len()).position(|w| w.eq_ignore_ascii_case(n))?;
        return Some((i, i + n.len()));
    }
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        return None;
    }
    let i = lower.find(needle)?;
    let end = i + needle.len();
    (text.is_char_boundary(i) && text.is_char_boundary(end)).then_some((i, end))
}

/// A task's title with what the search matched in it marked (`<mark>`).
#[leptos::component]
pub fn Marked(#[prop(into)] title: leptos::prelude::Signal<String>) -> impl leptos::IntoView {
    use leptos::prelude::*;
    let search = use_context::<Search>();
    let parts = Memo::new(move |_| {
        // The row's title and the panel's search may go before this: `try_get`, never a panic.
        let t = title.try_get().unwrap_or_default();
        let q = search.and_then(|s| s.0.try_get()).unwrap_or_default();
        // `get`: offsets that are not character boundaries show the title unmarked.
        let cut = find(&t, &q).and_then(|(a, b)| Some((t.get(..a)?, t.get(a..b)?, t.get(b..)?)));
        match cut {
            Some((before, hit, after)) => (before.to_string(), Some((hit.to_string(), after.to_string()))),
            None => (t, None),
        }
    });
    move || match parts.get() {
        (all, None) => all.into_any(),
        (before, Some((hit, after))) => view! { {before} <mark>{hit}</mark> {after} }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_title_description_or_prompt_ignoring_case() {
        let t = Task {
            title: "Fix the Login page".into(),
            description: "Users see a blank screen".into(),
            prompt: "Run `cargo test` first".into(),
            ..Default::default()
        };
        for q in ["login", "blank screen", "cargo test", "fix", ""] {
            assert!(matches(&t, q), "{q}");
        }
        assert!(!matches(&t, "logout"));
        assert_eq!(find("Fix the Login page", "login"), Some((8, 13)));
        assert_eq!(find("Fix", "fix!"), None);
        assert_eq!(find("Café Crème", "crème"), Some((6, 12)));
        assert!(contains("ÉCOLE", "école"));
        assert_eq!(find("x", ""), None);
    }
}

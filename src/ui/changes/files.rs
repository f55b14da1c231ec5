//! The changed files: status, path (and where a renamed one was), lines added and deleted.
//! A click opens the file's diff. Rows stay as they are across refreshes unless they
//! changed, so the focus stays where the person put it.

use super::{Fetched, Open};
use crate::model::{FileChange, FileStatus};
use leptos::prelude::*;

/// The list, from the files as last fetched.
pub fn list(files: Fetched, open: RwSignal<Open>) -> impl IntoView {
    let rows =
        move || files.with(|f| f.as_ref().and_then(|f| f.as_ref().ok()).map(|f| f.files.clone()).unwrap_or_default());
    let key = |f: &FileChange| (f.path.clone(), f.old_path.clone(), f.status.letter(), f.additions, f.deletions);
    view! {
        {move || {
            files.with(|f| match f {
                None => Some(view! { <p class="muted">"Loading the changed files…"</p> }.into_any()),
                Some(Err(e)) => {
                    Some(view! { <p role="alert" class="error">{format!("Could not load the changed files: {e}")}</p> }.into_any())
                }
                Some(Ok(f)) if f.files.is_empty() => Some(view! { <p class="empty">"No changes yet."</p> }.into_any()),
                Some(Ok(_)) => None,
            })
        }}
        <ul class="files" aria-label="Changed files">
            <For each=rows key=key let:f>
                {row(f, open)}
            </For>
        </ul>
    }
}

fn row(f: FileChange, open: RwSignal<Open>) -> impl IntoView {
    let here = StoredValue::new((f.path.clone(), f.old_path.clone()));
    let is_open = move || here.with_value(|h| open.with(|o| o.as_ref() == Some(h)));
    let counts = match f.status {
        FileStatus::Binary => view! { <span class="muted">"binary"</span> }.into_any(),
        _ => view! {
            <span class="add">{format!("+{}", f.additions)}</span>
            " "
            <span class="del">{format!("−{}", f.deletions)}</span>
        }
        .into_any(),
    };
    view! {
        <li>
            <button class="file" aria-pressed=move || is_open().to_string() on:click=move |_| {
                if !is_open() {
                    open.set(Some(here.get_value()))
                }
            }>
                <span class=format!("st st-{}", f.status.word()) title=f.status.word() aria-label=f.status.word()>
                    {f.status.letter()}
                </span>
                <span class="path">{f.path.clone()}</span>
                {f.old_path.map(|o| view! { <span class="muted old">{format!("← {o}")}</span> })}
                <span class="spacer"></span>
                {counts}
            </button>
        </li>
    }
}

/// How the list shows a status: a letter (as `git status --short` does) and a word.
trait Shown {
    fn letter(self) -> &'static str;
    fn word(self) -> &'static str;
}

impl Shown for FileStatus {
    fn letter(self) -> &'static str {
        match self {
            FileStatus::Added => "A",
            FileStatus::Modified => "M",
            FileStatus::Deleted => "D",
            FileStatus::Renamed => "R",
            FileStatus::Binary => "B",
        }
    }

    fn word(self) -> &'static str {
        match self {
            FileStatus::Added => "added",
            FileStatus::Modified => "modified",
            FileStatus::Deleted => "deleted",
            FileStatus::Renamed => "renamed",
            FileStatus::Binary => "binary",
        }
    }
}

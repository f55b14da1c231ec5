//! One file's diff: fetched when it opens and whenever the workspace's version moves, shown
//! unified with old and new line numbers, and windowed (only the lines on screen and a
//! margin exist), so a 50,000-line diff scrolls as a short one does. A refresh keeps the
//! reader's line where it was on the screen.

use super::lines::{Kind, Lines};
use super::review::{element_id, on_line, Pick};
use super::window::{anchor, range, restore, LINE_PX};
use crate::api::functions::{error_text, workspace_diff};
use crate::model::{CommentSide, FileDiff, ReviewComment};
use crate::ui::browser::spawn;
use crate::ui::px;
use crate::ui::scroll::scroll_view;
use leptos::prelude::*;
use std::sync::Arc;

/// What the diff shows: its lines, or why there are none.
#[derive(Clone)]
enum Shown {
    Text(Arc<Lines>),
    Binary,
    TooLarge(usize),
    Unchanged,
    Failed(String),
}

/// The diff of `path` (renamed from `old`) in workspace `ws`, refetched on every `version`.
pub fn diff(
    ws: String,
    path: String,
    old: Option<String>,
    version: Memo<Option<u64>>,
    pick: RwSignal<Option<Pick>>,
    comments: Memo<Vec<ReviewComment>>,
) -> AnyView {
    let named = StoredValue::new(path.clone());
    let shown = RwSignal::new(None::<Shown>);
    // Every answer shown, so rows are rebuilt once per answer and not on every scroll.
    let answers = RwSignal::new(0u64);
    let (top, height) = (RwSignal::new(0.0f64), RwSignal::new(0.0f64));
    let (scroller, measure) = scroll_view(top, height, 400.0);
    let asked = StoredValue::new(0u64);
    let (file, was) = (path.clone(), old.clone());
    Effect::new(move |_| {
        let _ = version.get();
        let n = asked.get_value() + 1;
        asked.set_value(n);
        let (ws, file, was) = (ws.clone(), file.clone(), was.clone());
        spawn(async move {
            let next = match workspace_diff(ws, file, was).await {
                Ok(FileDiff::Text { diff }) => Shown::Text(Arc::new(Lines::parse(diff))),
                Ok(FileDiff::Binary) => Shown::Binary,
                Ok(FileDiff::TooLarge { limit }) => Shown::TooLarge(limit),
                Ok(FileDiff::Unchanged) => Shown::Unchanged,
                Err(e) => Shown::Failed(error_text(&e)),
            };
            if asked.try_get_value() != Some(n) {
                return;
            }
            // Where the reader is, found again in the new lines once they are rendered.
            let place = shown.with_untracked(|s| match (s, scroller.get_untracked()) {
                (Some(Shown::Text(l)), Some(el)) => anchor(&l.lines, el.scroll_top() as f64),
                _ => None,
            });
            let to = match (&next, place) {
                (Shown::Text(l), Some(a)) => restore(&l.lines, a),
                _ => None,
            };
            shown.try_set(Some(next));
            answers.try_update(|a| *a += 1);
            request_animation_frame(move || {
                if let (Some(to), Some(el)) = (to, scroller.get_untracked()) {
                    el.set_scroll_top(to.round() as i32);
                }
                measure();
            });
        });
    });
    let lines = Memo::new(move |_| shown.with(|s| if let Some(Shown::Text(l)) = s { Some(l.clone()) } else { None }));
    let count = move || lines.with(|l| l.as_ref().map_or(0, |l| l.len()));
    let window = Memo::new(move |_| range(count(), top.get(), height.get()));
    let rows = move || {
        let (start, end) = window.get();
        let a = answers.get();
        (start..end).map(|i| (a, i)).collect::<Vec<_>>()
    };
    let message = move || {
        shown.with(|s| match s {
            None => Some("Loading the diff…".to_string()),
            Some(Shown::Binary) => Some("Binary file: there is no text diff to show.".to_string()),
            Some(Shown::TooLarge(limit)) => Some(format!("Too large to show (over {} MB).", limit.div_ceil(1 << 20))),
            Some(Shown::Unchanged) => Some("This file does not differ from the base now.".to_string()),
            Some(Shown::Failed(e)) => Some(format!("Could not load the diff: {e}")),
            Some(Shown::Text(l)) if l.is_empty() => {
                Some("No lines changed (a change of mode or an empty file).".into())
            }
            Some(Shown::Text(_)) => None,
        })
    };
    let totals = move || lines.with(|l| l.as_ref().map(|l| format!("+{} −{}", l.added, l.deleted)));
    view! {
        <section class="diff" aria-label=format!("Diff of {path}")>
            <header class="row">
                <h3 class="path">{path.clone()}</h3>
                {old.map(|o| view! { <span class="muted">{format!("renamed from {o}")}</span> })}
                <span class="spacer"></span>
                <span class="diff-totals">{totals}</span>
            </header>
            {move || message().map(|m| view! { <p class="muted" role="status">{m}</p> })}
            <div
                class="diff-scroll"
                class:hidden=move || lines.with(|l| l.is_none())
                node_ref=scroller
                on:scroll=move |_| measure()
                tabindex="0"
                role="region"
                aria-label="Diff lines"
            >
                <div class="diff-lines" style:height=move || px(count() as f64 * LINE_PX)>
                    <div class="diff-window" style:transform=move || format!("translateY({})", px(window.get().0 as f64 * LINE_PX))>
                        <For each=rows key=|k| *k let:k>
                            {lines.with_untracked(|l| l.as_ref().map(|l| line(l, k.1, named, pick, comments)))}
                        </For>
                    </div>
                </div>
            </div>
        </section>
    }
    .into_any()
}

/// One line of the diff: old and new numbers, a sign, the text. The number a comment
/// names (the new one; a deleted line's old one, in its own column) is a button that
/// picks the line (shift: the range from the line picked before) to comment on; a line an
/// open comment is on is marked, the mark saying it on hover and going to it when clicked.
fn line(
    lines: &Lines,
    i: usize,
    file: StoredValue<String>,
    pick: RwSignal<Option<Pick>>,
    comments: Memo<Vec<ReviewComment>>,
) -> impl IntoView {
    let l = lines.lines.get(i).copied()?;
    let num = |n: u32| if n == 0 { String::new() } else { n.to_string() };
    let (side, at) = if l.new > 0 { (CommentSide::New, l.new) } else { (CommentSide::Old, l.old) };
    let picked = move || {
        pick.with(|p| {
            p.as_ref()
                .is_some_and(|p| p.side == side && (p.line..=p.end).contains(&at) && file.with_value(|f| p.path == *f))
        })
    };
    let choose = move |ev: leptos::ev::MouseEvent| {
        let shift = ev.shift_key();
        pick.update(|p| *p = Some(file.with_value(|f| Pick::clicked(p.as_ref(), f, side, at, shift))));
    };
    let commentable = matches!(l.kind, Kind::Context | Kind::Added | Kind::Deleted) && at > 0;
    let deleted = if side == CommentSide::Old { " (deleted)" } else { "" };
    let number = move |n: u32, names: bool| match commentable && names {
        true => view! {
            <button
                class="ln ln-pick"
                aria-label=format!("Comment on line {at}{deleted}")
                title="Comment on this line (shift-click: the lines from the one chosen before)"
                on:click=choose
            >
                {num(n)}
            </button>
        }
        .into_any(),
        false => view! { <span class="ln">{num(n)}</span> }.into_any(),
    };
    let noted = Memo::new(move |_| comments.with(|v| on_line(v, side, at).filter(|_| commentable)));
    let mark = move || {
        noted.get().map(|(n, first, says)| {
            let label = format!("{} on line {at}{deleted}", crate::model::units::count(n, "comment"));
            view! {
                <button class="mark" aria-label=label title=says on:click=move |_| crate::ui::browser::focus_id(&element_id(&first))>
                    {n}
                </button>
            }
        })
    };
    let (class, sign) = match l.kind {
        Kind::Hunk => ("dl dl-hunk", ""),
        Kind::Context => ("dl", " "),
        Kind::Added => ("dl dl-add", "+"),
        Kind::Deleted => ("dl dl-del", "-"),
        Kind::Note => ("dl dl-note", ""),
    };
    Some(view! {
        <div class=class class:dl-picked=picked class:dl-commented=move || noted.with(Option::is_some)>
            {number(l.old, side == CommentSide::Old)}
            {number(l.new, side == CommentSide::New)}
            <span class="mark-col">{mark}</span>
            <span class="sign">{sign}</span>
            <span class="code">{lines.text(i).to_string()}</span>
        </div>
    })
}

//! Review comments in the Changes tab (SPEC §8 "Review"): a line number of the diff is a
//! button — click it (shift-click another for a range) to write a comment on it; the open
//! file's comments are listed under its diff, drafts editable and deletable, any resolvable,
//! and the lines an open comment is on are marked in the diff (its words on hover, a click
//! goes to it);
//! "Send to agent (N)" sends every draft of the workspace. Comments live on the server (a
//! reload keeps them) and in the tab's cache, which events keep current in every tab.

use crate::api::functions::{
    create_comment, delete_comment, error_text, list_workspace_comments, send_comments, update_comment,
};
use crate::live::cache::ListKey;
use crate::model::*;
use crate::ui::browser::spawn;
use crate::ui::state::use_tab;
use leptos::prelude::*;

/// Lines chosen to comment on: in `path`, on `side`, `line..=end`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pick {
    pub path: String,
    pub side: CommentSide,
    pub line: u32,
    pub end: u32,
}

impl Pick {
    /// A click on `line`; with shift, the range from the line picked before (same file and side).
    pub fn clicked(before: Option<&Pick>, path: &str, side: CommentSide, line: u32, shift: bool) -> Pick {
        match before {
            Some(b) if shift && b.path == path && b.side == side => {
                Pick { path: path.into(), side, line: b.line.min(line), end: b.end.max(line) }
            }
            _ => Pick { path: path.into(), side, line, end: line },
        }
    }

    fn place(&self) -> String {
        let c = ReviewComment {
            path: self.path.clone(),
            line: self.line,
            end_line: self.end,
            side: self.side,
            ..Default::default()
        };
        c.place()
    }
}

/// The workspace's comments as cached, loaded once (events keep them current).
fn comments(workspace: StoredValue<String>) -> Memo<Vec<ReviewComment>> {
    let ctx = use_tab();
    let key = ListKey::WorkspaceComments(workspace.get_value());
    if !ctx.cache.with_untracked(|c| c.is_loaded(&key)) {
        spawn(async move {
            match list_workspace_comments(workspace.get_value()).await {
                Ok((list, at)) => {
                    ctx.cache.update(|c| c.load_comments(&workspace.get_value(), &list, at));
                }
                Err(e) => ctx.toast(format!("Could not load the review comments: {}", error_text(&e))),
            }
        });
    }
    Memo::new(move |_| ctx.cache.with(|c| c.workspace_comments(&workspace.get_value()).unwrap_or_default()))
}

/// The comments on file `path` of the workspace.
pub fn file_comments(workspace: StoredValue<String>, path: String) -> Memo<Vec<ReviewComment>> {
    let all = comments(workspace);
    Memo::new(move |_| all.with(|v| v.iter().filter(|c| c.path == path).cloned().collect()))
}

/// The comments not resolved on line `at` of `side`: how many, the first one's id, and what
/// they say.
pub fn on_line(here: &[ReviewComment], side: CommentSide, at: u32) -> Option<(usize, String, String)> {
    let on: Vec<&ReviewComment> = here
        .iter()
        .filter(|c| c.status != CommentStatus::Resolved && c.side == side && (c.line..=c.end_line).contains(&at))
        .collect();
    let first = on.first()?.id.clone();
    Some((on.len(), first, on.iter().map(|c| c.body.as_str()).collect::<Vec<_>>().join("\n—\n")))
}

/// Where a comment is in the list under the diff (a marked line's click goes there).
pub fn element_id(comment: &str) -> String {
    format!("comment-{comment}")
}

/// "Send to agent (N)": every draft of the workspace, as one message.
pub fn send_button(workspace: StoredValue<String>) -> impl IntoView {
    let ctx = use_tab();
    let all = comments(workspace);
    let drafts = move || all.with(|v| v.iter().filter(|c| c.status == CommentStatus::Draft).count());
    let busy = RwSignal::new(false);
    let send = move |_| {
        busy.set(true);
        spawn(async move {
            match send_comments(workspace.get_value(), None).await {
                Ok(sent) => {
                    let how = if sent.started { "a new session started with them" } else { "typed to the agent" };
                    ctx.toast(format!("Review comments sent: {how}."));
                }
                Err(e) => ctx.toast(format!("Could not send the comments: {}", error_text(&e))),
            }
            busy.try_set(false);
        });
    };
    view! {
        <button
            class="primary send-comments"
            disabled=move || busy.get() || drafts() == 0
            on:click=send
            title="Send every draft comment to the agent working in this workspace, as its next prompt"
        >
            {move || format!("Send to agent ({})", drafts())}
        </button>
    }
}

/// The open file's comments (`here`), and the form for the lines picked.
pub fn panel(
    workspace: StoredValue<String>,
    path: String,
    here: Memo<Vec<ReviewComment>>,
    pick: RwSignal<Option<Pick>>,
) -> impl IntoView {
    let file = StoredValue::new(path);
    view! {
        <section class="review" aria-label="Review comments">
            {move || pick.get().filter(|p| file.with_value(|f| p.path == *f)).map(|p| composer(workspace, p, pick))}
            <ul class="comments">
                <For each=move || here.get() key=|c| (c.id.clone(), c.version) let:c>
                    {comment(c)}
                </For>
            </ul>
        </section>
    }
}

/// Writing a comment on the picked lines; Ctrl+Enter saves, Escape cancels.
fn composer(workspace: StoredValue<String>, p: Pick, pick: RwSignal<Option<Pick>>) -> impl IntoView {
    let ctx = use_tab();
    // One comment is written at a time per workspace: its text outlives this form (a wider
    // range picked, another file or session shown) until it is saved or cancelled.
    let key = format!("comment:{}", workspace.get_value());
    let text = RwSignal::new(ctx.typed(&key).unwrap_or_default());
    let kept = StoredValue::new(key);
    let keep = move |t: Option<String>| {
        if let Some(key) = kept.try_get_value() {
            ctx.keep_typed(key, t);
        }
    };
    let cancel = move || {
        keep(None);
        pick.set(None);
    };
    let area = NodeRef::<leptos::html::Textarea>::new();
    request_animation_frame(move || {
        if let Some(el) = area.get_untracked() {
            let _ = el.focus();
        }
    });
    let place = p.place();
    let target = StoredValue::new(p);
    let save = move || {
        let body = text.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        let p = target.get_value();
        let key = kept.get_value();
        let nc = NewComment {
            path: p.path,
            line: p.line,
            end_line: Some(p.end),
            side: Some(p.side),
            body: body.clone(),
            author: None,
        };
        spawn(async move {
            match create_comment(workspace.get_value(), nc).await {
                // The event brings it into every tab's list, this one's too. The text kept
                // goes, unless another comment was begun meanwhile (this form may be gone).
                Ok(_) => {
                    if ctx.typed(&key).as_deref() == Some(body.as_str()) {
                        ctx.keep_typed(key, None);
                    }
                    pick.try_set(None);
                }
                Err(e) => ctx.toast(format!("Could not save the comment: {}", error_text(&e))),
            }
        });
    };
    view! {
        <form class="comment-form" on:submit=move |ev| { ev.prevent_default(); save(); }>
            <label>
                {format!("Comment on {place}")}
                <textarea
                    node_ref=area
                    rows="3"
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        let t = event_target_value(&ev);
                        keep(Some(t.clone()));
                        text.set(t);
                    }
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                            ev.prevent_default();
                            save();
                        } else if ev.key() == "Escape" {
                            cancel();
                        }
                    }
                ></textarea>
            </label>
            <div class="row">
                <button type="submit" class="primary" disabled=move || text.with(|t| t.trim().is_empty())>"Add comment"</button>
                <button type="button" on:click=move |_| cancel()>"Cancel"</button>
            </div>
        </form>
    }
}

/// One comment: its lines, status and body; a draft can be edited or deleted, any resolved.
fn comment(c: ReviewComment) -> impl IntoView {
    let ctx = use_tab();
    let editing = RwSignal::new(false);
    let text = RwSignal::new(c.body.clone());
    let id = StoredValue::new(c.id.clone());
    let draft = c.status == CommentStatus::Draft;
    let patch = move |patch: CommentPatch| {
        spawn(async move {
            match update_comment(id.get_value(), patch).await {
                Ok(_) => {
                    editing.try_set(false);
                }
                Err(e) => ctx.toast(format!("Could not change the comment: {}", error_text(&e))),
            }
        });
    };
    let remove = move |_| {
        spawn(async move {
            if let Err(e) = delete_comment(id.get_value()).await {
                ctx.toast(format!("Could not delete the comment: {}", error_text(&e)));
            }
        });
    };
    let place = c.place();
    let status = c.status.as_str();
    let body = c.body.clone();
    view! {
        <li class=format!("comment comment-{status}") id=element_id(&c.id) tabindex="-1" aria-label=format!("Comment on {place}, {status}")>
            <div class="row">
                <span class="place">{place.clone()}</span>
                <span class="badge">{status}</span>
                <span class="spacer"></span>
                {draft.then(|| view! {
                    <button type="button" on:click=move |_| editing.update(|e| *e = !*e)>"Edit"</button>
                    <button type="button" aria-label=format!("Delete the comment on {place}") on:click=remove>"Delete"</button>
                })}
                {(c.status != CommentStatus::Resolved).then(|| view! {
                    <button type="button" on:click=move |_| patch(CommentPatch { status: Some(CommentStatus::Resolved), ..Default::default() })>
                        "Resolve"
                    </button>
                })}
            </div>
            {move || if editing.get() {
                view! {
                    <form on:submit=move |ev| { ev.prevent_default(); patch(CommentPatch { body: Some(text.get_untracked()), ..Default::default() }); }>
                        <textarea aria-label="Comment" rows="3" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                        <button type="submit" class="primary">"Save"</button>
                    </form>
                }.into_any()
            } else {
                view! { <p class="comment-body">{body.clone()}</p> }.into_any()
            }}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_marked_by_the_open_comments_on_its_side_that_cover_it() {
        let c = |id: &str, side, line, end_line, status| ReviewComment {
            id: id.into(),
            path: "a.rs".into(),
            line,
            end_line,
            side,
            status,
            body: format!("body {id}"),
            ..Default::default()
        };
        let here = [
            c("range", CommentSide::New, 3, 7, CommentStatus::Draft),
            c("one", CommentSide::New, 5, 5, CommentStatus::Sent),
            c("old", CommentSide::Old, 5, 5, CommentStatus::Draft),
            c("done", CommentSide::New, 9, 9, CommentStatus::Resolved),
        ];
        assert_eq!(on_line(&here, CommentSide::New, 5), Some((2, "range".into(), "body range\n—\nbody one".into())));
        assert_eq!(on_line(&here, CommentSide::New, 7).map(|m| m.0), Some(1));
        assert_eq!(on_line(&here, CommentSide::Old, 5).map(|m| m.1), Some("old".into()));
        assert_eq!(on_line(&here, CommentSide::New, 8), None);
        assert_eq!(on_line(&here, CommentSide::New, 9), None, "a resolved comment marks nothing");
    }

    #[test]
    fn shift_click_makes_a_range_in_the_same_file_and_side_only() {
        let one = Pick::clicked(None, "a.rs", CommentSide::New, 7, true);
        assert_eq!((one.line, one.end), (7, 7));
        let range = Pick::clicked(Some(&one), "a.rs", CommentSide::New, 3, true);
        assert_eq!((range.line, range.end), (3, 7));
        let other = Pick::clicked(Some(&range), "a.rs", CommentSide::Old, 9, true);
        assert_eq!((other.line, other.end, other.side), (9, 9, CommentSide::Old));
        let again = Pick::clicked(Some(&range), "a.rs", CommentSide::New, 9, false);
        assert_eq!((again.line, again.end), (9, 9));
    }
}

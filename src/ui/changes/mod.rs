//! A session's workspace as it changes (SPEC §8 "Changes, live"): its totals, its changed
//! files (`files.rs`) and one file's diff (`diff.rs`; parsed in `lines.rs`, windowed by
//! `window.rs`), fetched again whenever the cached workspace's `version` moves (a
//! `workspace:updated` event), without moving the reader; above them, landing it (`land.rs`). Built on demand (`ui::on_demand`),
//! so none of it is in the main wasm but `totals.rs`, the badge the rows show.

mod diff;
mod files;
mod land;
mod lines;
mod review;
pub mod totals;
mod window;

use crate::api::functions::{error_text, get_workspaces, workspace_files};
use crate::model::*;
use crate::ui::browser::spawn;
use crate::ui::on_demand::Part;
use crate::ui::state::use_tab;
use leptos::prelude::*;

/// The Changes tab of a session working in workspace `workspace_id`, built on demand.
#[cfg_attr(
    maestro_split,
    leptos::wasm_split::wasm_split(changes, wasm_split_path = ::leptos::wasm_split, fallible)
)]
pub fn changes_view(workspace_id: String) -> Part {
    Ok(changes(workspace_id).into_any())
}

/// The file whose diff is open: its path, and where it was before a rename.
type Open = Option<(String, Option<String>)>;

/// The changed files as last fetched, or why they could not be.
type Fetched = RwSignal<Option<Result<WorkspaceFiles, String>>>;

fn changes(workspace_id: String) -> impl IntoView {
    let ctx = use_tab();
    let id = StoredValue::new(workspace_id);
    let ws = Memo::new(move |_| ctx.cache.with(|c| c.workspace(&id.get_value()).cloned()));
    // A session opened from elsewhere may bring a workspace the cache lacks: fetched once,
    // events keep it current afterwards.
    if ws.with_untracked(Option::is_none) {
        spawn(async move {
            if let Ok((list, at)) = get_workspaces(vec![id.get_value()]).await {
                ctx.cache.update(|c| c.load_workspace_entities(&list, at));
            }
        });
    }
    let version = Memo::new(move |_| ws.with(|w| w.as_ref().map(|w| w.version)));
    let files: Fetched = RwSignal::new(None);
    let asked = StoredValue::new(0u64);
    Effect::new(move |_| {
        // Read, not only tracked: a memo nobody reads stays stale and tells no one again.
        let _ = version.get();
        let n = asked.get_value() + 1;
        asked.set_value(n);
        let wid = id.get_value();
        spawn(async move {
            let r = workspace_files(wid).await.map_err(|e| error_text(&e));
            // An answer to an older question, arriving after a newer one was asked: dropped.
            if asked.try_get_value() == Some(n) {
                files.try_set(Some(r));
            }
        });
    });
    let open: RwSignal<Open> = RwSignal::new(None);
    let pick = RwSignal::new(None::<review::Pick>);
    view! {
        <div class="changes-view" role="tabpanel" id="panel-changes" aria-labelledby="tab-changes">
            <div class="row">
                <p class="changes-summary muted">{move || ws.with(|w| w.as_ref().map(summary))}</p>
                <span class="spacer"></span>
                {review::send_button(id)}
            </div>
            {land::bar(ws)}
            {files::list(files, open)}
            {move || {
                open.get()
                    .map(|(path, old)| {
                        let here = review::file_comments(id, path.clone());
                        view! {
                            {diff::diff(id.get_value(), path.clone(), old, version, pick, here)}
                            {review::panel(id, path, here, pick)}
                        }
                        .into_any()
                    })
                    .unwrap_or_else(|| view! { <p class="muted">"Choose a file to see its diff."</p> }.into_any())
            }}
        </div>
    }
}

/// The workspace's line: branch, totals, and how it stands against its base.
fn summary(w: &Workspace) -> String {
    let c = &w.changes;
    let mut s = format!(
        "{} · {} {} · +{} −{} · {} ahead, {} behind {}",
        w.branch,
        c.files,
        if c.files == 1 { "file" } else { "files" },
        c.additions,
        c.deletions,
        c.ahead,
        c.behind,
        w.base
    );
    if c.dirty {
        s.push_str(" · uncommitted changes");
    }
    if w.status != WorkspaceStatus::Active {
        s.push_str(&format!(" · {}", w.status.as_str()));
    }
    s
}

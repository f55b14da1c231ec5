//! Where the panel's tasks come from: the first page (the first screen and the counts),
//! rendered by the server; the rest, fetched by the browser a page at a time once the
//! page is live (a long list never goes into the page). Both go into the browser's cache.

use crate::api::functions::*;
use crate::live::cache::ListKey;
use crate::model::FnError;
use crate::ui::browser::write_cache;
use crate::ui::lists::{page_resource, PageCodec};
use crate::ui::state::Tab;
use leptos::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

/// Tasks the page carries (the first screen, and some to scroll into before the rest).
pub const FIRST_PAGE: usize = 100;

/// A project's first page of tasks, as the page renders it.
pub type FirstPage = Resource<Result<TaskPage, FnError>, PageCodec>;

/// Fetches a project's first page; once it is there, the browser fetches the rest into
/// the cache, a page at a time, while the panel shows this project.
pub fn first_page(ctx: Tab, project_id: String) -> FirstPage {
    let pid = project_id.clone();
    let fetched = page_resource(move || pid.clone(), |p| list_task_page(p, None, FIRST_PAGE));
    let shown = Arc::new(AtomicBool::new(true));
    let gone = shown.clone();
    on_cleanup(move || gone.store(false, Relaxed));
    Effect::new(move |_| {
        let Some(Ok(first)) = fetched.get() else { return };
        if first.next.is_none() {
            ctx.cache.update(|c| c.load_task_page(&project_id, &first.tasks, true, first.seq));
            return;
        }
        let (pid, shown) = (project_id.clone(), shown.clone());
        leptos::task::spawn_local(async move {
            if let Err(e) = ctx.page_tasks(pid, first.next, move || shown.load(Relaxed)).await {
                ctx.toast(format!("Could not load the whole task list: {}", error_text(&e)));
            }
        });
    });
    fetched
}

/// What the list starts from as it renders: the first page (none yet: an empty one), its
/// rows put into the cache as tasks like any other (events keep them current meanwhile);
/// or the error to show, while the cache does not hold the list (`key`).
pub fn seed(ctx: Tab, key: &ListKey, fetched: Option<Result<TaskPage, FnError>>) -> Result<TaskPage, String> {
    let page = match fetched {
        Some(Err(e)) if !ctx.cache.with_untracked(|c| c.is_loaded(key)) => return Err(error_text(&e)),
        Some(Ok(first)) => first,
        _ => TaskPage::default(),
    };
    write_cache(ctx.cache, |c| c.load_task_entities(&page.tasks, page.seq));
    Ok(page)
}

//! Parts of the page built only when someone opens them: a task's details, the board, a
//! session's tasks, a session's Changes tab, the attention list, the keyboard help, the new
//! project form, the project settings. None is
//! in the server's page, so none hydrates; in release builds (`--cfg maestro_split`, see
//! `scripts/env.sh`) each one's code is a wasm chunk of its own (split out by
//! `scripts/build-site.sh`), fetched the first time it is opened, which keeps it out of the
//! wasm every page load waits for.

use leptos::prelude::*;
use std::future::Future;

/// A part whose code could not be fetched: the network failed, or a new release replaced
/// it while this page was open. Not cached: opening the part again tries again.
#[derive(Debug)]
pub struct Unavailable;

impl From<leptos::wasm_split::SplitLoaderError> for Unavailable {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Unavailable
    }
}

/// What a part's builder returns.
pub type Part = Result<AnyView, Unavailable>;

/// Shows a part once its code is there (at once, after the first time); one that could
/// not be fetched says so and offers a reload, rather than leaving a hole.
pub fn show(part: impl Future<Output = Part> + Send + 'static) -> impl IntoView {
    Suspend::new(async move {
        part.await.unwrap_or_else(|Unavailable| {
            view! {
                <p role="alert" class="error">
                    "This part of Maestro could not be loaded. "
                    <button on:click=|_| super::browser::reload_page()>"Reload the page"</button>
                </p>
            }
            .into_any()
        })
    })
}

/// Shows the part a builder call makes: `on_demand!(details_view(id))`. The builder is
/// async where its code is a chunk of its own, a plain function elsewhere.
macro_rules! on_demand {
    ($call:expr) => {
        $crate::ui::on_demand::show(async move {
            #[cfg(maestro_split)]
            let part = $call.await;
            #[cfg(not(maestro_split))]
            let part = $call;
            part
        })
    };
}
pub(crate) use on_demand;

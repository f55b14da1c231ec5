//! A project's settings (SPEC §8): its name, its directory — checked on the server as it is
//! typed — whether each task gets its own git worktree, the branch worktrees start from and
//! the setup command; deleting it (`project_delete`). The dialog is built on demand (see `ui::on_demand`); the directory
//! field is New project's too.

use super::on_demand::Part;
use super::project_delete::delete_section;
use super::state::use_tab;
use crate::api::functions::{error_text, inspect_directory, update_project};
use crate::model::{DirectoryInfo, MergeStrategy, Project, ProjectPatch};
use leptos::prelude::*;
use std::time::Duration;

/// How long typing pauses before the directory is looked at.
const PAUSE: Duration = Duration::from_millis(300);

/// What the server said of the directory typed.
#[derive(Clone, Debug, PartialEq)]
pub enum Looked {
    /// Nothing typed: the project has no directory.
    Nothing,
    Looking,
    Seen(DirectoryInfo),
    Failed(String),
}

impl Looked {
    fn info(&self) -> Option<&DirectoryInfo> {
        match self {
            Looked::Seen(d) => Some(d),
            _ => None,
        }
    }
}

/// Looks at `dir` on the server once typing pauses; a later keystroke makes an earlier
/// answer moot.
pub fn inspected(dir: RwSignal<String>) -> RwSignal<Looked> {
    let looked = RwSignal::new(Looked::Nothing);
    let typed = StoredValue::new(0u64);
    Effect::new(move |_| {
        let path = dir.get().trim().to_string();
        typed.update_value(|n| *n += 1);
        let mine = typed.get_value();
        if path.is_empty() {
            looked.set(Looked::Nothing);
            return;
        }
        looked.set(Looked::Looking);
        set_timeout(
            move || {
                if typed.try_get_value() != Some(mine) {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let answer = match inspect_directory(path).await {
                        Ok(d) => Looked::Seen(d),
                        Err(e) => Looked::Failed(error_text(&e)),
                    };
                    if typed.try_get_value() == Some(mine) {
                        looked.try_set(answer);
                    }
                });
            },
            PAUSE,
        );
    });
    looked
}

/// The directory's input and what the server says of it.
#[component]
pub fn DirectoryField(dir: RwSignal<String>, looked: RwSignal<Looked>, label: &'static str) -> impl IntoView {
    let said = move || match looked.get() {
        Looked::Nothing => "No directory: agents run in the server's home directory".to_string(),
        Looked::Looking => "Checking…".to_string(),
        Looked::Seen(d) => d.summary(),
        Looked::Failed(e) => e,
    };
    view! {
        <label class="field">
            <span>{label}</span>
            <input type="text" bind:value=dir placeholder="/home/me/code/app" spellcheck="false"/>
        </label>
        <p class="muted directory-check" role="status" aria-label="Directory check">{said}</p>
    }
}

/// The settings dialog of the active project; closes itself (`open`) once saved.
#[cfg_attr(
    maestro_split,
    leptos::wasm_split::wasm_split(project_settings, wasm_split_path = ::leptos::wasm_split, fallible)
)]
pub fn settings_view(active: Memo<Option<String>>, open: RwSignal<bool>) -> Part {
    let ctx = use_tab();
    let Some(orig) = active.get_untracked().and_then(|id| ctx.cache.with_untracked(|c| c.project(&id).cloned())) else {
        open.set(false);
        return Ok(().into_any());
    };
    let name = RwSignal::new(orig.name.clone());
    let dir = RwSignal::new(orig.base_path.clone().unwrap_or_default());
    let isolation = RwSignal::new(orig.isolation);
    let base = RwSignal::new(orig.base_branch.clone().unwrap_or_default());
    let setup = RwSignal::new(orig.setup_command.clone().unwrap_or_default());
    let merge = RwSignal::new(orig.merge_strategy);
    let looked = inspected(dir);
    let (saving, error) = (RwSignal::new(false), RwSignal::new(None::<String>));
    let orig = StoredValue::new(orig);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let before = orig.get_value();
        let typed = Typed {
            name: name.get_untracked(),
            dir: dir.get_untracked(),
            isolation: isolation.get_untracked(),
            base: base.get_untracked(),
            setup: setup.get_untracked(),
            merge: merge.get_untracked(),
        };
        let (patch, after) = typed.apply(&before);
        if after == before {
            open.set(false);
            return;
        }
        // Shown at once; the dialog stays until the server agrees, so a refusal keeps what
        // was typed beside the reason.
        let previous = ctx.cache.try_update(|c| c.optimistic(after.clone())).flatten();
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match update_project(before.id.clone(), patch).await {
                Ok(p) => {
                    ctx.cache.update(|c| c.confirm(&p));
                    open.try_set(false);
                }
                Err(e) => {
                    ctx.cache.update(|c| c.rollback(&before.id, previous));
                    error.try_set(Some(error_text(&e)));
                }
            }
            saving.try_set(false);
        });
    };
    let branches = move || {
        let info = looked.with(|l| l.info().cloned()).unwrap_or_default();
        let mut names = info.branches.clone();
        let chosen = base.get();
        if !chosen.is_empty() && !names.contains(&chosen) {
            names.insert(0, chosen.clone());
        }
        let current = info.branch.map(|b| format!("checked-out branch ({b})"));
        let label = current.unwrap_or_else(|| "checked-out branch".into());
        let first = view! { <option value="" selected=chosen.is_empty()>{label}</option> };
        let rest = names
            .into_iter()
            .map(|b| view! { <option value=b.clone() selected=b == chosen>{b.clone()}</option> })
            .collect_view();
        (first, rest)
    };
    let setup_hint = move || match looked.with(|l| l.info().map(|d| (d.repository.is_some(), d.setup_script))) {
        Some((true, true)) => "Empty: the repository's .maestro/setup.sh is used (it has one)",
        Some((true, false)) => "Empty: .maestro/setup.sh is used when the repository has one (it has none)",
        _ => "Empty: the repository's .maestro/setup.sh is used, if it has one",
    };
    let close = move || open.set(false);
    let delete = delete_section(orig, open);
    Ok(view! {
        <div
            class="overlay"
            role="dialog"
            aria-label="Project settings"
            aria-modal="true"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    close();
                }
            }
        >
            <form class="dialog settings" on:submit=save>
                <h2>"Project settings"</h2>
                <label class="field">
                    <span>"Name"</span>
                    <input type="text" bind:value=name autofocus/>
                </label>
                <DirectoryField dir=dir looked=looked label="Directory"/>
                <label class="check">
                    <input type="checkbox" bind:checked=isolation/>
                    "Give each task its own git worktree"
                </label>
                <label class="field">
                    <span>"Base branch"</span>
                    <select on:change=move |ev| base.set(event_target_value(&ev))>
                        {branches}
                    </select>
                </label>
                <label class="field">
                    <span>"Merge strategy"</span>
                    <select
                        prop:value=move || merge.get().as_str()
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            merge.set(MergeStrategy::ALL.into_iter().find(|m| m.as_str() == v).unwrap_or_default());
                        }
                    >
                        <option value="merge">"A merge commit"</option>
                        <option value="squash">"One squashed commit"</option>
                    </select>
                </label>
                <label class="field">
                    <span>"Setup command"</span>
                    <textarea rows="3" bind:value=setup placeholder=setup_hint spellcheck="false"></textarea>
                </label>
                {move || error.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
                <div class="row">
                    <button type="submit" disabled=move || saving.get()>
                        {move || if saving.get() { "Saving…" } else { "Save settings" }}
                    </button>
                    <button type="button" class="ghost" on:click=move |_| close()>
                        "Cancel"
                    </button>
                </div>
                {delete}
            </form>
        </div>
    }
    .into_any())
}

/// The dialog's fields as typed.
struct Typed {
    name: String,
    dir: String,
    isolation: bool,
    base: String,
    setup: String,
    merge: MergeStrategy,
}

impl Typed {
    /// The patch of what differs from `p`, and `p` as the server will make it (blank
    /// directory, branch and command mean none).
    fn apply(self, p: &Project) -> (ProjectPatch, Project) {
        let none_if_blank = |s: String| (!s.trim().is_empty()).then_some(s);
        let mut after = p.clone();
        let mut patch = ProjectPatch::default();
        if self.name.trim() != p.name {
            after.name = self.name.trim().to_string();
            patch.name = Some(self.name);
        }
        let dir = none_if_blank(self.dir).map(|d| d.trim().to_string());
        if dir != p.base_path {
            after.base_path = dir.clone();
            patch.base_path = Some(dir);
        }
        if self.isolation != p.isolation {
            after.isolation = self.isolation;
            patch.isolation = Some(self.isolation);
        }
        let base = none_if_blank(self.base);
        if base != p.base_branch {
            after.base_branch = base.clone();
            patch.base_branch = Some(base);
        }
        let setup = none_if_blank(self.setup);
        if setup != p.setup_command {
            after.setup_command = setup.clone();
            patch.setup_command = Some(setup);
        }
        if self.merge != p.merge_strategy {
            after.merge_strategy = self.merge;
            patch.merge_strategy = Some(self.merge);
        }
        (patch, after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_changed_is_sent_and_blank_means_none() {
        let p = Project { id: "p".into(), name: "A".into(), setup_command: Some("x".into()), ..Project::default() };
        let typed = |name: &str, dir: &str, setup: &str| Typed {
            name: name.into(),
            dir: dir.into(),
            isolation: true,
            base: String::new(),
            setup: setup.into(),
            merge: MergeStrategy::Merge,
        };
        let (patch, after) = typed(" A ", "", "x").apply(&p);
        assert_eq!((patch, after), (ProjectPatch::default(), p.clone()));
        let (patch, after) = typed("A", " /srv/app ", "  ").apply(&p);
        assert_eq!(patch.base_path, Some(Some("/srv/app".into())));
        assert_eq!(patch.setup_command, Some(None));
        assert_eq!((patch.name, patch.isolation, patch.base_branch), (None, None, None));
        assert_eq!((after.base_path.as_deref(), after.setup_command), (Some("/srv/app"), None));
    }
}

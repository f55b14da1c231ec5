//! The app's pages: `/` (the last project used, else the first) and `/projects/:id`, each
//! with `?q=` (the task search). leptos_router keeps the URL (history, links, `?q=`); which
//! page a path is, is decided here rather than by its `<Routes>`, whose matching code
//! costs the browser's wasm more than these two paths are worth (docs/PERF.md).

use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The pages' paths as the server registers them (axum syntax): everything else is a 404.
pub const PAGES: [&str; 2] = ["/", "/projects/{id}"];

/// A page of the app, from a URL's path: `None` for a path that is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    /// `/`: the last project used in this browser, else the first.
    Home,
    /// `/projects/:id`.
    Project(String),
}

impl Page {
    pub fn parse(path: &str) -> Option<Page> {
        if path.is_empty() || path == "/" {
            return Some(Page::Home);
        }
        let id = path.strip_prefix("/projects/")?;
        (!id.is_empty() && !id.contains('/')).then(|| Page::Project(id.to_string()))
    }
}

/// The page this URL shows, followed as the URL changes.
pub fn use_page() -> Memo<Option<Page>> {
    let location = use_location();
    Memo::new(move |_| location.pathname.with(|p| Page::parse(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_pages_and_nothing_else() {
        assert_eq!(Page::parse("/"), Some(Page::Home));
        assert_eq!(Page::parse("/projects/proj_1"), Some(Page::Project("proj_1".into())));
        // As the server's routes: no trailing slash, one segment.
        for other in ["/projects", "/projects/", "/projects/proj_1/", "/projects/a/b", "/nope", "/favicon.svg"] {
            assert_eq!(Page::parse(other), None, "{other}");
        }
    }
}

//! Paging of lists (SPEC §2: `limit`, plus a cursor for the next page), the same for the
//! REST API, the UI's server functions and any client.
//!
//! Pages are cut by key, not by offset: a cursor is the sort key of the last row sent, so
//! rows created or deleted while a client pages never shift the rest (a new task sorts
//! first, before any cursor; a deleted one is simply absent), and each row is sent once.

use super::{Millis, Project, Session, Task, Workspace};
use std::fmt;

/// Most rows one page may hold.
pub const PAGE_ROWS_MAX: usize = 1000;
/// Most bytes of JSON one page holds (but for its first row, which is always sent).
pub const PAGE_BYTES_MAX: usize = 1 << 20;

/// Where the next page starts: the sort key of the last row of this one. Opaque to
/// clients (`<millis>.<id>` on the wire); they only send it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub at: Millis,
    pub id: String,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.at, self.id)
    }
}

impl std::str::FromStr for Cursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Cursor, String> {
        let bad = || "cursor is not one this server gave (pass the last page's Next-Cursor)".to_string();
        let (at, id) = s.split_once('.').ok_or_else(bad)?;
        // Exactly what the API document's pattern allows: `-?[0-9]{1,18}.` and an id.
        let digits = at.strip_prefix('-').unwrap_or(at);
        let ok = (1..=18).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        let ok = ok && !id.is_empty() && id.len() <= super::limits::ID_MAX;
        let ok = ok && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        match at.parse() {
            Ok(at) if ok => Ok(Cursor { at, id: id.to_string() }),
            _ => Err(bad()),
        }
    }
}

/// A row of a list that pages: its sort key, and which way the list runs.
pub trait Listed: serde::Serialize {
    /// Newest first (tasks, sessions) or oldest first (projects).
    const NEWEST_FIRST: bool;
    fn key(&self) -> (Millis, &str);
}

impl Listed for Project {
    const NEWEST_FIRST: bool = false;
    fn key(&self) -> (Millis, &str) {
        (self.created_at, &self.id)
    }
}

impl Listed for Task {
    const NEWEST_FIRST: bool = true;
    fn key(&self) -> (Millis, &str) {
        (self.created_at, &self.id)
    }
}

impl Listed for Session {
    const NEWEST_FIRST: bool = true;
    fn key(&self) -> (Millis, &str) {
        (self.started_at, &self.id)
    }
}

impl Listed for Workspace {
    const NEWEST_FIRST: bool = true;
    fn key(&self) -> (Millis, &str) {
        (self.created_at, &self.id)
    }
}

/// A workspace's comments page in the order they were written (clients show them by place).
impl Listed for super::ReviewComment {
    const NEWEST_FIRST: bool = false;
    fn key(&self) -> (Millis, &str) {
        (self.created_at, &self.id)
    }
}

/// The order of a list: newest or oldest first, by time then id.
pub fn list_order<T: Listed>(a: &T, b: &T) -> std::cmp::Ordering {
    let o = a.key().cmp(&b.key());
    if T::NEWEST_FIRST {
        o.reverse()
    } else {
        o
    }
}

/// One page of a list, borrowed from wherever the rows live.
#[derive(Debug)]
pub struct Page<'a, T> {
    pub rows: Vec<&'a T>,
    /// Set when rows remain after this page.
    pub next: Option<Cursor>,
}

/// The page of `rows` (any order) that follows `after`: at most `limit` rows in list
/// order, and fewer when their JSON would pass [`PAGE_BYTES_MAX`]. Costs one pass over the
/// rows and a sort of the page only, not of the list.
pub fn page<'a, T: Listed>(rows: impl Iterator<Item = &'a T>, after: Option<&Cursor>, limit: usize) -> Page<'a, T> {
    let order = |a: &&T, b: &&T| list_order(*a, *b);
    let past = |t: &T| {
        after.is_none_or(|c| {
            let o = t.key().cmp(&(c.at, c.id.as_str()));
            o == if T::NEWEST_FIRST { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater }
        })
    };
    let limit = limit.clamp(1, PAGE_ROWS_MAX);
    let mut v: Vec<&T> = rows.filter(|t| past(t)).collect();
    let mut more = v.len() > limit;
    if more {
        v.select_nth_unstable_by(limit, order);
        v.truncate(limit);
    }
    v.sort_unstable_by(order);
    let mut bytes = 0;
    if let Some(fit) = v.iter().position(|t| {
        bytes += json_len(*t) + 1;
        bytes > PAGE_BYTES_MAX
    }) {
        let keep = fit.max(1);
        if v.len() > keep {
            v.truncate(keep);
            more = true;
        }
    }
    let next = if more {
        v.last().map(|t| {
            let (at, id) = t.key();
            Cursor { at, id: id.to_string() }
        })
    } else {
        None
    };
    Page { rows: v, next }
}

/// The length of a value's JSON, without keeping it.
pub fn json_len<T: serde::Serialize>(v: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(at: Millis, id: &str, text: usize) -> Task {
        Task { id: id.into(), created_at: at, description: "x".repeat(text), ..Default::default() }
    }

    /// Paging to the end yields every row once, in list order, whatever the page size,
    /// and a row created before the cursor meanwhile does not shift the rest.
    #[test]
    fn pages_cover_the_list_once_in_order() {
        let mut all: Vec<Task> = (0..57).map(|i| task(i % 9, &format!("t{i:02}"), 10)).collect();
        let mut want: Vec<String> = {
            let mut v: Vec<&Task> = all.iter().collect();
            v.sort_by(|a, b| Task::newest_first(a, b));
            v.iter().map(|t| t.id.clone()).collect()
        };
        for limit in [1, 5, 56, 57, 1000] {
            let (mut got, mut after) = (Vec::new(), None::<Cursor>);
            loop {
                let p = page(all.iter(), after.as_ref(), limit);
                assert!(p.rows.len() <= limit);
                got.extend(p.rows.iter().map(|t| t.id.clone()));
                let Some(next) = p.next else { break };
                after = Some(next.to_string().parse().unwrap());
            }
            assert_eq!(got, want, "limit {limit}");
        }
        // A new task is newest: it is on no later page.
        let first = page(all.iter(), None, 10).next;
        all.push(task(100, "new", 1));
        let rest = page(all.iter(), first.as_ref(), 1000);
        assert!(rest.rows.iter().all(|t| t.id != "new"));
        want.drain(..10);
        assert_eq!(rest.rows.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), want);
    }

    #[test]
    fn a_page_stops_at_its_byte_budget_but_sends_one_row() {
        let big: Vec<Task> = (0..30).map(|i| task(i, &format!("b{i}"), 100_000)).collect();
        let p = page(big.iter(), None, 1000);
        assert_eq!(p.rows.len(), 10, "ten 100 KB rows fit in 1 MiB");
        assert_eq!(p.next.as_ref().map(|c| c.id.as_str()), Some("b20"));
        let huge = [task(1, "h", 2 << 20)];
        let p = page(huge.iter(), None, 10);
        assert_eq!((p.rows.len(), p.next.is_some()), (1, false));
    }

    #[test]
    fn a_cursor_not_from_the_server_is_refused() {
        for bad in ["", "12", ".x", "x.y", "1.", "1.a b", "1.a/b", "+1.a", "1234567890123456789.a", "-.a"] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad:?}");
        }
        assert_eq!("-5.t_1".parse::<Cursor>(), Ok(Cursor { at: -5, id: "t_1".into() }));
    }
}

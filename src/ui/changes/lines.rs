//! A file's unified diff as numbered lines: what the diff view windows over. Parsed once
//! per answer; a line is a few numbers into the diff's text, so a 5 MB diff costs one copy.

/// What a line of a diff is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `@@ -a,b +c,d @@`: where a hunk starts.
    Hunk,
    Context,
    Added,
    Deleted,
    /// `\ No newline at end of file`.
    Note,
}

/// One line: its kind, its numbers in the old and new file (0: not in that side), and
/// where its text is in the diff (without the leading `+`, `-` or space).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub kind: Kind,
    pub old: u32,
    pub new: u32,
    start: u32,
    end: u32,
}

/// A parsed diff: the text and its lines, with the totals they add up to.
#[derive(Debug, Default, PartialEq)]
pub struct Lines {
    text: String,
    pub lines: Vec<Line>,
    pub added: usize,
    pub deleted: usize,
}

impl Lines {
    /// The lines of `diff` from its first hunk on (the file headers are the view's title).
    pub fn parse(text: String) -> Lines {
        let mut lines = Vec::new();
        let (mut old, mut new, mut in_hunk) = (0u32, 0u32, false);
        let (mut added, mut deleted) = (0, 0);
        let mut at = 0usize;
        for raw in text.split_inclusive('\n') {
            let start = at;
            at += raw.len();
            let body = raw.trim_end_matches('\n').trim_end_matches('\r');
            let end = start + body.len();
            let line = |kind, old, new, skip: usize| Line {
                kind,
                old,
                new,
                start: (start + skip.min(body.len())) as u32,
                end: end as u32,
            };
            if let Some((o, n)) = hunk_start(body) {
                (old, new, in_hunk) = (o, n, true);
                lines.push(line(Kind::Hunk, 0, 0, 0));
                continue;
            }
            if !in_hunk {
                continue;
            }
            match body.as_bytes().first() {
                Some(b'+') => {
                    added += 1;
                    lines.push(line(Kind::Added, 0, new, 1));
                    new += 1;
                }
                Some(b'-') => {
                    deleted += 1;
                    lines.push(line(Kind::Deleted, old, 0, 1));
                    old += 1;
                }
                Some(b'\\') => lines.push(line(Kind::Note, 0, 0, 0)),
                Some(b' ') | None => {
                    lines.push(line(Kind::Context, old, new, 1));
                    (old, new) = (old + 1, new + 1);
                }
                // Another file's header (not asked for, but never shown as code).
                _ => in_hunk = false,
            }
        }
        Lines { text, lines, added, deleted }
    }

    /// The text of line `i` (empty past the end).
    pub fn text(&self, i: usize) -> &str {
        self.lines.get(i).and_then(|l| self.text.get(l.start as usize..l.end as usize)).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// The old and new start lines of a hunk header `@@ -a[,b] +c[,d] @@…`.
fn hunk_start(line: &str) -> Option<(u32, u32)> {
    let rest = line.strip_prefix("@@ -")?;
    let (old, rest) = rest.split_once(" +")?;
    let (new, _) = rest.split_once(" @@")?;
    let first = |s: &str| s.split(',').next()?.parse::<u32>().ok();
    Some((first(old)?, first(new)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/f b/f\nindex 1..2 100644\n--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@ fn x\n a\n-b\n+B\n+C\n c\n\\ No newline at end of file\n@@ -10 +11,0 @@\n-z\n";

    #[test]
    fn lines_are_numbered_on_both_sides_from_the_first_hunk() {
        let l = Lines::parse(DIFF.to_string());
        let kinds: Vec<(Kind, u32, u32, &str)> =
            (0..l.len()).map(|i| (l.lines[i].kind, l.lines[i].old, l.lines[i].new, l.text(i))).collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Hunk, 0, 0, "@@ -1,3 +1,4 @@ fn x"),
                (Kind::Context, 1, 1, "a"),
                (Kind::Deleted, 2, 0, "b"),
                (Kind::Added, 0, 2, "B"),
                (Kind::Added, 0, 3, "C"),
                (Kind::Context, 3, 4, "c"),
                (Kind::Note, 0, 0, "\\ No newline at end of file"),
                (Kind::Hunk, 0, 0, "@@ -10 +11,0 @@"),
                (Kind::Deleted, 10, 0, "z"),
            ]
        );
        assert_eq!((l.added, l.deleted), (2, 2));
        assert_eq!(l.text(99), "");
    }

    #[test]
    fn nonsense_is_no_lines_and_no_panic() {
        for s in ["", "@@ -x +1 @@\n+a", "@@ -1", "\u{0}\u{1}", "+only\n-no hunk"] {
            assert!(Lines::parse(s.to_string()).is_empty(), "{s:?}");
        }
    }
}

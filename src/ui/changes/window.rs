//! The diff's window: every line is [`LINE_PX`] tall, so which lines are on screen is a
//! division; and where the reader is, kept across a refresh by the line's numbers.

use super::lines::{Kind, Line};

/// Height of a diff line (`style/main.css` fixes it).
pub const LINE_PX: f64 = 20.0;
/// Lines rendered beyond each edge of what is visible.
const OVERSCAN: usize = 40;

/// The lines to render, `start..end`, of `n` for a scroller at `top` showing `height`.
pub fn range(n: usize, top: f64, height: f64) -> (usize, usize) {
    let first = (top.max(0.0) / LINE_PX).floor() as usize;
    let last = ((top.max(0.0) + height.max(0.0)) / LINE_PX).ceil() as usize;
    (first.saturating_sub(OVERSCAN).min(n), last.saturating_add(OVERSCAN).min(n))
}

/// Where the reader is: the first line at or below the top of the view that the base has
/// (an added line's new number moves with every line added above it), else the first added
/// one; and how far from the top it is (negative: below it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Anchor {
    old: u32,
    new: u32,
    offset: f64,
}

/// The reader's place in `lines` scrolled to `top`; `None` at the very top (which stays
/// the top) or with nothing numbered on screen.
pub fn anchor(lines: &[Line], top: f64) -> Option<Anchor> {
    if top <= 0.0 {
        return None;
    }
    let first = (top / LINE_PX).floor() as usize;
    let below = || lines.iter().enumerate().skip(first);
    let (i, l) = below().find(|(_, l)| l.old > 0).or_else(|| below().find(|(_, l)| l.new > 0))?;
    Some(Anchor { old: l.old, new: l.new, offset: top - i as f64 * LINE_PX })
}

/// Where to scroll in `lines` (the refreshed diff) so the anchor's line is where it was:
/// found by its old number (the base's lines do not move while the agent writes), or for
/// an added line by its new one; `None` when it is gone.
pub fn restore(lines: &[Line], a: Anchor) -> Option<f64> {
    let i = if a.old > 0 {
        lines.iter().position(|l| l.old == a.old && l.kind != Kind::Added)
    } else {
        lines.iter().position(|l| l.new == a.new && l.kind == Kind::Added)
    }?;
    Some((i as f64 * LINE_PX + a.offset).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::super::lines::Lines;
    use super::*;

    #[test]
    fn the_window_is_the_screen_and_a_margin_within_the_list() {
        assert_eq!(range(0, 0.0, 600.0), (0, 0));
        assert_eq!(range(50_000, 0.0, 600.0), (0, 30 + OVERSCAN));
        assert_eq!(range(50_000, 20_000.0, 600.0), (1000 - OVERSCAN, 1030 + OVERSCAN));
        assert_eq!(range(100, 1e9, 600.0), (100, 100));
        assert_eq!(range(100, -5.0, f64::NAN), (0, OVERSCAN));
    }

    /// A file of `n` lines, every tenth changed, with `extra` lines inserted after line 5.
    fn diff(n: u32, extra: u32) -> Lines {
        let mut d = String::from("--- a/f\n+++ b/f\n");
        d.push_str(&format!("@@ -1,{n} +1,{} @@\n", n + extra));
        for i in 1..=n {
            if i % 10 == 0 {
                d.push_str(&format!("-line {i}\n+LINE {i}\n"));
            } else {
                d.push_str(&format!(" line {i}\n"));
            }
            if i == 5 {
                (0..extra).for_each(|k| d.push_str(&format!("+inserted {k}\n")));
            }
        }
        Lines::parse(d)
    }

    #[test]
    fn a_line_above_the_reader_does_not_move_what_they_read() {
        let before = diff(3000, 0);
        let top = 1234.0 * LINE_PX + 7.0;
        let a = anchor(&before.lines, top).unwrap();
        let after = diff(3000, 3);
        let moved = restore(&after.lines, a).unwrap();
        let at = |l: &Lines, top: f64| l.text((top / LINE_PX).floor() as usize).to_string();
        assert_eq!(at(&after, moved), at(&before, top));
        assert_eq!(moved - top, 3.0 * LINE_PX, "three rows more above it");
        assert_eq!(anchor(&before.lines, 0.0), None, "the top stays the top");
        // An added line at the top (its new number moved by three) stays there too.
        let added = before.lines.iter().skip(1000).position(|l| l.kind == Kind::Added).unwrap() + 1000;
        let top = added as f64 * LINE_PX;
        let moved = restore(&after.lines, anchor(&before.lines, top).unwrap()).unwrap();
        assert_eq!(at(&after, moved), at(&before, top));
    }
}

//! How the command-line client prints, as `gh` and `kubectl` users expect: aligned tables
//! on a terminal, tab-separated rows (no header) when piped, colour only on a terminal and
//! never with `NO_COLOR`, and `--json` as exactly the API's JSON.

use crate::model::*;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use unicode_width::UnicodeWidthStr;

/// Where and how results go; chosen once per run.
#[derive(Clone, Copy, Debug)]
pub struct Out {
    pub json: bool,
    /// Standard output is a terminal: tables with headers, not tab-separated rows.
    pub tty: bool,
    pub color: bool,
}

impl Out {
    /// The mode for this process: `--json` when asked; a table when stdout is a terminal;
    /// colour only then and only without `NO_COLOR` (any non-empty value) or `TERM=dumb`.
    pub fn detect(json: bool) -> Out {
        let tty = std::io::stdout().is_terminal();
        Out { json, tty, color: colour_on(tty) }
    }

    /// Whether error messages on stderr may be coloured (the same rules).
    pub fn stderr_color() -> bool {
        colour_on(std::io::stderr().is_terminal())
    }

    /// Prints `value` as the API's JSON, on one line when piped, indented on a terminal.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) {
        let text = if self.tty { serde_json::to_string_pretty(value) } else { serde_json::to_string(value) };
        println_safe(&text.unwrap_or_default());
    }

    /// A status word, coloured by what it means when colour is on.
    pub fn status(&self, word: &str) -> String {
        if !self.color {
            return word.to_string();
        }
        let code = match word {
            "completed" | "merged" => "32",               // green
            "in_progress" | "running" | "active" => "36", // cyan
            "blocked" | "failed" => "31",                 // red
            "high" | "in_review" => "33",                 // yellow
            _ => return word.to_string(),
        };
        format!("\x1b[{code}m{word}\x1b[0m")
    }

    /// `text` in the SGR colour `sgr` (`"32"`: green) when colour is on.
    pub fn paint(&self, sgr: &str, text: &str) -> String {
        match self.color && !text.is_empty() {
            true => format!("\x1b[{sgr}m{text}\x1b[0m"),
            false => text.to_string(),
        }
    }

    /// A table: on a terminal with a header and aligned columns, else one tab-separated
    /// row per line (tabs and newlines inside a cell become spaces, so rows stay rows).
    pub fn table(&self, header: &[&str], rows: Vec<Vec<String>>) {
        let mut text = String::new();
        if self.tty {
            let cols = header.len();
            let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
            for r in &rows {
                for (i, c) in r.iter().enumerate().take(cols) {
                    widths[i] = widths[i].max(visible_width(c));
                }
            }
            let line = |cells: Vec<String>, text: &mut String| {
                let last = cells.len().saturating_sub(1);
                for (i, c) in cells.into_iter().enumerate() {
                    text.push_str(&c);
                    if i < last {
                        text.push_str(&" ".repeat(widths[i] - visible_width(&c) + 2));
                    }
                }
                text.push('\n');
            };
            let head = header.iter().map(|h| if self.color { format!("\x1b[1m{h}\x1b[0m") } else { h.to_string() });
            line(head.collect(), &mut text);
            for r in rows {
                line(r.into_iter().map(|c| one_line(&c)).collect(), &mut text);
            }
        } else {
            for r in rows {
                let cells: Vec<String> = r.iter().map(|c| one_line(c).replace('\t', " ")).collect();
                text.push_str(&cells.join("\t"));
                text.push('\n');
            }
        }
        print_safe(&text);
    }

    /// `key: value` lines (one record): aligned on a terminal, tab-separated when piped.
    pub fn fields(&self, fields: &[(&str, String)]) {
        let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
        let mut text = String::new();
        for (k, v) in fields {
            if self.tty {
                let key = format!("{k}:");
                let key = if self.color { format!("\x1b[1m{key:width$}\x1b[0m") } else { format!("{key:width$}") };
                text.push_str(&format!("{key} {v}\n"));
            } else {
                text.push_str(&format!("{k}\t{}\n", one_line(v).replace('\t', " ")));
            }
        }
        print_safe(&text);
    }

    /// A free block of text (a task's prompt) after a record.
    pub fn block(&self, title: &str, body: &str) {
        let title = if self.color { format!("\x1b[1m{title}\x1b[0m") } else { title.to_string() };
        print_safe(&format!("{title}\n{}\n", body.trim_end()));
    }

    /// What a delete answers: the API's `{"success": true}` with `--json`, a line on a
    /// terminal, nothing when piped.
    pub fn deleted(&self, what: &str, id: &str) {
        if self.json {
            self.json(&serde_json::json!({"success": true}));
        } else if self.tty {
            println_safe(&format!("Deleted {what} {id}"));
        }
    }
}

/// Colour on a stream that is a terminal, unless `NO_COLOR` (any non-empty value) or
/// `TERM=dumb` says no.
fn colour_on(tty: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    tty && !no_color && !dumb
}

/// One cell on one line.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Display width without colour escapes.
fn visible_width(s: &str) -> usize {
    let mut plain = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    one_line(&plain).width()
}

/// Writes to stdout, ending quietly (not with a panic) when the reader has gone, as
/// `maestro task list | head -1` does.
pub fn print_safe(text: &str) {
    let mut out = std::io::stdout().lock();
    if out.write_all(text.as_bytes()).and_then(|_| out.flush()).is_err() {
        std::process::exit(0);
    }
}

pub fn println_safe(text: &str) {
    print_safe(&format!("{text}\n"));
}

/// A time as the person reads it: UTC, to the second.
pub fn when(ms: Millis) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(when(1_700_000_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn colour_escapes_take_no_width() {
        assert_eq!(visible_width("\x1b[32mcompleted\x1b[0m"), 9);
        assert_eq!(visible_width("日本"), 4);
    }
}

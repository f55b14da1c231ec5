//! The terminal's word on what a session's agent is doing (SPEC §9), for agents that say
//! nothing themselves: output after input → `working`; quiet a moment after a last line that
//! asks (`Proceed? [y/N]`, a question, "Press Enter") → `needs_input`, with that line; no
//! output for a while → `idle`. The least trusted source: it never moves an agent's own
//! `needs_input` on but for an answer (input then output; output at the start may be the
//! agent's own words as it asks), and it writes to the store only when the state changes.

use crate::model::SessionState;
use crate::store::{Command, Store};
use std::time::{Duration, Instant};

/// Quiet this long, a working agent is idle (`MAESTRO_IDLE_MS` sets it, for tests).
pub const IDLE: Duration = Duration::from_secs(30);
/// Quiet this long after a last line that asks, the agent waits for an answer
/// (`MAESTRO_ASKING_MS` sets it, for tests): longer than an agent's pause between lines.
pub const ASKING: Duration = Duration::from_secs(2);
/// The output's end kept to find its last line in.
const TAIL: usize = 1024;
/// Most of that line said as the question.
const QUESTION_MAX: usize = 200;

/// Followed by a session terminal's output thread.
pub(super) struct Activity {
    store: Store,
    rt: tokio::runtime::Handle,
    id: String,
    idle: Duration,
    asking: Duration,
    last_output: Instant,
    /// The end of the output so far.
    tail: Vec<u8>,
    /// The last line was looked at since the last output.
    looked: bool,
    /// The question this guess said (from the screen), while it stands: input, or output
    /// whose last line asks something else or nothing, moves it on (a redraw does not).
    guessed: Option<String>,
    /// Input came and no output since.
    typed: bool,
    /// The agent just started (with its prompt) and printed nothing yet.
    started: bool,
    /// What it said last and the session's version then: not said again while that write
    /// is under way.
    sent: Option<(SessionState, u64)>,
}

impl Activity {
    pub(super) fn new(store: Store, rt: tokio::runtime::Handle, id: &str) -> Activity {
        let ms = |var: &str| std::env::var(var).ok().and_then(|v| v.parse().ok()).map(Duration::from_millis);
        Activity {
            store,
            rt,
            id: id.to_string(),
            idle: ms("MAESTRO_IDLE_MS").unwrap_or(IDLE),
            asking: ms("MAESTRO_ASKING_MS").unwrap_or(ASKING),
            last_output: Instant::now(),
            tail: Vec::new(),
            looked: false,
            guessed: None,
            typed: false,
            started: true,
            sent: None,
        }
    }

    /// Input was handed to the program.
    pub(super) fn input(&mut self) {
        self.typed = true;
    }

    /// The program printed `bytes`.
    pub(super) fn output(&mut self, bytes: &[u8]) {
        self.last_output = Instant::now();
        self.tail.extend_from_slice(&bytes[bytes.len().saturating_sub(TAIL)..]);
        let over = self.tail.len().saturating_sub(TAIL);
        self.tail.drain(..over);
        let typed = std::mem::take(&mut self.typed);
        // The echo of what the person typed is theirs, not a question of the program's.
        self.looked = typed;
        let moved_on = match &self.guessed {
            Some(q) => typed || question(&self.tail).as_ref() != Some(q),
            None => false,
        };
        if moved_on {
            self.guessed = None;
        }
        let answered = typed || moved_on;
        if std::mem::take(&mut self.started) || answered {
            self.say(SessionState::Working, answered, None);
        }
    }

    /// Nothing was printed for a moment.
    pub(super) fn quiet(&mut self) {
        let quiet = self.last_output.elapsed();
        if !self.looked && quiet >= self.asking {
            self.looked = true;
            if let Some(question) = question(&self.tail) {
                if self.guessed.as_ref() != Some(&question)
                    && self.say(SessionState::NeedsInput, false, Some(question.clone()))
                {
                    self.guessed = Some(question);
                }
                return;
            }
        }
        if quiet >= self.idle {
            self.say(SessionState::Idle, false, None);
        }
    }

    /// Says `state` (with `message`) unless the session is there already; `answered`: after
    /// input. Whether it was said.
    fn say(&mut self, state: SessionState, answered: bool, message: Option<String>) -> bool {
        let Some((now, version)) = self.store.read(|s| s.sessions.get(&self.id).map(|s| (s.state, s.version))) else {
            return false; // gone
        };
        let moves = match state {
            _ if now == Some(state) || self.sent == Some((state, version)) => false,
            SessionState::Idle => now == Some(SessionState::Working),
            _ if now == Some(SessionState::NeedsInput) => answered,
            _ => true,
        };
        if moves {
            self.sent = Some((state, version));
            let (store, id) = (self.store.clone(), self.id.clone());
            self.rt.spawn(async move {
                let _ = store.execute(Command::GuessSessionState { id, state, seen: now, message }, None).await;
            });
        }
        moves
    }
}

/// The question the output's last line asks, if it looks like one: a `[y/N]`-style choice,
/// a line ending in `?`, or "press Enter" (escape sequences and colours left out).
fn question(tail: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&strip_escapes(tail)).into_owned();
    // The last line with anything on it, as the screen shows it after carriage returns.
    let line = text.lines().map(|l| l.rsplit('\r').find(|p| !p.trim().is_empty()).unwrap_or("")).rev();
    let line = line.map(str::trim).find(|l| !l.is_empty())?;
    let lower = line.to_lowercase();
    let choice =
        ["[y/n]", "(y/n)", "[yes/no]", "(yes/no)", "[y/n/", "(y/n/", "(y)es/(n)o"].iter().any(|c| lower.contains(c));
    let asks = line.trim_end_matches([':', ' ']).ends_with('?');
    let key = ["press enter", "press return", "press any key", "hit enter"].iter().any(|k| lower.contains(k));
    (choice || asks || key).then(|| line.chars().filter(|c| !c.is_control()).take(QUESTION_MAX).collect())
}

/// `bytes` without terminal escape sequences (CSI, OSC, and two-byte ones).
fn strip_escapes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != 0x1b {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        i += 1;
        match bytes.get(i) {
            // CSI: parameters, then one final byte in @..~; a cursor move to a place starts
            // a line of its own (a full-screen program draws without line breaks).
            Some(b'[') => {
                i += 1;
                while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i]) {
                    i += 1;
                }
                if matches!(bytes.get(i), Some(b'H' | b'f' | b'd')) {
                    out.push(b'\n');
                }
                i += 1;
            }
            // A character set chosen: ESC ( B and the like.
            Some(b'(' | b')' | b'*' | b'+') => i += 2,
            // OSC: up to BEL or ESC \.
            Some(b']') => {
                while i < bytes.len() && bytes[i] != 0x07 && !(bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'\\')) {
                    i += 1;
                }
                i += if bytes.get(i) == Some(&0x07) { 1 } else { 2 };
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::question;

    #[test]
    fn a_last_line_that_asks_is_a_question_and_others_are_not() {
        let asks = |s: &str| question(s.as_bytes());
        assert_eq!(asks("Installing...\r\nProceed? [y/N] ").as_deref(), Some("Proceed? [y/N]"));
        assert_eq!(asks("\x1b[1;33mOverwrite file.txt?\x1b[0m (y/n) ").as_deref(), Some("Overwrite file.txt? (y/n)"));
        assert_eq!(asks("Which one should I pick?\r\n\r\n").as_deref(), Some("Which one should I pick?"));
        assert_eq!(asks("Done.\r\nPress Enter to continue").as_deref(), Some("Press Enter to continue"));
        assert_eq!(asks("\x1b]0;title\x07Continue?: ").as_deref(), Some("Continue?:"));
        assert_eq!(asks("50%\r100%\r\nDelete it? [y/N]").as_deref(), Some("Delete it? [y/N]"));
        let aider = "Add src/main.rs to the chat? (Y)es/(N)o [Yes]: ";
        assert_eq!(asks(aider).as_deref(), Some(aider.trim()));
        assert_eq!(asks("Continue?\x1b(B\x1b[m").as_deref(), Some("Continue?"));
        // A full-screen program's redraw: only what was drawn last counts.
        assert_eq!(asks("\x1b[1;1H[y/n] mode: on\x1b[24;1H> "), None);
        assert_eq!(asks("\x1b[1;1Hlog\x1b[24;1HApply these edits? ").as_deref(), Some("Apply these edits?"));
        for not in ["Building 3 crates\r\n", "user@host:~/src$ ", "Why? Because.\r\nCompiling\r\n", "", "\x1b[2J"] {
            assert_eq!(asks(not), None, "{not:?}");
        }
    }
}

//! The kept output: budgets, offsets, restarts.

use super::*;

fn write(o: &Outputs, id: &str, bytes: &[u8]) {
    let mut w = o.writer(id);
    w.write(bytes);
}

fn all(o: &Outputs, id: &str) -> Chunk {
    o.read(id, 0, usize::MAX).unwrap()
}

#[test]
fn a_session_over_its_budget_keeps_its_newest_bytes_at_their_offsets_across_writers_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let o = Outputs::budgeted(Some(dir.path().into()), 8192, 1 << 20);
    let text: Vec<u8> = (0..30_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    // Two runs of its terminal, the second after a "restart" (books read from disk).
    write(&o, "s", &text[..10_000]);
    let o = o.at(dir.path()).unwrap();
    write(&o, "s", &text[10_000..]);
    let c = all(&o, "s");
    assert_eq!(c.kept.end, 30_000);
    assert!(c.kept.start > 0 && c.bytes.len() <= 8192 && c.bytes.len() >= 7 * 1024, "{:?}", c.kept);
    assert_eq!((c.offset, &c.bytes[..]), (c.kept.start, &text[c.kept.start as usize..]));
    // A read from a dropped offset starts at the first kept byte; one past the end is empty.
    assert_eq!(o.read("s", 5, 3).unwrap().offset, c.kept.start);
    let past = o.read("s", 99_999, 3).unwrap();
    assert_eq!((past.offset, past.bytes.len()), (30_000, 0));
    // Nothing kept: an empty range at 0.
    assert_eq!(all(&o, "none").kept, Kept::default());
}

#[test]
fn over_the_total_budget_the_least_recently_written_sessions_go_first_never_one_being_written() {
    let dir = tempfile::tempdir().unwrap();
    let o = Outputs::budgeted(Some(dir.path().into()), 8192, 20_000);
    write(&o, "old", &[b'o'; 8000]);
    write(&o, "mid", &[b'm'; 8000]);
    let mut live = o.writer("new");
    live.write(&[b'n'; 3000]);
    live.flush();
    assert_eq!(all(&o, "old").bytes.len(), 8000, "under the budget nothing goes");
    live.write(&[b'n'; 3000]);
    live.flush();
    assert_eq!(all(&o, "old").kept, Kept::default(), "the oldest went");
    assert!(!dir.path().join("old").exists());
    assert_eq!(all(&o, "mid").bytes.len(), 8000);
    assert_eq!(all(&o, "new").bytes.len(), 6000);
    // A session being written is never dropped for the others: "mid" goes first.
    write(&o, "other", &[b'x'; 8000]);
    assert_eq!(all(&o, "mid").kept, Kept::default());
    assert_eq!(all(&o, "new").bytes.len(), 6000);
    drop(live);
    // Removing a session's output (it was deleted) stops its writer too.
    let mut w = o.writer("gone");
    w.write(b"said");
    w.flush();
    o.remove("gone");
    w.write(b" more");
    drop(w);
    assert!(!dir.path().join("gone").exists());
    // A restart forgets output of sessions that are no longer there.
    let o = o.at(dir.path()).unwrap();
    assert_eq!(o.retain(|id| id != "other"), 1);
    assert!(!dir.path().join("other").exists() && dir.path().join("new").exists());
}

//! The Sessions pane's lists: every running session held, and a project's ended ones as
//! far back as its fetched page went (a project may have thousands; the pane shows the
//! newest, and those that end while it is open).

use super::{Cache, ListKey};
use crate::model::{Session, SessionStatus};

impl Cache {
    /// Merges a project's `PaneSessions` list, fetched when the store was at `at`:
    /// `running` (every project's), `ended` (this one's newest), `more`: older ended ones
    /// were left on the server.
    pub fn load_pane_sessions(
        &mut self,
        project_id: &str,
        running: &[Session],
        ended: &[Session],
        more: bool,
        at: u64,
    ) {
        for s in running.iter().chain(ended) {
            self.put(s, at);
        }
        let since = ended.iter().map(Session::ended_key).min().filter(|_| more);
        self.ended_since.insert(project_id.to_string(), since.map(|(t, id)| (t, id.to_string())));
        self.changes.other = true;
        self.baseline(ListKey::PaneSessions(project_id.to_string()), at);
    }

    /// The sessions the pane may list: every running one held, and the ended ones of a
    /// project whose list was fetched, if they are among the newest it sent or ended since.
    pub fn pane_sessions(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values().filter(|s| s.status == SessionStatus::Running || self.recently_ended(s))
    }

    /// Whether project `project_id` has older ended sessions than the pane was sent.
    pub fn more_ended(&self, project_id: &str) -> bool {
        matches!(self.ended_since.get(project_id), Some(Some(_)))
    }

    fn recently_ended(&self, s: &Session) -> bool {
        match self.ended_since.get(&s.project_id) {
            None => false,
            Some(None) => true,
            Some(Some((at, id))) => s.ended_key() >= (*at, id.as_str()),
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::model::{Event, EventData};

    fn session(id: &str, project: &str, ended: Option<i64>) -> Session {
        let status = if ended.is_some() { SessionStatus::Completed } else { SessionStatus::Running };
        let (id, project_id) = (id.into(), project.into());
        Session { id, project_id, status, completed_at: ended, started_at: 1, version: 1, ..Default::default() }
    }

    fn listed(c: &Cache) -> Vec<String> {
        let mut v: Vec<String> = c.pane_sessions().map(|s| s.id.clone()).collect();
        v.sort();
        v
    }

    #[test]
    fn a_project_s_ended_sessions_show_back_to_the_oldest_sent_and_those_that_end_later() {
        let mut c = Cache::default();
        // Held before the pane's list came (the ⚑ list's): one ended long ago, one elsewhere.
        c.load_session_entities(&[session("old", "p", Some(100)), session("q_old", "q", Some(900))], 1);
        assert_eq!(listed(&c), Vec::<String>::new(), "no project's list fetched yet");
        let running = [session("run", "p", None), session("q_run", "q", None)];
        c.load_pane_sessions("p", &running, &[session("e2", "p", Some(300)), session("e1", "p", Some(200))], true, 2);
        assert!(c.is_loaded(&ListKey::PaneSessions("p".into())));
        assert_eq!(listed(&c), ["e1", "e2", "q_run", "run"], "older ended ones were left on the server");
        assert!(c.more_ended("p") && !c.more_ended("q"), "the pane offers older ones of p only");
        // One that runs ends: still listed; another project's ended ones are not its list.
        let mut ended = session("run", "p", Some(400));
        ended.version = 2;
        c.apply(&Event { seq: 3, data: EventData::SessionUpdated(ended), timestamp: 0 });
        assert_eq!(listed(&c), ["e1", "e2", "q_run", "run"]);
        // All of a project's ended ones came: every one held is listed.
        c.load_pane_sessions("q", &running, &[], false, 3);
        assert_eq!(listed(&c), ["e1", "e2", "q_old", "q_run", "run"]);
        assert!(!c.more_ended("q"));
        // Asked for more of p: the older one came, and there are none older.
        let older = [session("e2", "p", Some(300)), session("e1", "p", Some(200)), session("old", "p", Some(100))];
        c.load_pane_sessions("p", &running, &older, false, 4);
        assert_eq!(listed(&c), ["e1", "e2", "old", "q_old", "q_run", "run"]);
        assert!(!c.more_ended("p"));
    }
}

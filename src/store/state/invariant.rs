//! SPEC §1's invariant, which every plan keeps (the tests check it after each step).

use super::State;
use std::collections::HashSet;

impl State {
    /// SPEC §1's invariant: links are symmetric, point at records that exist, stay inside
    /// one project, and counts match; and SPEC §8's: a workspace's task exists, in the
    /// workspace's project, and a session's workspace exists, in the session's project.
    /// Returns the first violation found.
    pub fn check_invariant(&self) -> Result<(), String> {
        for t in self.tasks.values() {
            if !self.projects.contains_key(&t.project_id) {
                return Err(format!("task {} in missing project {}", t.id, t.project_id));
            }
            if t.session_count != t.session_ids.len() {
                return Err(format!("task {} sessionCount mismatch", t.id));
            }
            if t.session_ids.iter().collect::<HashSet<_>>().len() != t.session_ids.len() {
                return Err(format!("task {} lists a session twice", t.id));
            }
            for sid in &t.session_ids {
                let Some(s) = self.sessions.get(sid) else {
                    return Err(format!("task {} links missing session {sid}", t.id));
                };
                if !s.task_ids.contains(&t.id) {
                    return Err(format!("task {} ↔ session {sid} is one-sided", t.id));
                }
            }
        }
        for s in self.sessions.values() {
            if !self.projects.contains_key(&s.project_id) {
                return Err(format!("session {} in missing project {}", s.id, s.project_id));
            }
            if s.task_ids.iter().collect::<HashSet<_>>().len() != s.task_ids.len() {
                return Err(format!("session {} lists a task twice", s.id));
            }
            for tid in &s.task_ids {
                let Some(t) = self.tasks.get(tid) else {
                    return Err(format!("session {} links missing task {tid}", s.id));
                };
                if !t.session_ids.contains(&s.id) {
                    return Err(format!("session {} ↔ task {tid} is one-sided", s.id));
                }
                if t.project_id != s.project_id {
                    return Err(format!("session {} linked to task {tid} of another project", s.id));
                }
            }
            if let Some(wid) = &s.workspace_id {
                match self.workspaces.get(wid) {
                    None => return Err(format!("session {} in missing workspace {wid}", s.id)),
                    Some(w) if w.project_id != s.project_id => {
                        return Err(format!("session {} in workspace {wid} of another project", s.id))
                    }
                    Some(_) => {}
                }
            }
        }
        for c in self.comments.values() {
            if !self.workspaces.contains_key(&c.workspace_id) {
                return Err(format!("comment {} on missing workspace {}", c.id, c.workspace_id));
            }
        }
        for w in self.workspaces.values() {
            match self.tasks.get(&w.task_id) {
                None => return Err(format!("workspace {} of missing task {}", w.id, w.task_id)),
                Some(t) if t.project_id != w.project_id => {
                    return Err(format!("workspace {} and its task {} are in different projects", w.id, t.id))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

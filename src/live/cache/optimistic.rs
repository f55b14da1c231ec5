//! A mutation shown before the server answers, confirmed by its answer or rolled back.
//!
//! An edit of an entity the cache holds ([`Cache::edit`]) stays layered over the server's
//! copies until its answer comes: every copy that arrives meanwhile (an event, the answer
//! to an earlier edit) is shown with the edits still waiting re-applied. So a card moved
//! twice in a row never jumps back to where the first move's answer says it is.

use super::{Cache, Entity, Kind};
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

/// One edit waiting for its answer, typed away so that one map holds every kind's.
type AnyEdit = Arc<dyn Fn(&mut dyn Any) + Send + Sync>;

/// The edits of one entity waiting for their answers, over the newest server copy.
#[derive(Clone)]
pub(super) struct Layer {
    /// The newest copy the server sent; `None` after a resync forgot it.
    base: Option<Arc<dyn Any + Send + Sync>>,
    /// In the order they were made, each with its token.
    edits: Vec<(u64, AnyEdit)>,
}

impl Layer {
    /// Forgets the server's copy (a resync); false when no edit is left to keep it for.
    pub(super) fn forget_base(&mut self) -> bool {
        self.base = None;
        !self.edits.is_empty()
    }

    fn over<E: Entity>(&self, mut e: E) -> E {
        for (_, edit) in &self.edits {
            edit(&mut e);
        }
        e
    }

    /// The server's copy with the edits still waiting over it; `None` after a resync.
    fn shown<E: Entity>(&self) -> Option<E> {
        Some(self.over(self.base.as_ref()?.downcast_ref::<E>()?.clone()))
    }
}

impl PartialEq for Layer {
    fn eq(&self, other: &Self) -> bool {
        let same_base = match (&self.base, &other.base) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        same_base && self.edits.iter().map(|e| e.0).eq(other.edits.iter().map(|e| e.0))
    }
}

impl std::fmt::Debug for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layer")
            .field("base", &self.base.is_some())
            .field("edits", &self.edits.iter().map(|e| e.0).collect::<Vec<_>>())
            .finish()
    }
}

/// Every entity's waiting edits.
pub(super) type Layers = HashMap<(Kind, String), Layer>;

impl Cache {
    /// True when an event deleted this entity: nothing may bring it back.
    fn deleted<E: Entity>(&self, id: &str) -> bool {
        let key = (E::KIND, id.to_string());
        !E::all(self).contains_key(id) && self.touched.contains_key(&key) && !self.hidden.contains(&key)
    }

    /// Stores a copy the server sent, with the edits still waiting on it re-applied. While
    /// a deletion waiting for Undo hides the entity, the copy is only kept under its edits
    /// (an Undo shows them over the newest copy).
    pub(super) fn take<E: Entity>(&mut self, e: E) {
        let key = (E::KIND, e.id().to_string());
        let shown = match self.pending.get_mut(&key) {
            Some(layer) => {
                // Hidden, it has no shown copy to be compared with: its base is.
                if layer.base.as_ref().and_then(|b| b.downcast_ref::<E>()).is_some_and(|b| b.version() > e.version()) {
                    return;
                }
                layer.base = Some(Arc::new(e.clone()));
                layer.over(e)
            }
            None => e,
        };
        if !self.hidden.contains(&key) {
            self.store(shown);
        }
    }

    /// A mutation's own answer: newer than (or as new as) what is cached unless an event
    /// already brought a later version, or deleted it.
    pub fn confirm<E: Entity>(&mut self, e: &E) {
        let newest = E::all(self).get(e.id()).is_none_or(|c| c.version() <= e.version());
        if !self.deleted::<E>(e.id()) && newest {
            self.take(e.clone());
        }
    }

    /// Shows an edit of `id` at once and keeps it over whatever the server sends until
    /// [`Cache::settle`] brings its answer. Returns the edit's token; `None` when `id` is
    /// not held (nothing to edit). Edits must be idempotent: one the server has made
    /// already may be applied again over its copy.
    pub fn edit<E: Entity>(&mut self, id: &str, edit: impl Fn(&mut E) + Send + Sync + 'static) -> Option<u64> {
        let held = E::all(self).get(id)?.clone();
        self.edits += 1;
        let token = self.edits;
        let mut shown = held.clone();
        edit(&mut shown);
        let layer = self
            .pending
            .entry((E::KIND, id.to_string()))
            .or_insert_with(|| Layer { base: Some(Arc::new(held)), edits: Vec::new() });
        let edit: AnyEdit = Arc::new(move |e: &mut dyn Any| {
            if let Some(e) = e.downcast_mut::<E>() {
                edit(e)
            }
        });
        layer.edits.push((token, edit));
        self.store(shown);
        Some(token)
    }

    /// The answer to edit `token` of `id`: the server's copy, or `None` for a refusal.
    /// The edit stops being re-applied; what shows is the newest server copy with the
    /// edits still waiting, so a refusal rolls back this edit alone.
    pub fn settle<E: Entity>(&mut self, id: &str, token: u64, answer: Option<&E>) {
        if let Some(e) = answer {
            self.confirm(e);
        }
        let key = (E::KIND, id.to_string());
        let Some(layer) = self.pending.get_mut(&key) else { return };
        layer.edits.retain(|e| e.0 != token);
        let shown = layer.shown::<E>();
        // A deletion waiting for Undo keeps the server's copy for it.
        if layer.edits.is_empty() && !self.hidden.contains(&key) {
            self.pending.remove(&key);
        }
        // Shown again only if still shown: not while a deletion hides it, nor once deleted.
        if let Some(shown) = shown.filter(|_| E::all(self).contains_key(id)) {
            self.store(shown);
        }
    }

    /// Optimistic creation (or a change not made through [`Cache::edit`]): shows `e` at
    /// once and returns what to restore if the server refuses. The server's own copy
    /// (same or higher version) replaces it.
    pub fn optimistic<E: Entity>(&mut self, e: E) -> Option<E> {
        self.store(e)
    }

    /// Optimistic delete: hides the entity at once (copies that come meanwhile do not show
    /// it); returns it for a rollback.
    pub fn optimistic_remove<E: Entity>(&mut self, id: &str) -> Option<E> {
        let old = self.unstore::<E>(id);
        if let Some(o) = &old {
            let key = (E::KIND, id.to_string());
            self.hidden.insert(key.clone());
            // Copies that come meanwhile are kept under it, for an Undo to show the newest.
            let base = Some(Arc::new(o.clone()) as Arc<dyn Any + Send + Sync>);
            self.pending.entry(key).or_insert_with(|| Layer { base, edits: Vec::new() });
        }
        old
    }

    /// The server says `id` does not exist (deleted elsewhere, its event not here yet):
    /// it goes, and no rollback or late copy brings it back.
    pub fn forget<E: Entity>(&mut self, id: &str) {
        let at = self.seq;
        self.gone::<E>(id, at);
    }

    /// Undoes an optimistic change of `id` (`previous` as the change returned it: `None`
    /// for a creation), unless a newer server copy or a deletion arrived meanwhile.
    pub fn rollback<E: Entity>(&mut self, id: &str, previous: Option<E>) {
        match previous {
            Some(p) => {
                // Hidden by an optimistic delete, and not deleted by an event since: it comes back.
                let key = (E::KIND, id.to_string());
                let hidden = self.hidden.remove(&key);
                if (hidden || !self.deleted::<E>(id)) && E::all(self).get(id).is_none_or(|c| c.version() <= p.version())
                {
                    // As the server has it now, with the edits still waiting.
                    let layer = self.pending.get(&key);
                    let (shown, done) = (layer.and_then(Layer::shown::<E>), layer.is_some_and(|l| l.edits.is_empty()));
                    if shown.is_some() && done {
                        self.pending.remove(&key);
                    }
                    self.store(shown.unwrap_or(p));
                }
            }
            None => {
                self.unstore::<E>(id);
            }
        }
    }
}

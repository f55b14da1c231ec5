//! A mutation shown before the server answers, confirmed by its answer or rolled back.

use super::{Cache, Entity};

impl Cache {
    /// True when an event deleted this entity: nothing may bring it back.
    fn deleted<E: Entity>(&self, id: &str) -> bool {
        !E::all(self).contains_key(id) && self.touched.contains_key(&(E::KIND, id.to_string()))
    }

    /// A mutation's own answer: newer than (or as new as) what is cached unless an event
    /// already brought a later version, or deleted it.
    pub fn confirm<E: Entity>(&mut self, e: &E) {
        let hidden = self.hidden.contains(&(E::KIND, e.id().to_string()));
        let newest = E::all(self).get(e.id()).is_none_or(|c| c.version() <= e.version());
        if !hidden && !self.deleted::<E>(e.id()) && newest {
            self.store(e.clone());
        }
    }

    /// Optimistic edit or creation: shows `e` at once and returns what to restore if the
    /// server refuses. The server's own copy (same or higher version) replaces it.
    pub fn optimistic<E: Entity>(&mut self, e: E) -> Option<E> {
        self.store(e)
    }

    /// Optimistic delete: hides the entity at once (copies that come meanwhile do not show
    /// it); returns it for a rollback.
    pub fn optimistic_remove<E: Entity>(&mut self, id: &str) -> Option<E> {
        let old = self.unstore(id);
        if old.is_some() {
            self.hidden.insert((E::KIND, id.to_string()));
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
                let hidden = self.hidden.remove(&(E::KIND, id.to_string()));
                if (hidden || !self.deleted::<E>(id)) && E::all(self).get(id).is_none_or(|c| c.version() <= p.version())
                {
                    self.store(p);
                }
            }
            None => {
                self.unstore::<E>(id);
            }
        }
    }
}

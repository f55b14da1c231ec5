//! One byte budget for the input every terminal socket holds (read from its browser, not
//! yet taken by its program): each socket has its own bound too, but forty of them could
//! otherwise hold forty times it. A socket that cannot get budget for what it read stops
//! reading (backpressure) until other sockets' programs take theirs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The bytes all sockets may hold, shared (cheap to clone).
#[derive(Clone)]
pub(super) struct InputBudget {
    bytes: Arc<Semaphore>,
    total: usize,
}

/// A socket waiting for budget.
pub(super) type Waiting = Pin<Box<dyn Future<Output = Option<OwnedSemaphorePermit>> + Send>>;

/// The bytes one socket holds of the budget: given back as its input leaves, and all of
/// them when it is dropped (the socket closed).
pub(super) struct Held {
    bytes: Arc<Semaphore>,
    held: usize,
}

impl InputBudget {
    pub(super) fn new(total: usize) -> InputBudget {
        // A semaphore counts at most u32::MAX permits per acquire; one per byte.
        let total = total.min(u32::MAX as usize);
        InputBudget { bytes: Arc::new(Semaphore::new(total)), total }
    }

    /// An empty share, for one socket.
    pub(super) fn share(&self) -> Held {
        Held { bytes: self.bytes.clone(), held: 0 }
    }

    /// Bytes no socket holds.
    #[cfg(test)]
    pub(super) fn available(&self) -> usize {
        self.bytes.available_permits()
    }

    /// What `n` bytes cost: never more than the whole budget, so that one message larger
    /// than it waits for every other socket rather than for ever.
    fn cost(&self, n: usize) -> u32 {
        n.min(self.total) as u32
    }

    /// Waits until `n` bytes are free and takes them (add them to a share with
    /// [`Held::add`]). Waiters are served in turn, so keep the one future until it is
    /// ready; dropped, it takes nothing.
    pub(super) fn take(&self, n: usize) -> Waiting {
        let wait = self.bytes.clone().acquire_many_owned(self.cost(n));
        Box::pin(async move { wait.await.ok() })
    }
}

impl Held {
    /// Takes `n` bytes now if they are free.
    pub(super) fn try_take(&mut self, budget: &InputBudget, n: usize) -> bool {
        match self.bytes.clone().try_acquire_many_owned(budget.cost(n)) {
            Ok(permit) => {
                self.add(permit);
                true
            }
            Err(_) => false,
        }
    }

    /// Adds bytes [`InputBudget::take`] waited for.
    pub(super) fn add(&mut self, permit: OwnedSemaphorePermit) {
        self.held += permit.num_permits();
        permit.forget();
    }

    /// Gives back `n` bytes (as much as is held).
    pub(super) fn give_back(&mut self, n: usize) {
        let n = n.min(self.held);
        self.held -= n;
        self.bytes.add_permits(n);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.bytes.add_permits(self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shares draw on one budget; what one holds another cannot take until it is given
    /// back (bit by bit, or all at once when a socket closes); a waiter gets its bytes
    /// as soon as they are free, and a message bigger than the budget still gets through.
    #[test]
    fn shares_draw_on_one_budget_and_give_back() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let budget = InputBudget::new(100);
            let (mut a, mut b) = (budget.share(), budget.share());
            assert!(a.try_take(&budget, 60));
            assert!(!b.try_take(&budget, 50), "only 40 bytes are free");
            assert!(b.try_take(&budget, 40));
            assert_eq!(budget.available(), 0);
            // b waits for 30 more; a hands 20 of its bytes to its program: not enough yet.
            let mut waiting = std::pin::pin!(budget.take(30));
            assert!(futures::poll!(&mut waiting).is_pending());
            a.give_back(20);
            assert!(futures::poll!(&mut waiting).is_pending());
            a.give_back(10);
            let std::task::Poll::Ready(Some(permit)) = futures::poll!(&mut waiting) else { panic!("not granted") };
            b.add(permit);
            assert_eq!(budget.available(), 0);
            // A socket that closes gives back all it held; giving back more than held is a no-op.
            drop(b);
            assert_eq!(budget.available(), 70);
            a.give_back(1000);
            assert_eq!(budget.available(), 100);
            // Bigger than the whole budget: costs all of it, and waits for nothing else.
            let mut c = budget.share();
            assert!(c.try_take(&budget, 1 << 20));
            assert_eq!(budget.available(), 0);
            drop(c);
            assert_eq!(budget.available(), 100);
        });
    }
}

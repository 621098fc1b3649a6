//! [`Admission`]: at most `limit` holders at once, admitted strictly in the
//! order their tickets were taken, so a [`TaskGroup`](super::TaskGroup)
//! under a limit starts its tasks in spawn order, as Go's errgroup does.
//!
//! A semaphore would admit tasks in the order they first run, which the
//! scheduler decides (a new task goes to `runnext`, LIFO): 0, 1, 2, 3, 5,
//! 7, ... Here a ticket is taken in `spawn`, on the spawning thread, and
//! only the waiter holding the next ticket is woken when a slot frees: no
//! thundering herd, O(log n) per admission.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Admission in ticket order under a limit.
#[derive(Debug)]
pub(crate) struct Admission {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    limit: usize,
    running: usize,
    /// The next ticket to hand out.
    issued: u64,
    /// The next ticket to admit.
    next: u64,
    /// Tickets whose holder gave up before admission (dropped unadmitted):
    /// skipped when `next` reaches them.
    abandoned: BTreeSet<u64>,
    /// Wakers of the waiting holders, by ticket.
    waiting: BTreeMap<u64, Waker>,
}

impl State {
    /// Moves `next` past abandoned tickets and wakes its holder if a slot
    /// is free.
    fn advance(&mut self) {
        while self.abandoned.remove(&self.next) {
            self.next += 1;
        }
        if self.running < self.limit {
            if let Some(w) = self.waiting.remove(&self.next) {
                w.wake();
            }
        }
    }
}

impl Admission {
    pub(crate) fn new(limit: usize) -> Admission {
        Admission {
            state: Mutex::new(State {
                limit,
                running: 0,
                issued: 0,
                next: 0,
                abandoned: BTreeSet::new(),
                waiting: BTreeMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        goro_lock::lock(&self.state)
    }

    /// Takes the next place in line. Admission is by [`Ticket::admit`].
    pub(crate) fn ticket(self: &Arc<Self>) -> Ticket {
        let mut st = self.lock();
        let n = st.issued;
        st.issued += 1;
        Ticket {
            admission: self.clone(),
            n,
            admitted: false,
        }
    }
}

/// A place in line; dropping it unadmitted gives the place up.
#[derive(Debug)]
pub(crate) struct Ticket {
    admission: Arc<Admission>,
    n: u64,
    admitted: bool,
}

impl Ticket {
    /// Waits for this ticket's turn and a free slot; the returned [`Slot`]
    /// holds the slot until dropped.
    pub(crate) fn admit(self) -> Admit {
        Admit { ticket: Some(self) }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.admitted {
            return;
        }
        let mut st = self.admission.lock();
        st.waiting.remove(&self.n);
        if self.n >= st.next {
            st.abandoned.insert(self.n);
            st.advance();
        }
    }
}

/// The future of [`Ticket::admit`].
#[derive(Debug)]
pub(crate) struct Admit {
    ticket: Option<Ticket>,
}

impl Future for Admit {
    type Output = Slot;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Slot> {
        let ticket = self.ticket.as_mut().expect("Admit polled after Ready");
        let admission = ticket.admission.clone();
        let mut st = admission.lock();
        if st.next == ticket.n && st.running < st.limit {
            st.next += 1;
            st.running += 1;
            ticket.admitted = true;
            st.waiting.remove(&ticket.n);
            // The next in line may fit too.
            st.advance();
            drop(st);
            self.ticket = None;
            return Poll::Ready(Slot { admission });
        }
        st.waiting.insert(ticket.n, cx.waker().clone());
        Poll::Pending
    }
}

/// A slot held while a task runs.
#[derive(Debug)]
pub(crate) struct Slot {
    admission: Arc<Admission>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut st = self.admission.lock();
        st.running -= 1;
        st.advance();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(f: &mut Admit) -> Poll<Slot> {
        Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn admits_in_ticket_order_up_to_the_limit() {
        let a = Arc::new(Admission::new(2));
        let mut t: Vec<Admit> = (0..4).map(|_| a.ticket().admit()).collect();
        assert!(poll(&mut t[1]).is_pending(), "ticket 1 before ticket 0");
        let s0 = match poll(&mut t[0]) {
            Poll::Ready(s) => s,
            Poll::Pending => panic!("ticket 0 not admitted"),
        };
        let _s1 = match poll(&mut t[1]) {
            Poll::Ready(s) => s,
            Poll::Pending => panic!("ticket 1 not admitted"),
        };
        assert!(poll(&mut t[2]).is_pending(), "over the limit");
        drop(s0);
        assert!(poll(&mut t[3]).is_pending(), "ticket 3 before ticket 2");
        assert!(poll(&mut t[2]).is_ready(), "a slot freed for ticket 2");
    }

    #[test]
    fn an_abandoned_ticket_is_skipped() {
        let a = Arc::new(Admission::new(1));
        let t0 = a.ticket();
        let mut t1 = a.ticket().admit();
        assert!(poll(&mut t1).is_pending());
        drop(t0);
        assert!(
            poll(&mut t1).is_ready(),
            "ticket 1 waits for a dropped ticket 0"
        );
    }
}

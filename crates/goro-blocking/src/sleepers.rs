//! The idle threads' beds: a stack of parked threads, each with a small
//! state machine that settles the race between a waker and a timeout.
//!
//! Each sleep registers a fresh [`Sleeper`] in state `WAITING`. Exactly one
//! transition out of `WAITING` wins:
//! - a submitter's `WAITING → NOTIFIED` (the thread wakes as the searcher),
//! - the pool's shutdown, `WAITING → SHUTDOWN`,
//! - the thread's own `WAITING → GONE` (it saw work before parking, or its
//!   keep-alive ran out).
//!
//! So a wakeup is never spent on a thread that already left: a waker that
//! loses the race pops the next sleeper. The stack is LIFO so that the most
//! recently idle thread is woken first and the others reach their keep-alive
//! and exit: the pool shrinks after a burst even under a trickle of work.
//!
//! The mutex is taken to sleep, to wake a sleeper, and to leave; never by a
//! submission that finds a thread searching or none idle.

use std::sync::atomic::Ordering::{Acquire, SeqCst};
use std::sync::atomic::{AtomicU8, AtomicUsize, fence};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crate::shared::Shared;

const WAITING: u8 = 0;
const NOTIFIED: u8 = 1;
const SHUTDOWN: u8 = 2;
const GONE: u8 = 3;

struct Sleeper {
    thread: Thread,
    state: AtomicU8,
}

/// How a sleep ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// A submitter woke this thread and handed it the searching token.
    Notified,
    /// Work (or shutdown) was seen before parking; the sleep was cancelled.
    Cancelled,
    /// The pool is shutting down.
    Shutdown,
    /// The keep-alive ran out with no work.
    TimedOut,
}

pub(crate) struct Sleepers {
    stack: Mutex<Vec<Arc<Sleeper>>>,
    /// `stack.len()`, readable without the lock; changed only under it.
    count: AtomicUsize,
}

impl Sleepers {
    pub(crate) fn new() -> Self {
        Sleepers {
            stack: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.count.load(SeqCst)
    }

    fn stack(&self) -> MutexGuard<'_, Vec<Arc<Sleeper>>> {
        goro_lock::lock(&self.stack)
    }

    /// Wakes the most recently parked thread that is still waiting.
    /// Returns false when there is none.
    pub(crate) fn wake_one(&self) -> bool {
        let mut stack = self.stack();
        while let Some(s) = stack.pop() {
            self.count.fetch_sub(1, SeqCst);
            if s.state
                .compare_exchange(WAITING, NOTIFIED, SeqCst, SeqCst)
                .is_ok()
            {
                drop(stack);
                s.thread.unpark();
                return true;
            }
        }
        false
    }

    /// Wakes every sleeper for shutdown.
    pub(crate) fn wake_all(&self) {
        let all: Vec<_> = {
            let mut stack = self.stack();
            self.count.fetch_sub(stack.len(), SeqCst);
            stack.drain(..).collect()
        };
        for s in all {
            if s.state
                .compare_exchange(WAITING, SHUTDOWN, SeqCst, SeqCst)
                .is_ok()
            {
                s.thread.unpark();
            }
        }
    }

    fn remove(&self, me: &Arc<Sleeper>) {
        let mut stack = self.stack();
        if let Some(i) = stack.iter().position(|s| Arc::ptr_eq(s, me)) {
            stack.remove(i); // keep the LIFO order of the others
            self.count.fetch_sub(1, SeqCst);
        }
    }

    /// Parks the calling thread until it is woken, work shows up before it
    /// parks, or `keep_alive` passes.
    pub(crate) fn sleep(&self, shared: &Shared, keep_alive: Duration) -> Wake {
        let me = Arc::new(Sleeper {
            thread: thread::current(),
            state: AtomicU8::new(WAITING),
        });
        {
            let mut stack = self.stack();
            stack.push(Arc::clone(&me));
            self.count.fetch_add(1, SeqCst);
        }
        // Pairs with the fence in `Shared::notify` (and `Pool::drop`): a job
        // pushed before it is seen here, or this sleeper is seen there.
        fence(SeqCst);
        if !shared.queue.is_empty() || shared.shutdown.load(SeqCst) {
            return self.leave(&me, Wake::Cancelled);
        }
        let deadline = Instant::now() + keep_alive;
        loop {
            match me.state.load(Acquire) {
                NOTIFIED => return Wake::Notified,
                SHUTDOWN => return Wake::Shutdown,
                _ => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return self.leave(&me, Wake::TimedOut);
            }
            // Spurious returns and stale unpark tokens just loop.
            thread::park_timeout(deadline - now);
        }
    }

    /// Takes `me` out of the stack with `WAITING → GONE`, or reports the
    /// wakeup that beat us to it.
    fn leave(&self, me: &Arc<Sleeper>, why: Wake) -> Wake {
        match me.state.compare_exchange(WAITING, GONE, SeqCst, SeqCst) {
            Ok(_) => {
                self.remove(me);
                why
            }
            Err(NOTIFIED) => Wake::Notified,
            Err(_) => Wake::Shutdown,
        }
    }
}

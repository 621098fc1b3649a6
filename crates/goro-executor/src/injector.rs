//! The global run queue (Go's `sched.runq`): tasks woken or spawned from
//! outside any worker, and a full ring's overflow. Lock-free
//! (`concurrent-queue`), and not guarded by the sleeper list's lock.

use concurrent_queue::ConcurrentQueue;

use crate::task::Runnable;

/// Most tasks a worker moves from the global queue to its ring at once (Go).
pub(crate) const MAX_BATCH: usize = 128;

pub(crate) struct Injector {
    queue: ConcurrentQueue<Runnable>,
}

impl Injector {
    pub(crate) fn new() -> Self {
        Injector {
            queue: ConcurrentQueue::unbounded(),
        }
    }

    // Out of line, each the only caller of `ConcurrentQueue`'s generic
    // `push`/`pop`, so that those inline here: called from several places
    // they were sometimes left as calls of their own (a flavor dispatch
    // and a frame, about 24 instructions each, by callgrind).
    #[inline(never)]
    pub(crate) fn push(&self, task: Runnable) {
        // An unbounded queue refuses a push only once closed, and this one
        // is never closed.
        if let Err(e) = self.queue.push(task) {
            drop(e.into_inner());
        }
    }

    #[inline(never)]
    pub(crate) fn pop(&self) -> Option<Runnable> {
        self.queue.pop().ok()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Go's `globrunqget` batch size: a fair share for one of `workers`
    /// workers, at most [`MAX_BATCH`] and at most `room`.
    pub(crate) fn batch_size(&self, workers: usize, room: usize) -> usize {
        let len = self.len();
        if len == 0 {
            return 0;
        }
        (len / workers + 1).min(MAX_BATCH).min(room).min(len)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn batch_size_is_a_fair_share_capped_at_128() {
        let inj = Injector::new();
        assert_eq!(inj.batch_size(2, 256), 0);
        let schedule = |r: Runnable| drop(r);
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let meta =
                    crate::task::TaskMeta::new(std::panic::Location::caller(), None, false, 0);
                async_task::Builder::new()
                    .metadata(meta)
                    .spawn(|_| async {}, schedule)
            })
            .collect();
        for (r, t) in tasks {
            t.detach();
            inj.push(r);
        }
        assert_eq!(inj.batch_size(2, 256), 128);
        assert_eq!(inj.batch_size(16, 256), 1000 / 16 + 1);
        assert_eq!(inj.batch_size(2, 10), 10);
        while inj.pop().is_some() {}
        assert!(inj.is_empty());
    }
}

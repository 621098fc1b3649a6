//! `Stream` for [`Unblock`] over an `Iterator`: a pool job drives the
//! iterator and passes items through a small channel as they are produced,
//! so a slow iterator's first item is not held back waiting for a batch. The
//! job stops when the channel holds `capacity` items or the iterator ends,
//! and a later poll starts it again.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker, ready};

use futures_lite::Stream;

use crate::unblock::Unblock;

struct Channel<I> {
    state: Mutex<State<I>>,
}

struct State<I> {
    items: VecDeque<I>,
    ended: bool,
    /// The consumer, to wake when an item arrives or the iterator ends.
    waker: Option<Waker>,
}

impl<I> Channel<I> {
    fn lock(&self) -> MutexGuard<'_, State<I>> {
        goro_lock::lock(&self.state)
    }
}

/// Runs on the pool: pulls items until the channel is full or the iterator
/// ends.
fn produce<It: Iterator>(it: &mut It, ch: &Channel<It::Item>, cap: usize) {
    loop {
        let next = it.next();
        let mut st = ch.lock();
        let stop = match next {
            Some(item) => {
                st.items.push_back(item);
                st.items.len() >= cap
            }
            None => {
                st.ended = true;
                true
            }
        };
        let waker = st.waker.take();
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
        if stop {
            return;
        }
    }
}

impl<T> Unblock<T>
where
    T: Iterator + Send + 'static,
    T::Item: Send + 'static,
{
    fn channel(&mut self) -> Arc<Channel<T::Item>> {
        let any = self.items.get_or_insert_with(|| {
            Arc::new(Channel::<T::Item> {
                state: Mutex::new(State {
                    items: VecDeque::new(),
                    ended: false,
                    waker: None,
                }),
            })
        });
        match Arc::clone(any).downcast::<Channel<T::Item>>() {
            Ok(ch) => ch,
            Err(_) => unreachable!("an Unblock's item channel has its iterator's item type"),
        }
    }
}

impl<T> Stream for Unblock<T>
where
    T: Iterator + Send + 'static,
    T::Item: Send + 'static,
{
    type Item = T::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T::Item>> {
        let this = &mut *self;
        let ch = this.channel();
        loop {
            {
                let mut st = ch.lock();
                if let Some(item) = st.items.pop_front() {
                    return Poll::Ready(Some(item));
                }
                if st.ended {
                    return Poll::Ready(None);
                }
                st.waker = Some(cx.waker().clone());
            }
            if this.is_busy() {
                // Wakes us when the job ends; the channel wakes us per item.
                ready!(this.poll_idle(cx));
                continue;
            }
            let cap = this.capacity();
            let producer = Arc::clone(&ch);
            this.spawn_job(move |s| produce(&mut s.io, &producer, cap));
        }
    }
}

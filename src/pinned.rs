//! Tasks pinned to one dedicated OS thread, Go's `runtime.LockOSThread`:
//! [`spawn_pinned`] and [`LockedThread`].
//!
//! Some libraries must be called from one thread only (OpenGL contexts, GUI
//! toolkits, some C libraries with thread-local state), and some values are
//! `!Send` (`Rc`, `RefCell`, raw handles). A pinned task runs on a thread of
//! its own that no ordinary task uses, driven by a small single-thread
//! executor ([`async_task::spawn_local`]), so its future need not be `Send`:
//! you pass a `Send` closure that builds the future *on* that thread.
//!
//! | Go | goro |
//! |---|---|
//! | `go func() { runtime.LockOSThread(); f() }()` | [`spawn_pinned(f)`](spawn_pinned) |
//! | a goroutine that owns a locked thread and serves requests | [`LockedThread`] |
//! | the goroutine exits while locked: Go destroys the thread | the thread exits after its last task, once no `LockedThread` handle is left |
//!
//! Pinned tasks can await anything (channels, [`goro::go`](crate::go)
//! handles, other pinned tasks) and be awaited from anywhere. They are not
//! counted in [`Handle::num_tasks`](crate::Handle::num_tasks), and
//! [`goro::go`](crate::go) called from a pinned task spawns onto the global
//! runtime, not onto the pinned thread.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread;

use goro_lock::lock;

use async_task::{FallibleTask, Runnable, Task};

/// Runs `make()`'s future on a new OS thread of its own, like a goroutine
/// that calls `runtime.LockOSThread` and never unlocks. No other task runs
/// on that thread, and it exits when the future ends.
///
/// `make` runs on the new thread, so the future it returns need not be
/// `Send`; only `make` and the output must be.
///
/// # Panics
/// When the OS refuses to start a thread.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// let h = goro::spawn_pinned(|| async {
///     let not_send = Rc::new(41); // fine: this future never moves
///     goro::yield_now().await;
///     *not_send + 1
/// });
/// assert_eq!(goro::block_on(h).unwrap(), 42);
/// ```
#[track_caller]
pub fn spawn_pinned<F, Fut>(make: F) -> PinnedHandle<Fut::Output>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future + 'static,
    Fut::Output: Send + 'static,
{
    match LockedThread::new() {
        // The handle drops here: the thread ends with this task.
        Ok(t) => t.spawn(make),
        Err(e) => panic!("goro: cannot start a locked thread: {e}"),
    }
}

/// A dedicated OS thread that runs only the pinned tasks spawned through
/// it: a thread-affine executor for `!Send` futures and thread-bound
/// libraries (Go's `runtime.LockOSThread`).
///
/// Clones share the thread. The thread exits once every handle is dropped
/// and its last task has ended, as Go destroys a locked thread whose
/// goroutine exits.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
///
/// thread_local! {
///     // Stands for a C library's per-thread state.
///     static CALLS: RefCell<u32> = const { RefCell::new(0) };
/// }
///
/// let t = goro::LockedThread::new().unwrap();
/// let handles: Vec<_> = (0..3)
///     .map(|_| t.spawn(|| async { CALLS.with(|c| { *c.borrow_mut() += 1; *c.borrow() }) }))
///     .collect();
/// let mut seen: Vec<u32> = handles.into_iter().map(|h| goro::block_on(h).unwrap()).collect();
/// seen.sort();
/// assert_eq!(seen, [1, 2, 3]); // all three ran on the same thread
/// ```
#[derive(Clone)]
pub struct LockedThread {
    shared: Arc<Shared>,
}

/// Owned by the `LockedThread` handles; its drop tells the thread that no
/// more tasks will come.
struct Shared {
    tx: mpsc::Sender<Msg>,
    thread: thread::Thread,
}

/// Creates a task on the locked thread, given the thread's queue.
type SpawnFn = Box<dyn FnOnce(&mpsc::Sender<Msg>) + Send>;

enum Msg {
    /// Spawn a task: runs on the locked thread.
    Spawn(SpawnFn),
    /// Poll a task.
    Run(Runnable),
    /// The last handle is gone.
    Closed,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Closed);
    }
}

thread_local! {
    /// Tasks alive on this locked thread.
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

/// Counts one live task on the locked thread; lives inside the task's
/// future, so it is dropped when the future completes or is dropped.
struct Live;

impl Live {
    fn enter() -> Live {
        LIVE.with(|n| n.set(n.get() + 1));
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.with(|n| n.set(n.get() - 1));
    }
}

fn run_locked_thread(rx: mpsc::Receiver<Msg>, tx: mpsc::Sender<Msg>) {
    let mut open = true;
    while open || LIVE.with(Cell::get) > 0 {
        match rx.recv() {
            Ok(Msg::Spawn(spawn)) => spawn(&tx),
            Ok(Msg::Run(runnable)) => {
                runnable.run();
            }
            Ok(Msg::Closed) => open = false,
            // Unreachable: this thread holds a sender itself.
            Err(_) => break,
        }
    }
}

impl LockedThread {
    /// Starts a locked thread, named `goro-locked-N`.
    ///
    /// # Errors
    /// When the OS refuses to start a thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = goro::LockedThread::new().unwrap();
    /// assert!(t.thread().name().unwrap().starts_with("goro-locked-"));
    /// ```
    pub fn new() -> io::Result<LockedThread> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let (tx, rx) = mpsc::channel();
        let thread_tx = tx.clone();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let join = thread::Builder::new()
            .name(format!("goro-locked-{n}"))
            .spawn(move || run_locked_thread(rx, thread_tx))?;
        Ok(LockedThread {
            shared: Arc::new(Shared {
                tx,
                thread: join.thread().clone(),
            }),
        })
    }

    /// The OS thread this handle's tasks run on.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = goro::LockedThread::new().unwrap();
    /// let id = t.thread().id();
    /// let ran_on = goro::block_on(t.spawn(|| async { std::thread::current().id() })).unwrap();
    /// assert_eq!(ran_on, id);
    /// ```
    pub fn thread(&self) -> &thread::Thread {
        &self.shared.thread
    }

    /// Spawns a task on this thread: `make` runs there and builds the
    /// future, which is polled only there. Awaiting the returned handle gives
    /// the output; dropping it detaches the task.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = goro::LockedThread::new().unwrap();
    /// let h = t.spawn(|| async { std::rc::Rc::new(5) == std::rc::Rc::new(5) });
    /// assert!(goro::block_on(h).unwrap());
    /// ```
    pub fn spawn<F, Fut>(&self, make: F) -> PinnedHandle<Fut::Output>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        // The task is created on the locked thread (`spawn_local` ties it to
        // the creating thread) and its `Task` handed back through `slot`.
        let slot = Arc::new(Mutex::new(Slot {
            task: None,
            handle_gone: false,
            waker: None,
        }));
        let thread_slot = slot.clone();
        let spawn = move |tx: &mpsc::Sender<Msg>| {
            let live = Live::enter();
            let future = async move {
                let _live = live;
                make().await
            };
            let tx = tx.clone();
            let schedule = move |r| {
                // Fails only once the thread has exited, which it does only
                // when no task is left to schedule.
                let _ = tx.send(Msg::Run(r));
            };
            let (runnable, task): (Runnable, Task<Fut::Output>) = async_task::Builder::new()
                .propagate_panic(true)
                .spawn_local(move |()| future, schedule);
            runnable.schedule();
            let mut slot = lock(&thread_slot);
            if slot.handle_gone {
                // The handle was dropped first: detach, as dropping it would.
                drop(slot);
                task.detach();
            } else {
                slot.task = Some(task);
                let waker = slot.waker.take();
                drop(slot);
                if let Some(w) = waker {
                    w.wake();
                }
            }
        };
        if let Err(mpsc::SendError(msg)) = self.shared.tx.send(Msg::Spawn(Box::new(spawn))) {
            // Unreachable while a handle exists: the thread waits for `Closed`.
            drop(msg);
        }
        PinnedHandle {
            state: State::Starting(slot),
        }
    }
}

impl fmt::Debug for LockedThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockedThread")
            .field("thread", &self.shared.thread.name())
            .finish()
    }
}

/// The handle of a pinned task ([`spawn_pinned`], [`LockedThread::spawn`]):
/// await it for the output. Dropping it detaches the task, which runs on.
///
/// # Examples
///
/// ```
/// let h = goro::spawn_pinned(|| async { panic!("boom") });
/// let err = goro::block_on(h).unwrap_err();
/// assert_eq!(err.panic_message(), Some("boom"));
/// ```
#[must_use = "dropping a PinnedHandle detaches the task; await it for the output"]
pub struct PinnedHandle<T> {
    state: State<T>,
}

/// Where the locked thread leaves a new task's `Task` for its handle.
struct Slot<T> {
    task: Option<Task<T>>,
    handle_gone: bool,
    waker: Option<Waker>,
}

enum State<T> {
    /// The locked thread has not created the task yet.
    Starting(Arc<Mutex<Slot<T>>>),
    Running(FallibleTask<T>),
    Done,
}

impl<T> Future for PinnedHandle<T> {
    type Output = Result<T, PinnedError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match &mut self.state {
                State::Starting(slot) => {
                    let mut slot = lock(slot);
                    match slot.task.take() {
                        Some(task) => {
                            drop(slot);
                            self.state = State::Running(task.fallible());
                        }
                        None => {
                            slot.waker = Some(cx.waker().clone());
                            return Poll::Pending;
                        }
                    }
                }
                State::Running(task) => {
                    let polled = catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *task).poll(cx)));
                    let out = match polled {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(Some(v))) => Ok(v),
                        Ok(Poll::Ready(None)) => Err(PinnedError::Cancelled),
                        Err(payload) => Err(PinnedError::Panic(payload)),
                    };
                    self.state = State::Done;
                    return Poll::Ready(out);
                }
                State::Done => panic!("PinnedHandle polled after it returned the task's result"),
            }
        }
    }
}

impl<T> Drop for PinnedHandle<T> {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Starting(slot) => {
                // From now on the thread detaches the task itself; a task
                // already handed over is detached here.
                let mut slot = lock(&slot);
                slot.handle_gone = true;
                if let Some(task) = slot.task.take() {
                    drop(slot);
                    task.detach();
                }
            }
            State::Running(task) => task.detach(),
            State::Done => {}
        }
    }
}

impl<T> fmt::Debug for PinnedHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Starting(_) => "starting",
            State::Running(_) => "running",
            State::Done => "done",
        };
        f.debug_struct("PinnedHandle")
            .field("state", &state)
            .finish()
    }
}

/// Why a [`PinnedHandle`] gave no output.
///
/// # Examples
///
/// ```
/// let err = goro::block_on(goro::spawn_pinned(|| async { panic!("no") })).unwrap_err();
/// assert!(err.is_panic());
/// ```
#[non_exhaustive]
pub enum PinnedError {
    /// The task panicked; the payload, to `resume_unwind` it.
    Panic(Box<dyn Any + Send + 'static>),
    /// The task was dropped before it finished.
    Cancelled,
}

impl PinnedError {
    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, PinnedError::Panic(_))
    }

    /// The task was dropped before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, PinnedError::Cancelled)
    }

    /// The panic message, when the payload is a string.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            PinnedError::Panic(p) => p
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            PinnedError::Cancelled => None,
        }
    }
}

impl fmt::Display for PinnedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.panic_message()) {
            (PinnedError::Panic(_), Some(m)) => write!(f, "pinned task panicked: {m}"),
            (PinnedError::Panic(_), None) => write!(f, "pinned task panicked"),
            (PinnedError::Cancelled, _) => write!(f, "pinned task was cancelled"),
        }
    }
}

impl fmt::Debug for PinnedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for PinnedError {}

//! [`JoinHandle`], the handle to a spawned task, and [`JoinError`].

use async_task::FallibleTask;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use crate::task::{TaskId, TaskMeta};

/// An owned permission to await a task's output, like a goroutine you can
/// wait for.
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] if the task panicked
/// or was cancelled ([`JoinHandle::abort`], or its runtime shut down first).
/// Dropping the handle *detaches* the task: it keeps running, fire-and-forget
/// like `go f()`. A detached task that panics is reported on stderr with its
/// spawn location.
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let handle = goro::spawn(async { 6 * 7 });
///     handle.await
/// });
/// assert_eq!(answer.unwrap(), 42);
/// ```
pub struct JoinHandle<T> {
    /// Dropped by hand, with `detach`: dropping a `FallibleTask` cancels.
    task: ManuallyDrop<FallibleTask<Option<T>, TaskMeta>>,
    /// Points into the task's header; see [`JoinHandle::meta`].
    meta: MetaRef,
    /// The output has been taken.
    done: bool,
}

struct MetaRef(NonNull<TaskMeta>);

// SAFETY: `TaskMeta` is `Sync` (atomics and shared references only), so a
// pointer to it may move between and be shared across threads.
unsafe impl Send for MetaRef {}
// SAFETY: as above.
unsafe impl Sync for MetaRef {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: async_task::Task<Option<T>, TaskMeta>) -> Self {
        let meta = MetaRef(NonNull::from(task.metadata()));
        JoinHandle {
            task: ManuallyDrop::new(task.fallible()),
            meta,
            done: false,
        }
    }

    fn meta(&self) -> &TaskMeta {
        // SAFETY: the task's header, metadata included, is freed only after
        // its last `Runnable`, `Waker` and `Task` are gone, and this handle
        // keeps the task's `FallibleTask` for as long as it lives.
        unsafe { self.meta.0.as_ref() }
    }

    /// The task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::new().unwrap();
    /// let h = rt.spawn(async {});
    /// println!("spawned task {}", h.id());
    /// ```
    pub fn id(&self) -> TaskId {
        self.meta().id()
    }

    /// Where the task was spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::new().unwrap();
    /// let h = rt.spawn(async {});
    /// assert!(h.location().file().ends_with(".rs"));
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.meta().location()
    }

    /// Whether the task has finished: completed, panicked or been cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::new().unwrap();
    /// let h = rt.spawn(std::future::pending::<()>());
    /// assert!(!h.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.done || self.meta().is_finished()
    }

    /// Cancels the task: the next time it is scheduled its future is dropped
    /// instead of polled. Awaiting the handle afterwards yields
    /// [`JoinError::is_cancelled`], or the output if the task had already
    /// completed. Aborting a finished task does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::new().unwrap();
    /// let h = rt.spawn(std::future::pending::<()>());
    /// h.abort();
    /// let err = rt.block_on(h).unwrap_err();
    /// assert!(err.is_cancelled());
    /// ```
    pub fn abort(&self) {
        if !self.done {
            self.meta().abort();
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(
            !self.done,
            "JoinHandle polled after it returned the task's result"
        );
        let polled = catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *self.task).poll(cx)));
        let (id, location) = (self.id(), self.location());
        let result = match polled {
            Ok(Poll::Pending) => {
                crate::note_wait(crate::WaitReason::Join);
                return Poll::Pending;
            }
            Ok(Poll::Ready(Some(Some(v)))) => Ok(v),
            // `Some(None)`: aborted; `None`: its runtime dropped it.
            Ok(Poll::Ready(Some(None) | None)) => Err(JoinError::cancelled(id, location)),
            Err(payload) => Err(JoinError::panic(id, location, payload)),
        };
        self.done = true;
        Poll::Ready(result)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if !self.done {
            self.meta().mark_detached();
        }
        // SAFETY: `task` is not used again; this is the only place it is
        // taken out of its `ManuallyDrop`.
        let task = unsafe { ManuallyDrop::take(&mut self.task) };
        // Detach, not drop: the task keeps running, fire-and-forget (or, if
        // it is done, its output is freed).
        task.detach();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("location", &format_args!("{}", self.location()))
            .finish_non_exhaustive()
    }
}

/// Why awaiting a [`JoinHandle`] did not yield the task's output.
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::new().unwrap();
/// let err = rt.block_on(rt.spawn(async { panic!("boom") })).unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.panic_message(), Some("boom"));
/// ```
pub struct JoinError {
    id: TaskId,
    location: &'static Location<'static>,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    fn cancelled(id: TaskId, location: &'static Location<'static>) -> Self {
        JoinError {
            id,
            location,
            repr: Repr::Cancelled,
        }
    }

    fn panic(id: TaskId, location: &'static Location<'static>, p: Box<dyn Any + Send>) -> Self {
        JoinError {
            id,
            location,
            repr: Repr::Panic(p),
        }
    }

    /// The task was cancelled: aborted, or dropped by its runtime's shutdown.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The id of the task.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// The panic message, when the payload is a string (as `panic!` makes).
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(p) => p
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            Repr::Cancelled => None,
        }
    }

    /// The panic payload, to re-raise it with `std::panic::resume_unwind`.
    /// Returns the error back if the task did not panic.
    ///
    /// # Errors
    /// `Err(self)` when the task was cancelled rather than panicking.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p),
            Repr::Cancelled => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => {
                write!(
                    f,
                    "task {} spawned at {} was cancelled",
                    self.id, self.location
                )
            }
            Repr::Panic(_) => match self.panic_message() {
                Some(m) => {
                    write!(
                        f,
                        "task {} spawned at {} panicked: {m}",
                        self.id, self.location
                    )
                }
                None => write!(f, "task {} spawned at {} panicked", self.id, self.location),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for JoinError {}

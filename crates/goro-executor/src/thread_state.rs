//! What the OS says a worker thread is doing (its CPU time, whether it
//! sleeps in the kernel), so the monitor can tell a thread *blocked* in one
//! poll (retake its P) from one that is merely *waiting for a CPU*. The
//! reader lives in `goro-procs` ([`goro_procs::ThreadRef`]), shared with the
//! blocking pool.

pub(crate) use goro_procs::ThreadRef;

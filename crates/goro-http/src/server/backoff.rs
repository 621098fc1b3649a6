//! How the accept loop waits after an error, as Go's `net/http` does: 5 ms,
//! doubling to 1 s, back to nothing after a success. Running out of file
//! descriptors (EMFILE) is the usual cause; it heals when connections close,
//! and until then retrying at once would only spin.

use std::io;
use std::time::Duration;

/// The accept loop's back-off state.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    delay: Option<Duration>,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    /// The wait after another error.
    pub(crate) fn next(&mut self) -> Duration {
        let d = match self.delay {
            None => Self::FIRST,
            Some(d) => (d * 2).min(Self::MAX),
        };
        self.delay = Some(d);
        d
    }

    /// An accept succeeded.
    pub(crate) fn reset(&mut self) {
        self.delay = None;
    }
}

/// Whether an accept error means the listener itself is unusable, so the
/// server should stop rather than retry.
pub(crate) fn is_fatal(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(
            e.raw_os_error(),
            Some(libc::EBADF) | Some(libc::ENOTSOCK) | Some(libc::EINVAL) | Some(libc::EOPNOTSUPP)
        )
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_a_second_and_resets() {
        let mut b = Backoff::default();
        let waits: Vec<_> = (0..10).map(|_| b.next().as_millis()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.reset();
        assert_eq!(b.next(), Duration::from_millis(5));
    }

    #[cfg(unix)]
    #[test]
    fn only_a_broken_listener_is_fatal() {
        assert!(is_fatal(&io::Error::from_raw_os_error(libc::EBADF)));
        assert!(!is_fatal(&io::Error::from_raw_os_error(libc::EMFILE)));
        assert!(!is_fatal(&io::Error::from_raw_os_error(libc::ECONNABORTED)));
    }
}

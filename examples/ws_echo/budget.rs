//! The server-wide budget for buffered message bytes.
//!
//! A connection's large message costs memory twice while it is echoed: once
//! as it comes in (tungstenite's read buffer and the reassembled message)
//! and once as it goes out (tungstenite's write buffer, held until the
//! client has read it). A client that sends a large message and never reads
//! would pin both until the idle timeout, so a few thousand such clients
//! could pin any amount of memory.
//!
//! Every message gets [`FREE_PER_MESSAGE`] bytes for nothing (bounded by the
//! connection limit); what it has beyond that is charged twice to one
//! [`Budget`] shared by all connections, as soon as a frame's header
//! announces it and before its payload is read. A charge that does not fit
//! is refused, and the connection is closed with 1013 (try again later)
//! instead of buffering the message.
//!
//! The charge is given back only when the connection ends: tungstenite
//! keeps its read and write buffers at their high-water mark (a connection
//! that echoed a 16 MiB message holds about 32 MiB while it stays open, even
//! idle), so a connection is charged its high-water mark, not the sum of
//! its messages: the largest message (or messages queued together) it has
//! received so far.
//!
//! The frame headers are seen by `close_codes.rs`'s scan of the incoming
//! bytes, which calls [`Meter::frame`] for each; the echo loop calls
//! [`Meter::echoed`] after each echo.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The bytes of each message that are not charged to the budget: small
/// messages never touch it (nor its shared counter).
pub const FREE_PER_MESSAGE: usize = 64 << 10;

/// Buffered message bytes that all connections together may hold.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    used: AtomicUsize,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Budget {
        Budget {
            limit,
            used: AtomicUsize::new(0),
        }
    }

    /// The bytes charged now.
    pub fn used(&self) -> usize {
        self.used.load(Relaxed)
    }

    /// Charges `n` bytes if they fit.
    fn take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Relaxed, Relaxed, |used| {
                used.checked_add(n).filter(|&u| u <= self.limit)
            })
            .is_ok()
    }

    fn give(&self, n: usize) {
        self.used.fetch_sub(n, Relaxed);
    }
}

/// The budget refused a message; the connection closes with 1013.
#[derive(Debug)]
pub struct OverBudget;

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("server busy: buffered message budget exhausted")
    }
}

impl std::error::Error for OverBudget {}

/// One connection's charges against the [`Budget`].
#[derive(Debug)]
pub struct Meter {
    budget: Arc<Budget>,
    /// Larger frames and messages are refused by tungstenite with 1009:
    /// they are never buffered, so they are not charged.
    max_frame: u64,
    max_message: u64,
    /// Payload bytes of the message coming in so far, and its charge.
    message: u64,
    charge: usize,
    /// What this connection has charged to the budget: its high-water mark.
    held: usize,
    /// Messages whose last frame header has been seen.
    complete: u64,
    /// Messages echoed.
    echoed: u64,
    /// The charges of complete messages not yet echoed, by message number
    /// (messages without a charge are not listed).
    waiting: VecDeque<(u64, usize)>,
}

impl Meter {
    /// A connection's meter, for the server's limits.
    pub fn new(budget: Arc<Budget>, max_frame: usize, max_message: usize) -> Meter {
        Meter {
            budget,
            max_frame: max_frame as u64,
            max_message: max_message as u64,
            message: 0,
            charge: 0,
            held: 0,
            complete: 0,
            echoed: 0,
            waiting: VecDeque::new(),
        }
    }

    /// A frame header arrived: `head0` is its first byte (FIN and opcode),
    /// `len` its payload length.
    ///
    /// # Errors
    /// [`OverBudget`] when the frame's charge does not fit.
    pub fn frame(&mut self, head0: u8, len: u64) -> Result<(), OverBudget> {
        if head0 & 0x08 != 0 {
            return Ok(()); // control frame: small, and no part of a message
        }
        let total = self.message.saturating_add(len);
        if len <= self.max_frame && total <= self.max_message {
            self.charge = charge(total);
            // Messages not yet echoed are buffered too.
            let want = self.charge + self.waiting.iter().map(|&(_, c)| c).sum::<usize>();
            if want > self.held {
                if !self.budget.take(want - self.held) {
                    return Err(OverBudget);
                }
                self.held = want;
            }
        }
        self.message = total;
        if head0 & 0x80 != 0 {
            if self.charge > 0 {
                self.waiting.push_back((self.complete, self.charge));
            }
            self.complete += 1;
            self.message = 0;
            self.charge = 0;
        }
        Ok(())
    }

    /// The oldest message not yet echoed has been echoed: it no longer
    /// counts towards what is queued. Its charge stays held (see the module
    /// docs), so a later message of up to its size costs nothing more.
    pub fn echoed(&mut self) {
        if let Some(&(n, _)) = self.waiting.front()
            && n == self.echoed
        {
            self.waiting.pop_front();
        }
        self.echoed += 1;
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.budget.give(self.held);
    }
}

/// What a message of `len` bytes is charged: twice what it has beyond
/// [`FREE_PER_MESSAGE`] (in and out).
fn charge(len: u64) -> usize {
    let beyond = len.saturating_sub(FREE_PER_MESSAGE as u64);
    usize::try_from(beyond.saturating_mul(2)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIN_BINARY: u8 = 0x82;

    #[test]
    fn small_messages_are_free_and_a_connection_holds_its_high_water_mark() {
        let budget = Arc::new(Budget::new(1 << 20));
        let mut m = Meter::new(budget.clone(), 1 << 30, 1 << 30);
        let big = |extra: usize| (FREE_PER_MESSAGE + extra) as u64;
        m.frame(FIN_BINARY, 1000).unwrap();
        assert_eq!(budget.used(), 0);
        m.frame(FIN_BINARY, big(100)).unwrap();
        assert_eq!(budget.used(), 200);
        // Queued together: both count.
        m.frame(FIN_BINARY, big(50)).unwrap();
        assert_eq!(budget.used(), 300);
        m.echoed(); // the small one
        m.echoed();
        m.echoed();
        // Echoed, but tungstenite keeps its buffers: still held.
        assert_eq!(budget.used(), 300);
        // A later message within the high-water mark costs nothing more.
        m.frame(FIN_BINARY, big(150)).unwrap();
        assert_eq!(budget.used(), 300);
        m.echoed();
        m.frame(FIN_BINARY, big(200)).unwrap();
        assert_eq!(budget.used(), 400);
        drop(m);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn past_the_budget_a_message_is_refused_and_a_dropped_meter_gives_back() {
        let budget = Arc::new(Budget::new(1 << 20));
        let mut a = Meter::new(budget.clone(), 1 << 30, 1 << 30);
        let mut b = Meter::new(budget.clone(), 1 << 30, 1 << 30);
        // Fragments: a text start, then continuations.
        a.frame(0x01, 400 << 10).unwrap();
        a.frame(0x80, 100 << 10).unwrap();
        assert_eq!(budget.used(), 2 * ((500 << 10) - FREE_PER_MESSAGE));
        assert!(b.frame(FIN_BINARY, 200 << 10).is_err());
        drop(a);
        assert_eq!(budget.used(), 0);
        b.frame(FIN_BINARY, 200 << 10).unwrap();
    }

    #[test]
    fn frames_tungstenite_refuses_as_too_big_are_not_charged() {
        let budget = Arc::new(Budget::new(1 << 20));
        let mut m = Meter::new(budget.clone(), 1 << 20, 1 << 20);
        m.frame(FIN_BINARY, 16 << 20).unwrap();
        assert_eq!(budget.used(), 0);
    }
}

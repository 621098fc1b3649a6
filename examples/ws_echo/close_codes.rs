//! Close code 1014 (bad gateway), which tungstenite 0.30 refuses.
//!
//! IANA registers close codes 1000 to 1014 ("WebSocket Close Code Number
//! Registry"); of those, 1004 is reserved and 1005, 1006 and 1015 must never
//! be sent, so a client may close with any of the others. tungstenite knows
//! them all but 1014, which it treats as invalid: it answers a client's
//! close with 1014 with 1002 (protocol error) itself, before the server
//! sees the frame.
//!
//! [`CloseCodes`] sits between tungstenite and the socket and follows the
//! frames in both directions. A client's close frame with 1014 reaches
//! tungstenite as 1000 (normal closure, which it echoes), and the echo of
//! that close goes out as 1014 again, so the client gets its own code back
//! as with every other code. Everything else passes unchanged. When
//! tungstenite learns 1014, this file can go.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::{AsyncRead, AsyncWrite};

use super::budget::{Meter, OverBudget};

/// The registered codes tungstenite refuses, and what it is shown instead.
const UNKNOWN_TO_TUNGSTENITE: u16 = 1014;
const SHOWN_AS: u16 = 1000;

const OP_CLOSE: u8 = 0x8;

/// Called with each frame header's first byte and payload length.
type OnHeader<'a> = dyn FnMut(u8, u64) + 'a;

/// An I/O object (the connection) seen through [`CloseCodes`]'s rewrite.
#[derive(Debug)]
pub struct CloseCodes<S> {
    inner: S,
    incoming: Scan,
    outgoing: Scan,
    /// A client's close frame carried 1014, shown to tungstenite as 1000.
    client_sent_1014: bool,
    /// The first byte of a close code whose second byte has not arrived:
    /// held back until it has, so both can be rewritten.
    held: Option<u8>,
    /// The second byte of a close code whose first byte alone was written.
    fix_next: Option<u8>,
    /// Charges incoming messages to the server's budget (see `budget.rs`).
    meter: Option<Meter>,
}

impl<S> CloseCodes<S> {
    /// Wraps a connection whose HTTP handshake has not started yet: the
    /// frames start after the request (coming in) and the response (going
    /// out).
    pub fn new(inner: S) -> Self {
        CloseCodes {
            inner,
            incoming: Scan::default(),
            outgoing: Scan::default(),
            client_sent_1014: false,
            held: None,
            fix_next: None,
            meter: None,
        }
    }

    /// Charges the incoming messages to `meter`'s budget: a frame whose
    /// charge does not fit fails the read with [`OverBudget`].
    pub fn with_meter(mut self, meter: Meter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// The meter given to [`with_meter`](Self::with_meter).
    pub fn meter(&mut self) -> Option<&mut Meter> {
        self.meter.as_mut()
    }
}

/// Where a byte stream is: in the HTTP handshake, in a frame's header, or in
/// its payload.
#[derive(Clone, Copy, Debug)]
enum Scan {
    /// How many bytes of the `\r\n\r\n` that ends the HTTP message are seen.
    Http(usize),
    /// The header bytes so far.
    Head { bytes: [u8; 14], have: usize },
    /// `pos` bytes of `len` read.
    Payload {
        len: u64,
        pos: u64,
        mask: [u8; 4],
        close: bool,
    },
}

impl Default for Scan {
    fn default() -> Self {
        Scan::Http(0)
    }
}

/// What [`Scan::step`] found at the start of a close frame's payload.
enum Found {
    Nothing,
    /// A close code starts at this index of the buffer (both of its bytes
    /// are in the buffer, unless `complete` is false).
    Code {
        at: usize,
        complete: bool,
    },
}

impl Scan {
    /// Follows `bytes` and reports the first close code that starts in them
    /// (the scan stops right after that code's first byte is noted, so call
    /// again with the rest).
    /// `on_header` is called with the first byte and the payload length of
    /// each frame header as it completes.
    fn step(&mut self, bytes: &[u8], on_header: &mut OnHeader<'_>) -> (usize, Found) {
        let mut i = 0;
        while i < bytes.len() {
            match self {
                Scan::Http(seen) => {
                    const END: &[u8] = b"\r\n\r\n";
                    *seen = if bytes[i] == END[*seen] {
                        *seen + 1
                    } else if bytes[i] == b'\r' {
                        1
                    } else {
                        0
                    };
                    i += 1;
                    if *seen == END.len() {
                        *self = Scan::Head {
                            bytes: [0; 14],
                            have: 0,
                        };
                    }
                }
                Scan::Head { bytes: head, have } => {
                    head[*have] = bytes[i];
                    *have += 1;
                    i += 1;
                    if *have < 2 {
                        continue;
                    }
                    let masked = head[1] & 0x80 != 0;
                    let ext = match head[1] & 0x7f {
                        126 => 2,
                        127 => 8,
                        _ => 0,
                    };
                    let need = 2 + ext + if masked { 4 } else { 0 };
                    if *have < need {
                        continue;
                    }
                    let len = match ext {
                        2 => u64::from(u16::from_be_bytes([head[2], head[3]])),
                        8 => u64::from_be_bytes(head[2..10].try_into().expect("8 bytes")),
                        _ => u64::from(head[1] & 0x7f),
                    };
                    let mask = if masked {
                        head[2 + ext..6 + ext].try_into().expect("4 bytes")
                    } else {
                        [0; 4]
                    };
                    on_header(head[0], len);
                    let close = head[0] & 0x0f == OP_CLOSE;
                    *self = if len == 0 {
                        Scan::Head {
                            bytes: [0; 14],
                            have: 0,
                        }
                    } else {
                        Scan::Payload {
                            len,
                            pos: 0,
                            mask,
                            close,
                        }
                    };
                }
                Scan::Payload {
                    len,
                    pos,
                    mask: _,
                    close,
                } => {
                    if *close && *pos == 0 && *len >= 2 {
                        let at = i;
                        let complete = i + 1 < bytes.len();
                        // Past the code's first byte; the caller handles both.
                        *pos = 1;
                        return (i + 1, Found::Code { at, complete });
                    }
                    let take = (*len - *pos).min((bytes.len() - i) as u64);
                    *pos += take;
                    i += take as usize;
                    if *pos == *len {
                        *self = Scan::Head {
                            bytes: [0; 14],
                            have: 0,
                        };
                    }
                }
            }
        }
        (i, Found::Nothing)
    }

    /// Follows `bytes` without changing anything.
    fn follow(&mut self, bytes: &[u8]) {
        let mut start = 0;
        while start < bytes.len() {
            start += self.step(&bytes[start..], &mut |_, _| {}).0;
        }
    }

    /// The mask of the frame whose payload the scan is in.
    fn mask(&self) -> [u8; 4] {
        match self {
            Scan::Payload { mask, .. } => *mask,
            _ => [0; 4],
        }
    }

    /// Follows `bytes`, and for each close code in them whose both bytes are
    /// there calls `rewrite` with the (unmasked) code; a `Some` replaces it.
    /// Returns how many bytes at the end it could not decide on (a close
    /// code's first byte whose second is not in `bytes`): 0 or 1.
    fn rewrite(
        &mut self,
        bytes: &mut [u8],
        mut rewrite: impl FnMut(u16) -> Option<u16>,
        on_header: &mut OnHeader<'_>,
    ) -> usize {
        let mut start = 0;
        loop {
            let (used, found) = self.step(&bytes[start..], on_header);
            let Found::Code { at, complete } = found else {
                return 0;
            };
            let at = start + at;
            if !complete {
                return 1;
            }
            let mask = self.mask();
            let code = u16::from_be_bytes([bytes[at] ^ mask[0], bytes[at + 1] ^ mask[1]]);
            if let Some(new) = rewrite(code) {
                let [a, b] = new.to_be_bytes();
                bytes[at] = a ^ mask[0];
                bytes[at + 1] = b ^ mask[1];
            }
            start += used;
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for CloseCodes<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let Some(held) = this.held else {
            let n = match Pin::new(&mut this.inner).poll_read(cx, buf) {
                Poll::Ready(Ok(n)) => n,
                other => return other,
            };
            let flag = &mut this.client_sent_1014;
            let (meter, mut refused) = (&mut this.meter, false);
            let undecided = this.incoming.rewrite(
                &mut buf[..n],
                |code| hide_1014(code, flag),
                &mut |head0, len| refused |= charge(meter, head0, len),
            );
            if refused {
                return Poll::Ready(Err(io::Error::other(OverBudget)));
            }
            if undecided == 1 {
                this.held = Some(buf[n - 1]);
                if n == 1 {
                    // Nothing to return but the held byte: 0 would mean
                    // the end of the stream, so read on.
                    return self.poll_read(cx, buf);
                }
            }
            return Poll::Ready(Ok(n - undecided));
        };
        if buf.len() < 2 {
            // No room for the second byte (tungstenite never reads so
            // little): the held byte goes out as it came.
            this.held = None;
            if let Some(b) = buf.first_mut() {
                *b = held;
            }
            return Poll::Ready(Ok(buf.len()));
        }
        let n = match Pin::new(&mut this.inner).poll_read(cx, &mut buf[1..]) {
            Poll::Ready(Ok(n)) => n,
            other => return other,
        };
        this.held = None;
        buf[0] = held;
        if n == 0 {
            // The end of the stream: the held byte goes out as it came.
            return Poll::Ready(Ok(1));
        }
        // The code's two bytes are buf[0] and buf[1]; the scan stands
        // between them.
        let mask = this.incoming.mask();
        let code = u16::from_be_bytes([buf[0] ^ mask[0], buf[1] ^ mask[1]]);
        if let Some(new) = hide_1014(code, &mut this.client_sent_1014) {
            let [a, b] = new.to_be_bytes();
            buf[0] = a ^ mask[0];
            buf[1] = b ^ mask[1];
        }
        let flag = &mut this.client_sent_1014;
        let (meter, mut refused) = (&mut this.meter, false);
        let undecided = this.incoming.rewrite(
            &mut buf[1..=n],
            |code| hide_1014(code, flag),
            &mut |head0, len| refused |= charge(meter, head0, len),
        );
        if refused {
            return Poll::Ready(Err(io::Error::other(OverBudget)));
        }
        if undecided == 1 {
            this.held = Some(buf[n]);
        }
        Poll::Ready(Ok(n + 1 - undecided))
    }
}

/// Charges a frame to the meter, if there is one; `true` when refused.
fn charge(meter: &mut Option<Meter>, head0: u8, len: u64) -> bool {
    meter.as_mut().is_some_and(|m| m.frame(head0, len).is_err())
}

/// Coming in: 1014 is shown to tungstenite as 1000, and noted.
fn hide_1014(code: u16, sent_1014: &mut bool) -> Option<u16> {
    (code == UNKNOWN_TO_TUNGSTENITE).then(|| {
        *sent_1014 = true;
        SHOWN_AS
    })
}

impl<S: AsyncWrite + Unpin> AsyncWrite for CloseCodes<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if !this.client_sent_1014 {
            // Nothing to rewrite (every connection but one that closes with
            // 1014): write as is and follow the frames.
            let n = match Pin::new(&mut this.inner).poll_write(cx, buf) {
                Poll::Ready(Ok(n)) => n,
                other => return other,
            };
            this.outgoing.follow(&buf[..n]);
            return Poll::Ready(Ok(n));
        }
        // Rewrite a copy with a copy of the scan; once the socket took `n`
        // bytes, follow those with the real scan (rewriting them again
        // changes nothing: they carry the code to send already).
        let mut out = buf.to_vec();
        if let (Some(b), Some(first)) = (this.fix_next, out.first_mut()) {
            *first = b;
        }
        let sent_1014 = this.client_sent_1014;
        let echo_1014 = |code| (sent_1014 && code == SHOWN_AS).then_some(UNKNOWN_TO_TUNGSTENITE);
        let mut ahead = this.outgoing;
        ahead.rewrite(&mut out, echo_1014, &mut |_, _| {});
        let n = match Pin::new(&mut this.inner).poll_write(cx, &out) {
            Poll::Ready(Ok(n)) => n,
            other => return other,
        };
        if n > 0 {
            this.fix_next = None;
        }
        if this
            .outgoing
            .rewrite(&mut out[..n], echo_1014, &mut |_, _| {})
            == 1
        {
            // The socket took a code's first byte only: the second goes out
            // as decided here, whatever the next call passes.
            this.fix_next = out.get(n).copied();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::AsyncWriteExt;

    /// A socket that takes one byte per write.
    struct OneByte(Vec<u8>);

    impl AsyncWrite for OneByte {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.extend_from_slice(&buf[..buf.len().min(1)]);
            Poll::Ready(Ok(buf.len().min(1)))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// The echo of a 1014 close goes out as 1014 even when the socket takes
    /// the code's two bytes in separate writes; without a 1014 from the
    /// client, a 1000 stays 1000.
    #[test]
    fn the_echoed_code_survives_partial_writes() {
        let http = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
        let close = [0x88, 5, 0x03, 0xe8, b'b', b'y', b'e']; // close, 1000, "bye"
        for sent_1014 in [true, false] {
            let mut io = CloseCodes::new(OneByte(Vec::new()));
            io.client_sent_1014 = sent_1014;
            futures_lite::future::block_on(async {
                io.write_all(http).await.unwrap();
                io.write_all(&close).await.unwrap();
            });
            let out = &io.inner.0[http.len()..];
            let code = u16::from_be_bytes([out[2], out[3]]);
            assert_eq!(code, if sent_1014 { 1014 } else { 1000 });
            assert_eq!(&out[4..], b"bye");
        }
    }
}

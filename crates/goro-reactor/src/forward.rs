//! Macros that forward the methods of an I/O trait to a field, for the
//! adapters between futures-io, tokio and hyper (`goro::compat`,
//! `goro::http`, the facade's child pipes).
//!
//! The three ecosystems' traits share their write half method for method,
//! except the name of the close method: futures-io's `poll_close` is
//! tokio's and hyper's `poll_shutdown`. One macro writes that half for
//! every adapter, so a fix to it is made once.

/// Writes `poll_write`, `poll_write_vectored`, `poll_flush` and the close
/// method of a write trait, each forwarding to `self.$field` through
/// `Pin::new` (the field must be `Unpin`).
///
/// `forward_write!(inner, poll_shutdown => poll_close)` names the close
/// method being written first and the field's close method second. The
/// field's write trait must be in scope where the macro is used.
#[doc(hidden)]
#[macro_export]
macro_rules! forward_write {
    ($field:tt, $close:ident => $inner_close:ident) => {
        fn poll_write(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            buf: &[u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            ::std::pin::Pin::new(&mut self.$field).poll_write(cx, buf)
        }

        fn poll_write_vectored(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            bufs: &[::std::io::IoSlice<'_>],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            ::std::pin::Pin::new(&mut self.$field).poll_write_vectored(cx, bufs)
        }

        fn poll_flush(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            ::std::pin::Pin::new(&mut self.$field).poll_flush(cx)
        }

        fn $close(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            ::std::pin::Pin::new(&mut self.$field).$inner_close(cx)
        }
    };
}

/// Writes futures-io's `poll_read`, forwarding to `self.$field` through
/// `Pin::new` (the field must be `Unpin` and futures-io `AsyncRead`).
#[doc(hidden)]
#[macro_export]
macro_rules! forward_read {
    ($field:tt) => {
        fn poll_read(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            buf: &mut [u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            ::std::pin::Pin::new(&mut self.$field).poll_read(cx, buf)
        }
    };
}

/// Writes `get_ref`, `get_mut` and `into_inner` for a wrapper whose
/// wrapped value of type `$t` is in `self.$field`; used inside the
/// wrapper's inherent `impl` block.
#[doc(hidden)]
#[macro_export]
macro_rules! wrapper_accessors {
    ($field:ident: $t:ty) => {
        /// The wrapped value.
        pub fn get_ref(&self) -> &$t {
            &self.$field
        }

        /// The wrapped value, mutably.
        pub fn get_mut(&mut self) -> &mut $t {
            &mut self.$field
        }

        /// Unwraps the value.
        pub fn into_inner(self) -> $t {
            self.$field
        }
    };
}

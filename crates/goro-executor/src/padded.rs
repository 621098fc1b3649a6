//! [`Padded`]: keeps data that different threads write on cache lines of
//! its own, so a write by one does not invalidate what another reads.

/// Aligns `T` to 128 bytes: two 64-byte lines, because x86's adjacent-line
/// prefetcher pulls lines in pairs (tokio and crossbeam pad the same way).
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

//! Errors in assertion messages.

use std::error::Error;

/// `e` and its sources, joined by ` <- `: what a test asserts on when the
/// telling part of an error is a few sources down.
pub fn chain(e: &(dyn Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(" <- ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

//! Scheduling latency: the time from a task's wake (or spawn) to the start
//! of its next poll, Go's `/sched/latencies:seconds`.
//!
//! Sampled in time, not by count: each time the monitor thread wakes (every
//! millisecond while workers are busy) it arms a flag, and the next wake
//! anywhere in the runtime claims it and is timed. So a busy runtime times
//! up to a thousand wakes a second whatever its wake rate, and an untimed
//! wake pays one load and one branch. (Go times one goroutine schedule in
//! 8; counting wakes here would cost the yield-heavy benchmarks a few
//! percent, two clock reads per sample included.) A timed wake reads the
//! clock and notes the time in a small table keyed by task id
//! ([`WakeSamples`]); the worker that polls the task next looks it up there
//! and records the difference in its P's histogram ([`Recorder`]).
//!
//! The histogram is log-linear: four buckets per power of two of
//! nanoseconds, so a bucket is at most a quarter of its lower bound wide
//! and a percentile read from it is within about 12 % of the truth. The
//! maximum is exact (over the sampled wakes).

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use goro_lock::lock;

/// Sub-buckets per power of two (2 bits).
const SUB_BITS: u32 = 2;
const SUB: u64 = 1 << SUB_BITS;
/// Latencies are clamped to 2^40 ns (about 18 minutes).
const MAX_EXP: u32 = 40;
/// Buckets: `[0, 4)` one per nanosecond, then 4 per power of two up to
/// 2^40.
const BUCKETS: usize = ((MAX_EXP - SUB_BITS + 1) as u64 * SUB) as usize;

fn bucket_of(ns: u64) -> usize {
    let ns = ns.min((1 << MAX_EXP) - 1);
    if ns < SUB {
        return ns as usize;
    }
    let e = 63 - ns.leading_zeros(); // >= SUB_BITS
    let sub = (ns >> (e - SUB_BITS)) & (SUB - 1);
    ((e - SUB_BITS + 1) as u64 * SUB + sub) as usize
}

/// The smallest value in bucket `i`.
fn bucket_low(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let e = i / SUB + u64::from(SUB_BITS) - 1;
    let sub = i % SUB;
    (SUB + sub) << (e - u64::from(SUB_BITS))
}

/// One past the largest value in bucket `i`.
fn bucket_high(i: usize) -> u64 {
    if i + 1 < BUCKETS {
        bucket_low(i + 1)
    } else {
        1 << MAX_EXP
    }
}

/// A histogram of scheduling latencies (wake to first poll), summed over a
/// runtime's workers; part of [`crate::Stats`].
///
/// Only some wakes are timed, at most one per tick of the runtime's
/// monitor thread (about a thousand a second while the runtime is busy),
/// so [`count`] is the number of *timed* wakes. Percentiles come from
/// log-linear buckets and are within about 12 % of the exact value;
/// [`max`] is exact (over the timed wakes).
///
/// [`count`]: LatencyHistogram::count
/// [`max`]: LatencyHistogram::max
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
/// // Spawn until a wake has been timed (the monitor arms one per tick).
/// while rt.handle().stats().sched_latency.count() == 0 {
///     rt.block_on(rt.spawn(async {})).unwrap();
/// }
/// let lat = rt.handle().stats().sched_latency;
/// assert!(lat.p50() <= lat.p99() && lat.p99() <= lat.max());
/// println!("scheduling latency: p50 {:?} p99 {:?} max {:?}", lat.p50(), lat.p99(), lat.max());
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// Samples per bucket; empty means no samples.
    counts: Vec<u64>,
    sum_ns: u64,
    max_ns: u64,
}

impl LatencyHistogram {
    /// Timed wakes.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The sum of the timed latencies.
    pub fn sum(&self) -> Duration {
        Duration::from_nanos(self.sum_ns)
    }

    /// The longest timed latency.
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns)
    }

    /// The median.
    pub fn p50(&self) -> Duration {
        self.quantile(0.5)
    }

    /// The 99th percentile.
    pub fn p99(&self) -> Duration {
        self.quantile(0.99)
    }

    /// The latency below which a fraction `q` (0 to 1) of the timed wakes
    /// fall: the middle of the bucket that holds it, at most [`max`].
    /// Zero without samples.
    ///
    /// [`max`]: LatencyHistogram::max
    pub fn quantile(&self, q: f64) -> Duration {
        let total = self.count();
        if total == 0 {
            return Duration::ZERO;
        }
        // The rank of the sample we want, 1-based.
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let mid = bucket_low(i) + (bucket_high(i) - bucket_low(i)) / 2;
                return Duration::from_nanos(mid.min(self.max_ns));
            }
        }
        self.max()
    }

    /// The non-empty buckets as `(lower bound, upper bound, samples)`, for
    /// exporting the whole distribution.
    pub fn buckets(&self) -> impl Iterator<Item = (Duration, Duration, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(i, &c)| {
                (
                    Duration::from_nanos(bucket_low(i)),
                    Duration::from_nanos(bucket_high(i)),
                    c,
                )
            })
    }
}

impl fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("count", &self.count())
            .field("p50", &self.p50())
            .field("p99", &self.p99())
            .field("max", &self.max())
            .finish()
    }
}

/// One P's histogram, read racily by [`Recorder::add_to`]. Written by the
/// thread polling on the P, which is one thread but for the moment after a
/// retake, when the old thread finishes its poll; read-modify-writes keep
/// that moment exact, and cost nothing at a sample per millisecond.
pub(crate) struct Recorder {
    counts: [AtomicU64; BUCKETS],
    sum_ns: AtomicU64,
    max_ns: AtomicU64,
}

impl Recorder {
    pub(crate) fn new() -> Self {
        Recorder {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
        }
    }

    /// Records one latency. Only the holder of the P calls this.
    pub(crate) fn record(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counts[bucket_of(ns)].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
        self.max_ns.fetch_max(ns, Relaxed);
    }

    /// Adds this P's samples to `h`.
    pub(crate) fn add_to(&self, h: &mut LatencyHistogram) {
        if h.counts.is_empty() {
            h.counts = vec![0; BUCKETS];
        }
        for (sum, c) in h.counts.iter_mut().zip(&self.counts) {
            *sum += c.load(Relaxed);
        }
        h.sum_ns = h.sum_ns.saturating_add(self.sum_ns.load(Relaxed));
        h.max_ns = h.max_ns.max(self.max_ns.load(Relaxed));
    }
}

/// Slots in the table of timed wakes.
const SLOTS: usize = 64;

/// Which wake to time next, and the wake times of the timed wakes, keyed
/// by task id. A slot taken by another timed task before the first is
/// polled loses the first sample, which only thins the sampling.
pub(crate) struct WakeSamples {
    /// Set by the monitor on each tick; the next wake takes it. Read on
    /// every wake, so it sits apart from anything written often.
    armed: AtomicBool,
    // A mutex per slot: at most one sample per monitor tick takes one, so
    // it costs less than getting a lock-free (id, time) pair right.
    slots: Box<[Mutex<Sample>]>,
}

/// A task id and when that task was woken (taken when it is polled).
type Sample = (u64, Option<Instant>);

impl WakeSamples {
    pub(crate) fn new() -> Self {
        WakeSamples {
            armed: AtomicBool::new(false),
            slots: (0..SLOTS).map(|_| Mutex::new((0, None))).collect(),
        }
    }

    /// The monitor's tick: time the next wake.
    pub(crate) fn arm(&self) {
        if !self.armed.load(Relaxed) {
            self.armed.store(true, Relaxed);
        }
    }

    /// Whether the next wake is to be timed: one load on every wake.
    #[inline]
    pub(crate) fn is_armed(&self) -> bool {
        self.armed.load(Relaxed)
    }

    /// Takes the flag; `true` for the one wake that gets it.
    pub(crate) fn claim(&self) -> bool {
        self.armed.swap(false, Relaxed)
    }

    fn slot(&self, id: u64) -> &Mutex<Sample> {
        // Fibonacci hashing: ids are sequential, spread them.
        &self.slots[(id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize % SLOTS]
    }

    /// Notes that task `id` was woken now.
    pub(crate) fn woken(&self, id: u64) {
        let now = Instant::now();
        *lock(self.slot(id)) = (id, Some(now));
    }

    /// Task `id` is about to be polled: how long since its timed wake.
    pub(crate) fn polled(&self, id: u64) -> Option<Duration> {
        let at = {
            let mut slot = lock(self.slot(id));
            if slot.0 != id {
                return None;
            }
            slot.1.take()?
        };
        Some(at.elapsed())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_contain_their_values() {
        for i in 0..BUCKETS - 1 {
            assert_eq!(bucket_high(i), bucket_low(i + 1));
            assert!(bucket_low(i) < bucket_high(i), "{i}");
        }
        for ns in [
            0,
            1,
            3,
            4,
            5,
            7,
            8,
            9,
            100,
            1000,
            12_345,
            1 << 30,
            (1 << 40) - 1,
        ] {
            let b = bucket_of(ns);
            assert!(bucket_low(b) <= ns && ns < bucket_high(b), "{ns} in {b}");
            // At most a quarter of the lower bound wide.
            assert!(
                (bucket_high(b) - bucket_low(b)) * 4 <= bucket_low(b).max(4),
                "{ns}"
            );
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_and_max() {
        let r = Recorder::new();
        for us in 1..=100 {
            r.record(Duration::from_micros(us));
        }
        let mut h = LatencyHistogram::default();
        assert_eq!(h.p99(), Duration::ZERO);
        r.add_to(&mut h);
        assert_eq!(h.count(), 100);
        assert_eq!(h.max(), Duration::from_micros(100));
        let p50 = h.p50().as_nanos() as f64;
        assert!((p50 - 50_000.0).abs() / 50_000.0 < 0.15, "{p50}");
        let p99 = h.p99().as_nanos() as f64;
        assert!((p99 - 99_000.0).abs() / 99_000.0 < 0.15, "{p99}");
        assert_eq!(h.buckets().map(|b| b.2).sum::<u64>(), 100);
        assert_eq!(h.sum(), Duration::from_micros(5050));
    }

    #[test]
    fn one_claim_per_arming() {
        let s = WakeSamples::new();
        assert!(!s.is_armed() && !s.claim());
        s.arm();
        s.arm();
        assert!(s.is_armed());
        assert!(s.claim());
        assert!(!s.claim());
    }

    #[test]
    fn samples_match_by_id() {
        let s = WakeSamples::new();
        s.woken(7);
        assert!(s.polled(8).is_none());
        assert!(s.polled(7).is_some());
        assert!(s.polled(7).is_none(), "taken once");
    }
}

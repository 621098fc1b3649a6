//! CPU limits and Go's rule for turning one into a worker count.

use std::cmp::Ordering;
use std::fmt;
use std::path::PathBuf;

/// A CFS bandwidth limit: the cgroup may use `quota_us` of CPU time every
/// `period_us`, i.e. `quota_us / period_us` CPUs. Both are always positive.
///
/// # Examples
///
/// ```
/// use goro::procs::CpuQuota;
///
/// let q = CpuQuota::new(150_000, 100_000).unwrap();
/// assert_eq!(q.cpus(), 1.5);
/// assert_eq!(q.ceil_cpus(), 2);
/// assert!(CpuQuota::new(0, 100_000).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CpuQuota {
    quota_us: u64,
    period_us: u64,
}

impl CpuQuota {
    /// A quota of `quota_us` per `period_us`; `None` if either is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// # use goro::procs::CpuQuota;
    /// assert_eq!(CpuQuota::new(50_000, 100_000).unwrap().cpus(), 0.5);
    /// assert!(CpuQuota::new(50_000, 0).is_none());
    /// ```
    pub fn new(quota_us: u64, period_us: u64) -> Option<Self> {
        (quota_us > 0 && period_us > 0).then_some(CpuQuota {
            quota_us,
            period_us,
        })
    }

    /// CPU time allowed per period, in microseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # use goro::procs::CpuQuota;
    /// assert_eq!(CpuQuota::new(50_000, 100_000).unwrap().quota_us(), 50_000);
    /// ```
    pub fn quota_us(&self) -> u64 {
        self.quota_us
    }

    /// The length of a period, in microseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # use goro::procs::CpuQuota;
    /// assert_eq!(CpuQuota::new(50_000, 100_000).unwrap().period_us(), 100_000);
    /// ```
    pub fn period_us(&self) -> u64 {
        self.period_us
    }

    /// The limit in CPUs, e.g. `1.5`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use goro::procs::CpuQuota;
    /// assert_eq!(CpuQuota::new(250_000, 100_000).unwrap().cpus(), 2.5);
    /// ```
    pub fn cpus(&self) -> f64 {
        self.quota_us as f64 / self.period_us as f64
    }

    /// The limit in CPUs rounded up: `ceil(quota / period)`, at least 1.
    ///
    /// # Examples
    ///
    /// ```
    /// # use goro::procs::CpuQuota;
    /// assert_eq!(CpuQuota::new(1_000, 100_000).unwrap().ceil_cpus(), 1);
    /// assert_eq!(CpuQuota::new(200_000, 100_000).unwrap().ceil_cpus(), 2);
    /// assert_eq!(CpuQuota::new(200_001, 100_000).unwrap().ceil_cpus(), 3);
    /// ```
    pub fn ceil_cpus(&self) -> u64 {
        self.quota_us.div_ceil(self.period_us)
    }

    /// Go 1.25's worker count for this limit on a machine where the process
    /// may run on `cpus` CPUs: `min(cpus, max(ceil(quota / period), 2))`,
    /// and never below 1.
    ///
    /// The floor of 2 is Go's: a process limited to half a CPU still gets two
    /// workers, so one blocked in a long computation does not stall the rest.
    /// It never exceeds `cpus`: more workers than CPUs only adds contention.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::procs::CpuQuota;
    ///
    /// let half = CpuQuota::new(50_000, 100_000).unwrap();
    /// let one_and_a_half = CpuQuota::new(150_000, 100_000).unwrap();
    /// let three = CpuQuota::new(300_000, 100_000).unwrap();
    /// assert_eq!(half.maxprocs(8), 2);
    /// assert_eq!(half.maxprocs(1), 1);
    /// assert_eq!(one_and_a_half.maxprocs(8), 2);
    /// assert_eq!(three.maxprocs(8), 3);
    /// assert_eq!(three.maxprocs(2), 2);
    /// ```
    pub fn maxprocs(&self, cpus: usize) -> usize {
        let by_quota = usize::try_from(self.ceil_cpus())
            .unwrap_or(usize::MAX)
            .max(2);
        by_quota.min(cpus).max(1)
    }

    /// Orders limits by how many CPUs they allow (exactly, without rounding):
    /// `Less` means `self` is tighter.
    pub(crate) fn compare_cpus(&self, other: &CpuQuota) -> Ordering {
        let lhs = u128::from(self.quota_us) * u128::from(other.period_us);
        let rhs = u128::from(other.quota_us) * u128::from(self.period_us);
        lhs.cmp(&rhs)
    }
}

/// Which cgroup interface a limit was read from.
///
/// # Examples
///
/// ```
/// use goro::procs::CgroupVersion;
///
/// assert_eq!(CgroupVersion::V2.to_string(), "v2");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CgroupVersion {
    /// cgroup v1, the `cpu` controller: `cpu.cfs_quota_us` and `cpu.cfs_period_us`.
    V1,
    /// cgroup v2, the unified hierarchy: `cpu.max`.
    V2,
}

impl fmt::Display for CgroupVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CgroupVersion::V1 => "v1",
            CgroupVersion::V2 => "v2",
        })
    }
}

/// The tightest CPU limit found on the way from the process's cgroup up to
/// the root of the mounted hierarchy, and where it was found.
///
/// # Examples
///
/// ```
/// use goro::procs::{CgroupVersion, CpuLimit, CpuQuota};
///
/// let limit = CpuLimit {
///     version: CgroupVersion::V1,
///     path: "/sys/fs/cgroup/cpu/app".into(),
///     quota: CpuQuota::new(150_000, 100_000).unwrap(),
/// };
/// assert_eq!(
///     limit.to_string(),
///     "cgroup v1 /sys/fs/cgroup/cpu/app: quota 150000us / period 100000us",
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CpuLimit {
    /// The cgroup interface the limit came from.
    pub version: CgroupVersion,
    /// The cgroup directory holding the limit (under the filesystem root given
    /// to detection, e.g. `/sys/fs/cgroup/app`). It may be an ancestor of the
    /// process's own cgroup.
    pub path: PathBuf,
    /// The limit itself.
    pub quota: CpuQuota,
}

impl fmt::Display for CpuLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cgroup {} {}: quota {}us / period {}us",
            self.version,
            self.path.display(),
            self.quota.quota_us,
            self.quota.period_us
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(quota: u64, period: u64) -> CpuQuota {
        CpuQuota::new(quota, period).unwrap()
    }

    #[test]
    fn compares_by_exact_ratio() {
        assert_eq!(
            q(50_000, 100_000).compare_cpus(&q(100_000, 200_000)),
            Ordering::Equal
        );
        assert_eq!(q(99_999, 100_000).compare_cpus(&q(1, 1)), Ordering::Less);
        assert_eq!(
            q(u64::MAX, 1).compare_cpus(&q(u64::MAX, 2)),
            Ordering::Greater
        );
    }

    #[test]
    fn maxprocs_never_zero_and_saturates() {
        assert_eq!(q(50_000, 100_000).maxprocs(0), 1);
        assert_eq!(q(u64::MAX, 1).maxprocs(usize::MAX), usize::MAX);
        assert_eq!(q(u64::MAX, 1).maxprocs(64), 64);
    }
}

//! [`MaxProcs`]: the worker count and where it came from.

use std::fmt;

use crate::affinity::CpuCount;
use crate::cgroup::CgroupReading;
use crate::env::ENV_VAR;
use crate::limit::CpuLimit;

/// How many worker threads the runtime should use, and why.
///
/// `Display` prints one line in the style of Uber's automaxprocs log.
///
/// # Examples
///
/// ```
/// use std::path::Path;
///
/// let procs = goro::procs::detect_with(Path::new("/"), Some("4")).unwrap();
/// assert_eq!(procs.n, 4);
/// assert_eq!(procs.to_string(), "maxprocs=4 (GORO_MAXPROCS=4)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxProcs {
    /// The worker count, always at least 1.
    pub n: usize,
    /// Where `n` came from.
    pub source: Source,
}

/// Where a [`MaxProcs`] count came from.
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// use goro::procs::Source;
///
/// let procs = goro::procs::detect_with(Path::new("/"), Some("3")).unwrap();
/// assert!(matches!(procs.source, Source::Env { value: 3, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// Set explicitly with `GORO_MAXPROCS`; automatic updates are off.
    #[non_exhaustive]
    Env {
        /// The value of the variable.
        value: usize,
    },
    /// A cgroup CPU limit, by Go's rule: `min(cpus, max(ceil(quota / period), 2))`
    /// (see [`CpuQuota::maxprocs`](crate::CpuQuota::maxprocs)).
    #[non_exhaustive]
    Cgroup {
        /// The tightest limit between the process's cgroup and the mount root.
        limit: CpuLimit,
        /// CPUs in the affinity mask, the upper bound.
        cpus: usize,
    },
    /// No cgroup CPU limit applies: one worker per CPU in the affinity mask.
    #[non_exhaustive]
    Affinity {
        /// CPUs in the affinity mask.
        cpus: usize,
    },
    /// Something could not be read (a malformed or unreadable cgroup file,
    /// an unmounted hierarchy, the affinity mask), so the count is built from
    /// what could be: the tightest readable limit, if any, capped by `cpus`.
    #[non_exhaustive]
    Fallback {
        /// The CPU count used as the upper bound: the affinity mask, or
        /// `num_cpus::get()` if the mask could not be read.
        cpus: usize,
        /// The tightest cgroup limit that could be read, if any.
        limit: Option<CpuLimit>,
        /// What went wrong, one `; `-separated item per problem.
        reason: String,
    },
}

impl MaxProcs {
    pub(crate) fn explicit(value: usize) -> MaxProcs {
        MaxProcs {
            n: value,
            source: Source::Env { value },
        }
    }

    /// Combines a cgroup reading and a CPU count by Go 1.25's rule.
    pub(crate) fn automatic(cgroup: CgroupReading, cpus: CpuCount) -> MaxProcs {
        let n = match &cgroup.limit {
            Some(limit) => limit.quota.maxprocs(cpus.cpus),
            None => cpus.cpus.max(1),
        };
        let mut problems = cgroup.problems;
        problems.extend(cpus.problem);
        let source = match (cgroup.limit, problems.is_empty()) {
            (Some(limit), true) => Source::Cgroup {
                limit,
                cpus: cpus.cpus,
            },
            (None, true) => Source::Affinity { cpus: cpus.cpus },
            (limit, false) => Source::Fallback {
                cpus: cpus.cpus,
                limit,
                reason: problems.join("; "),
            },
        };
        MaxProcs { n, source }
    }
}

impl fmt::Display for MaxProcs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "maxprocs={} ({})", self.n, self.source)
    }
}

/// The part in parentheses of [`MaxProcs`]'s line.
///
/// # Examples
///
/// ```
/// # use std::path::Path;
/// let procs = goro::procs::detect_with(Path::new("/"), Some("8")).unwrap();
/// assert_eq!(procs.source.to_string(), "GORO_MAXPROCS=8");
/// ```
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Env { value } => write!(f, "{ENV_VAR}={value}"),
            Source::Cgroup { limit, cpus } => write!(f, "{limit}, affinity: {}", Cpus(*cpus)),
            Source::Affinity { cpus } => {
                write!(f, "affinity: {}, no cgroup CPU limit", Cpus(*cpus))
            }
            Source::Fallback {
                cpus,
                limit,
                reason,
            } => {
                f.write_str("fallback: ")?;
                if let Some(limit) = limit {
                    write!(f, "{limit}, ")?;
                }
                write!(f, "{}; {reason}", Cpus(*cpus))
            }
        }
    }
}

/// "1 CPU", "8 CPUs".
struct Cpus(usize);

impl fmt::Display for Cpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 CPU"),
            n => write!(f, "{n} CPUs"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limit::{CgroupVersion, CpuQuota};

    fn limit(quota: u64) -> CpuLimit {
        CpuLimit {
            version: CgroupVersion::V2,
            path: "/sys/fs/cgroup/app".into(),
            quota: CpuQuota::new(quota, 100_000).unwrap(),
        }
    }

    fn reading(limit: Option<CpuLimit>, problems: &[&str]) -> CgroupReading {
        CgroupReading {
            limit,
            problems: problems.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn clean_limit_is_cgroup() {
        let m = MaxProcs::automatic(reading(Some(limit(150_000)), &[]), CpuCount::given(8));
        assert_eq!(m.n, 2);
        assert_eq!(
            m.to_string(),
            "maxprocs=2 (cgroup v2 /sys/fs/cgroup/app: quota 150000us / period 100000us, affinity: 8 CPUs)"
        );
    }

    #[test]
    fn no_limit_is_affinity() {
        let m = MaxProcs::automatic(reading(None, &[]), CpuCount::given(8));
        assert_eq!(m.n, 8);
        assert_eq!(
            m.to_string(),
            "maxprocs=8 (affinity: 8 CPUs, no cgroup CPU limit)"
        );
    }

    #[test]
    fn problems_make_a_fallback_that_keeps_the_readable_limit() {
        let cpus = CpuCount {
            cpus: 4,
            problem: Some("mask unreadable".into()),
        };
        let m = MaxProcs::automatic(reading(Some(limit(300_000)), &["bad file"]), cpus);
        assert_eq!(m.n, 3);
        assert_eq!(
            m.to_string(),
            "maxprocs=3 (fallback: cgroup v2 /sys/fs/cgroup/app: quota 300000us / period 100000us, 4 CPUs; bad file; mask unreadable)"
        );
        let m = MaxProcs::automatic(reading(None, &["x"]), CpuCount::given(6));
        assert_eq!(m.n, 6);
        assert_eq!(m.to_string(), "maxprocs=6 (fallback: 6 CPUs; x)");
        let m = MaxProcs::automatic(reading(None, &["x"]), CpuCount::given(1));
        assert_eq!(m.to_string(), "maxprocs=1 (fallback: 1 CPU; x)");
    }
}

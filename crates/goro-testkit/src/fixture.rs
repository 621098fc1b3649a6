//! Fixture filesystem trees for maxprocs detection: a fake `/` with
//! `proc/self/` and cgroup mounts, generated under the system temp dir and
//! removed on drop. With the `procs` feature, detection against a fixture
//! and the assertions on its result.

use std::fs;
use std::path::{Path, PathBuf};

use crate::dir::TempDir;

/// Non-cgroup mounts every fixture's mountinfo starts with, as on a real host.
const BASE_MOUNTS: &str = "\
22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
23 28 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
28 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
";

/// A fake filesystem root.
#[derive(Debug)]
pub struct Fixture {
    root: TempDir,
}

impl Fixture {
    /// An empty root, unique to this process and call.
    pub fn new(name: &str) -> Fixture {
        Fixture {
            root: TempDir::new(&format!("procs-{name}")),
        }
    }

    /// A root whose process is in `cgroup` of the v2 hierarchy mounted at
    /// `/sys/fs/cgroup` with mount root `/`.
    pub fn v2(name: &str, cgroup: &str) -> Fixture {
        Fixture::new(name)
            .proc_cgroup(&format!("0::{cgroup}\n"))
            .mountinfo(&[&v2_mount("/", "/sys/fs/cgroup")])
    }

    /// A root whose process is in `cgroup` of the v1 `cpu,cpuacct` hierarchy
    /// mounted at `/sys/fs/cgroup/cpu,cpuacct` with mount root `/`.
    pub fn v1(name: &str, cgroup: &str) -> Fixture {
        Fixture::new(name)
            .proc_cgroup(&format!(
                "5:memory:{cgroup}\n4:cpu,cpuacct:{cgroup}\n1:name=systemd:{cgroup}\n"
            ))
            .mountinfo(&[
                &v1_mount("/", "/sys/fs/cgroup/memory", "memory"),
                &v1_mount("/", "/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct"),
            ])
    }

    /// Writes `proc/self/cgroup`.
    pub fn proc_cgroup(self, contents: &str) -> Fixture {
        self.write("proc/self/cgroup", contents)
    }

    /// Writes `proc/self/mountinfo`: the base mounts plus `cgroup_lines`.
    pub fn mountinfo(self, cgroup_lines: &[&str]) -> Fixture {
        let mut text = BASE_MOUNTS.to_owned();
        for line in cgroup_lines {
            text.push_str(line);
            text.push('\n');
        }
        self.write("proc/self/mountinfo", &text)
    }

    /// Writes `rel` (relative to the root), creating its directories.
    pub fn write(self, rel: &str, contents: impl AsRef<[u8]>) -> Fixture {
        self.put(rel, contents);
        self
    }

    /// Like [`write`](Self::write), through a shared reference (for changing
    /// files under a live watcher).
    pub fn put(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
    }

    /// Creates the directory `rel`.
    pub fn dir(self, rel: &str) -> Fixture {
        fs::create_dir_all(self.path(rel)).unwrap();
        self
    }

    /// The fixture path of `rel`, an absolute path as the process would see it
    /// (a leading `/` is allowed).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.0.join(rel.trim_start_matches('/'))
    }

    /// The fake root.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Detection against this root with `cpus` CPUs and `GORO_MAXPROCS` unset.
    #[cfg(feature = "procs")]
    pub fn detect(&self, cpus: usize) -> goro_procs::MaxProcs {
        goro_procs::detect_with_cpus(self.root(), None, cpus).unwrap()
    }
}

/// A mountinfo line for a cgroup v2 mount of hierarchy directory `root` at
/// `point`.
pub fn v2_mount(root: &str, point: &str) -> String {
    format!(
        "30 23 0:26 {root} {point} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot"
    )
}

/// A mountinfo line for a cgroup v1 mount of the hierarchy with
/// `controllers` (e.g. `cpu,cpuacct`).
pub fn v1_mount(root: &str, point: &str, controllers: &str) -> String {
    format!(
        "35 31 0:30 {root} {point} rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,{controllers}"
    )
}

#[cfg(feature = "procs")]
pub use procs::*;

/// The assertions on detection results.
#[cfg(feature = "procs")]
mod procs {
    use goro_procs::MaxProcs;

    /// The limit of a [`Source::Cgroup`](goro_procs::Source::Cgroup) result;
    /// panics with the actual source otherwise.
    pub fn cgroup_limit(procs: &MaxProcs) -> &goro_procs::CpuLimit {
        match &procs.source {
            goro_procs::Source::Cgroup { limit, .. } => limit,
            other => panic!("expected a cgroup limit, got {other:?}"),
        }
    }

    /// The reason and readable limit of a
    /// [`Source::Fallback`](goro_procs::Source::Fallback) result; panics with the
    /// actual source otherwise.
    pub fn fallback(procs: &MaxProcs) -> (&str, Option<&goro_procs::CpuLimit>) {
        match &procs.source {
            goro_procs::Source::Fallback { reason, limit, .. } => (reason, limit.as_ref()),
            other => panic!("expected a fallback, got {other:?}"),
        }
    }

    /// Asserts `procs` is a no-limit result over `cpus` CPUs.
    pub fn assert_affinity(procs: &MaxProcs, cpus: usize) {
        assert!(
            matches!(procs.source, goro_procs::Source::Affinity { cpus: c, .. } if c == cpus),
            "expected affinity with {cpus} CPUs, got {procs:?}"
        );
        assert_eq!(procs.n, cpus);
    }

    /// Asserts `procs` is the 1.5-CPU limit (quota 150000 us per 100000 us)
    /// of the cgroup `version` at `path`, over 8 CPUs: 2 workers, and the
    /// description says so.
    pub fn assert_one_and_a_half_cpus(
        procs: &MaxProcs,
        version: goro_procs::CgroupVersion,
        path: &std::path::Path,
    ) {
        assert_eq!(procs.n, 2);
        let limit = cgroup_limit(procs);
        assert_eq!(limit.version, version);
        assert_eq!(limit.path, path);
        assert_eq!(
            (limit.quota.quota_us(), limit.quota.period_us()),
            (150_000, 100_000)
        );
        let v = match version {
            goro_procs::CgroupVersion::V1 => "v1",
            goro_procs::CgroupVersion::V2 => "v2",
        };
        assert_eq!(
            procs.to_string(),
            format!(
                "maxprocs=2 (cgroup {v} {}: quota 150000us / period 100000us, affinity: 8 CPUs)",
                path.display()
            )
        );
    }

    /// The reason of a fallback result, owned; panics if it is not one.
    pub fn fallback_reason(procs: &MaxProcs) -> String {
        fallback(procs).0.to_owned()
    }
}

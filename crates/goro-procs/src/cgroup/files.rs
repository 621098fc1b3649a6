//! The limit files of each cgroup level, opened once and re-read with `pread`.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::Hierarchy;
use super::v1::{CFS_PERIOD_US, CFS_QUOTA_US, parse_cfs_period_us, parse_cfs_quota_us};
use super::v2::{CPU_MAX, parse_cpu_max};
use crate::limit::{CgroupVersion, CpuLimit, CpuQuota};

/// Room for any limit file the kernel writes: `cpu.max` at its longest is two
/// 20-digit numbers, a space and a newline.
const READ_BUF: usize = 64;

/// Open handles on the CPU limit files of every visible level of the
/// process's cgroup.
#[derive(Debug)]
pub(crate) struct CgroupFiles {
    version: CgroupVersion,
    levels: Vec<Level>,
}

#[derive(Debug)]
struct Level {
    dir: PathBuf,
    files: LevelFiles,
}

#[derive(Debug)]
enum LevelFiles {
    V1 { quota: LimitFile, period: LimitFile },
    V2 { cpu_max: LimitFile },
}

#[derive(Debug)]
struct LimitFile {
    path: PathBuf,
    state: Opened,
}

#[derive(Debug)]
enum Opened {
    /// The file does not exist: no limit at this level (in v2, the `cpu`
    /// controller is not enabled for it; at the root there is never one).
    Absent,
    Open(File),
    /// Opening failed for another reason, kept for every reading.
    Failed(String),
}

/// What one pass over the files found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CgroupReading {
    /// The tightest readable limit.
    pub(crate) limit: Option<CpuLimit>,
    /// Files that could not be read or parsed.
    pub(crate) problems: Vec<String>,
}

impl CgroupFiles {
    /// Opens the limit files of every level. Missing files are expected;
    /// other failures are remembered and reported by each [`read`](Self::read).
    pub(crate) fn open(hierarchy: Hierarchy) -> Self {
        let levels = hierarchy
            .dirs
            .into_iter()
            .map(|dir| {
                let files = match hierarchy.version {
                    CgroupVersion::V1 => LevelFiles::V1 {
                        quota: LimitFile::open(&dir, CFS_QUOTA_US),
                        period: LimitFile::open(&dir, CFS_PERIOD_US),
                    },
                    CgroupVersion::V2 => LevelFiles::V2 {
                        cpu_max: LimitFile::open(&dir, CPU_MAX),
                    },
                };
                Level { dir, files }
            })
            .collect();
        CgroupFiles {
            version: hierarchy.version,
            levels,
        }
    }

    /// Re-reads every level and keeps the tightest limit. On equal limits the
    /// level nearest the process wins.
    pub(crate) fn read(&self) -> CgroupReading {
        let mut reading = CgroupReading::default();
        let mut best: Option<(CpuQuota, &Path)> = None;
        for level in &self.levels {
            match level.read() {
                Ok(Some(quota)) => {
                    if best.is_none_or(|(b, _)| quota.compare_cpus(&b).is_lt()) {
                        best = Some((quota, &level.dir));
                    }
                }
                Ok(None) => {}
                Err(problem) => reading.problems.push(problem),
            }
        }
        reading.limit = best.map(|(quota, dir)| CpuLimit {
            version: self.version,
            path: dir.to_path_buf(),
            quota,
        });
        reading
    }
}

impl Level {
    fn read(&self) -> Result<Option<CpuQuota>, String> {
        let mut buf = [0; READ_BUF];
        match &self.files {
            LevelFiles::V2 { cpu_max } => match cpu_max.read(&mut buf)? {
                None => Ok(None),
                Some(text) => parse_cpu_max(text).map_err(|e| cpu_max.problem(e)),
            },
            LevelFiles::V1 { quota, period } => {
                let Some(text) = quota.read(&mut buf)? else {
                    return Ok(None);
                };
                let Some(quota_us) = parse_cfs_quota_us(text).map_err(|e| quota.problem(e))? else {
                    return Ok(None);
                };
                let Some(text) = period.read(&mut buf)? else {
                    return Err(format!(
                        "{} sets a quota but {} is missing",
                        quota.path.display(),
                        period.path.display()
                    ));
                };
                let period_us = parse_cfs_period_us(text).map_err(|e| period.problem(e))?;
                // Both are positive once parsed, so this is always `Some`.
                Ok(CpuQuota::new(quota_us, period_us))
            }
        }
    }
}

impl LimitFile {
    fn open(dir: &Path, name: &str) -> Self {
        let path = dir.join(name);
        let state = match File::open(&path) {
            Ok(file) => Opened::Open(file),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Opened::Absent,
            Err(e) => Opened::Failed(format!("cannot open {}: {e}", path.display())),
        };
        LimitFile { path, state }
    }

    /// The whole file from offset 0, without moving any file position:
    /// `Ok(None)` if it does not exist.
    fn read<'b>(&self, buf: &'b mut [u8; READ_BUF]) -> Result<Option<&'b str>, String> {
        let file = match &self.state {
            Opened::Absent => return Ok(None),
            Opened::Failed(problem) => return Err(problem.clone()),
            Opened::Open(file) => file,
        };
        let mut len = 0;
        loop {
            match read_at(file, &mut buf[len..], len as u64) {
                Ok(0) => break,
                Ok(n) => {
                    len += n;
                    if len == buf.len() {
                        return Err(format!(
                            "{} is longer than {READ_BUF} bytes",
                            self.path.display()
                        ));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("cannot read {}: {e}", self.path.display())),
            }
        }
        std::str::from_utf8(&buf[..len])
            .map(Some)
            .map_err(|_| format!("{} is not text", self.path.display()))
    }

    fn problem(&self, error: impl std::fmt::Display) -> String {
        format!("{}: {error}", self.path.display())
    }
}

/// `pread`: reads at `offset` without moving the file position on Unix. On
/// Windows (no cgroups: only fixture trees get here) `seek_read`, which moves
/// it, harmless as every read names its offset.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, offset)
    }
}

//! Finding the process's CPU cgroup: which hierarchy, which directories.
//!
//! [`locate`] reads `<root>/proc/self/cgroup` and `<root>/proc/self/mountinfo`
//! once; [`CgroupFiles`] then holds the limit files open for cheap re-reads.

mod files;
mod membership;
mod mountinfo;
mod parse_error;
mod v1;
mod v2;

use std::path::{Component, Path, PathBuf};

use crate::limit::CgroupVersion;

pub(crate) use files::{CgroupFiles, CgroupReading};
pub use parse_error::ParseLimitError;
pub use v1::{parse_cfs_period_us, parse_cfs_quota_us};
pub use v2::parse_cpu_max;

use mountinfo::Mount;

/// A path from the raw bytes of a `/proc` file: byte for byte on Unix; on
/// other systems (which have no `/proc`, so only fixture trees get here)
/// lossily through UTF-8.
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// The cgroup directories whose CPU limits apply to the process, as far as
/// they are visible: from its own cgroup (first) up to the root of the
/// mounted part of the hierarchy (last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hierarchy {
    pub(crate) version: CgroupVersion,
    pub(crate) dirs: Vec<PathBuf>,
}

/// Finds the hierarchy that holds the process's CPU limit, under the
/// filesystem root `root` (`/` in production).
///
/// A v1 hierarchy with the `cpu` controller wins over v2, as in Go: on a
/// hybrid host the `cpu` controller can only be attached to one of them, and
/// if v1 has it the v2 `cpu.max` files do not exist.
///
/// `Ok(None)` means the process is in no hierarchy that could limit CPU
/// (cgroups disabled, or v1 without the `cpu` controller). Errors explain why
/// the limit could not be found.
pub(crate) fn locate(root: &Path) -> Result<Option<Hierarchy>, String> {
    let membership = read_proc(root, "proc/self/cgroup", membership::parse)?;
    let (version, cgroup, is_match): (_, _, fn(&Mount) -> bool) =
        match (membership.v1_cpu, membership.v2) {
            (Some(path), _) => (CgroupVersion::V1, path, |m| m.is_v1_with("cpu")),
            (None, Some(path)) => (CgroupVersion::V2, path, Mount::is_v2),
            (None, None) => return Ok(None),
        };
    let mounts = read_proc(root, "proc/self/mountinfo", mountinfo::parse)?;
    let dirs = resolve(root, &mounts, is_match, &cgroup)
        .map_err(|e| format!("cgroup {version} {}: {e}", cgroup.display()))?;
    Ok(Some(Hierarchy { version, dirs }))
}

/// Reads and parses `<root>/<rel>`; errors name the file.
fn read_proc<T>(
    root: &Path,
    rel: &str,
    parse: fn(&[u8]) -> Result<T, String>,
) -> Result<T, String> {
    let path = root.join(rel);
    let data = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&data).map_err(|e| format!("{}: {e}", path.display()))
}

/// Maps the cgroup path from `/proc/self/cgroup` to directories under a
/// mount of its hierarchy, leaf first.
///
/// The mount's root (mountinfo field 4) is the part of the hierarchy the mount
/// shows: in a container it is often the container's own cgroup, so the
/// process's cgroup path must be made relative to it. When several mounts
/// show the cgroup, the one with the deepest root is used.
fn resolve(
    root: &Path,
    mounts: &[Mount],
    is_match: fn(&Mount) -> bool,
    cgroup: &Path,
) -> Result<Vec<PathBuf>, String> {
    let mut candidates = mounts.iter().filter(|m| is_match(m)).peekable();
    if candidates.peek().is_none() {
        return Err("the hierarchy is not mounted (no matching line in mountinfo)".to_owned());
    }
    let mut best: Option<(&Mount, Vec<&std::ffi::OsStr>)> = None;
    let mut roots = Vec::new();
    for mount in candidates {
        roots.push(mount.root.display().to_string());
        let Some(rel) = relative_components(cgroup, &mount.root) else {
            continue;
        };
        let deeper = best
            .as_ref()
            .is_none_or(|(b, _)| mount.root.components().count() > b.root.components().count());
        if deeper {
            best = Some((mount, rel));
        }
    }
    let Some((mount, rel)) = best else {
        return Err(format!(
            "outside the mounted part of the hierarchy (mount roots: {})",
            roots.join(", ")
        ));
    };
    let mut dir = under_root(root, &mount.mount_point);
    let mut dirs = vec![dir.clone()];
    for part in rel {
        dir.push(part);
        dirs.push(dir.clone());
    }
    dirs.reverse();
    Ok(dirs)
}

/// The components of `path` below `base`, if `path` is `base` or inside it
/// (no `..` escapes).
fn relative_components<'a>(path: &'a Path, base: &Path) -> Option<Vec<&'a std::ffi::OsStr>> {
    let rel = path.strip_prefix(base).ok()?;
    rel.components()
        .map(|c| match c {
            Component::Normal(part) => Some(part),
            _ => None,
        })
        .collect()
}

/// `abs` (an absolute path as the process sees it) inside the filesystem
/// root `root`.
fn under_root(root: &Path, abs: &Path) -> PathBuf {
    root.join(abs.strip_prefix("/").unwrap_or(abs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(root: &str, point: &str, fs: &str, opts: &str) -> Mount {
        Mount {
            root: root.into(),
            mount_point: point.into(),
            fs_type: fs.into(),
            super_options: opts.into(),
        }
    }

    #[test]
    fn resolves_leaf_to_mount_root() {
        let mounts = [mount("/", "/sys/fs/cgroup", "cgroup2", "rw")];
        let dirs = resolve(Path::new("/fx"), &mounts, Mount::is_v2, Path::new("/a/b")).unwrap();
        assert_eq!(
            dirs,
            [
                PathBuf::from("/fx/sys/fs/cgroup/a/b"),
                PathBuf::from("/fx/sys/fs/cgroup/a"),
                PathBuf::from("/fx/sys/fs/cgroup"),
            ]
        );
    }

    #[test]
    fn container_mount_root_is_stripped() {
        let mounts = [mount("/docker/abc", "/sys/fs/cgroup", "cgroup2", "rw")];
        let dirs = resolve(
            Path::new("/"),
            &mounts,
            Mount::is_v2,
            Path::new("/docker/abc"),
        )
        .unwrap();
        assert_eq!(dirs, [PathBuf::from("/sys/fs/cgroup")]);
        let err = resolve(
            Path::new("/"),
            &mounts,
            Mount::is_v2,
            Path::new("/docker/other"),
        )
        .unwrap_err();
        assert!(err.contains("outside the mounted part"), "{err}");
        // "/docker/abcdef" shares a string prefix but is not inside "/docker/abc".
        assert!(
            resolve(
                Path::new("/"),
                &mounts,
                Mount::is_v2,
                Path::new("/docker/abcdef")
            )
            .is_err()
        );
    }

    #[test]
    fn deepest_matching_mount_wins() {
        let mounts = [
            mount("/", "/host", "cgroup2", "rw"),
            mount("/a", "/inner", "cgroup2", "rw"),
            mount("/z", "/other", "cgroup2", "rw"),
        ];
        let dirs = resolve(Path::new("/"), &mounts, Mount::is_v2, Path::new("/a/b")).unwrap();
        assert_eq!(dirs, [PathBuf::from("/inner/b"), PathBuf::from("/inner")]);
    }

    #[test]
    fn parent_dir_escapes_are_rejected() {
        let mounts = [mount("/", "/sys/fs/cgroup", "cgroup2", "rw")];
        assert!(resolve(Path::new("/"), &mounts, Mount::is_v2, Path::new("/../x")).is_err());
    }

    #[test]
    fn unmounted_hierarchy_is_an_error() {
        let mounts = [mount("/", "/sys/fs/cgroup/memory", "cgroup", "rw,memory")];
        let err = resolve(
            Path::new("/"),
            &mounts,
            |m| m.is_v1_with("cpu"),
            Path::new("/"),
        )
        .unwrap_err();
        assert!(err.contains("not mounted"), "{err}");
    }
}

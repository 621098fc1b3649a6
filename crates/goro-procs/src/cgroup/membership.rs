//! `/proc/self/cgroup`: which cgroup the process is in, per hierarchy.
//!
//! Each line is `hierarchy-ID:controller-list:cgroup-path` (see cgroups(7)).
//! The v2 unified hierarchy is ID 0 with an empty controller list; a v1
//! hierarchy lists its controllers, e.g. `4:cpu,cpuacct:/docker/abc`. The
//! path is relative to the root of the hierarchy (or of the cgroup
//! namespace), not to any mount point.

use std::path::PathBuf;

use super::path_from_bytes;

/// The process's cgroups that can carry a CPU limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Membership {
    /// The cgroup in the v1 hierarchy that has the `cpu` controller.
    pub(crate) v1_cpu: Option<PathBuf>,
    /// The cgroup in the v2 unified hierarchy.
    pub(crate) v2: Option<PathBuf>,
}

/// Parses a whole `/proc/self/cgroup` file; a malformed line is an error.
pub(crate) fn parse(data: &[u8]) -> Result<Membership, String> {
    let mut membership = Membership::default();
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let malformed = || {
            format!(
                "line {} is malformed: {:?}",
                i + 1,
                String::from_utf8_lossy(line)
            )
        };
        // The path may itself contain ':', so split at the first two only.
        let mut parts = line.splitn(3, |&b| b == b':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        if id.is_empty() || !id.iter().all(u8::is_ascii_digit) || !path.starts_with(b"/") {
            return Err(malformed());
        }
        let path = path_from_bytes(path);
        if id == b"0" && controllers.is_empty() {
            membership.v2 = Some(path);
        } else if controllers.split(|&b| b == b',').any(|c| c == b"cpu") {
            membership.v1_cpu = Some(path);
        }
    }
    Ok(membership)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hybrid_host() {
        let m = parse(
            b"12:cpuset:/\n4:cpu,cpuacct:/user.slice\n1:name=systemd:/user.slice/x\n0::/user.slice/x\n",
        )
        .unwrap();
        assert_eq!(m.v1_cpu, Some(PathBuf::from("/user.slice")));
        assert_eq!(m.v2, Some(PathBuf::from("/user.slice/x")));
    }

    #[test]
    fn v2_only_and_colons_in_path() {
        let m = parse(b"0::/a:b/c\n").unwrap();
        assert_eq!(m.v1_cpu, None);
        assert_eq!(m.v2, Some(PathBuf::from("/a:b/c")));
    }

    #[test]
    fn cpuacct_alone_is_not_cpu() {
        let m = parse(b"3:cpuacct:/x\n2:cpuset:/y\n").unwrap();
        assert_eq!(m, Membership::default());
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert!(
            parse(b"0::/\nnonsense\n")
                .unwrap_err()
                .starts_with("line 2")
        );
        assert!(parse(b"x:cpu:/\n").is_err());
        assert!(parse(b"1:cpu:relative\n").is_err());
        assert!(parse(b"1:cpu\n").is_err());
    }
}

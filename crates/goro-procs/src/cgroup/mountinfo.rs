//! `/proc/self/mountinfo`: where each cgroup hierarchy is mounted, and which
//! part of it.
//!
//! A line looks like (see proc(5)):
//!
//! ```text
//! 36 35 98:0 /docker/abc /sys/fs/cgroup/cpu rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct
//! (1)(2)(3)   (4)         (5)                (6)      (7)   (8)(9)  (10)   (11)
//! ```
//!
//! (4) is the directory of the hierarchy that is mounted (a container often
//! sees only its own cgroup), (5) the mount point, (7) zero or more optional
//! fields ended by `-`, (9) the filesystem type and (11) the super-block
//! options, which for cgroup v1 name the controllers.

use std::path::PathBuf;

use super::path_from_bytes;

/// One mount, reduced to what cgroup discovery needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    /// Field 4: the directory inside the filesystem that is mounted.
    pub(crate) root: PathBuf,
    /// Field 5: where it is mounted.
    pub(crate) mount_point: PathBuf,
    /// Field 9, e.g. `cgroup` or `cgroup2`.
    pub(crate) fs_type: String,
    /// Field 11, e.g. `rw,cpu,cpuacct`.
    pub(crate) super_options: String,
}

impl Mount {
    /// A cgroup v1 hierarchy with `controller` attached.
    pub(crate) fn is_v1_with(&self, controller: &str) -> bool {
        self.fs_type == "cgroup" && self.super_options.split(',').any(|o| o == controller)
    }

    /// The cgroup v2 unified hierarchy.
    pub(crate) fn is_v2(&self) -> bool {
        self.fs_type == "cgroup2"
    }
}

/// Parses a whole mountinfo file. Any malformed line is an error, described
/// with its 1-based line number: the kernel never writes one, so it means the
/// file is not what it claims to be.
pub(crate) fn parse(data: &[u8]) -> Result<Vec<Mount>, String> {
    data.split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(i, line)| {
            parse_line(line).ok_or_else(|| {
                format!(
                    "line {} is malformed: {:?}",
                    i + 1,
                    String::from_utf8_lossy(line)
                )
            })
        })
        .collect()
}

fn parse_line(line: &[u8]) -> Option<Mount> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    // Six fixed fields, then optional fields up to the lone "-", then three more.
    let separator = fields.iter().skip(6).position(|f| *f == b"-")? + 6;
    if fields.len() < separator + 4 || fields[..separator].iter().any(|f| f.is_empty()) {
        return None;
    }
    let root = unescape(fields[3]);
    let mount_point = unescape(fields[4]);
    if !root.starts_with(b"/") || !mount_point.starts_with(b"/") {
        return None;
    }
    Some(Mount {
        root: path_from_bytes(&root),
        mount_point: path_from_bytes(&mount_point),
        fs_type: String::from_utf8_lossy(fields[separator + 1]).into_owned(),
        super_options: String::from_utf8_lossy(fields[separator + 3]).into_owned(),
    })
}

/// Undoes the kernel's octal escapes (`\040` for a space, `\011`, `\012`,
/// `\134`); anything else is kept as is.
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\' {
            if let Some(byte) = field.get(i + 1..i + 4).and_then(octal_byte) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(field[i]);
        i += 1;
    }
    out
}

fn octal_byte(digits: &[u8]) -> Option<u8> {
    digits.iter().try_fold(0u8, |acc, &d| {
        if (b'0'..=b'7').contains(&d) {
            acc.checked_mul(8)?.checked_add(d - b'0')
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v1_line_with_optional_fields() {
        let m = parse(
            b"36 35 98:0 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 master:2 - cgroup cgroup rw,cpu,cpuacct\n",
        )
        .unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].root, PathBuf::from("/docker/abc"));
        assert_eq!(
            m[0].mount_point,
            PathBuf::from("/sys/fs/cgroup/cpu,cpuacct")
        );
        assert!(m[0].is_v1_with("cpu"));
        assert!(m[0].is_v1_with("cpuacct"));
        assert!(!m[0].is_v1_with("cpuset"));
        assert!(!m[0].is_v2());
    }

    #[test]
    fn parses_v2_line_without_optional_fields() {
        let m = parse(b"30 23 0:26 / /cgroup2 rw - cgroup2 cgroup2 rw,nsdelegate").unwrap();
        assert!(m[0].is_v2());
        assert!(!m[0].is_v1_with("cpu"));
        assert_eq!(m[0].mount_point, PathBuf::from("/cgroup2"));
    }

    #[test]
    fn unescapes_octal() {
        let m = parse(b"1 2 0:1 /a\\040b /mnt/x\\134y\\011z rw - cgroup2 none rw").unwrap();
        assert_eq!(m[0].root, PathBuf::from("/a b"));
        assert_eq!(m[0].mount_point, PathBuf::from("/mnt/x\\y\tz"));
        // Not an escape: kept verbatim.
        assert_eq!(unescape(b"a\\9b\\"), b"a\\9b\\");
        assert_eq!(unescape(b"\\777"), b"\\777"); // 511 does not fit a byte
    }

    #[test]
    fn rejects_malformed_lines_with_line_number() {
        let err = parse(b"1 2 0:1 / /sys rw - sysfs sysfs rw\ngarbage here\n").unwrap_err();
        assert!(err.starts_with("line 2 is malformed"), "{err}");
        assert!(parse(b"1 2 0:1 / /sys rw sysfs sysfs rw").is_err()); // no separator
        assert!(parse(b"1 2 0:1 / /sys rw - sysfs").is_err()); // too short
        assert!(parse(b"1 2 0:1 relative /sys rw - cgroup2 c rw").is_err());
    }
}

//! `goro_blocking::fs`: round trips, and errors that name the path.

use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};

use futures_lite::future::{block_on, poll_once};
use futures_lite::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, StreamExt};
use goro_blocking::fs::{self, File, PathError};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("goro-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn detail(e: &std::io::Error) -> &PathError {
    e.get_ref().unwrap().downcast_ref::<PathError>().unwrap()
}

#[test]
fn free_function_round_trip() {
    let dir = TempDir::new("free");
    block_on(async {
        let nested = dir.path().join("a/b/c");
        fs::create_dir_all(&nested).await.unwrap();
        assert!(fs::metadata(&nested).await.unwrap().is_dir());

        let f = nested.join("data.bin");
        let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        fs::write(&f, &bytes).await.unwrap();
        assert_eq!(fs::read(&f).await.unwrap(), bytes);
        assert_eq!(fs::metadata(&f).await.unwrap().len(), 100_000);

        let copy = nested.join("copy.bin");
        assert_eq!(fs::copy(&f, &copy).await.unwrap(), 100_000);
        assert_eq!(std::fs::read(&copy).unwrap(), bytes);

        fs::write(nested.join("t.txt"), "héllo").await.unwrap();
        assert_eq!(
            fs::read_to_string(nested.join("t.txt")).await.unwrap(),
            "héllo"
        );

        let mut names: Vec<String> = fs::read_dir(&nested)
            .await
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
            .await;
        names.sort();
        assert_eq!(names, ["copy.bin", "data.bin", "t.txt"]);

        fs::remove_file(&copy).await.unwrap();
        assert!(!copy.exists());
    });
}

#[test]
fn read_dir_streams_many_entries() {
    let dir = TempDir::new("many");
    for i in 0..300 {
        std::fs::write(dir.path().join(format!("f{i}")), "").unwrap();
    }
    let n = block_on(async { fs::read_dir(dir.path()).await.unwrap().count().await });
    assert_eq!(n, 300);
}

#[test]
fn file_round_trip_with_seek_set_len_metadata_sync() {
    let dir = TempDir::new("file");
    let p = dir.path().join("f.txt");
    block_on(async {
        let mut f = File::create(&p).await.unwrap();
        f.write_all(b"hello, world").await.unwrap();
        f.sync_all().await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), 12);
        f.set_len(5).await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), 5);
        f.close().await.unwrap();

        let mut o = std::fs::OpenOptions::new();
        o.read(true).write(true);
        let mut f = File::with_options(&p, o).await.unwrap();
        assert_eq!(f.seek(SeekFrom::End(0)).await.unwrap(), 5);
        f.write_all(b"!!").await.unwrap();
        assert_eq!(f.seek(SeekFrom::Start(3)).await.unwrap(), 3);
        let mut s = String::new();
        f.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "lo!!");
        f.sync_data().await.unwrap();
        assert_eq!(f.path(), p);
    });
    assert_eq!(std::fs::read(&p).unwrap(), b"hello!!");
}

#[test]
fn a_write_after_a_read_lands_where_the_reader_stopped() {
    let dir = TempDir::new("rewind");
    let p = dir.path().join("f.txt");
    std::fs::write(&p, "abcdefghij").unwrap();
    block_on(async {
        let mut o = std::fs::OpenOptions::new();
        o.read(true).write(true);
        let mut f = File::with_options(&p, o).await.unwrap();
        // A read of 10 bytes is started, then abandoned...
        let mut big = [0u8; 10];
        let first = poll_once(f.read(&mut big)).await.map(|r| r.unwrap());
        assert!(first.is_none() || first == Some(10));
        // ...and retried with a smaller buffer: the rest stays read ahead.
        let mut small = [0u8; 2];
        if first.is_none() {
            f.read_exact(&mut small).await.unwrap();
            assert_eq!(&small, b"ab");
        }
        let pos = f.seek(SeekFrom::Current(0)).await.unwrap();
        f.write_all(b"XY").await.unwrap();
        f.flush().await.unwrap();
        let expected = if first.is_none() {
            "abXYefghij"
        } else {
            "abcdefghijXY"
        };
        assert_eq!(pos, if first.is_none() { 2 } else { 10 });
        drop(f);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), expected);
    });
}

#[test]
fn a_missing_file_names_the_path() {
    let dir = TempDir::new("missing");
    let missing = dir.path().join("missing.txt");
    let shown = missing.display();
    block_on(async {
        let e = File::open(&missing).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(
            e.to_string(),
            format!("open {shown}: No such file or directory (os error 2)")
        );
        assert_eq!(detail(&e).io_error().raw_os_error(), Some(2));
        assert_eq!(detail(&e).path(), missing);
        // `Error::source` gives the OS error.
        let src = std::error::Error::source(&e).unwrap();
        assert_eq!(src.to_string(), "No such file or directory (os error 2)");

        let e = fs::read(&missing).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("open {shown}: No such file or directory (os error 2)")
        );
        let e = fs::read_to_string(&missing).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let e = fs::remove_file(&missing).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("remove_file {shown}: No such file or directory (os error 2)")
        );
        let e = fs::metadata(&missing).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("metadata {shown}: No such file or directory (os error 2)")
        );
        let e = fs::read_dir(&missing).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("read_dir {shown}: No such file or directory (os error 2)")
        );
        let to = dir.path().join("to");
        let e = fs::copy(&missing, &to).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(
            e.to_string(),
            format!(
                "copy {shown} to {}: No such file or directory (os error 2)",
                to.display()
            )
        );
        let e = fs::write(dir.path().join("no/such/dir/f"), "x")
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with(&format!(
            "create {}",
            dir.path().join("no/such/dir/f").display()
        )));
    });
}

/// Tests run as root here, and root ignores permission bits, so the
/// always-denied case is opening a directory for writing: the kernel refuses
/// it with EISDIR for every user.
#[test]
fn a_directory_cannot_be_opened_for_writing() {
    let dir = TempDir::new("isdir");
    let shown = dir.path().display();
    block_on(async {
        let e = File::create(dir.path()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::IsADirectory);
        assert_eq!(
            e.to_string(),
            format!("create {shown}: Is a directory (os error 21)")
        );
        let e = fs::write(dir.path(), "x").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::IsADirectory);
        let file = dir.path().join("plain");
        std::fs::write(&file, "").unwrap();
        let e = fs::read_dir(&file).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotADirectory);
        let e = fs::create_dir_all(file.join("sub")).await.unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("create_dir_all {}: ", file.join("sub").display()))
        );
    });
}

fn running_as_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    uid.split_whitespace().nth(2) == Some("0") // effective uid
}

/// A file with mode 000: permission denied for ordinary users. Root bypasses
/// permission bits (CAP_DAC_OVERRIDE), so there the open must succeed.
#[test]
fn a_file_without_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("perm");
    let p = dir.path().join("secret");
    std::fs::write(&p, "s").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    let res = block_on(File::open(&p));
    if running_as_root() {
        assert!(res.is_ok(), "root opens mode-000 files: {res:?}");
    } else {
        let e = res.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert_eq!(
            e.to_string(),
            format!("open {}: Permission denied (os error 13)", p.display())
        );
    }
}

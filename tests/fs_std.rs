//! `goro::fs` mirrors `std::fs`: real files and directories in a fresh
//! temporary directory per test, and every error names its path.

use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use goro::fs;
use goro::io::{AsyncReadExt, AsyncWriteExt};

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("goro-fs-std-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[goro::test]
async fn directories_create_list_and_remove() -> std::io::Result<()> {
    let t = TempDir::new("dirs");
    fs::create_dir(t.join("a")).await?;
    fs::DirBuilder::new()
        .recursive(true)
        .create(t.join("a/b/c"))
        .await?;
    fs::write(t.join("a/b/c/f.txt"), "x").await?;

    let err = fs::remove_dir(t.join("a")).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("remove_dir {}: ", t.join("a").display())),
        "{err}"
    );
    assert!(t.join("a").is_dir(), "a non-empty directory was removed");

    let mut names = Vec::new();
    let mut entries = fs::read_dir(t.join("a/b/c")).await?;
    while let Some(e) = goro::stream::StreamExt::next(&mut entries).await {
        let e: fs::DirEntry = e?;
        names.push(e.file_name().into_string().unwrap());
    }
    assert_eq!(names, ["f.txt"]);

    fs::remove_dir_all(t.join("a")).await?;
    assert!(!fs::try_exists(t.join("a")).await?);
    fs::create_dir(t.join("empty")).await?;
    fs::remove_dir(t.join("empty")).await?;
    assert!(!t.join("empty").exists());
    Ok(())
}

#[goro::test]
async fn rename_hard_link_and_symlinks() -> std::io::Result<()> {
    let t = TempDir::new("links");
    fs::write(t.join("data"), "payload").await?;
    fs::rename(t.join("data"), t.join("moved")).await?;
    assert!(!fs::exists(t.join("data")).await?);

    fs::hard_link(t.join("moved"), t.join("hard")).await?;
    let (a, b) = (
        fs::metadata(t.join("moved")).await?,
        fs::metadata(t.join("hard")).await?,
    );
    assert_eq!(a.ino(), b.ino(), "a hard link is the same inode");
    assert_eq!(a.nlink(), 2);

    fs::symlink("moved", t.join("soft")).await?;
    assert_eq!(fs::read_link(t.join("soft")).await?, Path::new("moved"));
    assert!(
        fs::symlink_metadata(t.join("soft"))
            .await?
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::metadata(t.join("soft")).await?.is_file(),
        "metadata follows"
    );
    assert_eq!(
        fs::canonicalize(t.join("soft")).await?,
        std::fs::canonicalize(t.join("moved"))?
    );
    assert_eq!(fs::read_to_string(t.join("soft")).await?, "payload");

    fs::symlink("nowhere", t.join("dangling")).await?;
    assert!(!fs::try_exists(t.join("dangling")).await?, "dangling link");
    Ok(())
}

#[goro::test]
async fn permissions_and_open_options() -> std::io::Result<()> {
    let t = TempDir::new("perms");
    let p = t.join("f");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&p)
        .await?;
    f.write_all(b"first\n").await?;
    f.flush().await?;
    assert_eq!(fs::metadata(&p).await?.permissions().mode() & 0o777, 0o600);

    let err = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&p)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);

    let mut f = fs::File::options().append(true).open(&p).await?;
    f.write_all(b"second\n").await?;
    f.flush().await?;
    let mut s = String::new();
    fs::File::open(&p).await?.read_to_string(&mut s).await?;
    assert_eq!(s, "first\nsecond\n");

    fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&p)
        .await?;
    assert_eq!(fs::metadata(&p).await?.len(), 0, "truncate");

    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).await?;
    assert_eq!(fs::metadata(&p).await?.permissions().mode() & 0o777, 0o644);
    Ok(())
}

#[goro::test]
async fn every_error_names_the_operation_and_the_path() {
    let t = TempDir::new("errors");
    let m = t.join("missing");
    let o = t.join("other");
    let shown = |op: &str| format!("{op} {}: ", m.display());
    let two = |op: &str| format!("{op} {} to {}: ", m.display(), o.display());
    let cases: Vec<(String, std::io::Error)> = vec![
        (
            format!("create_dir {}: ", m.join("x").display()),
            fs::create_dir(m.join("x")).await.unwrap_err(),
        ),
        (shown("remove_dir"), fs::remove_dir(&m).await.unwrap_err()),
        (
            shown("remove_dir_all"),
            fs::remove_dir_all(&m).await.unwrap_err(),
        ),
        (shown("read_link"), fs::read_link(&m).await.unwrap_err()),
        (
            shown("canonicalize"),
            fs::canonicalize(&m).await.unwrap_err(),
        ),
        (
            shown("symlink_metadata"),
            fs::symlink_metadata(&m).await.unwrap_err(),
        ),
        (
            shown("set_permissions"),
            fs::set_permissions(&m, fs::Permissions::from_mode(0o600))
                .await
                .unwrap_err(),
        ),
        (two("rename"), fs::rename(&m, &o).await.unwrap_err()),
        (two("hard_link"), fs::hard_link(&m, &o).await.unwrap_err()),
        (
            shown("open"),
            fs::File::options().read(true).open(&m).await.unwrap_err(),
        ),
    ];
    for (want, err) in cases {
        assert!(err.to_string().starts_with(&want), "{err} (want {want})");
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    }
}

//! A concurrent file pipeline, Go's pipeline pattern over files, written
//! against goro and std only: walk a directory tree, count the lines,
//! words and bytes of every file with a few workers at once, and write a
//! report.
//!
//! ```text
//! cargo run --example file_pipeline [-- DIR [WORKERS]]
//! ```
//!
//! Without `DIR` it makes a demo tree in the temporary directory, and
//! removes it afterwards. The report (one tab-separated line per file,
//! sorted by path, then a total) goes to `file_pipeline-report.tsv` in the
//! temporary directory.
//!
//! Stages, each its own task, joined by bounded channels (back-pressure: a
//! slow stage slows the one before it instead of piling up memory):
//!
//! 1. the walker lists the tree with `goro::fs::read_dir` and sends paths;
//! 2. `WORKERS` counters read each file through a `BufReader` (on the
//!    blocking pool, as all of `goro::fs`) and send its counts;
//! 3. the collector, here in `run`, gathers them; the report is written
//!    through a `BufWriter` on a `goro::fs::File`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use goro::chan::{self, Receiver, Sender};
use goro::io::{self, AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use goro::stream::StreamExt;
use goro::sync::WaitGroup;

/// The counts of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCounts {
    /// The file.
    pub path: PathBuf,
    /// Newline characters, as `wc -l` counts.
    pub lines: u64,
    /// Runs of non-whitespace, as `wc -w` counts (ASCII whitespace).
    pub words: u64,
    /// Its size.
    pub bytes: u64,
}

#[goro::main]
async fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (root, demo) = match args.next() {
        Some(dir) => (PathBuf::from(dir), false),
        None => (make_demo_tree().await?, true),
    };
    let workers = match args.next() {
        None => 4,
        Some(w) => w.parse().ok().filter(|&w| w > 0).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("WORKERS must be a whole number above 0, got {w:?}"),
            )
        })?,
    };
    let start = Instant::now();
    let counts = run(&root, workers).await?;
    let report = std::env::temp_dir().join("file_pipeline-report.tsv");
    write_report(&report, &counts).await?;
    let total: u64 = counts.iter().map(|c| c.bytes).sum();
    println!(
        "{} files, {total} bytes under {} in {:?} with {workers} workers; report: {}",
        counts.len(),
        root.display(),
        start.elapsed(),
        report.display()
    );
    if demo {
        goro::fs::remove_dir_all(&root).await?;
    }
    Ok(())
}

/// Counts every regular file under `root` with `workers` counters at once
/// and returns the counts sorted by path. An unreadable file fails the run
/// (its error names the path).
pub async fn run(root: &Path, workers: usize) -> io::Result<Vec<FileCounts>> {
    let (paths_tx, paths) = chan::bounded::<PathBuf>(64);
    let (counts_tx, counts) = chan::bounded::<io::Result<FileCounts>>(64);

    let walker = goro::go(walk(root.to_owned(), paths_tx));
    let wg = WaitGroup::new();
    for _ in 0..workers {
        wg.go(count_files(paths.clone(), counts_tx.clone()));
    }
    drop((paths, counts_tx)); // the workers hold the only ones now

    let mut all = Vec::new();
    let mut first_error = None;
    while let Ok(r) = counts.recv().await {
        match r {
            Ok(c) => all.push(c),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    wg.wait().await;
    walker.await.expect("the walker does not panic")?;
    if let Some(e) = first_error {
        return Err(e);
    }
    all.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(all)
}

/// Stage 1: sends the path of every regular file under `root`, depth first.
async fn walk(root: PathBuf, out: Sender<PathBuf>) -> io::Result<()> {
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        let mut entries = goro::fs::read_dir(&dir).await?;
        while let Some(entry) = entries.next().await {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                dirs.push(entry.path());
            } else if kind.is_file() && out.send(entry.path()).await.is_err() {
                return Ok(()); // nobody counts any more
            }
        }
    }
    Ok(())
}

/// Stage 2: counts the files it receives until the walker is done.
async fn count_files(paths: Receiver<PathBuf>, out: Sender<io::Result<FileCounts>>) {
    while let Ok(path) = paths.recv().await {
        let counts = count_one(path).await;
        if out.send(counts).await.is_err() {
            return;
        }
    }
}

async fn count_one(path: PathBuf) -> io::Result<FileCounts> {
    let file = goro::fs::File::open(&path).await?;
    let mut reader = BufReader::new(file);
    let (mut lines, mut words, mut bytes) = (0, 0, 0);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).await?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        lines += u64::from(line.ends_with(b"\n"));
        words += line
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .count() as u64;
    }
    Ok(FileCounts {
        path,
        lines,
        words,
        bytes,
    })
}

/// Stage 3's output: `path<TAB>lines<TAB>words<TAB>bytes` per file, then
/// a `total` line.
pub async fn write_report(to: &Path, counts: &[FileCounts]) -> io::Result<()> {
    let mut out = BufWriter::new(goro::fs::File::create(to).await?);
    let (mut l, mut w, mut b) = (0, 0, 0);
    for c in counts {
        let row = format!(
            "{}\t{}\t{}\t{}\n",
            c.path.display(),
            c.lines,
            c.words,
            c.bytes
        );
        out.write_all(row.as_bytes()).await?;
        (l, w, b) = (l + c.lines, w + c.words, b + c.bytes);
    }
    out.write_all(format!("total\t{l}\t{w}\t{b}\n").as_bytes())
        .await?;
    out.flush().await?;
    out.into_inner().sync_all().await
}

/// 200 small text files in 10 directories under the temporary directory.
async fn make_demo_tree() -> io::Result<PathBuf> {
    let root = std::env::temp_dir().join(format!("file_pipeline-demo-{}", std::process::id()));
    for d in 0..10 {
        let dir = root.join(format!("dir{d}"));
        goro::fs::create_dir_all(&dir).await?;
        for f in 0..20 {
            let text = "the quick brown fox jumps over the lazy dog\n".repeat(d * 20 + f + 1);
            goro::fs::write(dir.join(format!("file{f}.txt")), text).await?;
        }
    }
    Ok(root)
}

//! The closing table of a bench with named peers: per runtime the median of
//! each measure over its rounds, then goro's value over this row's for the
//! measures that have a ratio column.

use crate::stats::median;

/// One measure of a round's result `R`: its column heading, how it is read
/// from a round and how its median prints, and the heading of its
/// `goro ÷ this` column if it has one.
#[derive(Debug, Clone, Copy)]
pub struct Measure<R> {
    /// The column heading.
    pub head: &'static str,
    /// The measure's value in one round.
    pub value: fn(&R) -> f64,
    /// How a median prints (with its unit).
    pub show: fn(f64) -> String,
    /// Whether a `goro ÷ this` column follows (headed with `head`).
    pub ratio: bool,
}

impl<R> Measure<R> {
    /// A measure with a `goro ÷ this` column.
    pub fn with_ratio(head: &'static str, value: fn(&R) -> f64, show: fn(f64) -> String) -> Self {
        Measure {
            head,
            value,
            show,
            ratio: true,
        }
    }

    /// A measure shown without a ratio column.
    pub fn plain(head: &'static str, value: fn(&R) -> f64, show: fn(f64) -> String) -> Self {
        Measure {
            head,
            value,
            show,
            ratio: false,
        }
    }
}

/// Prints `title`, then a markdown table: one row per runtime in `rows`
/// that has rounds (its name, then the median of each measure over its
/// rounds), and the ratio columns against the row named `goro` (`-`
/// without one).
pub fn print_medians_vs_goro<R>(
    title: &str,
    first_head: &str,
    measures: &[Measure<R>],
    rows: &[(&str, Vec<R>)],
) {
    let medians: Vec<(&str, Vec<f64>)> = rows
        .iter()
        .filter(|(_, rounds)| !rounds.is_empty())
        .map(|(name, rounds)| {
            let per_measure = measures
                .iter()
                .map(|m| median(&rounds.iter().map(m.value).collect::<Vec<_>>()));
            (*name, per_measure.collect())
        })
        .collect();
    let goro = medians.iter().find(|(n, _)| *n == "goro").map(|(_, m)| m);
    let ratios: Vec<(usize, String)> = measures
        .iter()
        .enumerate()
        .filter(|(_, m)| m.ratio)
        .map(|(i, m)| (i, format!("goro ÷ this, {}", m.head)))
        .collect();
    println!("\n{title}\n");
    let heads: Vec<&str> = std::iter::once(first_head)
        .chain(measures.iter().map(|m| m.head))
        .chain(ratios.iter().map(|(_, r)| r.as_str()))
        .collect();
    println!("| {} |", heads.join(" | "));
    println!("|{}", "---|".repeat(heads.len()));
    for (name, m) in &medians {
        let mut cells: Vec<String> = vec![(*name).to_owned()];
        cells.extend(
            measures
                .iter()
                .zip(m)
                .map(|(measure, v)| (measure.show)(*v)),
        );
        cells.extend(ratios.iter().map(|(i, _)| match goro {
            Some(g) => format!("{:.2}x", g[*i] / m[*i]),
            None => "-".to_owned(),
        }));
        println!("| {} |", cells.join(" | "));
    }
}

/// Shows a value as a whole number.
pub fn whole(v: f64) -> String {
    format!("{v:.0}")
}

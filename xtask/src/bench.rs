//! `cargo xtask bench`: runs the criterion benchmarks and prints two tables.
//!
//! - The hot path (`cargo bench -p auth-core --bench token`): the cached
//!   `CachedTokenProvider::token()` against its floor, `ArcSwap::load_full` of an
//!   `Arc<Token>`, at 1 and 2 threads.
//! - A token fetch (`cargo bench -p auth-easyship --bench fetch`):
//!   `auth_easyship::Client::refresh` against its floor, a raw `reqwest` POST of the same
//!   JSON body and a `serde_json` parse into a struct, with the same `reqwest::Client`
//!   and loopback server.
//!
//! - Many subjects (`cargo bench -p auth-core --bench many`): `TokenCache` at 1,000 and
//!   10,000 subjects (`--many-sizes` for others, e.g. `1000,10000,100000`) against a
//!   local token endpoint: memory per subject, `token()` for a random subject against one
//!   provider and a `HashMap`/`quick_cache` floor, store and cold misses at full capacity,
//!   a cached call's p99 during misses, the refresh histogram's peak second.
//!
//! Each measured figure is compared with its floor measured in the same run.
//! Figures are criterion's median estimates, read from `target/criterion/*/new/estimates.json`.
//! With `--runs N` the suite runs N times (a shared virtual machine drifts between runs)
//! and the table ends with the median of each column over the runs.

use std::path::Path;
use std::process::Command;

use crate::{Result, workspace_root};

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only print the table from the last run, without running the benchmarks.
    #[arg(long)]
    no_run: bool,
    /// Run the suite this many times and also print the median over the runs.
    #[arg(
        long,
        default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..=20),
        conflicts_with = "no_run"
    )]
    runs: u32,
    /// Subjects of the many-subject table, comma-separated (100,000 takes about a minute
    /// more per run and 400 MB).
    #[arg(long, default_value = "1000,10000")]
    many_sizes: String,
    /// Only the many-subject table (skips the criterion benchmarks).
    #[arg(long)]
    many_only: bool,
}

/// One table row: a measured benchmark and its floor in one run, in nanoseconds.
#[derive(Debug, Clone, Copy)]
struct Row {
    floor: f64,
    token: f64,
    floor_best: f64,
    token_best: f64,
}

/// A table: one row per criterion group (and run), each comparing `measured` with `floor`.
struct Table {
    /// The first column's name and the columns' titles.
    header: &'static str,
    /// `(criterion group, label of its row)`.
    groups: &'static [(&'static str, &'static str)],
    floor: &'static str,
    measured: &'static str,
}

const TABLES: [Table; 2] = [
    Table {
        header: "| threads | floor: ArcSwap::load_full | CachedTokenProvider::token() | ratio | best sample: floor | best sample: token() | ratio |",
        groups: &[("hot_path_1_thread", "1"), ("hot_path_2_threads", "2")],
        floor: "arcswap_load_full",
        measured: "provider_token",
    },
    Table {
        header: "| token fetch, loopback | floor: raw reqwest POST + serde_json | auth_easyship::Client::refresh | ratio | best sample: raw | best sample: refresh() | ratio |",
        groups: &[("token_fetch", "Easyship refresh")],
        floor: "raw_reqwest",
        measured: "easyship_refresh",
    },
];

pub(crate) fn run(args: &Args) -> Result<()> {
    let root = workspace_root();
    let criterion = root.join("target").join("criterion");
    // rows[table][group]: one Row per run.
    let mut rows: Vec<Vec<Vec<Row>>> = TABLES
        .iter()
        .map(|t| vec![Vec::new(); t.groups.len()])
        .collect();
    let mut failure = None;
    // many[run]: the `@many` rows of one run of the many-subject bench.
    let mut many: Vec<Vec<serde_json::Value>> = Vec::new();
    let many_file = root.join("target").join("many-subjects.jsonl");
    if args.no_run
        && let Ok(text) = std::fs::read_to_string(&many_file)
    {
        // One line per run: the JSON rows of that run.
        many = text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
    }
    for _ in 0..args.runs {
        if !args.no_run {
            let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .current_dir(&root)
                .args(["bench", "-p", "auth-core", "--bench", "many"])
                .env("MANY_SIZES", &args.many_sizes)
                .stderr(std::process::Stdio::inherit())
                .output()?;
            let text = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() {
                failure = Some("cargo bench --bench many failed");
                break;
            }
            many.push(many_rows(&text));
            // Every run so far, so that `--no-run` reprints the whole table.
            let runs: Vec<String> = many
                .iter()
                .map(|rows| serde_json::Value::from(rows.clone()).to_string())
                .collect();
            std::fs::write(&many_file, runs.join("\n"))?;
        }
        if args.many_only {
            continue;
        }
        if !args.no_run {
            // One cargo command for both benchmarks: one build, one lock.
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .current_dir(&root)
                .args([
                    "bench",
                    "-p",
                    "auth-core",
                    "-p",
                    "auth-easyship",
                    "--bench",
                    "token",
                    "--bench",
                    "fetch",
                ])
                .status()?;
            if !status.success() {
                // Still print the runs that completed.
                failure = Some("cargo bench failed");
                break;
            }
        }
        for (table, rows) in TABLES.iter().zip(&mut rows) {
            for ((group, _), rows) in table.groups.iter().zip(rows) {
                rows.push(Row {
                    floor: median_ns(&criterion, group, table.floor)?,
                    token: median_ns(&criterion, group, table.measured)?,
                    floor_best: best_ns(&criterion, group, table.floor)?,
                    token_best: best_ns(&criterion, group, table.measured)?,
                });
            }
        }
    }
    for (table, rows) in TABLES.iter().zip(&rows) {
        if !rows[0].is_empty() {
            print_table(table, rows);
        }
    }
    if !many.is_empty() {
        print_many(&many);
    }
    match failure {
        Some(failure) => Err(failure.into()),
        None => Ok(()),
    }
}

/// The `@many {json}` lines of the many-subject bench's output.
fn many_rows(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("@many "))
        .filter_map(|json| serde_json::from_str(json).ok())
        .collect()
}

/// Prints the many-subject table: per size, one row per run, then the medians over the
/// runs (ratios are taken of the medians).
fn print_many(runs: &[Vec<serde_json::Value>]) {
    println!();
    println!(
        "| subjects | memory/subject (freed with the providers + with the store) | token(), random subject: 1 / 8 tasks | one provider: 1 / 8 tasks | ratio | floor: HashMap / quick_cache, 1 task | ratio to quick_cache | store miss at capacity: p50 / p99 | cold miss (1 token request): p50 / p99 | cached call during misses: p99 / max (idle: p99 / max) | refresh peak second: 60 s / 120 s / 300 s / 600 s / 3600 s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut sizes: Vec<u64> = runs
        .iter()
        .flatten()
        .filter_map(|row| row.get("subjects")?.as_u64())
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    for size in sizes {
        let rows: Vec<&serde_json::Value> = runs
            .iter()
            .flatten()
            .filter(|row| row.get("subjects").and_then(|s| s.as_u64()) == Some(size))
            .collect();
        for (run, row) in rows.iter().enumerate() {
            let field = |name: &str| row.get(name).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
            let label = if rows.len() > 1 {
                format!("{size} (run {})", run + 1)
            } else {
                size.to_string()
            };
            print_many_row(&label, &field);
        }
        if rows.len() > 1 {
            let field = |name: &str| {
                median(
                    rows.iter()
                        .filter_map(|row| row.get(name)?.as_f64())
                        .collect(),
                )
            };
            print_many_row(&format!("{size} (median of {} runs)", rows.len()), &field);
        }
    }
}

fn print_many_row(label: &str, field: &dyn Fn(&str) -> f64) {
    let kib = |name: &str| field(name) / 1024.0;
    println!(
        "| {label} | {:.2} KiB ({:.2} + {:.2}) | {} / {} | {} / {} | {:.1}x / {:.1}x | {} / {} | {:.1}x | {} / {} | {} / {} | {} / {} ({} / {}) | {:.2}% / {:.2}% / {:.2}% / {:.2}% / {:.2}% |",
        kib("bytes_per_subject"),
        kib("provider_bytes"),
        kib("store_bytes"),
        time(field("hit_1")),
        time(field("hit_8")),
        time(field("single_1")),
        time(field("single_8")),
        field("hit_1") / field("single_1"),
        field("hit_8") / field("single_8"),
        time(field("hashmap_1")),
        time(field("quick_cache_1")),
        field("hit_1") / field("quick_cache_1"),
        time(field("store_miss_median_us") * 1e3),
        time(field("store_miss_p99_us") * 1e3),
        time(field("cold_miss_median_us") * 1e3),
        time(field("cold_miss_p99_us") * 1e3),
        time(field("cached_during_misses_p99_ns")),
        time(field("cached_during_misses_max_us") * 1e3),
        time(field("cached_idle_p99_ns")),
        time(field("cached_idle_max_us") * 1e3),
        field("refresh_peak_60s"),
        field("refresh_peak_120s"),
        field("refresh_peak_300s"),
        field("refresh_peak_600s"),
        field("refresh_peak_3600s"),
    );
}

/// Prints one row per group and run, then the median of each column over the runs.
fn print_table(table: &Table, rows: &[Vec<Row>]) {
    let runs = rows[0].len();
    println!();
    println!("{}", table.header);
    println!("|---|---|---|---|---|---|---|");
    for (run, _) in rows[0].iter().enumerate() {
        for ((_, label), rows) in table.groups.iter().zip(rows) {
            let label = if runs > 1 {
                format!("{label} (run {})", run + 1)
            } else {
                label.to_string()
            };
            print_row(&label, rows[run]);
        }
    }
    if runs > 1 {
        for ((_, label), rows) in table.groups.iter().zip(rows) {
            print_row(
                &format!("{label} (median of {runs} runs)"),
                median_row(rows),
            );
        }
    }
}

fn print_row(label: &str, row: Row) {
    println!(
        "| {label} | {} | {} | {:.2}x | {} | {} | {:.2}x |",
        time(row.floor),
        time(row.token),
        row.token / row.floor,
        time(row.floor_best),
        time(row.token_best),
        row.token_best / row.floor_best
    );
}

/// A time in nanoseconds, shown in ns below a microsecond, in ms from a millisecond and
/// in µs between.
fn time(ns: f64) -> String {
    if ns < 1000.0 {
        format!("{ns:.1} ns")
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} µs", ns / 1000.0)
    }
}

/// The median of each column over the runs (ratios are then taken of the medians).
fn median_row(rows: &[Row]) -> Row {
    let column = |f: fn(&Row) -> f64| median(rows.iter().map(f).collect());
    Row {
        floor: column(|r| r.floor),
        token: column(|r| r.token),
        floor_best: column(|r| r.floor_best),
        token_best: column(|r| r.token_best),
    }
}

/// The median of `values` (the mean of the middle two for an even count); NaN if empty.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The fastest of criterion's samples (time per iteration), in nanoseconds: what the code
/// costs when the virtual machine is not interfering.
fn best_ns(criterion: &Path, group: &str, bench: &str) -> Result<f64> {
    let path = criterion
        .join(group)
        .join(bench)
        .join("new")
        .join("sample.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (run `cargo xtask bench` without --no-run)",
            path.display()
        )
    })?;
    best_from_samples(&text).ok_or_else(|| format!("{}: no samples", path.display()).into())
}

/// The smallest `times[i] / iters[i]` of criterion's `sample.json`.
fn best_from_samples(json: &str) -> Option<f64> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let iters = value.get("iters")?.as_array()?;
    let times = value.get("times")?.as_array()?;
    iters
        .iter()
        .zip(times)
        .filter_map(|(i, t)| Some(t.as_f64()? / i.as_f64()?))
        .min_by(f64::total_cmp)
}

/// Criterion's median estimate for one benchmark, in nanoseconds.
fn median_ns(criterion: &Path, group: &str, bench: &str) -> Result<f64> {
    let path = criterion
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (run `cargo xtask bench` without --no-run)",
            path.display()
        )
    })?;
    median_from_estimates(&text)
        .ok_or_else(|| format!("{}: no median.point_estimate", path.display()).into())
}

/// Extracts `median.point_estimate` from criterion's `estimates.json` (the median is
/// steadier than the mean on a shared virtual machine).
fn median_from_estimates(json: &str) -> Option<f64> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    value.get("median")?.get("point_estimate")?.as_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_sample_is_the_smallest_time_per_iteration() {
        let json =
            r#"{"sampling_mode":"Linear","iters":[10.0,20.0,30.0],"times":[200.0,300.0,900.0]}"#;
        assert_eq!(best_from_samples(json), Some(15.0));
        assert_eq!(best_from_samples(r#"{"iters":[],"times":[]}"#), None);
    }

    #[test]
    fn times_switch_to_microseconds_at_one() {
        assert_eq!(time(12.34), "12.3 ns");
        assert_eq!(time(999.9), "999.9 ns");
        assert_eq!(time(19_874.0), "19.87 µs");
        assert_eq!(time(4_053_190.0), "4.05 ms");
    }

    #[test]
    fn many_rows_are_the_json_lines_of_the_bench() {
        let out = "| table |\n@many {\"subjects\":1000,\"hit_1\":12.5}\n@many not json\n";
        let rows = many_rows(out);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["subjects"].as_u64(), Some(1000));
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }

    #[test]
    fn reads_the_median_point_estimate() {
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":9.9,"upper_bound":10.4},"point_estimate":10.1,"standard_error":0.1},"median":{"point_estimate":10.0}}"#;
        assert_eq!(median_from_estimates(json), Some(10.0));
    }
}

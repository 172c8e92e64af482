//! `cargo xtask bench`: runs the criterion benchmarks and prints the hot-path table.
//!
//! The table compares the cached `CachedTokenProvider::token()` with its floor,
//! `ArcSwap::load_full` of an `Arc<Token>`, measured in the same run, at 1 and 2 threads.
//! Figures are criterion's median estimates, read from `target/criterion/*/new/estimates.json`.

use std::path::Path;
use std::process::Command;

use crate::{Result, workspace_root};

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only print the table from the last run, without running the benchmarks.
    #[arg(long)]
    no_run: bool,
}

const GROUPS: [(&str, &str); 2] = [("hot_path_1_thread", "1"), ("hot_path_2_threads", "2")];

pub(crate) fn run(args: &Args) -> Result<()> {
    let root = workspace_root();
    if !args.no_run {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(&root)
            .args(["bench", "-p", "auth-core", "--bench", "token"])
            .status()?;
        if !status.success() {
            return Err("cargo bench failed".into());
        }
    }
    let criterion = root.join("target").join("criterion");
    println!();
    println!(
        "| threads | floor: ArcSwap::load_full | CachedTokenProvider::token() | ratio | best sample: floor | best sample: token() | ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (group, threads) in GROUPS {
        let floor = median_ns(&criterion, group, "arcswap_load_full")?;
        let token = median_ns(&criterion, group, "provider_token")?;
        let floor_best = best_ns(&criterion, group, "arcswap_load_full")?;
        let token_best = best_ns(&criterion, group, "provider_token")?;
        println!(
            "| {threads} | {floor:.1} ns | {token:.1} ns | {:.2}x | {floor_best:.1} ns | {token_best:.1} ns | {:.2}x |",
            token / floor,
            token_best / floor_best
        );
    }
    Ok(())
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
    fn reads_the_median_point_estimate() {
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":9.9,"upper_bound":10.4},"point_estimate":10.1,"standard_error":0.1},"median":{"point_estimate":10.0}}"#;
        assert_eq!(median_from_estimates(json), Some(10.0));
    }
}

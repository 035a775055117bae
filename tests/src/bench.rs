//! What the benchmarks share: CPU time of this process's threads, and
//! percentiles of measured times.

use anyhow::Result;
use std::time::Duration;

/// CPU time, in nanoseconds, of the threads of this process whose name (as
/// `/proc/self/task/*/comm` gives it, cut at 15 bytes) `counts` keeps, from
/// their `schedstat`.
pub fn threads_cpu_ns(counts: impl Fn(&str) -> bool) -> Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task")? {
        let dir = task?.path();
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        if !counts(comm.trim()) {
            continue;
        }
        if let Ok(stat) = std::fs::read_to_string(dir.join("schedstat")) {
            total += stat
                .split_whitespace()
                .next()
                .and_then(|ns| ns.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Ok(total)
}

/// The `p` quantile (0..1) of `sorted` times, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

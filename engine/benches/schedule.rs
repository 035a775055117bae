//! Scheduler benchmark: a plan of 10,000 entries over five canvases, timing what
//! the scheduler and the API ask of it. Run with
//! `cargo bench -p limelight-engine --bench schedule` (`-- --entries N` to change
//! the size).
//!
//! The entries mix daily clock times, weekly days, sunset-relative starts with
//! exceptions, and one-offs, with priorities spread from 0 to 1000, all anchored
//! within the last 60 days (the recurrence crate walks a rule from its first day).

#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use chrono::{DateTime, Days, Utc};
use limelight_engine::Site;
use limelight_engine::bench::{Plan, PlanEntry, Rule};
use limelight_shared::ids::{CanvasId, ScheduleId};
use limelight_shared::schedule::ScheduleSpec;
use std::time::{Duration, Instant};

/// A small deterministic generator (64-bit LCG), so every run plans the same entries.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn entry(i: usize, rng: &mut Lcg, today: chrono::NaiveDate) -> String {
    let first = today - Days::new(rng.next(60));
    let targets = match rng.next(3) {
        0 => "\"all\"".to_owned(),
        _ => format!("[{}]", 1 + rng.next(5)),
    };
    let hour = 17 + rng.next(6);
    let minute = rng.next(4) * 15;
    let (start, end, rrule) = match i % 4 {
        0 => (
            format!(r#"{{"date": "{first}", "time": "{hour:02}:{minute:02}"}}"#),
            r#"{"duration_s": 3600}"#.to_owned(),
            r#""rrule": "FREQ=DAILY","#.to_owned(),
        ),
        1 => (
            format!(r#"{{"date": "{first}", "time": "{hour:02}:{minute:02}"}}"#),
            r#"{"time": "23:30"}"#.to_owned(),
            r#""rrule": "FREQ=WEEKLY;BYDAY=FR,SA","#.to_owned(),
        ),
        2 => (
            format!(
                r#"{{"date": "{first}", "sun": "sunset", "offset_minutes": {}}}"#,
                rng.next(60) as i64 - 30
            ),
            r#"{"sun": "sunrise"}"#.to_owned(),
            format!(
                r#""rrule": "FREQ=DAILY", "exdates": ["{}"],"#,
                today + Days::new(rng.next(7))
            ),
        ),
        _ => (
            format!(
                r#"{{"date": "{}", "time": "{hour:02}:{minute:02}"}}"#,
                today + Days::new(rng.next(14))
            ),
            r#"{"duration_s": 5400}"#.to_owned(),
            String::new(),
        ),
    };
    format!(
        r#"{{"name": "entry {i}", "targets": {targets}, "play": {{"scene": "Look {}"}},
            "start": {start}, "end": {end}, {rrule} "priority": {}}}"#,
        rng.next(12),
        rng.next(1001)
    )
}

/// Resident set size, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4)
}

/// Timings of `runs` calls of `f`: the first (cold: nothing kept from an earlier
/// question), then the median and maximum of the others (warm).
struct Timing {
    cold: Duration,
    median: Duration,
    max: Duration,
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Timing, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(2) {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    let cold = times.remove(0);
    times.sort();
    let timing = Timing {
        cold,
        median: times[times.len() / 2],
        max: times[times.len() - 1],
    };
    (timing, last.unwrap_or_else(f))
}

impl std::fmt::Display for Timing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cold {:8.2} ms  warm median {:8.2} ms  max {:8.2} ms",
            ms(self.cold),
            ms(self.median),
            ms(self.max)
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let entries = args
        .iter()
        .position(|a| a == "--entries")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(10_000), |s| s.parse::<usize>())?;
    let venue = Site::new(chrono_tz::Europe::Paris, 48.8584, 2.2945)?;
    let now: DateTime<Utc> = Utc::now();
    let today = now.with_timezone(&venue.tz).date_naive();
    let mut rng = Lcg(42);
    let specs: Vec<ScheduleSpec> = (0..entries)
        .map(|i| serde_json::from_str(&entry(i, &mut rng, today)))
        .collect::<Result<_, _>>()?;

    let before = rss_kib();
    let started = Instant::now();
    let mut plan = Plan::new(venue);
    plan.set_canvases((1..=5).map(CanvasId));
    for (i, spec) in specs.into_iter().enumerate() {
        let rule = Rule::new(&spec, &venue)?;
        plan.put_entry(PlanEntry {
            id: ScheduleId(i as i64 + 1),
            spec,
            rule,
        });
    }
    let build = started.elapsed();
    let memory = rss_kib().saturating_sub(before);

    // Each question starts cold: a fresh copy of the plan keeps nothing.
    let fresh = || plan.clone();
    let mut p = fresh();
    let (next_t, next) = time(20, || p.next_change(now));
    let week = now + chrono::Duration::days(7);
    p = fresh();
    let (tl_t, timeline) = time(10, || p.timeline(now, week));
    p = fresh();
    let (pv_t, _) = time(20, || p.preview(now));
    p = fresh();
    let (day_t, (_, day)) = time(10, || p.steps(now, now + chrono::Duration::hours(24)));

    println!("entries: {entries} over 5 canvases");
    println!(
        "build (parse rules, plan): {:.1} ms; plan memory (RSS growth): {:.1} MiB",
        ms(build),
        memory as f64 / 1024.0
    );
    println!(
        "next change:           {next_t}  (next at {})",
        next.map_or("never".into(), |t| t.to_rfc3339())
    );
    println!(
        "7-day timeline:        {tl_t}  ({} changes)",
        timeline.changes.len()
    );
    println!("preview (plays now):   {pv_t}");
    println!("24-hour firing window: {day_t}  ({} changes)", day.len());
    let before = rss_kib();
    let warm = fresh();
    warm.steps(now, now + chrono::Duration::hours(24));
    println!(
        "occurrences kept for 10 days (RSS growth): {:.1} MiB",
        rss_kib().saturating_sub(before) as f64 / 1024.0
    );
    Ok(())
}

//! Reading `/metrics`. The recorder is the process's, shared by every server a
//! test binary starts, so tests read a series as a change from a baseline taken
//! just before the step they check, never as an absolute value.

/// The sum of every sample of `series` in Prometheus text: a name
/// (`limelight_room_resyncs_total`, every label set) or a name with its opening
/// label text (`limelight_schedule_changes_total{cause="resume"`).
pub fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(series)
                .is_some_and(|rest| rest.starts_with([' ', '{', ',', '}']))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::metric;

    #[test]
    fn series_are_summed_over_their_labels_and_never_match_a_longer_name() {
        let text = "# TYPE a_total counter\na_total{cause=\"start\"} 2\na_total{cause=\"resume\"} 3\na_total_other 9\nb 1\n";
        assert_eq!(metric(text, "a_total"), 5);
        assert_eq!(metric(text, "a_total{cause=\"resume\""), 3);
        assert_eq!(metric(text, "b"), 1);
        assert_eq!(metric(text, "c"), 0);
    }
}

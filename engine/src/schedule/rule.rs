//! When a schedule entry plays: its start, end and recurrence compiled into a
//! [`Rule`] that lists the entry's occurrences over any range, in UTC.
//!
//! Recurrence picks days (and, for clock-time starts, hours) with the `rrule` crate,
//! anchored at the start in the venue's zone, so "every day at 20:00" stays 20:00
//! local across daylight-saving changes. A sun-relative start takes each recurring
//! day's sun event plus the offset. EXDATE and RDATE are local dates. Local times
//! that do not exist (the hour skipped in spring) move forward by the gap, and times
//! that happen twice (the hour repeated in autumn) take the first, as RFC 5545 says.

use super::sun::{self, Site};
use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use limelight_shared::schedule::{ClockTime, DayTime, End, ScheduleSpec, Start};
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};
use std::collections::BTreeSet;

/// Most occurrences one entry may have in a range asked of it: a guard against
/// rules (say, hourly for years) whose listing would take over the scheduler.
pub(super) const MAX_OCCURRENCES: usize = 20_000;

/// One occurrence of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Occurrence {
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends (after `start`).
    pub end: DateTime<Utc>,
}

/// Why an entry's timing was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub String);

/// An entry's timing, compiled.
#[derive(Debug, Clone)]
pub struct Rule {
    start: Start,
    end: End,
    set: Option<RRuleSet>,
    exdates: BTreeSet<NaiveDate>,
    rdates: BTreeSet<NaiveDate>,
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
    /// Longest an occurrence can last: how far back a range query must look.
    longest: chrono::Duration,
}

impl Rule {
    /// Compile the timing of `spec` for `venue`.
    pub fn new(spec: &ScheduleSpec, venue: &Site) -> Result<Self, RuleError> {
        if let (Some(from), Some(until)) = (spec.valid_from, spec.valid_until)
            && until < from
        {
            return Err(RuleError(format!(
                "valid_until ({until}) is before valid_from ({from})"
            )));
        }
        if let Some(until) = spec.valid_until
            && until < spec.start.date
        {
            return Err(RuleError(format!(
                "valid_until ({until}) is before the start date ({})",
                spec.start.date
            )));
        }
        let sun_start = matches!(spec.start.at, DayTime::Sun { .. });
        let set = spec
            .rrule
            .as_deref()
            .map(|text| recurrence(text, &spec.start, sun_start, venue))
            .transpose()?;
        if set.is_none() && !spec.exdates.is_empty() {
            return Err(RuleError("exdates need an rrule to skip days of".into()));
        }
        if let End::At(DayTime::Clock(t)) = spec.end
            && let DayTime::Clock(s) = spec.start.at
            && t == s
        {
            return Err(RuleError(
                "end time equals the start time: use duration_s for a whole day".into(),
            ));
        }
        let longest = match spec.end {
            End::After { duration_s } => chrono::Duration::seconds(i64::from(duration_s)),
            // The next such time of day is at most a day and the DST hour away, or a
            // day plus the largest sun offset for a sun event.
            End::At(_) => chrono::Duration::hours(50),
        };
        Ok(Self {
            start: spec.start,
            end: spec.end,
            set,
            exdates: spec.exdates.iter().copied().collect(),
            rdates: spec.rdates.iter().copied().collect(),
            valid_from: spec.valid_from,
            valid_until: spec.valid_until,
            longest,
        })
    }

    /// Occurrences that overlap `[from, to)`, in start order.
    pub fn occurrences(
        &self,
        venue: &Site,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<Occurrence> {
        let mut out = Vec::new();
        if to <= from {
            return out;
        }
        let earliest = from - self.longest;
        // Local days whose occurrences can start in [earliest, to): a day either side
        // covers any UTC offset and sun offset.
        let first_day = earliest.with_timezone(&venue.tz).date_naive() - Days::new(1);
        let last_day = to.with_timezone(&venue.tz).date_naive() + Days::new(1);
        let push = |out: &mut Vec<Occurrence>, day: NaiveDate, start: DateTime<Utc>| {
            if self.excluded(day) || start >= to || start < earliest {
                return;
            }
            if let Some(end) = self.end_of(venue, start)
                && end > from
            {
                out.push(Occurrence { start, end });
            }
        };
        match &self.set {
            None => {
                if let Some(start) = self.start_on(venue, self.start.date) {
                    push(&mut out, self.start.date, start);
                }
            }
            Some(set) => {
                for t in set {
                    let local = t.naive_local();
                    let day = local.date();
                    if day > last_day || out.len() >= MAX_OCCURRENCES {
                        break;
                    }
                    if day < first_day {
                        continue;
                    }
                    let start = match self.start.at {
                        DayTime::Clock(_) => Some(t.with_timezone(&Utc)),
                        DayTime::Sun { .. } => self.start_on(venue, day),
                    };
                    if let Some(start) = start {
                        push(&mut out, day, start);
                    }
                }
            }
        }
        for &day in self.rdates.range(first_day..=last_day) {
            if let Some(start) = self.start_on(venue, day) {
                push(&mut out, day, start);
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Whether the day is skipped or outside the validity range.
    fn excluded(&self, day: NaiveDate) -> bool {
        self.exdates.contains(&day)
            || self.valid_from.is_some_and(|d| day < d)
            || self.valid_until.is_some_and(|d| day > d)
    }

    /// The start on local `day`.
    fn start_on(&self, venue: &Site, day: NaiveDate) -> Option<DateTime<Utc>> {
        match self.start.at {
            DayTime::Clock(t) => Some(local_to_utc(venue, day.and_time(t.time()))),
            DayTime::Sun {
                event,
                offset_minutes,
            } => venue
                .sun(day, event)
                .map(|t| t + chrono::Duration::minutes(i64::from(offset_minutes))),
        }
    }

    /// The end of the occurrence that starts at `start`.
    fn end_of(&self, venue: &Site, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.end {
            End::After { duration_s } => {
                Some(start + chrono::Duration::seconds(i64::from(duration_s)))
            }
            End::At(DayTime::Clock(t)) => next_clock_time(venue, t, start),
            End::At(DayTime::Sun {
                event,
                offset_minutes,
            }) => sun::next_after(
                venue,
                event,
                start,
                chrono::Duration::minutes(i64::from(offset_minutes)),
            ),
        }
    }
}

/// Parse and anchor the recurrence rule.
fn recurrence(
    text: &str,
    start: &Start,
    sun_start: bool,
    venue: &Site,
) -> Result<RRuleSet, RuleError> {
    let text = text.trim();
    let text = text.strip_prefix("RRULE:").unwrap_or(text);
    if text.contains('\n') || text.contains("DTSTART") {
        return Err(RuleError(
            "rrule is the RRULE value only (FREQ=…;…); the start comes from `start`".into(),
        ));
    }
    let rule: RRule<Unvalidated> = text
        .parse()
        .map_err(|e| RuleError(format!("rrule {text:?}: {e}")))?;
    match rule.get_freq() {
        Frequency::Minutely | Frequency::Secondly => {
            return Err(RuleError(
                "rrule: FREQ=MINUTELY and FREQ=SECONDLY are not supported; the finest is HOURLY"
                    .into(),
            ));
        }
        Frequency::Hourly if sun_start => {
            return Err(RuleError(
                "rrule: a sun-relative start happens once a day; FREQ=HOURLY needs a clock time"
                    .into(),
            ));
        }
        _ => {}
    }
    if sun_start
        && (!rule.get_by_hour().is_empty()
            || !rule.get_by_minute().is_empty()
            || !rule.get_by_second().is_empty())
    {
        return Err(RuleError(
            "rrule: BYHOUR, BYMINUTE and BYSECOND need a clock-time start".into(),
        ));
    }
    // A sun-relative entry recurs by days: anchor it at local noon, which always exists.
    let time = match start.at {
        DayTime::Clock(t) => t.time(),
        DayTime::Sun { .. } => NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default(),
    };
    let anchor = rrule::Tz::Tz(venue.tz)
        .from_local_datetime(&start.date.and_time(time))
        .earliest()
        .ok_or_else(|| {
            RuleError(format!(
                "the start {} {time} does not exist in {}",
                start.date,
                venue.tz.name()
            ))
        })?;
    rule.build(anchor)
        .map_err(|e| RuleError(format!("rrule {text:?}: {e}")))
}

/// A local date-time in the venue's zone as UTC: a time skipped by a DST change moves
/// forward by the gap; a time that happens twice takes the first.
pub fn local_to_utc(venue: &Site, local: NaiveDateTime) -> DateTime<Utc> {
    match venue.tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        chrono::LocalResult::None => {
            // Read with the offset in force before the gap (RFC 5545, 3.3.5); gaps
            // are at most a few hours.
            let before = local - chrono::Duration::hours(3);
            let offset = venue
                .tz
                .from_local_datetime(&before)
                .earliest()
                .map_or_else(
                    || venue.tz.offset_from_utc_datetime(&local).fix(),
                    |t| t.offset().fix(),
                );
            let seconds = i64::from(offset.local_minus_utc());
            Utc.from_utc_datetime(&(local - chrono::Duration::seconds(seconds)))
        }
    }
}

/// The first local clock time `t` strictly after `after`.
fn next_clock_time(venue: &Site, t: ClockTime, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let day = after.with_timezone(&venue.tz).date_naive();
    (0..3u64)
        .filter_map(|n| day.checked_add_days(Days::new(n)))
        .map(|d| local_to_utc(venue, d.and_time(t.time())))
        .find(|end| *end > after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn paris() -> Result<Site, String> {
        Site::new(chrono_tz::Europe::Paris, 48.8566, 2.3522)
    }

    fn entry(extra: &str) -> Result<ScheduleSpec, serde_json::Error> {
        serde_json::from_str(&format!(
            r#"{{"name": "e", "targets": "all", "play": {{"scene": "A"}}, "priority": 1, {extra}}}"#
        ))
    }

    fn utc(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
        Ok(DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc))
    }

    #[test]
    fn daily_at_eight_stays_eight_local_across_both_dst_changes()
    -> Result<(), Box<dyn std::error::Error>> {
        let venue = paris()?;
        let spec = entry(
            r#""start": {"date": "2026-03-01", "time": "20:00"}, "end": {"time": "23:00"},
               "rrule": "FREQ=DAILY""#,
        )?;
        let rule = Rule::new(&spec, &venue)?;
        // Spring: 29 March 2026 (CET to CEST). Autumn: 25 October 2026 (back to CET).
        for (from, to, starts) in [
            (
                "2026-03-28T00:00:00Z",
                "2026-03-31T00:00:00Z",
                [
                    "2026-03-28T19:00:00Z",
                    "2026-03-29T18:00:00Z",
                    "2026-03-30T18:00:00Z",
                ],
            ),
            (
                "2026-10-24T00:00:00Z",
                "2026-10-27T00:00:00Z",
                [
                    "2026-10-24T18:00:00Z",
                    "2026-10-25T19:00:00Z",
                    "2026-10-26T19:00:00Z",
                ],
            ),
        ] {
            let occ = rule.occurrences(&venue, utc(from)?, utc(to)?);
            let got: Vec<DateTime<Utc>> = occ.iter().map(|o| o.start).collect();
            let want = starts
                .iter()
                .map(|s| utc(s))
                .collect::<Result<Vec<_>, _>>()?;
            assert_eq!(got, want);
            for o in &occ {
                let (s, e) = (
                    o.start.with_timezone(&venue.tz),
                    o.end.with_timezone(&venue.tz),
                );
                assert_eq!((s.hour(), s.minute(), e.hour()), (20, 0, 23));
            }
        }
        Ok(())
    }

    #[test]
    fn exdates_rdates_and_validity_shape_the_days() -> Result<(), Box<dyn std::error::Error>> {
        let venue = paris()?;
        let spec = entry(
            r#""start": {"date": "2026-05-01", "time": "21:30"}, "end": {"duration_s": 3600},
               "rrule": "FREQ=WEEKLY;BYDAY=FR,SA", "exdates": ["2026-05-09"],
               "rdates": ["2026-05-13"], "valid_until": "2026-05-16""#,
        )?;
        let rule = Rule::new(&spec, &venue)?;
        let occ = rule.occurrences(
            &venue,
            utc("2026-04-01T00:00:00Z")?,
            utc("2026-06-01T00:00:00Z")?,
        );
        let days: Vec<String> = occ
            .iter()
            .map(|o| {
                o.start
                    .with_timezone(&venue.tz)
                    .format("%m-%d %H:%M")
                    .to_string()
            })
            .collect();
        assert_eq!(
            days,
            [
                "05-01 21:30",
                "05-02 21:30",
                "05-08 21:30",
                "05-13 21:30",
                "05-15 21:30",
                "05-16 21:30"
            ]
        );
        Ok(())
    }

    #[test]
    fn a_time_skipped_in_spring_moves_forward_by_the_gap() -> Result<(), Box<dyn std::error::Error>>
    {
        let venue = paris()?;
        let spec = entry(
            r#""start": {"date": "2026-03-29", "time": "02:30"}, "end": {"duration_s": 60}"#,
        )?;
        let occ = Rule::new(&spec, &venue)?.occurrences(
            &venue,
            utc("2026-03-28T00:00:00Z")?,
            utc("2026-03-30T00:00:00Z")?,
        );
        assert_eq!(
            occ.first().map(|o| o.start),
            Some(utc("2026-03-29T01:30:00Z")?)
        );
        Ok(())
    }

    #[test]
    fn an_end_before_the_start_time_ends_the_next_day() -> Result<(), Box<dyn std::error::Error>> {
        let venue = paris()?;
        let spec =
            entry(r#""start": {"date": "2026-07-01", "time": "22:00"}, "end": {"time": "02:00"}"#)?;
        let occ = Rule::new(&spec, &venue)?.occurrences(
            &venue,
            utc("2026-07-01T00:00:00Z")?,
            utc("2026-07-03T00:00:00Z")?,
        );
        assert_eq!(
            occ,
            [Occurrence {
                start: utc("2026-07-01T20:00:00Z")?,
                end: utc("2026-07-02T00:00:00Z")?
            }]
        );
        Ok(())
    }

    #[test]
    fn sunset_entries_follow_the_sun_day_by_day() -> Result<(), Box<dyn std::error::Error>> {
        let venue = paris()?;
        let spec = entry(
            r#""start": {"date": "2026-06-01", "sun": "sunset", "offset_minutes": -10},
               "end": {"sun": "sunrise"}, "rrule": "FREQ=DAILY""#,
        )?;
        let rule = Rule::new(&spec, &venue)?;
        let occ = rule.occurrences(
            &venue,
            utc("2026-06-10T00:00:00Z")?,
            utc("2026-06-12T00:00:00Z")?,
        );
        assert_eq!(occ.len(), 3, "{occ:?}"); // the night of the 9th is still running
        for o in &occ {
            let day = o.start.with_timezone(&venue.tz).date_naive();
            let sunset = venue
                .sun(day, limelight_shared::schedule::SunEvent::Sunset)
                .ok_or("sunset")?;
            assert_eq!(o.start, sunset - chrono::Duration::minutes(10));
            let sunrise = venue
                .sun(
                    day + Days::new(1),
                    limelight_shared::schedule::SunEvent::Sunrise,
                )
                .ok_or("sunrise")?;
            assert_eq!(o.end, sunrise);
        }
        Ok(())
    }

    #[test]
    fn invalid_rules_are_refused_with_a_reason() -> Result<(), Box<dyn std::error::Error>> {
        let venue = paris()?;
        for (extra, needle) in [
            (r#""rrule": "FREQ=SOMETIMES""#, "rrule"),
            (r#""rrule": "FREQ=MINUTELY""#, "MINUTELY"),
            (r#""rrule": "FREQ=DAILY;BYHOUR=25""#, "rrule"),
            (
                r#""rrule": "DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY""#,
                "RRULE value only",
            ),
            (
                r#""rrule": "FREQ=DAILY", "valid_from": "2026-05-02", "valid_until": "2026-05-01""#,
                "valid_until",
            ),
            (r#""exdates": ["2026-05-02"]"#, "exdates"),
        ] {
            let spec = entry(&format!(
                r#""start": {{"date": "2026-05-01", "time": "20:00"}}, "end": {{"duration_s": 60}}, {extra}"#
            ))?;
            let err = Rule::new(&spec, &venue)
                .err()
                .ok_or(format!("{extra} accepted"))?;
            assert!(err.0.contains(needle), "{extra}: {err}");
        }
        let sun_hourly = entry(
            r#""start": {"date": "2026-05-01", "sun": "sunset"}, "end": {"duration_s": 60}, "rrule": "FREQ=HOURLY""#,
        )?;
        assert!(Rule::new(&sun_hourly, &venue).is_err());
        Ok(())
    }
}

//! Sunrise, sunset and civil twilight at the venue, after NOAA's solar calculator
//! (the equations of its "General Solar Position" spreadsheet: Meeus's low-precision
//! sun with the equation of time). Accurate to well under a minute between the polar
//! circles.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use limelight_shared::schedule::SunEvent;

/// Where the venue is on the globe, and its time zone (for sun times and local days).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Site {
    /// The venue's time zone (IANA name, such as `Europe/Paris`).
    pub tz: Tz,
    /// Degrees north (negative south).
    pub latitude: f64,
    /// Degrees east (negative west).
    pub longitude: f64,
}

impl Site {
    /// A venue, refusing coordinates off the globe.
    pub fn new(tz: Tz, latitude: f64, longitude: f64) -> Result<Self, String> {
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(format!(
                "latitude must be between -90 and 90, got {latitude}"
            ));
        }
        if !(-180.0..=180.0).contains(&longitude) {
            return Err(format!(
                "longitude must be between -180 and 180, got {longitude}"
            ));
        }
        Ok(Self {
            tz,
            latitude,
            longitude,
        })
    }

    /// When `event` happens on the venue's local `date`; `None` when it does not
    /// happen that day (midnight sun or polar night).
    pub fn sun(&self, date: NaiveDate, event: SunEvent) -> Option<DateTime<Utc>> {
        // The formula works on UTC days; the event of local day `date` is the one of
        // the neighbouring UTC days that falls on `date` in the venue's zone.
        let candidates = [date.pred_opt(), Some(date), date.succ_opt()];
        candidates
            .into_iter()
            .flatten()
            .filter_map(|utc_day| event_on_utc_day(utc_day, self.latitude, self.longitude, event))
            .find(|t| t.with_timezone(&self.tz).date_naive() == date)
    }
}

/// Zenith angle of the sun's centre at each event, in degrees: 90.833 for sunrise and
/// sunset (34' of refraction plus 16' of the sun's radius), 96 for civil twilight.
fn zenith(event: SunEvent) -> f64 {
    match event {
        SunEvent::Sunrise | SunEvent::Sunset => 90.833,
        SunEvent::CivilDawn | SunEvent::CivilDusk => 96.0,
    }
}

fn rising(event: SunEvent) -> bool {
    matches!(event, SunEvent::Sunrise | SunEvent::CivilDawn)
}

/// Julian day at 0h UTC of `day`.
fn julian_day(day: NaiveDate) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    2_440_587.5 + day.signed_duration_since(epoch).num_days() as f64
}

/// The sun's declination (degrees) and the equation of time (minutes) at Julian day
/// `jd`.
fn declination_and_equation_of_time(jd: f64) -> (f64, f64) {
    let t = (jd - 2_451_545.0) / 36_525.0;
    let l0 = (280.466_46 + t * (36_000.769_83 + 0.000_303_2 * t)).rem_euclid(360.0);
    let m = 357.529_11 + t * (35_999.050_29 - 0.000_153_7 * t);
    let e = 0.016_708_634 - t * (0.000_042_037 + 0.000_000_126_7 * t);
    let mr = m.to_radians();
    let centre = mr.sin() * (1.914_602 - t * (0.004_817 + 0.000_014 * t))
        + (2.0 * mr).sin() * (0.019_993 - 0.000_101 * t)
        + (3.0 * mr).sin() * 0.000_289;
    let true_longitude = l0 + centre;
    let omega = (125.04 - 1_934.136 * t).to_radians();
    let apparent_longitude = (true_longitude - 0.005_69 - 0.004_78 * omega.sin()).to_radians();
    let mean_obliquity =
        23.0 + (26.0 + (21.448 - t * (46.815 + t * (0.000_59 - t * 0.001_813))) / 60.0) / 60.0;
    let obliquity = (mean_obliquity + 0.002_56 * omega.cos()).to_radians();
    let declination = (obliquity.sin() * apparent_longitude.sin())
        .asin()
        .to_degrees();
    let y = (obliquity / 2.0).tan().powi(2);
    let l0r = l0.to_radians();
    let equation = y * (2.0 * l0r).sin() - 2.0 * e * mr.sin()
        + 4.0 * e * y * mr.sin() * (2.0 * l0r).cos()
        - 0.5 * y * y * (4.0 * l0r).sin()
        - 1.25 * e * e * (2.0 * mr).sin();
    (declination, 4.0 * equation.to_degrees())
}

/// Hour angle of the sun at `zenith` (degrees), or `None` when the sun never
/// reaches it that day.
fn hour_angle(latitude: f64, declination: f64, zenith: f64) -> Option<f64> {
    let (lat, dec) = (latitude.to_radians(), declination.to_radians());
    let cos_h = zenith.to_radians().cos() / (lat.cos() * dec.cos()) - lat.tan() * dec.tan();
    (-1.0..=1.0)
        .contains(&cos_h)
        .then(|| cos_h.acos().to_degrees())
}

/// The event near UTC day `day`, iterating so the sun's position is taken at the
/// event's own time rather than at noon.
fn event_on_utc_day(
    day: NaiveDate,
    latitude: f64,
    longitude: f64,
    event: SunEvent,
) -> Option<DateTime<Utc>> {
    let jd0 = julian_day(day);
    let sign = if rising(event) { 1.0 } else { -1.0 };
    let mut minutes = 720.0 - 4.0 * longitude;
    for _ in 0..3 {
        let (declination, equation) = declination_and_equation_of_time(jd0 + minutes / 1440.0);
        let h = hour_angle(latitude, declination, zenith(event))?;
        minutes = 720.0 - 4.0 * (longitude + sign * h) - equation;
    }
    let midnight = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0)?);
    let millis = (minutes * 60_000.0).round() as i64;
    midnight.checked_add_signed(chrono::Duration::milliseconds(millis))
}

/// The first `event` strictly after `after`, looking up to two days ahead.
pub fn next_after(
    venue: &Site,
    event: SunEvent,
    after: DateTime<Utc>,
    offset: chrono::Duration,
) -> Option<DateTime<Utc>> {
    let day = after.with_timezone(&venue.tz).date_naive();
    (0..3u64)
        .filter_map(|n| day.checked_add_days(Days::new(n)))
        .filter_map(|d| venue.sun(d, event))
        .map(|t| t + offset)
        .find(|t| *t > after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn local(venue: &Site, s: &str) -> Result<DateTime<Utc>, Box<dyn std::error::Error>> {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")?;
        let t = venue
            .tz
            .from_local_datetime(&naive)
            .single()
            .ok_or("ambiguous reference time")?;
        Ok(t.with_timezone(&Utc))
    }

    /// Reference: U.S. Naval Observatory, Astronomical Applications Department,
    /// "Sun and Moon Data for One Day", Atlanta, Georgia (N 33°48', W 84°24'),
    /// Sunday 6 September 2009, Eastern Daylight Time: begin civil twilight 6:50 a.m.,
    /// sunrise 7:15 a.m., sunset 7:56 p.m., end civil twilight 8:21 p.m. (the printout
    /// is reproduced in PyEphem's documentation, "Naval Observatory Risings and
    /// Settings", rhodesmill.org/pyephem/rise-set.html). USNO rounds to the minute;
    /// we must be within one minute of each.
    #[test]
    fn atlanta_matches_the_naval_observatory() -> Result<(), Box<dyn std::error::Error>> {
        let atlanta = Site::new(chrono_tz::America::New_York, 33.8, -84.4)?;
        let day = NaiveDate::from_ymd_opt(2009, 9, 6).ok_or("date")?;
        for (event, reference) in [
            (SunEvent::CivilDawn, "2009-09-06 06:50"),
            (SunEvent::Sunrise, "2009-09-06 07:15"),
            (SunEvent::Sunset, "2009-09-06 19:56"),
            (SunEvent::CivilDusk, "2009-09-06 20:21"),
        ] {
            let ours = atlanta.sun(day, event).ok_or("no event")?;
            let theirs = local(&atlanta, reference)?;
            let off = (ours - theirs).num_seconds().abs();
            assert!(
                off <= 60,
                "{event:?}: ours {ours}, USNO {theirs} ({off} s apart)"
            );
        }
        Ok(())
    }

    #[test]
    fn a_zone_far_from_its_solar_time_gets_the_event_of_its_own_day()
    -> Result<(), Box<dyn std::error::Error>> {
        // Samoa keeps UTC+13 at 172° W: its local day starts almost a day "early".
        let apia = Site::new(chrono_tz::Pacific::Apia, -13.83, -171.76)?;
        let day = NaiveDate::from_ymd_opt(2026, 6, 1).ok_or("date")?;
        let sunset = apia.sun(day, SunEvent::Sunset).ok_or("no sunset")?;
        let local = sunset.with_timezone(&apia.tz);
        assert_eq!(local.date_naive(), day);
        assert!(
            (17..=19).contains(&chrono::Timelike::hour(&local)),
            "{local}"
        );
        Ok(())
    }

    #[test]
    fn the_midnight_sun_has_no_sunset() -> Result<(), Box<dyn std::error::Error>> {
        let tromso = Site::new(chrono_tz::Europe::Oslo, 69.65, 18.96)?;
        let midsummer = NaiveDate::from_ymd_opt(2026, 6, 21).ok_or("date")?;
        assert_eq!(tromso.sun(midsummer, SunEvent::Sunset), None);
        let spring = NaiveDate::from_ymd_opt(2026, 3, 21).ok_or("date")?;
        assert!(tromso.sun(spring, SunEvent::Sunset).is_some());
        Ok(())
    }

    #[test]
    fn coordinates_off_the_globe_are_refused() {
        assert!(Site::new(chrono_tz::UTC, 91.0, 0.0).is_err());
        assert!(Site::new(chrono_tz::UTC, 0.0, -180.5).is_err());
    }
}

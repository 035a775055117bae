use super::*;
use limelight_shared::scene::SceneName;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn utc(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    Ok(DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc))
}

fn plan() -> Result<Plan, String> {
    let mut plan = Plan::new(Site::new(chrono_tz::Europe::Paris, 48.8566, 2.3522)?);
    plan.set_canvases([CanvasId(1), CanvasId(2)]);
    Ok(plan)
}

fn add(plan: &mut Plan, id: i64, json: &str) -> TestResult {
    let spec: ScheduleSpec = serde_json::from_str(json)?;
    let rule = Rule::new(&spec, plan.venue())?;
    plan.put_entry(PlanEntry {
        id: ScheduleId(id),
        spec,
        rule,
    });
    Ok(())
}

/// The steps on canvas `canvas` as (local time, scene, cause, fade).
fn on<'a>(
    plan: &Plan,
    steps: &'a [Step],
    canvas: i64,
) -> Vec<(String, Option<&'a str>, Cause, u32)> {
    steps
        .iter()
        .filter(|s| s.canvas == CanvasId(canvas))
        .map(|s| {
            (
                plan.local(s.at).format("%H:%M").to_string(),
                scene_of(&s.play),
                s.cause,
                s.fade_ms,
            )
        })
        .collect()
}

/// An operator's override of `canvas` with scene `name`.
fn take(
    plan: &mut Plan,
    canvas: i64,
    name: &str,
    scope: OverrideScope,
    since: DateTime<Utc>,
) -> TestResult {
    let o = Override {
        play: scene(name)?,
        scope,
        by: "op".into(),
        since,
    };
    plan.set_override(CanvasId(canvas), o);
    Ok(())
}

fn scene_of(play: &Option<Play>) -> Option<&str> {
    match play {
        Some(Play::Scene { scene, .. }) => Some(scene.as_str()),
        _ => None,
    }
}

fn scene(name: &str) -> Result<Play, Box<dyn std::error::Error>> {
    Ok(Play::Scene {
        scene: SceneName::try_from(name.to_owned())?,
        fade_ms: 500,
        curve: Default::default(),
    })
}

/// Evenings (priority 10, 19:00-23:00 daily) on both canvases; a gala (priority
/// 50, 21:00-22:00 on 14 Feb) on canvas 1; a late show (priority 10, 22:30-23:30
/// daily) on canvas 1.
fn venue_week(plan: &mut Plan) -> TestResult {
    add(
        plan,
        1,
        r#"{"name": "Evenings", "targets": "all", "play": {"scene": "Evening", "fade_ms": 3000},
        "start": {"date": "2026-02-01", "time": "19:00"}, "end": {"time": "23:00"},
        "rrule": "FREQ=DAILY", "priority": 10, "stop": {"mode": "fade_out", "fade_ms": 4000}}"#,
    )?;
    add(
        plan,
        2,
        r#"{"name": "Gala", "targets": [1], "play": {"scene": "Gala", "fade_ms": 1000},
        "start": {"date": "2026-02-14", "time": "21:00"}, "end": {"duration_s": 3600},
        "priority": 50, "stop": {"mode": "cut"}}"#,
    )?;
    add(
        plan,
        3,
        r#"{"name": "Late", "targets": [1], "play": {"scene": "Late"},
        "start": {"date": "2026-02-01", "time": "22:30"}, "end": {"time": "23:30"},
        "rrule": "FREQ=DAILY", "priority": 10}"#,
    )
}

#[test]
fn the_highest_priority_wins_and_ties_go_to_the_latest_start() -> TestResult {
    let mut plan = plan()?;
    venue_week(&mut plan)?;
    let (initial, steps) = plan.steps(
        utc("2026-02-14T12:00:00+01:00")?,
        utc("2026-02-15T06:00:00+01:00")?,
    );
    assert!(initial.iter().all(|n| n.play.is_none()));
    let on_1 = on(&plan, &steps, 1);
    assert_eq!(
        on_1,
        [
            ("19:00".into(), Some("Evening"), Cause::Start, 3000),
            ("21:00".into(), Some("Gala"), Cause::Start, 1000),
            // The gala cuts back to the evening look, still running underneath.
            ("22:00".into(), Some("Evening"), Cause::End, 0),
            // Same priority, later start: the late show takes over.
            ("22:30".into(), Some("Late"), Cause::Start, 0),
            ("23:30".into(), None, Cause::End, 2000),
        ]
    );
    let on_2: Vec<(String, Option<&str>, u32)> = on(&plan, &steps, 2)
        .into_iter()
        .map(|(at, scene, _, fade)| (at, scene, fade))
        .collect();
    assert_eq!(
        on_2,
        [
            ("19:00".into(), Some("Evening"), 3000),
            ("23:00".into(), None, 4000)
        ]
    );
    Ok(())
}

#[test]
fn a_daily_entry_fires_at_eight_local_across_both_dst_changes() -> TestResult {
    let mut plan = plan()?;
    add(
        &mut plan,
        1,
        r#"{"name": "Eight", "targets": [2], "play": {"scene": "A"},
        "start": {"date": "2026-01-01", "time": "20:00"}, "end": {"duration_s": 3600},
        "rrule": "FREQ=DAILY", "priority": 1}"#,
    )?;
    // From the Saturday before each change to the Monday after.
    for (from, want) in [
        (
            "2026-03-28T00:00:00Z",
            [
                "2026-03-28T19:00:00Z",
                "2026-03-29T18:00:00Z",
                "2026-03-30T18:00:00Z",
            ],
        ),
        (
            "2026-10-24T00:00:00Z",
            [
                "2026-10-24T18:00:00Z",
                "2026-10-25T19:00:00Z",
                "2026-10-26T19:00:00Z",
            ],
        ),
    ] {
        let mut at = utc(from)?;
        let mut fired = Vec::new();
        // Walk the scheduler's own question: when is the next change?
        while let Some(next) = plan.next_change(at) {
            if fired.len() == 6 {
                break;
            }
            fired.push(next);
            at = next;
        }
        let starts: Vec<String> = fired
            .iter()
            .step_by(2)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .collect();
        assert_eq!(starts, want);
        for t in fired.iter().step_by(2) {
            assert_eq!(plan.local(*t).format("%H:%M").to_string(), "20:00");
        }
    }
    Ok(())
}

#[test]
fn an_override_until_the_next_change_hands_back_at_that_change() -> TestResult {
    let mut plan = plan()?;
    venue_week(&mut plan)?;
    take(
        &mut plan,
        2,
        "Manual",
        OverrideScope::NextChange,
        utc("2026-02-14T20:00:00+01:00")?,
    )?;
    let (_, steps) = plan.steps(
        utc("2026-02-14T19:30:00+01:00")?,
        utc("2026-02-15T00:00:00+01:00")?,
    );
    let on_2: Vec<(String, Option<&str>, Cause)> = on(&plan, &steps, 2)
        .into_iter()
        .map(|(at, scene, cause, _)| (at, scene, cause))
        .collect();
    assert_eq!(
        on_2,
        [
            ("20:00".into(), Some("Manual"), Cause::Override),
            ("23:00".into(), None, Cause::End)
        ]
    );
    assert_eq!(
        plan.override_end(CanvasId(2), utc("2026-02-14T20:00:00+01:00")?),
        Some(utc("2026-02-14T23:00:00+01:00")?)
    );
    Ok(())
}

#[test]
fn an_override_for_a_duration_hands_back_to_what_runs_then() -> TestResult {
    let mut plan = plan()?;
    venue_week(&mut plan)?;
    take(
        &mut plan,
        1,
        "Manual",
        OverrideScope::ForS(1800),
        utc("2026-02-14T20:45:00+01:00")?,
    )?;
    let (_, steps) = plan.steps(
        utc("2026-02-14T20:00:00+01:00")?,
        utc("2026-02-14T22:10:00+01:00")?,
    );
    let on_1 = on(&plan, &steps, 1);
    // The gala's 21:00 start happens under the override and shows at 21:15.
    assert_eq!(
        on_1,
        [
            ("20:45".into(), Some("Manual"), Cause::Override, 500),
            ("21:15".into(), Some("Gala"), Cause::Release, 1000),
            ("22:00".into(), Some("Evening"), Cause::End, 0),
        ]
    );
    Ok(())
}

#[test]
fn an_override_until_released_outlives_every_change() -> TestResult {
    let mut plan = plan()?;
    venue_week(&mut plan)?;
    take(
        &mut plan,
        1,
        "Manual",
        OverrideScope::UntilReleased,
        utc("2026-02-13T12:00:00+01:00")?,
    )?;
    let (initial, steps) = plan.steps(
        utc("2026-02-14T12:00:00+01:00")?,
        utc("2026-02-16T00:00:00+01:00")?,
    );
    assert_eq!(scene_of(&initial[0].play), Some("Manual"));
    assert!(steps.iter().all(|s| s.canvas == CanvasId(2)));
    // Released: the schedule is back, and the preview says what runs now.
    plan.clear_override(CanvasId(1));
    let now = plan.at(utc("2026-02-14T21:30:00+01:00")?);
    assert_eq!(scene_of(&now[0].play), Some("Gala"));
    assert_eq!(now[0].until, Some(utc("2026-02-14T22:00:00+01:00")?));
    Ok(())
}

#[test]
fn after_a_restart_mid_entry_what_plays_now_is_resumed_and_nothing_is_replayed() -> TestResult {
    let mut plan = plan()?;
    venue_week(&mut plan)?;
    // Down from 20:50 to 21:30: the gala started at 21:00 while nobody ran.
    let back = utc("2026-02-14T21:30:00+01:00")?;
    let now = plan.at(back);
    assert_eq!(scene_of(&now[0].play), Some("Gala"));
    assert_eq!(now[0].since, Some(utc("2026-02-14T21:00:00+01:00")?));
    assert_eq!(scene_of(&now[1].play), Some("Evening"));
    // The next thing to fire is the gala's end, not anything that was missed.
    assert_eq!(
        plan.next_change(back),
        Some(utc("2026-02-14T22:00:00+01:00")?)
    );
    Ok(())
}

#[test]
fn a_disabled_entry_never_plays() -> TestResult {
    let mut plan = plan()?;
    add(
        &mut plan,
        1,
        r#"{"name": "Off", "targets": "all", "play": {"scene": "A"}, "enabled": false,
        "start": {"date": "2026-01-01", "time": "20:00"}, "end": {"duration_s": 60}, "rrule": "FREQ=DAILY", "priority": 1}"#,
    )?;
    assert_eq!(plan.next_change(utc("2026-01-01T00:00:00Z")?), None);
    Ok(())
}

#[test]
fn kept_occurrences_answer_as_a_fresh_expansion_does() -> TestResult {
    let mut plan = plan()?;
    venue_week(&mut plan)?;
    add(
        &mut plan,
        9,
        r#"{"name": "Sunsets", "targets": "all", "play": {"scene": "D"},
            "start": {"date": "2026-03-01", "sun": "sunset", "offset_minutes": 10},
            "end": {"duration_s": 7200}, "rrule": "FREQ=DAILY", "priority": 7}"#,
    )?;
    let t0 = utc("2026-03-26T12:00:00Z")?;
    // Ask in an order that fills the kept spans, reuses them, and runs past them.
    for hours in [0, 5, 30, 200, 3, 260, 1] {
        let from = t0 + chrono::Duration::hours(hours);
        let to = from + chrono::Duration::hours(24);
        let kept = plan.expand(from, to);
        let fresh = plan.clone_without_kept().expand(from, to);
        assert_eq!(kept, fresh, "from {from}");
    }
    // An edit forgets what was kept for that entry.
    add(
        &mut plan,
        9,
        r#"{"name": "Sunsets", "targets": "all", "play": {"scene": "D"},
            "start": {"date": "2026-03-01", "time": "18:00"},
            "end": {"duration_s": 60}, "rrule": "FREQ=DAILY", "priority": 7}"#,
    )?;
    let kept = plan.expand(t0, t0 + chrono::Duration::hours(24));
    assert_eq!(
        kept,
        plan.clone_without_kept()
            .expand(t0, t0 + chrono::Duration::hours(24))
    );
    Ok(())
}

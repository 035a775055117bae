//! The Prometheus recorder and HTTP request metrics.
//!
//! Metric names follow `limelight_<area>_<what>_<unit>`. Every metric the
//! process exports:
//! - canvases (label `canvas`): `limelight_canvas_frames_total`,
//!   `limelight_canvas_frames_skipped_total`, `limelight_canvas_render_seconds`,
//!   `limelight_canvas_frame_interval_seconds`;
//! - output (label `canvas`): `limelight_output_frames_sent_total`,
//!   `limelight_output_packets_sent_total`, `limelight_output_send_errors_total`,
//!   `limelight_output_frames_dropped_total` (frames replaced by a newer one
//!   before the sender took them);
//! - cues and schedule: `limelight_cue_events_total`,
//!   `limelight_schedule_changes_total` (label `cause`);
//! - bookings: `limelight_booking_commands_total` (labels `op`, `outcome`),
//!   `limelight_ledger_batch_seconds`, `limelight_ledger_batch_size`,
//!   `limelight_holds_expired_total`, `limelight_ledgers_running`;
//! - rooms: `limelight_room_commands_total` (label `outcome`),
//!   `limelight_room_members`, `limelight_room_resyncs_total`,
//!   `limelight_rooms_running`;
//! - alerts: `limelight_system_alerts_total` (label `kind`);
//! - HTTP: `limelight_http_request_duration_seconds` (labels `method`, `route`,
//!   `status`);
//! - consoles: `limelight_ws_connections_open`, `limelight_ws_dropped_slow_total`,
//!   `limelight_ws_preview_frames_skipped_total`.
//!
//! The recorder is process-wide: tests that share a process read these as
//! deltas.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Buckets for durations in seconds, fine around frame periods (16-25 ms).
const SECONDS_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.016, 0.02, 0.023, 0.025,
    0.027, 0.03, 0.04, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The process's recorder, installed on first use.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

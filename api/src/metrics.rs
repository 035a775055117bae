//! The Prometheus recorder and HTTP request metrics.
//!
//! Metric names follow `limelight_<area>_<what>_<unit>`:
//! - `limelight_canvas_frames_total`, `limelight_canvas_frames_skipped_total`,
//!   `limelight_canvas_render_seconds`, `limelight_canvas_frame_interval_seconds`
//!   (per canvas);
//! - `limelight_output_frames_sent_total`, `limelight_output_packets_sent_total`,
//!   `limelight_output_send_errors_total` (per canvas);
//! - `limelight_http_request_duration_seconds` (by method, route and status);
//! - `limelight_ws_connections_open`, `limelight_ws_dropped_slow_total`,
//!   `limelight_ws_preview_frames_skipped_total`.

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

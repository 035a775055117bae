//! One connection. The session task reads commands, forwards engine events, room
//! events and previews, and pings; whatever it sends goes into the connection's
//! bounded outbox, which the response body drains into the socket (`outbound.rs`).
//! A console that cannot keep up with canvas events fills the outbox and is dropped
//! with a reason: nothing it does can slow a canvas or another console. Room events
//! come through the worker's relay and are only taken while the outbox has room
//! to spare; otherwise the client is behind and later gets a fresh snapshot, so a
//! slow attendee never slows a room.

use super::outbound::{self, Outbox};
use super::preview::{self, RasterCache};
use super::relay::WorkerRelay;
use crate::auth::Permission;
use crate::error::ApiError;
use actix_web::web::Bytes;
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Message};
use limelight_engine::RoomCommand;
use limelight_engine::{Blind, PreviewFrame};
use limelight_engine::{EngineEvent, EngineHandle, Principal};
use limelight_shared::error::ErrorCode;
use limelight_shared::ids::{CanvasId, SessionId};
use limelight_shared::ws::{
    ClientMessage, MAX_PREVIEW_FPS, MIN_PREVIEW_PIXELS, PREVIEW_FORMAT_VERSION,
    PREVIEW_RASTER_FORMAT_VERSION, PROTOCOL_VERSION, ServerMessage,
};
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};
use tokio::time::MissedTickBehavior;

/// Messages that may wait for a slow console before it is dropped.
pub const OUTBOUND_CAPACITY: usize = 256;
/// How often the server pings.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// Silence after which a console is considered gone.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);
/// Preview rate when the console does not ask for one.
const DEFAULT_PREVIEW_FPS: u32 = 15;

/// The console fell too far behind.
struct Backlogged;

struct Preview {
    canvas: CanvasId,
    frames: watch::Receiver<Option<PreviewFrame>>,
    raster: RasterCache,
    /// In the console's subscription (not only there for a blind preview).
    subscribed: bool,
}

/// Most blind previews one connection runs at once.
const MAX_BLINDS: usize = 4;

/// State of one connection.
pub struct Session {
    engine: EngineHandle,
    principal: Principal,
    /// The user's budget of commands.
    limits: crate::limits::Limits,
    previews: Vec<Preview>,
    /// Scenes previewed blind on canvases for this console: their frames stand in
    /// for the canvas's own.
    blinds: Vec<(CanvasId, Blind)>,
    preview_period: Duration,
    /// Most pixels a preview frame carries; every pixel when none.
    preview_pixels: Option<u32>,
    /// Previews drawn on each canvas's raster (format 2) rather than in wire order.
    preview_on_raster: bool,
    last_seen: Instant,
    /// Staff hear canvas, schedule and cue events and alerts.
    staff: bool,
    /// This connection as a room member.
    member: u64,
    rooms: Vec<SessionId>,
    /// How rooms' events reach this connection.
    relay: Rc<WorkerRelay>,
    /// Where this connection's messages go, the relay's included.
    out: Outbox,
}

impl Session {
    /// A session for an authenticated principal, sending into `out`. Made on
    /// the worker thread that serves the connection, whose relay it uses.
    pub fn new(
        engine: EngineHandle,
        principal: Principal,
        limits: crate::limits::Limits,
        out: Outbox,
    ) -> Self {
        Self {
            limits,
            member: engine.new_room_member(),
            staff: principal.is_staff(),
            engine,
            principal,
            previews: Vec::new(),
            blinds: Vec::new(),
            preview_period: Duration::from_secs(1) / DEFAULT_PREVIEW_FPS,
            preview_pixels: None,
            preview_on_raster: false,
            last_seen: Instant::now(),
            rooms: Vec::new(),
            relay: WorkerRelay::current(),
            out,
        }
    }

    /// Serve the connection until either side ends it.
    pub async fn run(mut self, mut stream: AggregatedMessageStream) {
        metrics::gauge!("limelight_ws_connections_open").increment(1.0);
        let mut events = self.engine.subscribe();
        // Staff connections are consoles: counted while they last.
        let _console = self
            .staff
            .then(|| self.engine.console_opened(&self.principal));
        let out = self.out.clone();
        let reason = self.serve(&out, &mut stream, &mut events).await;
        for session in std::mem::take(&mut self.rooms) {
            self.relay.leave(session, self.member);
            let _ = self.engine.leave_room(session, self.member).await;
        }
        if let Some(reason) = &reason {
            tracing::info!(user = %self.principal.username, reason = ?reason.description, "closing console connection");
        }
        // The close frame goes out after what is queued. If the outbox is full the
        // client has stopped reading: the connection ends without it.
        let _ = out.try_send(match reason {
            Some(reason) => outbound::close(reason),
            None => Message::Close(None),
        });
        metrics::gauge!("limelight_ws_connections_open").decrement(1.0);
    }

    async fn serve(
        &mut self,
        out: &Outbox,
        stream: &mut AggregatedMessageStream,
        events: &mut broadcast::Receiver<EngineEvent>,
    ) -> Option<CloseReason> {
        let slow = || {
            metrics::counter!("limelight_ws_dropped_slow_total").increment(1);
            Some(CloseReason {
                code: CloseCode::Policy,
                description: Some("slow consumer: outbound queue full".into()),
            })
        };
        let welcome = ServerMessage::Welcome {
            protocol: PROTOCOL_VERSION,
            username: self.principal.username.clone(),
            role: self.principal.role,
        };
        if push(out, &welcome).is_err() || (self.staff && self.snapshot(out).await.is_err()) {
            return slow();
        }
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut preview_tick = tokio::time::interval(self.preview_period);
        preview_tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                msg = stream.recv() => {
                    self.last_seen = Instant::now();
                    let result = match msg {
                        None | Some(Ok(AggregatedMessage::Close(_))) => return None,
                        Some(Err(e)) => {
                            return Some(CloseReason {
                                code: CloseCode::Protocol,
                                description: Some(format!("protocol error: {e}")),
                            });
                        }
                        Some(Ok(AggregatedMessage::Text(text))) => self.on_text(out, &text).await,
                        Some(Ok(AggregatedMessage::Binary(_))) => push(out, &error(
                            None,
                            ErrorCode::BadMessage,
                            "binary messages are not accepted; send JSON text",
                        )),
                        Some(Ok(AggregatedMessage::Ping(bytes))) => send(out, Message::Pong(bytes)),
                        Some(Ok(AggregatedMessage::Pong(_))) => Ok(()),
                    };
                    if result.is_err() {
                        return slow();
                    }
                    if preview_tick.period() != self.preview_period {
                        preview_tick = tokio::time::interval(self.preview_period);
                        preview_tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
                    }
                }
                event = events.recv() => {
                    let result = match event {
                        Ok(event) => match self.to_message(event) {
                            Some(message) => push(out, &message),
                            None => Ok(()),
                        },
                        // Fell behind the engine's event buffer: start again from a snapshot.
                        Err(broadcast::error::RecvError::Lagged(_)) if self.staff => {
                            self.snapshot(out).await
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => Ok(()),
                        Err(broadcast::error::RecvError::Closed) => return Some(CloseReason {
                            code: CloseCode::Restart,
                            description: Some("server shutting down".into()),
                        }),
                    };
                    if result.is_err() {
                        return slow();
                    }
                }
                _ = heartbeat.tick() => {
                    if self.last_seen.elapsed() > CLIENT_TIMEOUT {
                        return Some(CloseReason {
                            code: CloseCode::Away,
                            description: Some("heartbeat timeout".into()),
                        });
                    }
                    // A full queue skips a ping: silence is what ends a connection.
                    let _ = send(out, Message::Ping(Bytes::new()));
                }
                _ = preview_tick.tick(), if !self.previews.is_empty() => {
                    self.send_previews(out);
                }
            }
        }
    }

    async fn snapshot(&self, out: &Outbox) -> Result<(), Backlogged> {
        let message = match (
            self.engine.states().await,
            self.engine.grand_master().await,
            self.engine.overrides().await,
        ) {
            (Ok(canvases), Ok(grand_master), Ok(overrides)) => ServerMessage::Snapshot {
                canvases,
                grand_master,
                overrides,
                consoles: self.engine.consoles(),
                inputs: self.engine.input_states(),
            },
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                let e = ApiError::from(e);
                error(None, e.code, &e.message)
            }
        };
        push(out, &message)
    }

    /// Previews only go out while the queue is at most half full: a console on a
    /// slow link sees fewer preview frames rather than stale state.
    fn send_previews(&mut self, out: &Outbox) {
        for preview in &mut self.previews {
            if out.capacity() < OUTBOUND_CAPACITY / 2 {
                metrics::counter!("limelight_ws_preview_frames_skipped_total").increment(1);
                return;
            }
            if !preview.frames.has_changed().unwrap_or(false) {
                continue;
            }
            let Some(frame) = preview.frames.borrow_and_update().clone() else {
                continue;
            };
            let bytes = if self.preview_on_raster {
                let raster = preview.raster.get(&frame.raster, self.preview_pixels);
                preview::on_raster(preview.canvas, frame.frame, &frame.rgb, &raster)
            } else {
                preview::wire_order(preview.canvas, frame.frame, &frame.rgb, self.preview_pixels)
            };
            let _ = send(out, Message::Binary(Bytes::from(bytes)));
        }
    }

    /// Show `scene` blind on `canvas` in this console's previews, or (none) the
    /// canvas's own frames again.
    async fn preview_scene(
        &mut self,
        canvas: CanvasId,
        scene: Option<&str>,
    ) -> Result<(), ApiError> {
        let frames = match scene {
            Some(scene) => {
                let running = self.blinds.iter().position(|(c, _)| *c == canvas);
                if running.is_none() && self.blinds.len() >= MAX_BLINDS {
                    return Err(ApiError::new(
                        ErrorCode::ValidationFailed,
                        format!("at most {MAX_BLINDS} blind previews run on one console"),
                    ));
                }
                let blind = self.engine.blind(canvas, scene).await?;
                let frames = blind.frames();
                match running {
                    Some(i) => self.blinds[i].1 = blind,
                    None => self.blinds.push((canvas, blind)),
                }
                Some(frames)
            }
            None => {
                self.blinds.retain(|(c, _)| *c != canvas);
                let subscribed = self
                    .previews
                    .iter()
                    .any(|p| p.canvas == canvas && p.subscribed);
                if subscribed {
                    Some(self.engine.preview(canvas).await?)
                } else {
                    self.previews.retain(|p| p.canvas != canvas);
                    None
                }
            }
        };
        if let Some(mut frames) = frames {
            frames.mark_changed();
            match self.previews.iter_mut().find(|p| p.canvas == canvas) {
                Some(p) => p.frames = frames,
                None => self.previews.push(Preview {
                    canvas,
                    frames,
                    raster: RasterCache::default(),
                    subscribed: false,
                }),
            }
        }
        Ok(())
    }

    async fn on_text(&mut self, out: &Outbox, text: &str) -> Result<(), Backlogged> {
        let message: ClientMessage = match crate::body::parse(text.as_bytes()) {
            Ok(m) => m,
            Err(e) => {
                // Answer with the request's id when the message has one to give.
                let request_id = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("request_id")?.as_str().map(str::to_owned));
                return push(out, &error(request_id, e.code, &e.message));
            }
        };
        let request_id = message.request_id().to_owned();
        // Emergency, blackout and panic are never refused by a limit.
        let exempt = matches!(
            message,
            ClientMessage::Blackout { .. }
                | ClientMessage::Emergency { .. }
                | ClientMessage::Cue {
                    command: limelight_shared::cues::CueCommand::Panic { .. },
                    ..
                }
        );
        if !exempt && let Err(refused) = self.limits.ws(self.principal.id.0).await {
            let e = refused.error();
            return push(out, &error(Some(request_id), e.code, &e.message));
        }
        if matches!(message, ClientMessage::GetSnapshot { .. }) && self.staff {
            self.snapshot(out).await?;
        }
        let reply = match self.execute(message).await {
            Ok(reply) => reply,
            Err(e) => error(Some(request_id), e.code, &e.message),
        };
        // What a room sent before answering goes out before the answer.
        self.relay.flush();
        push(out, &reply)
    }

    async fn execute(&mut self, message: ClientMessage) -> Result<ServerMessage, ApiError> {
        let ack = |request_id: String, canvas| ServerMessage::Ack { request_id, canvas };
        let staff = |principal: &Principal| {
            if principal.may(Permission::Read) {
                Ok(())
            } else {
                Err(ApiError::new(
                    ErrorCode::Forbidden,
                    format!("role {} may not watch canvases", principal.role.as_str()),
                ))
            }
        };
        let who = &self.principal;
        let message = match super::control::control(&self.engine, who, message).await? {
            Ok(reply) => return Ok(reply),
            Err(other) => other,
        };
        Ok(match message {
            // Taken by `control` above.
            ClientMessage::TriggerScene { request_id, .. }
            | ClientMessage::ReleaseOverride { request_id, .. }
            | ClientMessage::Cue { request_id, .. }
            | ClientMessage::StartNextEntry { request_id, .. }
            | ClientMessage::Blackout { request_id, .. }
            | ClientMessage::Master { request_id, .. }
            | ClientMessage::Emergency { request_id, .. }
            | ClientMessage::GrandMaster { request_id, .. }
            | ClientMessage::FireCelebration { request_id, .. } => ack(request_id, None),
            ClientMessage::SubscribePreview {
                request_id,
                canvases,
                fps,
                max_pixels,
                format,
            } => {
                staff(who)?;
                let fps = fps.unwrap_or(DEFAULT_PREVIEW_FPS);
                if !(1..=MAX_PREVIEW_FPS).contains(&fps) {
                    return Err(ApiError::new(
                        ErrorCode::ValidationFailed,
                        format!("fps must be between 1 and {MAX_PREVIEW_FPS}, got {fps}"),
                    ));
                }
                if let Some(n) = max_pixels.filter(|n| *n < MIN_PREVIEW_PIXELS) {
                    return Err(ApiError::new(
                        ErrorCode::ValidationFailed,
                        format!("max_pixels must be at least {MIN_PREVIEW_PIXELS}, got {n}"),
                    ));
                }
                let on_raster = match format.unwrap_or(PREVIEW_FORMAT_VERSION) {
                    PREVIEW_FORMAT_VERSION => false,
                    PREVIEW_RASTER_FORMAT_VERSION => true,
                    other => {
                        return Err(ApiError::new(
                            ErrorCode::ValidationFailed,
                            format!(
                                "format must be {PREVIEW_FORMAT_VERSION} or \
                                 {PREVIEW_RASTER_FORMAT_VERSION}, got {other}"
                            ),
                        ));
                    }
                };
                let mut previews = Vec::with_capacity(canvases.len());
                for canvas in canvases {
                    let mut frames = match self.blinds.iter().find(|(c, _)| *c == canvas) {
                        Some((_, blind)) => blind.frames(),
                        None => self.engine.preview(canvas).await?,
                    };
                    frames.mark_changed();
                    previews.push(Preview {
                        canvas,
                        frames,
                        raster: RasterCache::default(),
                        subscribed: true,
                    });
                }
                // Blind previews keep showing, subscribed or not.
                for (canvas, blind) in &self.blinds {
                    if !previews.iter().any(|p| p.canvas == *canvas) {
                        previews.push(Preview {
                            canvas: *canvas,
                            frames: blind.frames(),
                            raster: RasterCache::default(),
                            subscribed: false,
                        });
                    }
                }
                self.previews = previews;
                self.preview_period = Duration::from_secs(1) / fps;
                self.preview_pixels = max_pixels;
                self.preview_on_raster = on_raster;
                ack(request_id, None)
            }
            ClientMessage::PreviewScene {
                request_id,
                canvas,
                scene,
            } => {
                staff(who)?;
                self.preview_scene(canvas, scene.as_deref()).await?;
                ack(request_id, None)
            }
            // The snapshot itself went out first (see `on_text`).
            ClientMessage::GetSnapshot { request_id } => {
                staff(who)?;
                ack(request_id, None)
            }
            ClientMessage::JoinRoom {
                request_id,
                session,
            } => {
                if !self.rooms.contains(&session) {
                    self.relay.join(session, self.member, self.out.clone());
                    let relay = self.relay.handle();
                    if let Err(e) = self
                        .engine
                        .enter_room(who, session, self.member, relay)
                        .await
                    {
                        self.relay.leave(session, self.member);
                        return Err(e.into());
                    }
                    self.rooms.push(session);
                }
                ack(request_id, None)
            }
            ClientMessage::LeaveRoom {
                request_id,
                session,
            } => {
                if self.rooms.contains(&session) {
                    self.rooms.retain(|s| *s != session);
                    self.relay.leave(session, self.member);
                    self.engine.leave_room(session, self.member).await?;
                }
                ack(request_id, None)
            }
            ClientMessage::SendMessage {
                request_id,
                session,
                text,
            } => {
                self.in_room(request_id, session, RoomCommand::Say(text))
                    .await?
            }
            ClientMessage::SubmitPollResponse {
                request_id,
                session,
                poll,
                choices,
            } => {
                let vote = RoomCommand::Vote { poll, choices };
                self.in_room(request_id, session, vote).await?
            }
            ClientMessage::AskQuestion {
                request_id,
                session,
                text,
            } => {
                self.in_room(request_id, session, RoomCommand::GetReply(text))
                    .await?
            }
            ClientMessage::Upvote {
                request_id,
                session,
                question,
            } => {
                let upvote = RoomCommand::Upvote(question);
                self.in_room(request_id, session, upvote).await?
            }
        })
    }

    /// A command in a room this connection joined; acknowledged once stored.
    async fn in_room(
        &self,
        request_id: String,
        session: SessionId,
        command: RoomCommand,
    ) -> Result<ServerMessage, ApiError> {
        let member = Some(self.member);
        self.engine
            .room_command(&self.principal, session, command, member)
            .await?;
        Ok(ServerMessage::Ack {
            request_id,
            canvas: None,
        })
    }

    /// What this connection hears of an engine event: staff hear canvas,
    /// schedule and cue events and alerts; everyone hears their own offers,
    /// bookings and uploads.
    fn to_message(&self, event: EngineEvent) -> Option<ServerMessage> {
        let mine = |user| user == self.principal.id;
        match event {
            EngineEvent::WaitlistOffer(entry) => {
                mine(entry.user).then_some(ServerMessage::WaitlistOffer { entry })
            }
            EngineEvent::BookingConfirmed(booking) => {
                mine(booking.user).then_some(ServerMessage::BookingConfirmed { booking })
            }
            EngineEvent::UploadProgress { user, upload } => {
                mine(user).then_some(ServerMessage::UploadProgress { upload })
            }
            event if self.staff => Some(to_message(event)),
            _ => None,
        }
    }
}

fn error(request_id: Option<String>, code: ErrorCode, message: &str) -> ServerMessage {
    ServerMessage::Error {
        request_id,
        code,
        message: message.to_owned(),
    }
}

fn to_message(event: EngineEvent) -> ServerMessage {
    match event {
        EngineEvent::CanvasChanged(canvas) => ServerMessage::CanvasState { canvas },
        EngineEvent::GrandMaster(level) => ServerMessage::GrandMaster { level },
        EngineEvent::ScheduleChanged(change) => ServerMessage::ScheduleChange { change },
        EngineEvent::OverrideChanged { canvas, info } => {
            ServerMessage::OverrideChanged { canvas, info }
        }
        EngineEvent::Cue(event) => ServerMessage::Cue { event },
        EngineEvent::CanvasRestarted { id, reason } => {
            ServerMessage::CanvasRestarted { canvas: id, reason }
        }
        EngineEvent::WaitlistOffer(entry) => ServerMessage::WaitlistOffer { entry },
        EngineEvent::BookingConfirmed(booking) => ServerMessage::BookingConfirmed { booking },
        EngineEvent::SystemAlert(alert) => ServerMessage::SystemAlert { alert },
        EngineEvent::ConsolesChanged(consoles) => ServerMessage::Consoles { consoles },
        EngineEvent::UploadProgress { upload, .. } => ServerMessage::UploadProgress { upload },
        EngineEvent::AssetChanged { id, asset } => ServerMessage::AssetChanged { id, asset },
        EngineEvent::SensorData { input, values } => ServerMessage::SensorData { input, values },
        EngineEvent::Celebration(fired) => ServerMessage::Celebration { fired },
        EngineEvent::Blobs {
            input,
            frame,
            blobs,
        } => ServerMessage::Blobs {
            input,
            frame,
            blobs,
        },
        EngineEvent::InputStatus {
            input,
            name,
            connection,
            stale,
        } => ServerMessage::InputStatus {
            input,
            name,
            connection,
            stale,
        },
    }
}

fn push(out: &Outbox, message: &ServerMessage) -> Result<(), Backlogged> {
    match serde_json::to_string(message) {
        Ok(text) => send(out, Message::Text(text.into())),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode a WebSocket message");
            Ok(())
        }
    }
}

fn send(out: &Outbox, message: Message) -> Result<(), Backlogged> {
    out.try_send(message).map_err(|_| Backlogged)
}

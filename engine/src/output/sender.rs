//! The sACN output of one canvas, run on its own thread by [`super::spawn`]: it maps
//! each frame onto universes, encodes E1.31 and sends it. No API, database or render
//! work ever runs here, and nothing here waits on them.
//!
//! - `every_frame` mode sends each universe on each frame; `on_change` sends a
//!   universe when its data changed and otherwise every keep-alive interval.
//! - If no frame arrives for a keep-alive interval (a canvas restarting, say), the
//!   last frame is repeated so receivers never see the 2.5 s data-loss timeout.
//! - When this thread is behind, the newest frame wins (see [`super::OutputTx`]).
//! - With a sync universe, one sync packet follows the data of each frame.
//! - On stop, three packets with Stream_Terminated go out for every universe.

use super::encoder::Encoder;
use super::{Output, OutputHandle, SACN_PORT, UniverseMap, multicast_group};
use crate::clock::Clock;
use limelight_shared::canvas::{ChannelOrder, Destination, SendMode};
use metrics::Counter;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Packets with Stream_Terminated sent per universe when a stream stops on purpose.
const TERMINATE_PACKETS: usize = 3;

/// Everything the sender needs to know about a canvas's output.
#[derive(Debug, Clone)]
pub struct OutputConfig {
    /// Canvas id, for metric labels.
    pub canvas: i64,
    /// Universes and the bytes they carry.
    pub map: UniverseMap,
    /// Wire order of the colour channels.
    pub channel_order: ChannelOrder,
    /// Unicast receivers; multicast when empty.
    pub destinations: Vec<Destination>,
    /// sACN priority.
    pub priority: u8,
    /// Sync universe, or 0.
    pub sync_address: u16,
    /// Source name.
    pub source_name: String,
    /// Component id of the source.
    pub cid: [u8; 16],
    /// When unchanged universes are sent.
    pub send_mode: SendMode,
    /// Keep-alive interval.
    pub keepalive: Duration,
    /// Local address to send from.
    pub bind: SocketAddr,
    /// Multicast time-to-live.
    pub multicast_ttl: u32,
    /// Interface address for multicast; the system's choice when absent.
    pub multicast_interface: Option<std::net::Ipv4Addr>,
    /// Real-time priority of the sender thread; 0 for normal scheduling.
    pub thread_priority: u8,
    /// Whether this node sends now.
    pub on_air: super::OnAir,
}

/// Start the sACN output of a canvas on a thread of its own; its keep-alives are
/// timed on `clock`.
pub fn spawn_output(config: OutputConfig, clock: Arc<dyn Clock>) -> std::io::Result<OutputHandle> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(config.bind),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    socket.bind(&config.bind.into())?;
    socket.set_multicast_ttl_v4(config.multicast_ttl)?;
    socket.set_multicast_loop_v4(true)?;
    if let Some(interface) = config.multicast_interface {
        socket.set_multicast_if_v4(&interface)?;
    }
    let (canvas, priority) = (config.canvas, config.thread_priority);
    let on_air = config.on_air.clone();
    let sacn = Sacn::new(config, socket.into());
    super::spawn(
        sacn,
        canvas,
        format!("sacn-{canvas}"),
        priority,
        clock,
        on_air,
    )
}

/// The sACN output: one socket, the encoder, and what each universe last carried.
struct Sacn {
    config: OutputConfig,
    socket: UdpSocket,
    encoder: Encoder,
    /// The frame in wire channel order.
    wire: Vec<u8>,
    /// What each universe last carried, and when it was last sent.
    last: Vec<(Vec<u8>, Option<Instant>)>,
    packet: Vec<u8>,
    packets_sent: Counter,
    send_errors: Counter,
    frames_sent: Counter,
}

impl Sacn {
    fn new(config: OutputConfig, socket: UdpSocket) -> Self {
        let universes = config.map.spans().len();
        let canvas = config.canvas.to_string();
        Self {
            encoder: Encoder::new(
                config.cid,
                &config.source_name,
                config.priority,
                config.sync_address,
                universes,
            ),
            socket,
            wire: Vec::new(),
            last: vec![(Vec::new(), None); universes],
            packet: Vec::with_capacity(638),
            packets_sent: metrics::counter!("limelight_output_packets_sent_total", "canvas" => canvas.clone()),
            send_errors: metrics::counter!("limelight_output_send_errors_total", "canvas" => canvas.clone()),
            frames_sent: metrics::counter!("limelight_output_frames_sent_total", "canvas" => canvas),
            config,
        }
    }

    fn order_channels(&mut self, rgb: &[u8]) {
        let order = self.config.channel_order.permutation();
        self.wire.clear();
        if order == [0, 1, 2] {
            self.wire.extend_from_slice(rgb);
            return;
        }
        for px in rgb.chunks_exact(3) {
            self.wire
                .extend_from_slice(&[px[order[0]], px[order[1]], px[order[2]]]);
        }
    }

    /// Send the current frame's universes as the send mode says; `all` forces every
    /// universe (keep-alive of a stalled stream).
    fn send_frame(&mut self, all: bool) {
        let now = Instant::now();
        let mut sent_any = false;
        for index in 0..self.config.map.spans().len() {
            let span = self.config.map.spans()[index].clone();
            let data = self.wire.get(span.bytes.clone()).unwrap_or(&[]);
            let (last_data, last_sent) = &self.last[index];
            let due = all
                || self.config.send_mode == SendMode::EveryFrame
                || last_data.as_slice() != data
                || last_sent.is_none_or(|t| now.duration_since(t) >= self.config.keepalive);
            if !due {
                continue;
            }
            let encoded = self
                .encoder
                .data(index, span.universe, data, false, &mut self.packet);
            if let Err(e) = encoded {
                tracing::error!(error = %e, "dropping a packet");
                continue;
            }
            let slot = &mut self.last[index];
            slot.0.clear();
            slot.0.extend_from_slice(data);
            slot.1 = Some(now);
            self.transmit(span.universe);
            sent_any = true;
        }
        if sent_any && self.config.sync_address != 0 {
            match self.encoder.sync(&mut self.packet) {
                Ok(()) => self.transmit(self.config.sync_address),
                Err(e) => tracing::error!(error = %e, "dropping a sync packet"),
            }
        }
        self.frames_sent.increment(1);
    }

    fn terminate_streams(&mut self) {
        for _ in 0..TERMINATE_PACKETS {
            for index in 0..self.config.map.spans().len() {
                let span = self.config.map.spans()[index].clone();
                let data = self.last[index].0.clone();
                if self
                    .encoder
                    .data(index, span.universe, &data, true, &mut self.packet)
                    .is_ok()
                {
                    self.transmit(span.universe);
                }
            }
        }
    }

    /// Send the packet in the buffer for `universe` to every destination.
    fn transmit(&mut self, universe: u16) {
        let send = |socket: &UdpSocket, to: SocketAddr, packet: &[u8]| socket.send_to(packet, to);
        let result = if self.config.destinations.is_empty() {
            let group = SocketAddr::from((multicast_group(universe), SACN_PORT));
            send(&self.socket, group, &self.packet).map(|_| 1)
        } else {
            let mut n = 0;
            let mut last_err = None;
            for d in &self.config.destinations {
                match send(&self.socket, d.0, &self.packet) {
                    Ok(_) => n += 1,
                    Err(e) => last_err = Some(e),
                }
            }
            match last_err {
                Some(e) if n == 0 => Err(e),
                _ => Ok(n),
            }
        };
        match result {
            Ok(n) => self.packets_sent.increment(n),
            Err(e) => {
                self.send_errors.increment(1);
                tracing::debug!(error = %e, universe, "sACN send failed");
            }
        }
    }
}

impl Output for Sacn {
    fn send(&mut self, rgb: &[u8], again: bool) {
        if !again {
            self.order_channels(rgb);
        }
        self.send_frame(again);
    }

    fn terminate(&mut self) {
        self.terminate_streams();
    }

    fn keepalive(&self) -> Duration {
        self.config.keepalive
    }
}

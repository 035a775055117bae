//! The sender thread of one canvas. Frames arrive over a small bounded channel from
//! the canvas actor; the thread maps them onto universes, encodes E1.31 and sends it.
//! No API, database or render work ever runs here, and nothing here waits on them.
//!
//! - `every_frame` mode sends each universe on each frame; `on_change` sends a
//!   universe when its data changed and otherwise every keep-alive interval.
//! - If no frame arrives for a keep-alive interval (a canvas restarting, say), the
//!   last frame is repeated so receivers never see the 2.5 s data-loss timeout.
//! - With a sync universe, one sync packet follows the data of each frame.
//! - On stop, three packets with Stream_Terminated go out for every universe.

use super::encoder::Encoder;
use super::{SACN_PORT, UniverseMap, multicast_group};
use limelight_shared::canvas::{ChannelOrder, Destination, SendMode};
use metrics::Counter;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Packets with Stream_Terminated sent per universe when a stream stops on purpose.
const TERMINATE_PACKETS: usize = 3;
/// Frames that may wait for the sender; more means the sender is behind, and the
/// newest frame wins.
const QUEUE_DEPTH: usize = 2;

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
}

enum Msg {
    Frame(Arc<[u8]>),
    Stop,
}

/// The canvas side of a sender thread.
#[derive(Debug, Clone)]
pub struct OutputTx {
    tx: SyncSender<Msg>,
    dropped: Counter,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Msg::Frame(d) => write!(f, "Frame({} bytes)", d.len()),
            Msg::Stop => f.write_str("Stop"),
        }
    }
}

impl OutputTx {
    /// Hand a frame (RGB bytes, 3 a pixel) to the sender without waiting. If the
    /// sender is behind, the frame is dropped and counted.
    pub fn send(&self, rgb: Arc<[u8]>) {
        if let Err(TrySendError::Full(_)) = self.tx.try_send(Msg::Frame(rgb)) {
            self.dropped.increment(1);
        }
    }
}

/// Owner of a sender thread: stops it and waits for the terminate packets.
#[derive(Debug)]
pub struct OutputHandle {
    tx: OutputTx,
    join: Option<JoinHandle<()>>,
}

impl OutputHandle {
    /// A sender for the canvas actor.
    pub fn sender(&self) -> OutputTx {
        self.tx.clone()
    }

    /// Stop sending: Stream_Terminated goes out for every universe, then the thread
    /// ends. Blocks until it has.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        // A blocking send: the stop must not be lost behind queued frames.
        let _ = self.tx.tx.send(Msg::Stop);
        if let Some(join) = self.join.take()
            && join.join().is_err()
        {
            tracing::error!("sACN sender thread panicked");
        }
    }
}

impl Drop for OutputHandle {
    fn drop(&mut self) {
        if self.join.is_some() {
            self.stop_inner();
        }
    }
}

/// Start the sender thread of a canvas.
pub fn spawn_output(config: OutputConfig) -> std::io::Result<OutputHandle> {
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
    let socket: UdpSocket = socket.into();
    let (tx, rx) = sync_channel(QUEUE_DEPTH);
    let dropped = metrics::counter!("limelight_output_frames_dropped_total", "canvas" => config.canvas.to_string());
    let worker = Worker::new(config, socket);
    let join = std::thread::Builder::new()
        .name(format!("sacn-{}", worker.config.canvas))
        .spawn(move || worker.run(rx))?;
    Ok(OutputHandle {
        tx: OutputTx { tx, dropped },
        join: Some(join),
    })
}

struct Worker {
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

impl Worker {
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

    fn run(mut self, rx: Receiver<Msg>) {
        crate::realtime::enter_frame_thread(self.config.thread_priority);
        let mut have_frame = false;
        loop {
            match rx.recv_timeout(self.config.keepalive) {
                Ok(Msg::Frame(rgb)) => {
                    self.order_channels(&rgb);
                    have_frame = true;
                    self.send_frame(false);
                }
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                // Rendering stalled: repeat the last frame so receivers keep it.
                Err(RecvTimeoutError::Timeout) if have_frame => self.send_frame(true),
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        self.terminate();
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

    fn terminate(&mut self) {
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

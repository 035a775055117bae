//! A UDP socket that decodes the E1.31 it receives, with kernel arrival times.

use anyhow::{Context, Result, anyhow, bail};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use sacn::packet::{AcnRootLayerProtocol, E131RootLayerData};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// One decoded E1.31 data packet and when it arrived.
#[derive(Debug, Clone)]
pub struct DataPacket {
    /// Arrival time.
    pub at: Instant,
    /// Arrival time on the wall clock (for schedules, which keep civil time).
    pub wall: std::time::SystemTime,
    /// Universe.
    pub universe: u16,
    /// Priority.
    pub priority: u8,
    /// Sequence number.
    pub sequence: u8,
    /// Stream_Terminated bit.
    pub terminated: bool,
    /// Sync address.
    pub sync_address: u16,
    /// Source name.
    pub source_name: String,
    /// Component id of the source.
    pub cid: [u8; 16],
    /// DMX slots after the start code.
    pub slots: Vec<u8>,
}

/// What arrived on a receiver socket.
#[derive(Debug, Clone)]
pub enum Packet {
    /// A data packet.
    Data(DataPacket),
    /// A sync packet for this address.
    Sync(u16),
}

/// A UDP socket on loopback that decodes E1.31 (a stand-in for a pixel controller).
#[derive(Debug)]
pub struct Receiver {
    socket: UdpSocket,
    buf: Vec<u8>,
}

/// Receive one datagram into `buf` from a socket with `SO_TIMESTAMPNS` on: its
/// length and when the kernel received it, so the receiving thread's own
/// scheduling does not count. Without a stamp, the time it was read.
pub fn recv_stamped(socket: &impl AsRawFd, buf: &mut [u8]) -> std::io::Result<(usize, SystemTime)> {
    let mut iov = [std::io::IoSliceMut::new(buf)];
    let mut cmsg = nix::cmsg_space!(nix::sys::time::TimeSpec);
    let msg = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::empty(),
    )?;
    let mut at = SystemTime::now();
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmTimestampns(ts) = c {
            let secs = u64::try_from(ts.tv_sec()).unwrap_or_default();
            let nanos = u32::try_from(ts.tv_nsec()).unwrap_or_default();
            at = SystemTime::UNIX_EPOCH + Duration::new(secs, nanos);
        }
    }
    Ok((msg.bytes, at))
}

impl Receiver {
    /// Bind an ephemeral port on 127.0.0.1.
    pub async fn bind() -> Result<Self> {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        setsockopt(&socket, sockopt::ReceiveTimestampns, &true)?;
        Ok(Self {
            socket,
            buf: vec![0; 2048],
        })
    }

    /// `ip:port` to put in a canvas's destinations.
    pub fn dest(&self) -> Result<String> {
        Ok(self.socket.local_addr()?.to_string())
    }

    /// The next packet, decoded.
    pub async fn next(&mut self, within: Duration) -> Result<Packet> {
        let Self { socket, buf } = self;
        let (n, wall) = tokio::time::timeout(
            within,
            socket.async_io(Interest::READABLE, || recv_stamped(socket, buf)),
        )
        .await
        .context("no sACN packet arrived in time")??;
        // Arrival as the kernel stamped it, so the test's own scheduling does not count.
        let at = Instant::now()
            .checked_sub(SystemTime::now().duration_since(wall).unwrap_or_default())
            .unwrap_or_else(Instant::now);
        let parsed =
            AcnRootLayerProtocol::parse(&self.buf[..n]).map_err(|e| anyhow!("not E1.31: {e}"))?;
        let cid = *parsed.pdu.cid.as_bytes();
        match parsed.pdu.data {
            E131RootLayerData::DataPacket(d) => Ok(Packet::Data(DataPacket {
                at,
                wall,
                universe: d.universe,
                priority: d.priority,
                sequence: d.sequence_number,
                terminated: d.stream_terminated,
                sync_address: d.synchronization_address,
                source_name: d.source_name.to_string(),
                cid,
                slots: d.data.property_values.get(1..).unwrap_or(&[]).to_vec(),
            })),
            E131RootLayerData::SynchronizationPacket(s) => {
                Ok(Packet::Sync(s.synchronization_address))
            }
            E131RootLayerData::UniverseDiscoveryPacket(_) => bail!("unexpected discovery packet"),
        }
    }

    /// The next data packet (sync packets are passed over).
    pub async fn next_data(&mut self, within: Duration) -> Result<DataPacket> {
        loop {
            if let Packet::Data(d) = self.next(within).await? {
                return Ok(d);
            }
        }
    }

    /// Data packets for `span` after `first`, each the next in sequence; fails
    /// at the first gap (a frame not sent, or lost).
    pub async fn unbroken_for(&mut self, first: &DataPacket, span: Duration) -> Result<()> {
        let mut last = first.sequence;
        let until = Instant::now() + span;
        while Instant::now() < until {
            let p = self.next_data(Duration::from_secs(1)).await?;
            if p.sequence != last.wrapping_add(1) {
                bail!("sequence {last} then {}", p.sequence);
            }
            last = p.sequence;
        }
        Ok(())
    }

    /// Data packets until one satisfies `pred`; that packet. Fails after `within`.
    pub async fn until(
        &mut self,
        within: Duration,
        pred: impl Fn(&DataPacket) -> bool,
    ) -> Result<DataPacket> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("no matching sACN packet within {within:?}");
            }
            let p = self.next_data(left).await?;
            if pred(&p) {
                return Ok(p);
            }
        }
    }
}

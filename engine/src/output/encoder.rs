//! E1.31 packets, laid out by the `sacn` crate's packet types, into reused buffers.

use sacn::packet::{
    AcnRootLayerProtocol, DataPacketDmpLayer, DataPacketFramingLayer, E131RootLayer,
    E131RootLayerData, SynchronizationPacketFramingLayer,
};
use std::borrow::Cow;

/// Start code of DMX512 dimmer data.
const DMX_START_CODE: u8 = 0x00;

/// Packs data and sync packets for one source; keeps the sequence numbers.
#[derive(Debug)]
pub struct Encoder {
    cid: uuid::Uuid,
    source_name: String,
    priority: u8,
    sync_address: u16,
    /// Next sequence number per universe index.
    sequences: Vec<u8>,
    sync_sequence: u8,
    slots: Vec<u8>,
}

/// Could not lay out a packet (only possible with out-of-range fields).
#[derive(Debug, thiserror::Error)]
#[error("could not encode an E1.31 packet: {0}")]
pub struct EncodeError(String);

impl Encoder {
    /// An encoder for `universes` universes. `sync_address` 0 means no sync.
    pub fn new(
        cid: [u8; 16],
        source_name: &str,
        priority: u8,
        sync_address: u16,
        universes: usize,
    ) -> Self {
        Self {
            cid: uuid::Uuid::from_bytes(cid),
            source_name: source_name.to_owned(),
            priority,
            sync_address,
            sequences: vec![0; universes],
            sync_sequence: 0,
            slots: Vec::with_capacity(513),
        }
    }

    /// Pack a data packet for universe number `universe` (index `index` in the
    /// canvas) carrying `data` (at most 512 slots) into `buf`.
    pub fn data(
        &mut self,
        index: usize,
        universe: u16,
        data: &[u8],
        terminated: bool,
        buf: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let sequence = self
            .sequences
            .get_mut(index)
            .ok_or_else(|| EncodeError(format!("universe index {index} outside the canvas")))?;
        let sequence_number = *sequence;
        *sequence = sequence.wrapping_add(1);
        self.slots.clear();
        self.slots.push(DMX_START_CODE);
        self.slots.extend_from_slice(data);
        let packet = AcnRootLayerProtocol {
            pdu: E131RootLayer {
                cid: self.cid,
                data: E131RootLayerData::DataPacket(DataPacketFramingLayer {
                    source_name: Cow::Borrowed(&self.source_name),
                    priority: self.priority,
                    synchronization_address: self.sync_address,
                    sequence_number,
                    preview_data: false,
                    stream_terminated: terminated,
                    force_synchronization: false,
                    universe,
                    data: DataPacketDmpLayer {
                        property_values: Cow::Borrowed(&self.slots),
                    },
                }),
            },
        };
        buf.clear();
        packet.pack_vec(buf).map_err(|e| EncodeError(e.to_string()))
    }

    /// Pack the sync packet that releases the frame, into `buf`.
    pub fn sync(&mut self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        let sequence_number = self.sync_sequence;
        self.sync_sequence = self.sync_sequence.wrapping_add(1);
        let packet = AcnRootLayerProtocol {
            pdu: E131RootLayer {
                cid: self.cid,
                data: E131RootLayerData::SynchronizationPacket(SynchronizationPacketFramingLayer {
                    sequence_number,
                    synchronization_address: self.sync_address,
                }),
            },
        };
        buf.clear();
        packet.pack_vec(buf).map_err(|e| EncodeError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_universe_is_638_bytes_with_fields_where_e131_puts_them() -> Result<(), EncodeError> {
        let mut enc = Encoder::new([7; 16], "Facade", 150, 7000, 2);
        let mut buf = Vec::new();
        let data: Vec<u8> = (0..512).map(|i| (i % 256) as u8).collect();
        enc.data(1, 42, &data, false, &mut buf)?;
        assert_eq!(buf.len(), 638);
        assert_eq!(buf[108], 150, "priority");
        assert_eq!(
            u16::from_be_bytes([buf[109], buf[110]]),
            7000,
            "sync address"
        );
        assert_eq!(buf[111], 0, "sequence");
        assert_eq!(buf[112], 0, "options");
        assert_eq!(u16::from_be_bytes([buf[113], buf[114]]), 42, "universe");
        assert_eq!(
            u16::from_be_bytes([buf[123], buf[124]]),
            513,
            "property count"
        );
        assert_eq!(buf[125], 0, "start code");
        assert_eq!(&buf[126..], &data[..]);
        assert_eq!(&buf[44..50], b"Facade");

        enc.data(1, 42, &data, true, &mut buf)?;
        assert_eq!(buf[111], 1, "sequence rises per universe");
        assert_eq!(buf[112] & 0b0100_0000, 0b0100_0000, "Stream_Terminated");

        enc.sync(&mut buf)?;
        assert_eq!(buf.len(), 49);
        Ok(())
    }
}

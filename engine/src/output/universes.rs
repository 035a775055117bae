//! Which slice of a canvas's channel stream each universe carries.

use limelight_shared::canvas::{OutputSpec, Packing, UniverseRange};
use std::ops::Range;

/// Highest universe number sACN allows.
const MAX_UNIVERSE: u32 = 63_999;
/// Data slots in a universe.
const SLOTS: usize = 512;

/// One universe and the bytes of the channel stream it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniverseSpan {
    /// Universe number.
    pub universe: u16,
    /// Byte range in the canvas's channel stream (3 bytes a pixel, wire order).
    pub bytes: Range<usize>,
}

/// The universes of one canvas, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniverseMap {
    spans: Vec<UniverseSpan>,
}

/// The canvas needs universes past 63999.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{pixels} pixels from universe {first} need universes up to {last}, past the last sACN universe 63999"
)]
pub struct UniverseOverflow {
    /// Pixels of the canvas.
    pub pixels: u32,
    /// First universe.
    pub first: u16,
    /// Last universe it would need.
    pub last: u32,
}

impl UniverseMap {
    /// Spread `pixels` over universes from `output.universe` as `output.packing` says.
    pub fn new(pixels: u32, output: &OutputSpec) -> Result<Self, UniverseOverflow> {
        let total = pixels as usize * 3;
        let per_universe = match output.packing {
            Packing::Pixel => usize::from(output.pixels_per_universe.get()) * 3,
            Packing::Channel => SLOTS,
        };
        let count = total.div_ceil(per_universe);
        let first = output.universe.get();
        let last = u32::from(first) + count as u32 - 1;
        if last > MAX_UNIVERSE {
            return Err(UniverseOverflow {
                pixels,
                first,
                last,
            });
        }
        let spans = (0..count)
            .map(|i| UniverseSpan {
                universe: first + i as u16,
                bytes: i * per_universe..((i + 1) * per_universe).min(total),
            })
            .collect();
        Ok(Self { spans })
    }

    /// The universes in order.
    pub fn spans(&self) -> &[UniverseSpan] {
        &self.spans
    }

    /// First and last universe.
    pub fn range(&self) -> UniverseRange {
        let first = self.spans.first().map_or(0, |s| s.universe);
        let last = self.spans.last().map_or(0, |s| s.universe);
        UniverseRange { first, last }
    }

    /// Whether the span of another canvas overlaps this one.
    pub fn overlaps(&self, other: &UniverseMap) -> bool {
        let (a, b) = (self.range(), other.range());
        a.first <= b.last && b.first <= a.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(json: &str) -> OutputSpec {
        serde_json::from_str(json).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn pixel_packing_puts_170_pixels_in_each_universe() -> Result<(), UniverseOverflow> {
        let map = UniverseMap::new(400, &output(r#"{"universe": 10}"#))?;
        let spans = map.spans();
        assert_eq!(spans.len(), 3);
        assert_eq!(
            spans[0],
            UniverseSpan {
                universe: 10,
                bytes: 0..510
            }
        );
        assert_eq!(
            spans[1],
            UniverseSpan {
                universe: 11,
                bytes: 510..1020
            }
        );
        assert_eq!(
            spans[2],
            UniverseSpan {
                universe: 12,
                bytes: 1020..1200
            }
        );
        Ok(())
    }

    #[test]
    fn channel_packing_fills_all_512_slots() -> Result<(), UniverseOverflow> {
        let map = UniverseMap::new(400, &output(r#"{"universe": 1, "packing": "channel"}"#))?;
        let bytes: Vec<_> = map.spans().iter().map(|s| s.bytes.clone()).collect();
        assert_eq!(bytes, vec![0..512, 512..1024, 1024..1200]);
        Ok(())
    }

    #[test]
    fn universes_past_63999_are_refused() {
        assert!(UniverseMap::new(340, &output(r#"{"universe": 63999}"#)).is_err());
        assert!(UniverseMap::new(170, &output(r#"{"universe": 63999}"#)).is_ok());
    }
}

//! sACN (E1.31) output of a canvas: which universes carry which pixels
//! ([`UniverseMap`]), how packets are encoded ([`encoder`]), and the sender thread
//! that paces them onto the network ([`sender`]).

pub mod encoder;
pub mod sender;
mod universes;

pub use sender::{OutputConfig, OutputHandle, spawn_output};
pub use universes::{UniverseMap, UniverseSpan};

/// The UDP port of sACN.
pub const SACN_PORT: u16 = 5568;

/// The multicast group of a universe: 239.255.(U>>8).(U&255).
pub fn multicast_group(universe: u16) -> std::net::Ipv4Addr {
    let [hi, lo] = universe.to_be_bytes();
    std::net::Ipv4Addr::new(239, 255, hi, lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multicast_groups_follow_the_universe_number() {
        assert_eq!(multicast_group(1).to_string(), "239.255.0.1");
        assert_eq!(multicast_group(258).to_string(), "239.255.1.2");
        assert_eq!(multicast_group(63999).to_string(), "239.255.249.255");
    }
}

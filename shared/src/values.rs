//! Validated scalar values. Each is built through `TryFrom` (also used by serde), so
//! an instance always holds a value in range.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest fade, in milliseconds (one hour): scenes, cues, schedule entries and
/// live commands share it.
pub const MAX_FADE_MS: u32 = 3_600_000;

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeError(pub String);

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RangeError {}

macro_rules! bounded_int {
    ($(#[$doc:meta])* $name:ident($repr:ty), $min:expr, $max:expr, $default:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "i64", into = "i64")]
        pub struct $name($repr);

        crate::openapi::schema!(
            $name,
            stringify!($name),
            crate::openapi::integer(i64::from(<$name>::MIN), i64::from(<$name>::MAX))
        );

        impl $name {
            /// Smallest valid value.
            pub const MIN: $repr = $min;
            /// Largest valid value.
            pub const MAX: $repr = $max;

            /// The value as a plain number.
            pub const fn get(self) -> $repr {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self($default)
            }
        }

        impl TryFrom<i64> for $name {
            type Error = RangeError;
            fn try_from(v: i64) -> Result<Self, RangeError> {
                if v < i64::from(Self::MIN) || v > i64::from(Self::MAX) {
                    return Err(RangeError(format!(
                        "{} must be between {} and {}, got {}",
                        $what,
                        Self::MIN,
                        Self::MAX,
                        v
                    )));
                }
                // In range, so the narrowing cannot truncate.
                <$repr>::try_from(v).map(Self).map_err(|e| RangeError(e.to_string()))
            }
        }

        impl From<$name> for i64 {
            fn from(v: $name) -> i64 {
                i64::from(v.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

bounded_int!(
    /// Frames per second of a canvas clock (1-60, default 40).
    Fps(u16), 1, 60, 40, "fps"
);
bounded_int!(
    /// An sACN universe number (1-63999).
    Universe(u16), 1, 63999, 1, "universe"
);
bounded_int!(
    /// sACN source priority (0-200, default 100).
    Priority(u8), 0, 200, 100, "priority"
);
bounded_int!(
    /// Priority of a schedule entry (0-1000, default 100); the highest active wins.
    EntryPriority(u16), 0, 1000, 100, "priority"
);
bounded_int!(
    /// Number of pixels of a canvas (1 to 1,000,000).
    PixelCount(u32), 1, 1_000_000, 170, "pixels"
);
bounded_int!(
    /// RGB pixels carried by one universe (1-170, default 170).
    PixelsPerUniverse(u16), 1, 170, 170, "pixels_per_universe"
);

macro_rules! bounded_float {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, $default:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
        #[serde(try_from = "f64", into = "f64")]
        pub struct $name(f64);

        crate::openapi::schema!(
            $name,
            stringify!($name),
            crate::openapi::number(<$name>::MIN, <$name>::MAX)
        );

        impl $name {
            /// Smallest valid value.
            pub const MIN: f64 = $min;
            /// Largest valid value.
            pub const MAX: f64 = $max;

            /// The value as a plain number.
            pub const fn get(self) -> f64 {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self($default)
            }
        }

        impl TryFrom<f64> for $name {
            type Error = RangeError;
            fn try_from(v: f64) -> Result<Self, RangeError> {
                if !v.is_finite() || !(Self::MIN..=Self::MAX).contains(&v) {
                    return Err(RangeError(format!(
                        "{} must be between {} and {}, got {}",
                        $what,
                        Self::MIN,
                        Self::MAX,
                        v
                    )));
                }
                Ok(Self(v))
            }
        }

        impl From<$name> for f64 {
            fn from(v: $name) -> f64 {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

bounded_float!(
    /// A master level in percent (0-100, default 100).
    Percent, 0.0, 100.0, 100.0, "level"
);
bounded_float!(
    /// Layer opacity (0.0-1.0, default 1.0).
    Opacity, 0.0, 1.0, 1.0, "opacity"
);
bounded_float!(
    /// Share of pixels lit by an effect such as sparkle (0.0-1.0).
    Fraction, 0.0, 1.0, 0.05, "density"
);
bounded_float!(
    /// A speed in effect units per second (-1000 to 1000).
    Speed, -1000.0, 1000.0, 1.0, "speed"
);

/// Check a name of 1 to `max` characters: letters, digits, `-`, `_`, `.` and
/// spaces, none leading or trailing (scene and input names).
pub fn check_short_name(s: &str, max: usize) -> Result<(), RangeError> {
    let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.');
    if s.trim().is_empty() || s.chars().count() > max || s.trim() != s {
        return Err(RangeError(format!(
            "name must be 1-{max} characters without leading or trailing spaces, got {s:?}"
        )));
    }
    if !s.chars().all(ok_char) {
        return Err(RangeError(format!(
            "name may hold letters, digits, '-', '_', '.' and spaces only, got {s:?}"
        )));
    }
    Ok(())
}

/// A colour, written `#RRGGBB` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rgb {
    /// Red, 0-255.
    pub r: u8,
    /// Green, 0-255.
    pub g: u8,
    /// Blue, 0-255.
    pub b: u8,
}

impl Rgb {
    /// Black: all channels off.
    pub const BLACK: Rgb = Rgb::new(0, 0, 0);
    /// White: all channels full.
    pub const WHITE: Rgb = Rgb::new(255, 255, 255);

    /// A colour from its three channels.
    pub const fn new(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b }
    }
}

impl std::str::FromStr for Rgb {
    type Err = RangeError;

    fn from_str(s: &str) -> Result<Self, RangeError> {
        let err = || RangeError(format!("colour must be written #RRGGBB, got {s:?}"));
        let hex = s.strip_prefix('#').ok_or_else(err)?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err());
        }
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| err());
        Ok(Self::new(channel(0)?, channel(2)?, channel(4)?))
    }
}

crate::openapi::schema!(
    Rgb,
    "Rgb",
    crate::openapi::pattern("^#[0-9A-Fa-f]{6}$", "A colour, #RRGGBB")
);

impl TryFrom<String> for Rgb {
    type Error = RangeError;
    fn try_from(s: String) -> Result<Self, RangeError> {
        s.parse()
    }
}

impl From<Rgb> for String {
    fn from(c: Rgb) -> String {
        c.to_string()
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02X}{:02X}{:02X}", self.r, self.g, self.b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_and_print_as_hex() -> Result<(), RangeError> {
        let c: Rgb = "#ff8000".parse()?;
        assert_eq!(c, Rgb::new(255, 128, 0));
        assert_eq!(c.to_string(), "#FF8000");
        assert!("FF8000".parse::<Rgb>().is_err());
        assert!("#FF80".parse::<Rgb>().is_err());
        assert!("#GG8000".parse::<Rgb>().is_err());
        Ok(())
    }

    #[test]
    fn ranges_are_enforced_on_deserialise() {
        assert!(serde_json::from_str::<Fps>("0").is_err());
        assert!(serde_json::from_str::<Fps>("61").is_err());
        assert_eq!(
            serde_json::from_str::<Fps>("60").map(Fps::get).ok(),
            Some(60)
        );
        assert!(serde_json::from_str::<Universe>("64000").is_err());
        assert!(serde_json::from_str::<Priority>("201").is_err());
        assert!(serde_json::from_str::<Percent>("100.5").is_err());
        assert!(serde_json::from_str::<Opacity>("-0.1").is_err());
    }
}

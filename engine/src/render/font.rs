//! Limelight's pixel font: two drawn sizes (3 x 5 capitals, 5 x 7 with lower
//! case) and the medium one doubled, for text layers on LED pixel maps.
//!
//! The glyphs live in `font/*.txt`, one character per line, so they can be read
//! and touched up as pictures.

use limelight_shared::scene::TextSize;
use std::sync::LazyLock;

/// First and last characters the font draws.
const FIRST: u8 = b' ';
const LAST: u8 = b'~';
const GLYPHS: usize = (LAST - FIRST + 1) as usize;

/// One drawn size of the font.
#[derive(Debug)]
pub struct Font {
    width: u32,
    height: u32,
    /// Each glyph's rows top to bottom, the leftmost cell in the highest bit.
    rows: Vec<u16>,
}

impl Font {
    /// Read a font file of `width` x `height` glyphs. A character the file lacks
    /// is drawn as its capital when it has one, otherwise left blank; the tests
    /// check that each file has all it should.
    fn parse(text: &str, width: u32, height: u32) -> Self {
        let h = height as usize;
        let mut rows = vec![0u16; GLYPHS * h];
        let mut present = [false; GLYPHS];
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
        {
            let mut words = line.split_whitespace();
            let c = match words.next() {
                Some("space") => b' ',
                Some(w) if w.len() == 1 => w.as_bytes()[0],
                _ => continue,
            };
            if !(FIRST..=LAST).contains(&c) {
                continue;
            }
            let g = usize::from(c - FIRST);
            for (y, row) in words.take(h).enumerate() {
                rows[g * h + y] = row
                    .bytes()
                    .take(width as usize)
                    .fold(0, |bits, b| (bits << 1) | u16::from(b == b'#'));
            }
            present[g] = true;
        }
        for c in b'a'..=b'z' {
            let (lower, upper) = (usize::from(c - FIRST), usize::from(c - 32 - FIRST));
            if !present[lower] {
                let capital: Vec<u16> = rows[upper * h..(upper + 1) * h].to_vec();
                rows[lower * h..(lower + 1) * h].copy_from_slice(&capital);
            }
        }
        Self {
            width,
            height,
            rows,
        }
    }

    /// Whether cell `[x, y]` of character `c` is lit (nothing outside the glyph
    /// or the font is).
    pub fn lit(&self, c: u8, x: u32, y: u32) -> bool {
        if !(FIRST..=LAST).contains(&c) || x >= self.width || y >= self.height {
            return false;
        }
        let row = self.rows[usize::from(c - FIRST) * self.height as usize + y as usize];
        row >> (self.width - 1 - x) & 1 == 1
    }

    /// Glyph width in cells.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Glyph height in cells.
    pub fn height(&self) -> u32 {
        self.height
    }
}

static SMALL: LazyLock<Font> = LazyLock::new(|| Font::parse(include_str!("font/small.txt"), 3, 5));
static MEDIUM: LazyLock<Font> =
    LazyLock::new(|| Font::parse(include_str!("font/medium.txt"), 5, 7));

/// The font drawn at `size`, and how many cells each of its cells takes.
pub fn font(size: TextSize) -> (&'static Font, u32) {
    match size {
        TextSize::Small => (&SMALL, 1),
        TextSize::Medium => (&MEDIUM, 1),
        TextSize::Large => (&MEDIUM, 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many glyph lines a font file has, and for which characters.
    fn characters(text: &str) -> Vec<u8> {
        text.lines()
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .filter_map(|l| match l.split_whitespace().next() {
                Some("space") => Some(b' '),
                Some(w) if w.len() == 1 => Some(w.as_bytes()[0]),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn each_file_draws_every_character_once_at_its_size() {
        let medium = include_str!("font/medium.txt");
        let small = include_str!("font/small.txt");
        let all: Vec<u8> = (FIRST..=LAST).collect();
        assert_eq!(characters(medium), all);
        let capitals: Vec<u8> = (FIRST..=LAST).filter(|c| !c.is_ascii_lowercase()).collect();
        assert_eq!(characters(small), capitals);
        for (text, width, height) in [(medium, 5, 7), (small, 3, 5)] {
            for line in text.lines().filter(|l| !l.starts_with("//")) {
                let rows: Vec<&str> = line.split_whitespace().skip(1).collect();
                assert_eq!(rows.len(), height, "{line}");
                assert!(
                    rows.iter()
                        .all(|r| r.len() == width && r.bytes().all(|b| b == b'#' || b == b'.')),
                    "{line}"
                );
            }
        }
    }

    #[test]
    fn glyphs_read_as_drawn_and_small_lower_case_is_capitals() {
        let (medium, _) = font(TextSize::Medium);
        // "A": .###. on top, ##### across the middle.
        let row = |f: &Font, c: u8, y: u32| -> String {
            (0..f.width())
                .map(|x| if f.lit(c, x, y) { '#' } else { '.' })
                .collect()
        };
        assert_eq!(row(medium, b'A', 0), ".###.");
        assert_eq!(row(medium, b'A', 3), "#####");
        assert_eq!(row(medium, b' ', 3), ".....");
        let (small, _) = font(TextSize::Small);
        for y in 0..5 {
            assert_eq!(row(small, b'q', y), row(small, b'Q', y));
        }
        assert!(!medium.lit(0x7F, 0, 0) && !medium.lit(b'A', 5, 0) && !medium.lit(b'A', 0, 7));
        assert_eq!(font(TextSize::Large).1, 2);
    }
}

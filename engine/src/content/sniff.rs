//! What a file is, from its first bytes: the image formats Limelight reads and,
//! where the header says it, the size the image declares, so that a file claiming
//! to be enormous is refused before anything is decoded.

use limelight_shared::content::MediaKind;

/// Bytes [`sniff`] wants to see (fewer only when the whole file is shorter).
pub const SNIFF_LEN: usize = 32;
/// Most pixels along either side of an image.
pub const MAX_IMAGE_SIDE: u32 = 16_384;
/// Most pixels in an image.
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;

/// A recognised file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// Image or video.
    pub kind: MediaKind,
    /// Its type, as `image/png`.
    pub media_type: &'static str,
    /// Width and height, when the first bytes say them.
    pub size: Option<(u32, u32)>,
}

/// Why the first bytes are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not a type Limelight reads.
    #[error("the file is not a PNG, JPEG, GIF or WebP image, nor an Ogg, WebM, MP4 or AVI video")]
    UnknownType,
    /// A video, in a build without the `media` feature.
    #[error("the file is a video; videos need Limelight built with the media feature")]
    VideoNeedsMedia,
    /// It declares more pixels than Limelight takes.
    #[error(
        "the image declares {0} x {1} pixels; at most {MAX_IMAGE_SIDE} a side and {MAX_IMAGE_PIXELS} in all are taken"
    )]
    TooLarge(u32, u32),
}

/// What `head` (the file's first bytes) is.
pub fn sniff(head: &[u8]) -> Result<Sniffed, Refused> {
    let image = |media_type, size| Sniffed {
        kind: MediaKind::Image,
        media_type,
        size,
    };
    let found = if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        // IHDR is always the first chunk: width and height big-endian at 16..24.
        image("image/png", be32(head, 16).zip(be32(head, 20)))
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        // The size is in a frame header further in; the decoder's limits check it.
        image("image/jpeg", None)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        image("image/gif", le16(head, 6).zip(le16(head, 8)))
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        image("image/webp", webp_size(head))
    } else if let Some(media_type) = video_container(head) {
        if !cfg!(feature = "media") {
            return Err(Refused::VideoNeedsMedia);
        }
        // Size, rate and length come from GStreamer once the file is whole.
        Sniffed {
            kind: MediaKind::Video,
            media_type,
            size: None,
        }
    } else {
        return Err(Refused::UnknownType);
    };
    if let Some((w, h)) = found.size
        && (w > MAX_IMAGE_SIDE
            || h > MAX_IMAGE_SIDE
            || u64::from(w) * u64::from(h) > MAX_IMAGE_PIXELS)
    {
        return Err(Refused::TooLarge(w, h));
    }
    Ok(found)
}

/// The video containers GStreamer's usual plugins read, by their first bytes.
fn video_container(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"OggS") {
        Some("video/ogg")
    } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        // Matroska; WebM is Matroska too.
        Some("video/webm")
    } else if head.get(4..8) == Some(b"ftyp") {
        Some("video/mp4")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"AVI " {
        Some("video/x-msvideo")
    } else {
        None
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

/// A WebP's size from its first chunk (lossy `VP8 `, lossless `VP8L`, extended `VP8X`).
fn webp_size(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        b"VP8X" => Some((le24(b, 24)? + 1, le24(b, 27)? + 1)),
        b"VP8L" => {
            let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8 " => Some((le16(b, 26)? & 0x3FFF, le16(b, 28)? & 0x3FFF)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_head(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn each_format_is_known_by_its_magic_and_its_declared_size() {
        let png = sniff(&png_head(8, 4));
        assert_eq!(
            png.map(|s| (s.media_type, s.size)),
            Ok(("image/png", Some((8, 4))))
        );
        let gif = sniff(b"GIF89a\x10\x00\x20\x00rest-of-it-here-and-there..");
        assert_eq!(gif.map(|s| s.size), Ok(Some((16, 32))));
        let jpeg = sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16]);
        assert_eq!(jpeg.map(|s| s.media_type), Ok("image/jpeg"));
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        webp.extend_from_slice(&[7, 0, 0, 3, 0, 0]);
        assert_eq!(sniff(&webp).map(|s| s.size), Ok(Some((8, 4))));
    }

    #[test]
    fn an_image_declaring_too_many_pixels_or_no_image_at_all_is_refused() {
        assert_eq!(
            sniff(&png_head(100_000, 100_000)),
            Err(Refused::TooLarge(100_000, 100_000))
        );
        assert_eq!(
            sniff(&png_head(8_000, 8_000)),
            Err(Refused::TooLarge(8_000, 8_000))
        );
        assert!(sniff(&png_head(4_000, 4_000)).is_ok());
        assert_eq!(
            sniff(b"<html>not an image</html>"),
            Err(Refused::UnknownType)
        );
        assert_eq!(sniff(b""), Err(Refused::UnknownType));
    }

    #[test]
    fn video_containers_are_videos_when_the_media_feature_plays_them() {
        let heads: [(&[u8], &str); 4] = [
            (b"OggS\0\x02rest", "video/ogg"),
            (b"\x1a\x45\xdf\xa3rest", "video/webm"),
            (b"\0\0\0\x20ftypisom", "video/mp4"),
            (b"RIFF\0\0\0\0AVI LIST", "video/x-msvideo"),
        ];
        for (head, media_type) in heads {
            let found = sniff(head);
            if cfg!(feature = "media") {
                assert_eq!(
                    found.map(|s| (s.kind, s.media_type)),
                    Ok((MediaKind::Video, media_type))
                );
            } else {
                assert_eq!(found, Err(Refused::VideoNeedsMedia), "{media_type}");
            }
        }
    }
}

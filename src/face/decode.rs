//! Turning what a client sent into pixels, safely: size limits are checked on the encoded bytes
//! and on the header's dimensions *before* any pixel buffer is allocated, so a 50000×50000
//! "decompression bomb" is refused from its first bytes.

use std::io::Cursor;

use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use image::{ImageFormat, RgbImage, io::Limits};

use super::FaceError;

/// A picture as a client sends it.
#[derive(Clone, Debug)]
pub enum ImageInput {
    /// The encoded file (JPEG, PNG or WebP).
    Bytes(Vec<u8>),
    /// Base64 of the file, or a `data:image/…;base64,…` URL as `canvas.toDataURL` makes it.
    Text(String),
}

/// Base64 with or without padding: browsers and other clients differ.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const BASE64_URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The encoded file's bytes, within the byte limit.
pub fn into_bytes(input: ImageInput, max_bytes: usize) -> Result<Vec<u8>, FaceError> {
    let bytes = match input {
        ImageInput::Bytes(bytes) => bytes,
        ImageInput::Text(text) => decode_text(&text, max_bytes)?,
    };
    if bytes.is_empty() {
        return Err(FaceError::EmptyImage);
    }
    if bytes.len() > max_bytes {
        return Err(FaceError::TooManyBytes {
            size: bytes.len(),
            limit: max_bytes,
        });
    }
    Ok(bytes)
}

fn decode_text(text: &str, max_bytes: usize) -> Result<Vec<u8>, FaceError> {
    let text = text.trim();
    let payload = match text.strip_prefix("data:") {
        Some(rest) => {
            let (header, payload) = rest.split_once(',').ok_or(FaceError::BadDataUrl("no comma"))?;
            if !header.ends_with(";base64") {
                return Err(FaceError::BadDataUrl("not base64"));
            }
            let media_type = header.trim_end_matches(";base64").to_ascii_lowercase();
            if !media_type.is_empty()
                && !matches!(
                    media_type.as_str(),
                    "image/jpeg" | "image/jpg" | "image/png" | "image/webp"
                )
            {
                return Err(FaceError::UnsupportedFormat { what: media_type });
            }
            payload
        }
        None => text,
    };
    if payload.is_empty() {
        return Err(FaceError::EmptyImage);
    }
    // Refuse from the length alone: base64 is 4 characters per 3 bytes.
    let decoded_size = payload.len() / 4 * 3;
    if decoded_size > max_bytes {
        return Err(FaceError::TooManyBytes {
            size: decoded_size,
            limit: max_bytes,
        });
    }
    let compact: String = payload.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    BASE64
        .decode(&compact)
        .or_else(|_| BASE64_URL_SAFE.decode(&compact))
        .map_err(|_| FaceError::BadBase64)
}

/// Decodes JPEG, PNG or WebP into RGB, refusing oversized pictures from their header.
pub fn decode_image(bytes: &[u8], max_side: u32) -> Result<RgbImage, FaceError> {
    let format = image::guess_format(bytes).map_err(|_| FaceError::UnsupportedFormat {
        what: "unknown".into(),
    })?;
    let name = match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::WebP => "WebP",
        other => {
            return Err(FaceError::UnsupportedFormat {
                what: format!("{other:?}"),
            });
        }
    };
    let (width, height) = image::io::Reader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| FaceError::Undecodable { format: name })?;
    if width > max_side || height > max_side {
        return Err(FaceError::TooManyPixels {
            width,
            height,
            limit: max_side,
        });
    }
    let mut reader = image::io::Reader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(max_side);
    limits.max_image_height = Some(max_side);
    // RGBA at the largest allowed size, with room for the decoder's own buffers.
    limits.max_alloc = Some(u64::from(max_side) * u64::from(max_side) * 4 * 2);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => FaceError::TooManyPixels {
            width,
            height,
            limit: max_side,
        },
        _ => FaceError::Undecodable { format: name },
    })?;
    Ok(image.into_rgb8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        RgbImage::new(width, height)
            .write_to(&mut out, ImageFormat::Png)
            .expect("png");
        out.into_inner()
    }

    #[test]
    fn data_urls_and_plain_base64_decode_alike() {
        let bytes = png(4, 3);
        let plain = BASE64.encode(&bytes);
        let url = format!("data:image/png;base64,{plain}");
        assert_eq!(
            into_bytes(ImageInput::Text(url), 1 << 20).expect("data url"),
            bytes
        );
        let unpadded = plain.trim_end_matches('=').to_string();
        assert_eq!(
            into_bytes(ImageInput::Text(unpadded), 1 << 20).expect("unpadded"),
            bytes
        );
        assert_eq!(decode_image(&bytes, 100).expect("decode").dimensions(), (4, 3));
    }

    #[test]
    fn malformed_text_is_refused_with_a_reason() {
        let err = |s: &str| into_bytes(ImageInput::Text(s.into()), 1 << 20).expect_err(s);
        assert_eq!(err("@@@"), FaceError::BadBase64);
        assert_eq!(err("data:image/png,abc"), FaceError::BadDataUrl("not base64"));
        assert_eq!(err("data:image/png;base64"), FaceError::BadDataUrl("no comma"));
        assert!(matches!(
            err("data:image/gif;base64,R0lG"),
            FaceError::UnsupportedFormat { .. }
        ));
        assert_eq!(err(""), FaceError::EmptyImage);
    }

    #[test]
    fn the_byte_limit_applies_before_decoding() {
        let text = "A".repeat(4000);
        assert!(matches!(
            into_bytes(ImageInput::Text(text), 1000),
            Err(FaceError::TooManyBytes { .. })
        ));
        assert!(matches!(
            into_bytes(ImageInput::Bytes(vec![0; 2000]), 1000),
            Err(FaceError::TooManyBytes { .. })
        ));
    }

    #[test]
    fn a_decompression_bomb_is_refused_from_its_header() {
        // A real JPEG whose frame header (SOF0) claims 50000×50000 pixels.
        let mut out = Cursor::new(Vec::new());
        RgbImage::new(8, 8)
            .write_to(&mut out, ImageFormat::Jpeg)
            .expect("jpeg");
        let mut bomb = out.into_inner();
        let sof = bomb
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("SOF0 marker");
        bomb[sof + 5..sof + 7].copy_from_slice(&50_000u16.to_be_bytes());
        bomb[sof + 7..sof + 9].copy_from_slice(&50_000u16.to_be_bytes());
        let error = decode_image(&bomb, 4096).expect_err("bomb");
        assert_eq!(
            error,
            FaceError::TooManyPixels {
                width: 50_000,
                height: 50_000,
                limit: 4096
            }
        );
    }

    #[test]
    fn garbage_is_refused() {
        assert!(matches!(
            decode_image(b"definitely not an image", 4096),
            Err(FaceError::UnsupportedFormat { .. })
        ));
        let truncated = &png(64, 64)[..40];
        assert_eq!(
            decode_image(truncated, 4096),
            Err(FaceError::Undecodable { format: "PNG" })
        );
    }
}

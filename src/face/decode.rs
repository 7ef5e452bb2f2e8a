//! From what a browser or API client sends to RGB pixels, refusing oversized or damaged pictures
//! before they cost memory: the byte limit is checked before base64 decoding, the pixel limit from
//! the file header before the pixels are allocated.

use std::io::Cursor;

use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use image::{ImageError, ImageFormat, RgbImage, io::Reader};

use super::FaceError;

/// A picture as it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageInput {
    /// The encoded file: JPEG, PNG or WebP bytes (a multipart upload, a binary body).
    Bytes(Vec<u8>),
    /// Base64 of those bytes, or a `data:image/…;base64,…` URL as `canvas.toDataURL()` makes it.
    Text(String),
}

/// How large a picture may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Bytes of the encoded file.
    pub max_bytes: usize,
    /// Pixels per side.
    pub max_side: u32,
}

/// The formats we decode; everything else is refused as unsupported.
const ACCEPTED: [ImageFormat; 3] = [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::WebP];

/// Decodes a picture into RGB pixels, within `limits`.
pub fn decode_image(input: ImageInput, limits: DecodeLimits) -> Result<RgbImage, FaceError> {
    let bytes = match input {
        ImageInput::Bytes(bytes) => bytes,
        ImageInput::Text(text) => decode_text(&text, limits.max_bytes)?,
    };
    decode_bytes(&bytes, limits)
}

/// Base64 or a data: URL to bytes.
fn decode_text(text: &str, max_bytes: usize) -> Result<Vec<u8>, FaceError> {
    let text = text.trim();
    let payload = match strip_prefix_ignore_case(text, "data:") {
        Some(url) => data_url_payload(url)?,
        None => text,
    };
    if payload.is_empty() {
        return Err(FaceError::EmptyImage);
    }
    // Every 4 base64 characters carry 3 bytes: refuse before allocating the decoded copy.
    let decoded_size = payload.len() / 4 * 3;
    if decoded_size > max_bytes {
        return Err(FaceError::TooManyBytes {
            size: decoded_size,
            limit: max_bytes,
        });
    }
    // Tolerate line-wrapped base64 (MIME style) and the URL-safe alphabet.
    let compact: String;
    let payload = if payload.bytes().any(|b| b.is_ascii_whitespace()) {
        compact = payload.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        compact.as_str()
    } else {
        payload
    };
    let alphabet = if payload.contains(['-', '_']) {
        &alphabet::URL_SAFE
    } else {
        &alphabet::STANDARD
    };
    let engine = GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    engine.decode(payload).map_err(|_| FaceError::BadBase64)
}

/// `data:[<media type>][;params];base64,<payload>` → the payload, checking the media type.
fn data_url_payload(url: &str) -> Result<&str, FaceError> {
    let (meta, payload) = url
        .split_once(',')
        .ok_or(FaceError::BadDataUrl("no comma before the data"))?;
    let mut parts = meta.split(';').map(str::trim);
    let media_type = parts.next().unwrap_or_default().to_ascii_lowercase();
    if !parts.any(|p| p.eq_ignore_ascii_case("base64")) {
        return Err(FaceError::BadDataUrl("it must be base64-encoded"));
    }
    match media_type.as_str() {
        // An empty media type is allowed: the bytes are sniffed anyway.
        "" | "image/jpeg" | "image/jpg" | "image/png" | "image/webp" => Ok(payload),
        other => Err(FaceError::UnsupportedFormat {
            what: format!("The data: URL says {other}, which is not a picture we read."),
        }),
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// The width and height a picture's header declares, within `limits`, without decoding its
/// pixels (a base64 picture is decoded from base64 first). For gates that must refuse a picture
/// before it reaches a face worker.
pub fn image_dimensions(input: &ImageInput, limits: DecodeLimits) -> Result<(u32, u32), FaceError> {
    match input {
        ImageInput::Bytes(bytes) => header(bytes, limits).map(|(_, size)| size),
        ImageInput::Text(text) => {
            let bytes = decode_text(text, limits.max_bytes)?;
            header(&bytes, limits).map(|(_, size)| size)
        }
    }
}

/// The format (sniffed from the magic bytes, never trusted from a declared type) and the
/// dimensions from the header, checked against `limits`.
fn header(bytes: &[u8], limits: DecodeLimits) -> Result<(ImageFormat, (u32, u32)), FaceError> {
    if bytes.is_empty() {
        return Err(FaceError::EmptyImage);
    }
    if bytes.len() > limits.max_bytes {
        return Err(FaceError::TooManyBytes {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| FaceError::UnsupportedFormat {
        what: "This file is not a picture we recognise.".into(),
    })?;
    if !ACCEPTED.contains(&format) {
        return Err(FaceError::UnsupportedFormat {
            what: format!("{} pictures are not supported.", format_name(format)),
        });
    }
    let name = format_name(format);
    let (width, height) = Reader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|e| image_error(e, name, (0, 0), limits))?;
    if width > limits.max_side || height > limits.max_side {
        return Err(FaceError::TooManyPixels {
            width,
            height,
            limit: limits.max_side,
        });
    }
    if width == 0 || height == 0 {
        return Err(FaceError::Undecodable { format: name });
    }
    Ok((format, (width, height)))
}

/// Encoded bytes to RGB pixels, refused from the header (format, dimensions) before decoding.
fn decode_bytes(bytes: &[u8], limits: DecodeLimits) -> Result<RgbImage, FaceError> {
    let (format, (width, height)) = header(bytes, limits)?;
    let name = format_name(format);
    let mut reader = Reader::with_format(Cursor::new(bytes), format);
    // Belt and braces: the decoders enforce the same limits while they allocate.
    let mut decoder_limits = image::io::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    decoder_limits.max_alloc = Some(u64::from(width) * u64::from(height) * 8 + (1 << 20));
    reader.limits(decoder_limits);
    let image = reader
        .decode()
        .map_err(|e| image_error(e, name, (width, height), limits))?;
    Ok(image.into_rgb8())
}

fn image_error(
    error: ImageError,
    format: &'static str,
    (width, height): (u32, u32),
    limits: DecodeLimits,
) -> FaceError {
    match error {
        ImageError::Limits(_) => FaceError::TooManyPixels {
            width,
            height,
            limit: limits.max_side,
        },
        ImageError::Unsupported(_) => FaceError::UnsupportedFormat {
            what: format!("This {format} picture uses a feature we cannot read."),
        },
        _ => FaceError::Undecodable { format },
    }
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::WebP => "WebP",
        ImageFormat::Gif => "GIF",
        ImageFormat::Bmp => "BMP",
        ImageFormat::Tiff => "TIFF",
        ImageFormat::Avif => "AVIF",
        ImageFormat::Ico => "ICO",
        _ => "Such",
    }
}

//! The QR code of the form's public address, as SVG and PNG, made once at start.
//!
//! Invariant: the code encodes `public_url` and nothing else — no tracking
//! parameter, nothing about who scans it.

use qrcode::QrCode;
use qrcode::types::Color;

/// Pixels per module in the PNG: large enough to print on a poster.
const PNG_SCALE: usize = 10;
/// The light border around the code, in modules (the standard asks for four).
const QUIET_ZONE: usize = 4;

/// The rendered QR code.
#[derive(Debug, Default)]
pub struct Qr {
    /// An SVG document.
    pub svg: String,
    /// A greyscale PNG file.
    pub png: Vec<u8>,
}

impl Qr {
    /// Renders `url`; `None` if it does not fit in a QR code or cannot be encoded.
    pub fn new(url: &str) -> Option<Qr> {
        let code = QrCode::new(url.as_bytes()).ok()?;
        let svg = code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build();
        let png = png_of(&code)?;
        Some(Qr { svg, png })
    }
}

fn png_of(code: &QrCode) -> Option<Vec<u8>> {
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * PNG_SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (x0, y0) = (
            (i % modules + QUIET_ZONE) * PNG_SCALE,
            (i / modules + QUIET_ZONE) * PNG_SCALE,
        );
        for y in y0..y0 + PNG_SCALE {
            if let Some(row) = pixels.get_mut(y * side + x0..y * side + x0 + PNG_SCALE) {
                row.fill(0);
            }
        }
    }
    let side = u32::try_from(side).ok()?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().ok()?;
    writer.write_image_data(&pixels).ok()?;
    writer.finish().ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_qr_code_comes_as_svg_and_as_png() {
        let qr = Qr::new("https://signaal.example.nl/").unwrap();
        assert!(qr.svg.contains("<svg"));
        assert!(!qr.svg.contains("<script"));
        assert_eq!(qr.png.get(..8).unwrap(), b"\x89PNG\r\n\x1a\n");
    }
}

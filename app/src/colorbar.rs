//! The colour bar appended to pictures: the layer's colormap(s) with the range written beside it.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use cortexlens_data::LayerStyle;
use cortexlens_data::colormap::LUT_SIZE;
use image::{Rgba, RgbaImage};

/// Return `picture` with a colour bar of `style` appended on its right.
///
/// A plain map shows one bar from `range.0` (bottom) to `range.1` (top); a signed map shows the
/// positive side above the negative side, each labelled with its ends.
pub fn append(picture: &RgbaImage, style: &LayerStyle, title: &str) -> RgbaImage {
    let (w, h) = picture.dimensions();
    let unit = (h as f32 / 300.0).clamp(0.5, 8.0);
    let strip = (90.0 * unit).round() as u32;
    let mut out = RgbaImage::from_pixel(w + strip, h, Rgba([0, 0, 0, 255]));
    image::imageops::replace(&mut out, picture, 0, 0);
    let font_px = (12.0 * unit).max(8.0);
    let bar_x = w + (8.0 * unit) as u32;
    let bar_w = (16.0 * unit).max(4.0) as u32;
    let margin = (font_px * 1.6) as u32;
    let top = margin;
    let bottom = h.saturating_sub(margin);
    if bottom <= top + 4 {
        return out;
    }
    let (lo, hi) = style.range;
    let label_x = bar_x + bar_w + (4.0 * unit) as u32;
    match style.negative {
        Some(negative) => {
            let mid = (top + bottom) / 2;
            let gap = (4.0 * unit) as u32;
            fill_bar(&mut out, bar_x, bar_w, top, mid - gap / 2, &style.colormap.lut());
            fill_bar(&mut out, bar_x, bar_w, mid + gap / 2, bottom, &reversed(negative.lut()));
            draw_text(&mut out, &format_value(hi), label_x, top, font_px);
            draw_text(
                &mut out,
                &format_value(lo),
                label_x,
                mid - gap / 2 - font_px as u32,
                font_px,
            );
            draw_text(&mut out, &format_value(-lo), label_x, mid + gap / 2, font_px);
            draw_text(&mut out, &format_value(-hi), label_x, bottom - font_px as u32, font_px);
        }
        None => {
            fill_bar(&mut out, bar_x, bar_w, top, bottom, &style.colormap.lut());
            draw_text(&mut out, &format_value(hi), label_x, top, font_px);
            draw_text(&mut out, &format_value(lo), label_x, bottom - font_px as u32, font_px);
        }
    }
    let title: String = title.chars().take(14).collect();
    draw_text(
        &mut out,
        &title,
        w + (4.0 * unit) as u32,
        (2.0 * unit) as u32,
        font_px * 0.9,
    );
    out
}

fn reversed(mut lut: [[u8; 4]; LUT_SIZE]) -> [[u8; 4]; LUT_SIZE] {
    lut.reverse();
    lut
}

/// Fill a vertical bar whose top row shows the LUT's last entry and bottom row its first.
fn fill_bar(image: &mut RgbaImage, x: u32, width: u32, top: u32, bottom: u32, lut: &[[u8; 4]; LUT_SIZE]) {
    let rows = bottom.saturating_sub(top).max(1);
    for y in top..bottom {
        let t = 1.0 - (y - top) as f32 / (rows - 1).max(1) as f32;
        let entry = lut[(t * (LUT_SIZE - 1) as f32).round() as usize];
        for dx in 0..width {
            if x + dx < image.width() {
                image.put_pixel(x + dx, y, Rgba(entry));
            }
        }
    }
}

/// A value written compactly: integers plainly, others with three significant digits.
pub fn format_value(v: f32) -> String {
    if v == v.round() && v.abs() < 1e6 {
        format!("{v:.0}")
    } else if v.abs() >= 1000.0 || (v != 0.0 && v.abs() < 0.01) {
        format!("{v:.2e}")
    } else {
        format!("{}", (v * 100.0).round() / 100.0)
    }
}

/// Draw white text with its top-left corner at `(x, y)`.
fn draw_text(image: &mut RgbaImage, text: &str, x: u32, y: u32, px: f32) {
    let Ok(font) = FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT) else {
        return;
    };
    let scaled = font.as_scaled(PxScale::from(px));
    let mut caret = x as f32;
    let baseline = y as f32 + scaled.ascent();
    for ch in text.chars() {
        let mut glyph = scaled.scaled_glyph(ch);
        glyph.position = point(caret, baseline);
        caret += scaled.h_advance(glyph.id);
        if let Some(outline) = font.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                let px = bounds.min.x as i64 + gx as i64;
                let py = bounds.min.y as i64 + gy as i64;
                if px >= 0 && py >= 0 && (px as u32) < image.width() && (py as u32) < image.height() {
                    let p = image.get_pixel_mut(px as u32, py as u32);
                    for c in 0..3 {
                        p.0[c] = (p.0[c] as f32 * (1.0 - coverage) + 255.0 * coverage).round() as u8;
                    }
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_is_appended_with_colours_and_labels() {
        let picture = RgbaImage::from_pixel(200, 300, Rgba([0, 0, 0, 255]));
        let style = LayerStyle::signed_overlay(3.0, 8.0);
        let out = append(&picture, &style, "motor");
        assert_eq!(out.height(), 300);
        assert!(out.width() > 200);
        // The positive bar's top is yellow and the negative bar's bottom is light blue.
        let bar_x = 200 + 8 + 4;
        let top = out.get_pixel(bar_x, 20).0;
        let bottom = out.get_pixel(bar_x, 280).0;
        assert!(top[0] == 255 && top[1] > 240 && top[2] == 0, "{top:?}");
        assert!(bottom[0] == 0 && bottom[1] > 240 && bottom[2] == 255, "{bottom:?}");
        // Some label text was drawn (white-ish pixels right of the bar).
        let text = (200 + 30..out.width())
            .flat_map(|x| (0..300).map(move |y| (x, y)))
            .filter(|&(x, y)| out.get_pixel(x, y).0[0] > 128)
            .count();
        assert!(text > 20, "{text}");
    }

    #[test]
    fn values_are_compact() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(2.345), "2.35");
        assert_eq!(format_value(12345.6), "1.23e4");
    }
}

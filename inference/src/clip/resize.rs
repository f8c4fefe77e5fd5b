//! Pillow's `BICUBIC` resampling of 8-bit RGB images, reproduced operation for operation.
//!
//! Pillow (`Resample.c`) filters separably with the cubic kernel `a = −0.5`, widening the support by
//! the downscale factor (antialiasing), converts the normalised weights to 22-bit fixed point,
//! resamples horizontally first and rounds to 8 bits between the passes. Doing the same here gives
//! the same bytes as `PIL.Image.resize(size, BICUBIC)` (what `CLIPImageProcessor` and torchvision's
//! `Resize` call), which the `image` crate's `CatmullRom` filter does not (it runs the vertical pass
//! first in floating point).

use image::RgbImage;

const PRECISION_BITS: u32 = 32 - 8 - 2;
const SUPPORT: f64 = 2.0;

fn bicubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// Fixed-point weights of one output pixel: the first input index and one weight per input.
struct Taps {
    first: usize,
    weights: Vec<i32>,
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for `in_size → out_size`.
fn coefficients(in_size: usize, out_size: usize) -> Vec<Taps> {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = SUPPORT * filter_scale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            // C casts truncate towards zero; negative starts are clamped to 0 anyway.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let raw: Vec<f64> = (xmin..xmax)
                .map(|x| bicubic((x as f64 - center + 0.5) / filter_scale))
                .collect();
            let total: f64 = raw.iter().sum();
            let weights = raw
                .iter()
                .map(|&w| {
                    let w = if total != 0.0 { w / total } else { w };
                    let fixed = w * f64::from(1u32 << PRECISION_BITS);
                    if w < 0.0 {
                        (fixed - 0.5) as i32
                    } else {
                        (fixed + 0.5) as i32
                    }
                })
                .collect();
            Taps { first: xmin, weights }
        })
        .collect()
}

fn clip8(sum: i64) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resizes `image` to `width × height` exactly as Pillow's `Image.resize(…, BICUBIC)` does.
///
/// A zero target size returns an empty image.
pub fn resize_bicubic(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    if width == 0 || height == 0 || image.width() == 0 || image.height() == 0 {
        return RgbImage::new(width, height);
    }
    let horizontal = if width != image.width() {
        let taps = coefficients(image.width() as usize, width as usize);
        RgbImage::from_fn(width, image.height(), |x, y| {
            let tap = &taps[x as usize];
            let mut sums = [1i64 << (PRECISION_BITS - 1); 3];
            for (i, &w) in tap.weights.iter().enumerate() {
                let p = image.get_pixel((tap.first + i) as u32, y);
                for c in 0..3 {
                    sums[c] += i64::from(p[c]) * i64::from(w);
                }
            }
            image::Rgb(sums.map(clip8))
        })
    } else {
        image.clone()
    };
    if height == horizontal.height() {
        return horizontal;
    }
    let taps = coefficients(horizontal.height() as usize, height as usize);
    RgbImage::from_fn(width, height, |x, y| {
        let tap = &taps[y as usize];
        let mut sums = [1i64 << (PRECISION_BITS - 1); 3];
        for (i, &w) in tap.weights.iter().enumerate() {
            let p = horizontal.get_pixel(x, (tap.first + i) as u32);
            for c in 0..3 {
                sums[c] += i64::from(p[c]) * i64::from(w);
            }
        }
        image::Rgb(sums.map(clip8))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_in_fixed_point() {
        for (n_in, n_out) in [(57, 32), (23, 32), (640, 224), (5, 3)] {
            for tap in coefficients(n_in, n_out) {
                let sum: i32 = tap.weights.iter().sum();
                assert!(
                    (sum - (1 << PRECISION_BITS)).abs() <= tap.weights.len() as i32,
                    "{n_in}->{n_out}: {sum}"
                );
                assert!(tap.first + tap.weights.len() <= n_in);
            }
        }
    }

    #[test]
    fn constant_images_stay_constant_and_same_size_is_identity() {
        let flat = RgbImage::from_pixel(37, 19, image::Rgb([10, 200, 255]));
        let out = resize_bicubic(&flat, 16, 11);
        assert!(out.pixels().all(|p| p.0 == [10, 200, 255]));
        let noisy = RgbImage::from_fn(9, 7, |x, y| image::Rgb([(x * 29 + y * 7) as u8, (x * y) as u8, 3]));
        assert_eq!(resize_bicubic(&noisy, 9, 7), noisy);
        assert_eq!(resize_bicubic(&noisy, 0, 4).dimensions(), (0, 4));
    }
}

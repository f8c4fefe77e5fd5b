//! CLIP's image preprocessing, as `transformers`' `CLIPImageProcessor` does it.
//!
//! 1. Resize so the short side is `image_size`, with Pillow's bicubic filter ([`resize_bicubic`]);
//!    the long side becomes `floor(image_size · long / short)`.
//! 2. Centre crop to `image_size²` (top-left corner at `(size − crop) / 2`, rounded down).
//! 3. Scale to `[0, 1]` (`v · (1/255)` in f64, then f32) and normalise with [`CLIP_MEAN`] and
//!    [`CLIP_STD`] in f32.
//!
//! The output matches `CLIPImageProcessor(size=S, crop_size=S)` on the fixture images to the last
//! bit (see `tests/fixtures/README.md`; the `image` crate's `CatmullRom` filter was up to 7/255 off). torchvision's `CenterCrop` (used by OpenAI's own `clip`)
//! rounds the crop offset to nearest rather than down, so it can differ by one pixel row.

use std::path::Path;

use candle_core::{Device, Tensor};
use image::RgbImage;

use super::ClipError;
use super::resize::resize_bicubic;

/// OpenAI CLIP's per-channel mean (RGB), as published.
#[allow(clippy::excessive_precision)]
pub const CLIP_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
/// OpenAI CLIP's per-channel standard deviation (RGB), as published.
#[allow(clippy::excessive_precision)]
pub const CLIP_STD: [f32; 3] = [0.268_629_54, 0.261_302_58, 0.275_777_11];

/// Opens an image file (PNG or JPEG) as 8-bit RGB.
pub fn load_image(path: &Path) -> Result<RgbImage, ClipError> {
    let image = image::ImageReader::open(path)
        .map_err(|source| ClipError::Io {
            path: path.to_owned(),
            source,
        })?
        .with_guessed_format()
        .map_err(|source| ClipError::Io {
            path: path.to_owned(),
            source,
        })?
        .decode()
        .map_err(|source| ClipError::Image {
            path: path.to_owned(),
            source,
        })?;
    Ok(image.to_rgb8())
}

/// Resizes (short side to `image_size`) and centre-crops `image` to `image_size²`.
pub fn resize_and_crop(image: &RgbImage, image_size: u32) -> Result<RgbImage, ClipError> {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 || image_size == 0 {
        return Err(ClipError::Config(format!(
            "cannot preprocess a {w}×{h} image to {image_size}²"
        )));
    }
    let (short, long) = (w.min(h), w.max(h));
    let new_long = (f64::from(image_size) * f64::from(long) / f64::from(short)) as u32;
    let (nw, nh) = if w <= h {
        (image_size, new_long)
    } else {
        (new_long, image_size)
    };
    let resized = resize_bicubic(image, nw, nh);
    let left = (nw - image_size) / 2;
    let top = (nh - image_size) / 2;
    Ok(image::imageops::crop_imm(&resized, left, top, image_size, image_size).to_image())
}

/// CHW f32 values of one image after the whole preprocessing (`3 · image_size²` values).
pub fn preprocess(image: &RgbImage, image_size: u32) -> Result<Vec<f32>, ClipError> {
    let cropped = resize_and_crop(image, image_size)?;
    let plane = (image_size * image_size) as usize;
    let mut out = vec![0.0f32; 3 * plane];
    for (i, pixel) in cropped.pixels().enumerate() {
        for c in 0..3 {
            let scaled = (f64::from(pixel[c]) * (1.0 / 255.0)) as f32;
            out[c * plane + i] = (scaled - CLIP_MEAN[c]) / CLIP_STD[c];
        }
    }
    Ok(out)
}

/// A batch of preprocessed images as an NCHW f32 tensor on `device`.
pub fn batch_tensor(images: &[RgbImage], image_size: u32, device: &Device) -> Result<Tensor, ClipError> {
    let s = image_size as usize;
    let mut values = Vec::with_capacity(images.len() * 3 * s * s);
    for image in images {
        values.extend(preprocess(image, image_size)?);
    }
    Ok(Tensor::from_vec(values, (images.len(), 3, s, s), device)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sizes_follow_the_short_side() {
        let wide = RgbImage::new(57, 41);
        assert_eq!(resize_and_crop(&wide, 32).unwrap().dimensions(), (32, 32));
        let tall = RgbImage::new(3, 200);
        assert_eq!(resize_and_crop(&tall, 8).unwrap().dimensions(), (8, 8));
        assert!(resize_and_crop(&RgbImage::new(0, 5), 8).is_err());
        let white = RgbImage::from_pixel(10, 10, image::Rgb([255, 255, 255]));
        let v = preprocess(&white, 4).unwrap();
        assert_eq!(v.len(), 48);
        assert!((v[0] - (1.0 - CLIP_MEAN[0]) / CLIP_STD[0]).abs() < 1e-6);
        assert!((v[47] - (1.0 - CLIP_MEAN[2]) / CLIP_STD[2]).abs() < 1e-6);
    }
}

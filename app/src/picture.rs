//! Offscreen pictures of the slice views: screenshots and `cortexlens render` share this code,
//! re-rendering at the requested resolution (never upscaling the window's pixels).

use std::collections::HashMap;

use cortexlens_render::{RenderError, SliceRenderer, VolumeTexture};
use glam::DVec2;
use image::{Rgba, RgbaImage};

use crate::colorbar;
use crate::viewer::{LayerId, Viewer, panes};

/// What to draw besides the slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PictureOptions {
    /// Append a colour bar of the top visible layer on the right.
    pub colorbar: bool,
    /// Draw the crosshair lines.
    pub crosshair: bool,
}

impl Default for PictureOptions {
    fn default() -> Self {
        PictureOptions {
            colorbar: true,
            crosshair: true,
        }
    }
}

/// Crosshair colour in views and pictures.
pub const CROSSHAIR_RGBA: [u8; 4] = [40, 220, 40, 255];

/// The GPU side of a picture: device, renderer and the layers' uploaded textures.
pub struct PictureGpu<'a> {
    /// The device.
    pub device: &'a wgpu::Device,
    /// Its queue.
    pub queue: &'a wgpu::Queue,
    /// The slice renderer.
    pub renderer: &'a SliceRenderer,
    /// Uploaded layers.
    pub textures: &'a HashMap<LayerId, VolumeTexture>,
}

/// Render the viewer's layout at `width × height` pixels (plus the colour bar's strip when asked).
pub fn render_picture(
    gpu: &PictureGpu<'_>,
    viewer: &Viewer,
    width: u32,
    height: u32,
    options: PictureOptions,
) -> Result<RgbaImage, RenderError> {
    let PictureGpu {
        device,
        queue,
        renderer,
        textures,
    } = *gpu;
    let mut picture = RgbaImage::from_pixel(width, height, Rgba([0, 0, 0, 255]));
    let layers: Vec<_> = viewer
        .layers
        .iter()
        .filter_map(|l| Some((textures.get(&l.id)?, &l.style)))
        .collect();
    let line_width = (width.max(height) / 800).max(1);
    for pane in panes(viewer.layout, width, height) {
        let [x0, y0, w, h] = pane.rect;
        if w == 0 || h == 0 {
            continue;
        }
        let geometry = viewer.geometry(pane.plane, w, h);
        let pixels = renderer.render_rgba(device, queue, &geometry, &layers)?;
        let Some(mut slice) = RgbaImage::from_raw(w, h, pixels) else {
            continue;
        };
        if options.crosshair {
            let at = geometry.world_to_pixel(viewer.crosshair);
            draw_crosshair(&mut slice, at, line_width);
        }
        image::imageops::replace(&mut picture, &slice, x0 as i64, y0 as i64);
    }
    if options.colorbar
        && let Some(layer) = viewer.layers.iter().rev().find(|l| l.style.visible)
    {
        return Ok(colorbar::append(&picture, &layer.style, layer.name()));
    }
    Ok(picture)
}

fn draw_crosshair(image: &mut RgbaImage, at: DVec2, line_width: u32) {
    let (w, h) = image.dimensions();
    let half = line_width as i64 / 2;
    let cx = at.x.floor() as i64;
    let cy = at.y.floor() as i64;
    for d in -half..=(line_width as i64 - 1 - half) {
        let x = cx + d;
        if (0..w as i64).contains(&x) {
            (0..h).for_each(|y| image.put_pixel(x as u32, y, Rgba(CROSSHAIR_RGBA)));
        }
        let y = cy + d;
        if (0..h as i64).contains(&y) {
            (0..w).for_each(|x| image.put_pixel(x, y as u32, Rgba(CROSSHAIR_RGBA)));
        }
    }
}

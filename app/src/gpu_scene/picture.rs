//! Offscreen pictures of the views: screenshots and `cortexlens render` share this code,
//! re-rendering at the requested resolution (never upscaling the window's pixels).

use cortexlens_render::RenderError;
use glam::DVec2;
use image::{Rgba, RgbaImage};

use super::{GpuScene, ViewRequest};
use crate::colorbar;
use crate::viewer::Viewer;

/// What to draw besides the views.
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

/// Render the viewer's layout at `width × height` pixels (plus the colour bar's strip when asked),
/// from what `scene` holds (call [`GpuScene::sync`] first).
pub fn render_picture(
    scene: &mut GpuScene,
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    viewer: &Viewer,
    (width, height): (u32, u32),
    options: PictureOptions,
) -> Result<RgbaImage, RenderError> {
    let mut picture = RgbaImage::from_pixel(width, height, Rgba([0, 0, 0, 255]));
    let line_width = (width.max(height) / 800).max(1);
    for pane in viewer.panes(width, height) {
        let [x0, y0, w, h] = pane.rect;
        if w == 0 || h == 0 {
            continue;
        }
        let Some(request) = ViewRequest::of(viewer, pane.view, (w, h)) else {
            continue;
        };
        cortexlens_render::limits::check_target(device, w, h)?;
        let pixels = scene.render_view_rgba(device, queue, &request)?;
        let mut view = RgbaImage::from_raw(w, h, pixels).ok_or(RenderError::Readback("short readback".into()))?;
        if let (ViewRequest::Slice { geometry, .. }, true) = (&request, options.crosshair) {
            draw_crosshair(&mut view, geometry.world_to_pixel(viewer.crosshair), line_width);
        }
        image::imageops::replace(&mut picture, &view, x0 as i64, y0 as i64);
    }
    if options.colorbar
        && let Some((style, name)) = colorbar_layer(viewer)
    {
        return Ok(colorbar::append(&picture, &style, &name));
    }
    Ok(picture)
}

/// The layer (or surface map) the colour bar describes: the top visible one with a continuous
/// colormap (labels and annotations have no scale to show).
fn colorbar_layer(viewer: &Viewer) -> Option<(cortexlens_data::LayerStyle, String)> {
    let volume = viewer
        .layers
        .iter()
        .rev()
        .find(|l| l.style.visible && !l.style.colormap.is_categorical())
        .map(|l| (l.style, l.name().to_owned()));
    let map = viewer
        .surfaces
        .maps
        .iter()
        .rev()
        .find(|m| m.style.visible && m.labels.is_empty() && !m.style.colormap.is_categorical())
        .map(|m| (m.style, m.name.clone()));
    match viewer.layout {
        crate::viewer::Layout::Surface => map.or(volume),
        _ => volume.or(map),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viewer::{Layer, LayerId};
    use cortexlens_data::{Colormap, LayerStyle, Volume};

    #[test]
    fn the_colour_bar_describes_the_top_continuous_layer() {
        let volume = |name: &str| Volume::from_f32(name, [2, 2, 2, 1], glam::DMat4::IDENTITY, vec![1.0; 8]);
        let mut viewer = Viewer::default();
        viewer.push_layer(Layer::new(LayerId(1), volume("t1"), LayerStyle::base((0.0, 1.0))));
        let mut atlas = LayerStyle::base((0.0, 1.0));
        atlas.set_colormap(Colormap::Labels);
        viewer.push_layer(Layer::new(LayerId(2), volume("atlas"), atlas));
        assert_eq!(colorbar_layer(&viewer).map(|(_, name)| name).as_deref(), Some("t1"));
        viewer.layers[0].style.visible = false;
        assert_eq!(colorbar_layer(&viewer), None);
    }
}

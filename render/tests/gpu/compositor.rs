//! The compositor copies a slice target into the current viewport of another pass, exactly,
//! for plain and sRGB pass formats.

use cortexlens_data::{LayerStyle, Plane, SliceGeometry};
use cortexlens_render::target::read_texture;
use cortexlens_render::testing::shared_context;
use cortexlens_render::{Compositor, OffscreenTarget, Renderer, SliceFrame, SliceRenderer, SliceTarget, VolumeTexture};
use glam::{DVec2, DVec3};

use crate::common::{affine, volume};

#[test]
fn composites_into_the_viewport_exactly() {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let v = volume(
        "v",
        [16, 16, 16],
        affine(DVec3::X, DVec3::Y, DVec3::Z, DVec3::splat(-8.0)),
        |i, j, k| ((i * 37 + j * 11 + k * 5) % 64) as f32,
    );
    let mut style = LayerStyle::base((0.0, 63.0));
    style.colormap = cortexlens_data::Colormap::Viridis;
    let texture = VolumeTexture::upload(device, queue, &v, 0);
    let g = SliceGeometry::fit(
        Plane::Coronal,
        DVec3::splat(0.3),
        DVec3::ZERO,
        DVec2::new(20.0, 16.0),
        50,
        40,
    );
    let target = SliceTarget::new(device, 50, 40);
    let renderer = SliceRenderer::new(device);
    let frame = SliceFrame {
        geometry: &g,
        layers: &[(&texture, &style)],
    };
    queue.submit([renderer.draw(device, queue, &target, &frame)]);
    let slice = target.read_rgba(device, queue).expect("readback");

    for format in [wgpu::TextureFormat::Rgba8Unorm, wgpu::TextureFormat::Rgba8UnormSrgb] {
        let compositor = Compositor::new(device, format);
        let bind = compositor.bind_view(device, target.view());
        // As egui does for a paint callback: the viewport is the callback's rectangle.
        let screen_pixels = composite(
            &compositor,
            &bind,
            format,
            (80, 60),
            wgpu::Color::WHITE,
            Some([13.0, 7.0, 50.0, 40.0]),
        );
        let mut worst = 0;
        for y in 0..60u32 {
            for x in 0..80u32 {
                let got = &screen_pixels[4 * (y * 80 + x) as usize..][..4];
                let inside = (13..63).contains(&x) && (7..47).contains(&y);
                if inside {
                    let want = &slice[4 * ((y - 7) * 50 + (x - 13)) as usize..][..4];
                    let d = got.iter().zip(want).map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
                    worst = worst.max(d);
                } else {
                    assert_eq!(
                        got,
                        [255, 255, 255, 255],
                        "{format:?}: ({x}, {y}) outside the viewport was drawn"
                    );
                }
            }
        }
        // Unorm: an exact copy. sRGB: decode then encode, which may round by one.
        let allowed = if format.is_srgb() { 1 } else { 0 };
        assert!(
            worst <= allowed,
            "{format:?}: composite differs from the target by {worst}"
        );
    }
}

/// Composites `source` (a `w × 1` RGBA8 row) into an `out_w × 1` viewport and returns the red channel.
fn upscale_row(row: &[u8], out_w: u32, smooth: bool) -> Vec<u8> {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let w = (row.len() / 4) as u32;
    let texture_desc = |width, usage| wgpu::TextureDescriptor {
        label: Some("row"),
        size: wgpu::Extent3d {
            width,
            height: 1,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba8Unorm,
        usage,
        view_formats: &[],
    };
    let source = device.create_texture(&texture_desc(
        w,
        wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
    ));
    queue.write_texture(
        source.as_image_copy(),
        row,
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(4 * w),
            rows_per_image: None,
        },
        source.size(),
    );
    let compositor = Compositor::new(device, wgpu::TextureFormat::Rgba8Unorm);
    let source_view = source.create_view(&Default::default());
    let bind = if smooth {
        compositor.bind_view_smooth(device, &source_view)
    } else {
        compositor.bind_view(device, &source_view)
    };
    let pixels = composite(
        &compositor,
        &bind,
        wgpu::TextureFormat::Rgba8Unorm,
        (out_w, 1),
        wgpu::Color::BLACK,
        None,
    );
    pixels.chunks(4).map(|p| p[0]).collect()
}

#[test]
fn smooth_binding_interpolates_a_lower_resolution_target() {
    let row = [0, 0, 0, 255, 255, 0, 0, 255];
    let nearest = upscale_row(&row, 8, false);
    assert_eq!(nearest, [0, 0, 0, 0, 255, 255, 255, 255]);
    let smooth = upscale_row(&row, 8, true);
    // Texel centres at x = 2 and 6 (in output pixels); outside them the edge is clamped.
    let want: Vec<u8> = (0..8)
        .map(|x| ((x as f32 + 0.5 - 2.0) / 4.0).clamp(0.0, 1.0) * 255.0)
        .map(|v| v.round() as u8)
        .collect();
    let worst = smooth.iter().zip(&want).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
    assert!(worst <= 2, "bilinear {smooth:?} vs {want:?}");
    // At the target's own size, smooth sampling copies exactly.
    assert_eq!(upscale_row(&row, 2, true), [0, 255]);
}

/// Composites `bind` into a new `size` texture of `format` cleared to `clear`, within `viewport`
/// (`[x, y, width, height]`; the whole texture when `None`), and reads it back.
pub fn composite(
    compositor: &Compositor,
    bind: &wgpu::BindGroup,
    format: wgpu::TextureFormat,
    size: (u32, u32),
    clear: wgpu::Color,
    viewport: Option<[f32; 4]>,
) -> Vec<u8> {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let screen = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("screen"),
        size: wgpu::Extent3d {
            width: size.0,
            height: size.1,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let view = screen.create_view(&Default::default());
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("screen"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(clear),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        if let Some([x, y, w, h]) = viewport {
            pass.set_viewport(x, y, w, h, 0.0, 1.0);
        }
        compositor.paint(&mut pass, bind);
    }
    queue.submit([encoder.finish()]);
    read_texture(device, queue, &screen).unwrap()
}

#[test]
fn a_composited_target_is_remade_only_when_the_size_changes() {
    use cortexlens_render::composite::{Composited, Sampling};
    let ctx = shared_context();
    let device = &ctx.device;
    let compositor = Compositor::new(device, wgpu::TextureFormat::Rgba8Unorm);
    let mut slot: Option<Composited<SliceTarget>> = None;
    compositor.keep_size(device, &mut slot, (30, 20), Sampling::Nearest);
    let first = slot.as_ref().map(|s| s.target().texture().clone()).unwrap();
    assert_eq!(slot.as_ref().unwrap().target().size(), (30, 20));
    compositor.keep_size(device, &mut slot, (30, 20), Sampling::Nearest);
    assert!(
        slot.as_ref().unwrap().target().texture() == &first,
        "same size: same target"
    );
    compositor.keep_size(device, &mut slot, (31, 20), Sampling::Linear);
    assert_eq!(slot.as_ref().unwrap().target().size(), (31, 20));
    assert!(
        slot.as_ref().unwrap().target().texture() != &first,
        "new size: new target"
    );
}

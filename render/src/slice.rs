//! The GPU slice reslicer: draws layers of volumes into a [`SliceTarget`] through a slice geometry.

use cortexlens_data::{LayerStyle, SliceGeometry};
use glam::{DMat4, DVec4};

use crate::renderer::Renderer;
use crate::setup;
use crate::shaders::SLICE;
use crate::style_uniform::StyleUniform;
use crate::target::{SLICE_FORMAT, SliceTarget};
use crate::volume_texture::VolumeTexture;

/// One slice picture: layers of volumes, bottom first, resliced through a geometry.
#[derive(Clone, Copy)]
pub struct SliceFrame<'a> {
    /// Target pixel `(x, y)` shows `geometry.pixel_to_world((x + 0.5, y + 0.5))`; give a
    /// geometry of the target's size.
    pub geometry: &'a SliceGeometry,
    /// Each volume with its style; hidden layers are skipped.
    pub layers: &'a [(&'a VolumeTexture, &'a LayerStyle)],
}

/// Per-layer uniform block; mirrors `struct Layer` in `shaders/slice.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct LayerUniform {
    pixel_to_voxel: [[f32; 4]; 4],
    dims: [i32; 4],
    style: StyleUniform,
}

impl LayerUniform {
    fn new(pixel_to_voxel: DMat4, dims: [u32; 3], style: &LayerStyle) -> LayerUniform {
        LayerUniform {
            pixel_to_voxel: pixel_to_voxel.as_mat4().to_cols_array_2d(),
            dims: [dims[0] as i32, dims[1] as i32, dims[2] as i32, 0],
            style: StyleUniform::new(style),
        }
    }
}

/// Map from pixel coordinates `(x, y, 0, 1)` (pixel centres at +0.5) to continuous voxel
/// coordinates, composed in f64: `world_to_voxel · (origin + x·step_x + y·step_y)`.
///
/// `None` when the result is not finite (a singular affine), in which case the layer is skipped.
pub fn pixel_to_voxel(geometry: &SliceGeometry, world_to_voxel: DMat4) -> Option<DMat4> {
    let (origin, step_x, step_y) = geometry.pixel_axes();
    let m = DMat4::from_cols(
        world_to_voxel.transform_vector3(step_x).extend(0.0),
        world_to_voxel.transform_vector3(step_y).extend(0.0),
        DVec4::ZERO,
        world_to_voxel.transform_point3(origin).extend(1.0),
    );
    m.is_finite().then_some(m)
}

/// The slice reslicer's pipeline: a [`Renderer`] of [`SliceFrame`]s into [`SliceTarget`]s.
pub struct SliceRenderer {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
}

impl SliceRenderer {
    /// Build the pipeline (targets are [`SliceTarget`]s, `Rgba8Unorm`).
    pub fn new(device: &wgpu::Device) -> SliceRenderer {
        let shader = setup::wgsl(device, "slice", SLICE);
        let fragment = wgpu::ShaderStages::FRAGMENT;
        let layout = setup::bind_group_layout(
            device,
            "slice layer",
            &[
                setup::volume_texture(0, fragment),
                setup::uniform::<LayerUniform>(1, fragment),
            ],
        );
        let pipeline = setup::fullscreen_pipeline(
            device,
            "slice",
            &setup::pipeline_layout(device, "slice", &[Some(&layout)]),
            &shader,
            "fs_main",
            &[Some(wgpu::ColorTargetState {
                format: SLICE_FORMAT,
                // Straight alpha: colour = src·a + dst·(1 − a); the opaque black clear keeps alpha 1.
                blend: Some(wgpu::BlendState::ALPHA_BLENDING),
                write_mask: wgpu::ColorWrites::ALL,
            })],
        );
        SliceRenderer { pipeline, layout }
    }
}

impl Renderer for SliceRenderer {
    type Target = SliceTarget;
    type Frame<'a> = SliceFrame<'a>;

    /// Clears to opaque black and draws the visible layers bottom first, alpha-blended, through
    /// each volume's own world→voxel affine. Layers whose affine is singular are skipped.
    fn draw(
        &self,
        device: &wgpu::Device,
        _queue: &wgpu::Queue,
        target: &SliceTarget,
        &SliceFrame { geometry, layers }: &SliceFrame<'_>,
    ) -> wgpu::CommandBuffer {
        if (geometry.width, geometry.height) != target.size() {
            tracing::debug!(
                "slice geometry {}×{} drawn into a {:?} target",
                geometry.width,
                geometry.height,
                target.size()
            );
        }
        // One uniform buffer per layer and draw, so that several draws before one submit never
        // overwrite each other's parameters.
        let bind_groups: Vec<wgpu::BindGroup> = layers
            .iter()
            .filter(|(_, style)| style.visible)
            .filter_map(|&(texture, style)| {
                let Some(m) = pixel_to_voxel(geometry, texture.world_to_voxel()) else {
                    tracing::warn!("layer skipped: its affine is singular");
                    return None;
                };
                let uniform = LayerUniform::new(m, texture.dims(), style);
                let buffer = setup::uniform_buffer(device, "slice layer", &uniform);
                Some(setup::bind_group(
                    device,
                    "slice layer",
                    &self.layout,
                    &[
                        wgpu::BindingResource::TextureView(texture.view()),
                        buffer.as_entire_binding(),
                    ],
                ))
            })
            .collect();

        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("slice") });
        {
            let colors = [setup::cleared(target.view(), wgpu::Color::BLACK)];
            let mut pass = setup::render_pass(&mut encoder, "slice", &colors, None);
            pass.set_pipeline(&self.pipeline);
            for bind_group in &bind_groups {
                pass.set_bind_group(0, bind_group, &[]);
                pass.draw(0..3, 0..1);
            }
        }
        encoder.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wgsl_layout::assert_wgsl_layout;
    use cortexlens_data::Plane;
    use glam::{DVec2, DVec3};

    #[test]
    fn uniform_layout_matches_wgsl() {
        assert_wgsl_layout!(
            SLICE,
            "Layer",
            LayerUniform {
                pixel_to_voxel,
                dims,
                style
            }
        );
    }

    #[test]
    fn pixel_to_voxel_agrees_with_geometry() {
        let affine = DMat4::from_cols(
            DVec4::new(-3.0, 0.0, 0.0, 0.0),
            DVec4::new(0.0, 3.0, 0.5, 0.0),
            DVec4::new(0.0, -0.2, 3.0, 0.0),
            DVec4::new(78.0, -112.0, -50.0, 1.0),
        );
        for plane in Plane::ALL {
            let g = SliceGeometry::fit(
                plane,
                DVec3::new(10.0, -20.0, 30.0),
                DVec3::ZERO,
                DVec2::splat(200.0),
                64,
                48,
            );
            let m = pixel_to_voxel(&g, affine.inverse()).unwrap();
            let px = DVec2::new(17.5, 30.5);
            let expected = affine.inverse().transform_point3(g.pixel_to_world(px));
            let got = m.transform_point3(DVec3::new(px.x, px.y, 0.0));
            assert!((got - expected).length() < 1e-9, "{plane:?}: {got} vs {expected}");
        }
        assert!(
            pixel_to_voxel(
                &SliceGeometry::fit(Plane::Axial, DVec3::ZERO, DVec3::ZERO, DVec2::ONE, 1, 1),
                DMat4::ZERO.inverse()
            )
            .is_none()
        );
    }
}

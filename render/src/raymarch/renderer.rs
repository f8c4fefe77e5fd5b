//! [`RayMarchRenderer`]: the full-screen ray-marching passes for volumes and neural fields.

use std::sync::OnceLock;

use cortexlens_data::LayerStyle;
use cortexlens_data::camera::OrbitCamera;
use wgpu::util::DeviceExt;

use super::occupancy::{OccupancyBuilder, VolumeOccupancy};
use super::passes::{PassPlan, STATE_COLOUR_FORMAT, STATE_MISC_FORMAT, pass_bind_group_layout};
use super::settings::RayMarchSettings;
use super::target::RayTarget;
use super::uniform::{DataBox, GridParams, RayUniform};
use crate::error::RenderError;
use crate::field_gpu::{GpuField, field_bind_group_layout};
use crate::setup;
use crate::shaders::{RAYMARCH_FIELD, RAYMARCH_VOLUME};
use crate::target::SLICE_FORMAT;
use crate::volume_texture::VolumeTexture;

/// Shader id of density–colour fields (`MODE_DENSITY` in `raymarch_common.wgsl`).
const MODE_DENSITY: u32 = 3;

/// The two pipelines of one data source: intermediate passes (writing the state targets) and
/// the last pass (writing the colour).
struct Pipelines {
    state: wgpu::RenderPipeline,
    last: wgpu::RenderPipeline,
}

/// The field pipelines and their bind group layouts, made on the first field drawn.
struct FieldPipeline {
    pipelines: Pipelines,
    ray_layout: wgpu::BindGroupLayout,
    field_layout: wgpu::BindGroupLayout,
}

/// The 3D view's ray marcher. Create once per device; [`RayMarchRenderer::draw_volume`] or
/// [`RayMarchRenderer::draw_field`] per frame, into a [`RayTarget`] of any size.
pub struct RayMarchRenderer {
    volume: Pipelines,
    volume_layout: wgpu::BindGroupLayout,
    pass_layout: wgpu::BindGroupLayout,
    field: OnceLock<FieldPipeline>,
    occupancy: OccupancyBuilder,
    /// Bound in place of a missing overlay texture.
    empty_view: wgpu::TextureView,
    /// Bound in place of a missing occupancy grid.
    empty_cells: wgpu::Buffer,
    /// Bound as the previous state of the first pass (never read).
    empty_state: super::passes::StateTargets,
}

/// The state and last-pass pipelines of one composed shader.
fn pipelines(
    device: &wgpu::Device,
    label: &str,
    source: &str,
    layouts: &[Option<&wgpu::BindGroupLayout>],
) -> Pipelines {
    let shader = setup::wgsl(device, label, source);
    let layout = setup::pipeline_layout(device, label, layouts);
    let make = |fragment, targets: &[_]| setup::fullscreen_pipeline(device, label, &layout, &shader, fragment, targets);
    Pipelines {
        state: make(
            "fs_state",
            &[setup::opaque(STATE_COLOUR_FORMAT), setup::opaque(STATE_MISC_FORMAT)],
        ),
        last: make("fs_final", &[setup::opaque(SLICE_FORMAT)]),
    }
}

impl RayMarchRenderer {
    /// Build the volume pipeline and the occupancy builder (the field pipeline is built when the
    /// first field is drawn).
    pub fn new(device: &wgpu::Device) -> RayMarchRenderer {
        let fragment = wgpu::ShaderStages::FRAGMENT;
        let volume_layout = setup::bind_group_layout(
            device,
            "raymarch volume",
            &[
                setup::uniform::<RayUniform>(0, fragment),
                setup::volume_texture(1, fragment),
                setup::volume_texture(2, fragment),
                setup::storage(3, fragment, true),
                setup::storage(4, fragment, true),
            ],
        );
        let pass_layout = pass_bind_group_layout(device);
        let volume = pipelines(
            device,
            "raymarch volume",
            RAYMARCH_VOLUME,
            &[Some(&volume_layout), None, Some(&pass_layout)],
        );
        let empty = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("raymarch empty overlay"),
            size: wgpu::Extent3d {
                width: 1,
                height: 1,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D3,
            format: wgpu::TextureFormat::R32Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        });
        let empty_cells = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("raymarch empty cells"),
            contents: bytemuck::cast_slice(&[0.0f32; 2]),
            usage: wgpu::BufferUsages::STORAGE,
        });
        RayMarchRenderer {
            volume,
            volume_layout,
            pass_layout,
            field: OnceLock::new(),
            occupancy: OccupancyBuilder::new(device),
            empty_view: empty.create_view(&wgpu::TextureViewDescriptor::default()),
            empty_cells,
            empty_state: super::passes::StateTargets::new(device, (1, 1)),
        }
    }

    fn field_pipeline(&self, device: &wgpu::Device) -> &FieldPipeline {
        self.field.get_or_init(|| {
            let ray_layout = setup::bind_group_layout(
                device,
                "raymarch field",
                &[setup::uniform::<RayUniform>(0, wgpu::ShaderStages::FRAGMENT)],
            );
            let field_layout = field_bind_group_layout(device, wgpu::ShaderStages::FRAGMENT);
            let pipelines = pipelines(
                device,
                "raymarch field",
                RAYMARCH_FIELD,
                &[Some(&ray_layout), Some(&field_layout), Some(&self.pass_layout)],
            );
            FieldPipeline {
                pipelines,
                ray_layout,
                field_layout,
            }
        })
    }

    /// The occupancy grid of `volume`'s current frame, built on the GPU the first time it is
    /// asked for (and again after [`VolumeTexture::set_frame`]); see
    /// [`VolumeOccupancy`]. Independent of the transfer function.
    pub fn occupancy<'a>(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        volume: &'a VolumeTexture,
    ) -> &'a VolumeOccupancy {
        volume
            .occupancy_cache()
            .get_or_init(|| self.occupancy.build(device, queue, volume))
    }

    /// Ray-march `volume` (and `overlay`, when visible) through `camera` into `target`, as the
    /// module docs of [`crate::raymarch`] define. Occupancy grids missing for empty-space
    /// skipping are built and submitted first; the draw itself is returned, not submitted.
    /// A volume with a singular affine leaves the background.
    #[allow(clippy::too_many_arguments)]
    pub fn draw_volume(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        target: &RayTarget,
        camera: &OrbitCamera,
        volume: &VolumeTexture,
        overlay: Option<(&VolumeTexture, &LayerStyle)>,
        settings: &RayMarchSettings,
    ) -> wgpu::CommandBuffer {
        let drawable = |v: &VolumeTexture| v.world_to_voxel().is_finite();
        let overlay = overlay.filter(|(v, style)| style.visible && drawable(v));
        let skipping = settings.empty_space_skipping;
        let data = DataBox::of_grid(volume.affine(), volume.dims());
        let mut uniform = RayUniform::new(camera, target.size(), settings, &data, settings.mode.shader_id());
        let grid = |v: &VolumeTexture| GridParams {
            world_to_voxel: v.world_to_voxel(),
            dims: v.dims(),
        };
        uniform.set_anatomy(&grid(volume), skipping);
        if let Some((texture, style)) = overlay {
            uniform.set_overlay(&grid(texture), style);
        }
        let anatomy_cells = if skipping {
            self.occupancy(device, queue, volume).buffer()
        } else {
            &self.empty_cells
        };
        let overlay_cells = match overlay {
            Some((texture, _)) if skipping => self.occupancy(device, queue, texture).buffer(),
            _ => &self.empty_cells,
        };
        let buffer = setup::uniform_buffer(device, "raymarch volume", &uniform);
        let bind_group = setup::bind_group(
            device,
            "raymarch volume",
            &self.volume_layout,
            &[
                buffer.as_entire_binding(),
                wgpu::BindingResource::TextureView(volume.view()),
                wgpu::BindingResource::TextureView(overlay.map_or(&self.empty_view, |(texture, _)| texture.view())),
                anatomy_cells.as_entire_binding(),
                overlay_cells.as_entire_binding(),
            ],
        );
        let plan = PassPlan::for_box(&data, settings, 1, Some(settings.mode));
        let groups = [Some(&bind_group), None];
        let draw = drawable(volume).then_some((&self.volume, &groups[..], plan));
        self.encode(device, target, settings, draw)
    }

    /// Ray-march a neural field into `target`: intensity fields through the same modes as volumes
    /// (the field's box is the volume's box, its occupancy grid marks samples that do not exist);
    /// density–colour fields composited front to back with `α = 1 − exp(−σ · step)`, ignoring the
    /// mode, the transfer function and lighting. Returned, not submitted.
    pub fn draw_field(
        &self,
        device: &wgpu::Device,
        _queue: &wgpu::Queue,
        target: &RayTarget,
        camera: &OrbitCamera,
        field: &GpuField,
        settings: &RayMarchSettings,
    ) -> wgpu::CommandBuffer {
        let fp = self.field_pipeline(device);
        let (min, max) = field.bounds();
        let mode = if field.is_density_rgb() {
            MODE_DENSITY
        } else {
            settings.mode.shader_id()
        };
        let data = DataBox::of_bounds(min, max);
        let mut uniform = RayUniform::new(camera, target.size(), settings, &data, mode);
        uniform.set_skipping(settings.empty_space_skipping && field.has_occupancy());
        let buffer = setup::uniform_buffer(device, "raymarch field", &uniform);
        let ray_group = setup::bind_group(device, "raymarch field", &fp.ray_layout, &[buffer.as_entire_binding()]);
        let field_group = field.bind_group(device, &fp.field_layout);
        let mode = (!field.is_density_rgb()).then_some(settings.mode);
        let plan = PassPlan::for_box(&data, settings, field.loop_iterations(), mode);
        let groups = [Some(&ray_group), Some(&field_group)];
        self.encode(device, target, settings, Some((&fp.pipelines, &groups[..], plan)))
    }

    /// [`RayMarchRenderer::draw_volume`] into a new `width × height` target, submitted and read
    /// back (tightly packed straight RGBA8, top row first): for screenshots and tests.
    #[allow(clippy::too_many_arguments)]
    pub fn render_volume_rgba(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        width: u32,
        height: u32,
        camera: &OrbitCamera,
        volume: &VolumeTexture,
        overlay: Option<(&VolumeTexture, &LayerStyle)>,
        settings: &RayMarchSettings,
    ) -> Result<Vec<u8>, RenderError> {
        let target = RayTarget::new(device, width, height);
        queue.submit([self.draw_volume(device, queue, &target, camera, volume, overlay, settings)]);
        target.try_read_rgba(device, queue)
    }

    /// [`RayMarchRenderer::draw_field`] into a new `width × height` target, submitted and read back.
    #[allow(clippy::too_many_arguments)]
    pub fn render_field_rgba(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        width: u32,
        height: u32,
        camera: &OrbitCamera,
        field: &GpuField,
        settings: &RayMarchSettings,
    ) -> Result<Vec<u8>, RenderError> {
        let target = RayTarget::new(device, width, height);
        queue.submit([self.draw_field(device, queue, &target, camera, field, settings)]);
        target.try_read_rgba(device, queue)
    }
}

type Draw<'a> = (&'a Pipelines, &'a [Option<&'a wgpu::BindGroup>], PassPlan);

impl RayMarchRenderer {
    /// The passes of one draw: without `draw`, one pass clearing `target` to the background;
    /// else `plan.passes` full-screen passes, all but the last into the target's state targets
    /// (ping-pong), the last into the target. Groups 0 and 1 are `groups`; group 2 is the pass.
    fn encode(
        &self,
        device: &wgpu::Device,
        target: &RayTarget,
        settings: &RayMarchSettings,
        draw: Option<Draw<'_>>,
    ) -> wgpu::CommandBuffer {
        let [r, g, b, a] = settings.background_clamped().map(f64::from);
        let background = wgpu::Color { r, g, b, a };
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("raymarch"),
        });
        let Some((pipelines, groups, plan)) = draw else {
            begin(&mut encoder, &[target.view()], background);
            return encoder.finish();
        };
        let state = (plan.passes > 1).then(|| target.state(device));
        for index in 0..plan.passes {
            let uniform = setup::uniform_buffer(device, "raymarch pass", &plan.uniform(index));
            let previous = match (index, state) {
                (0, _) | (_, None) => &self.empty_state,
                (_, Some(state)) => &state[(index as usize - 1) % 2],
            };
            let pass_group = setup::bind_group(
                device,
                "raymarch pass",
                &self.pass_layout,
                &[
                    uniform.as_entire_binding(),
                    wgpu::BindingResource::TextureView(&previous.colour),
                    wgpu::BindingResource::TextureView(&previous.misc),
                ],
            );
            let last = index + 1 == plan.passes;
            let (pipeline, views) = match state {
                Some(state) if !last => {
                    let next = &state[index as usize % 2];
                    (&pipelines.state, vec![&next.colour, &next.misc])
                }
                _ => (&pipelines.last, vec![target.view()]),
            };
            let mut pass = begin(&mut encoder, &views, background);
            pass.set_pipeline(pipeline);
            for (i, group) in (0u32..).zip(groups) {
                if let Some(group) = group {
                    pass.set_bind_group(i, *group, &[]);
                }
            }
            pass.set_bind_group(2, &pass_group, &[]);
            pass.draw(0..3, 0..1);
        }
        encoder.finish()
    }
}

/// A render pass clearing `views` (the colour target to `background`, state targets to zero).
fn begin<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    views: &[&wgpu::TextureView],
    background: wgpu::Color,
) -> wgpu::RenderPass<'e> {
    let clear = if views.len() == 1 {
        background
    } else {
        wgpu::Color::TRANSPARENT
    };
    let colors: Vec<_> = views.iter().map(|view| setup::cleared(view, clear)).collect();
    setup::render_pass(encoder, "raymarch", &colors, None)
}

//! [`RayMarchRenderer`]: the full-screen ray-marching passes for volumes and neural fields.

use std::sync::OnceLock;

use cortexlens_data::LayerStyle;
use wgpu::util::DeviceExt;

use super::frame::{RayFrame, RaySource};
use super::occupancy::VolumeOccupancy;
use super::occupancy_cache::OccupancyCache;
use super::passes::{PassPlan, STATE_COLOUR_FORMAT, STATE_MISC_FORMAT, pass_bind_group_layout};
use super::settings::RayMarchSettings;
use super::target::{FAR_DEPTH, RayTarget, SCENE_DEPTH_FORMAT};
use super::uniform::{DataBox, RayUniform};
use crate::field_gpu::{GpuField, field_bind_group_layout};
use crate::renderer::Renderer;
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

/// The 3D view's ray marcher: a [`Renderer`] of [`RayFrame`]s into [`RayTarget`]s of any size.
/// It keeps the volumes' occupancy grids for empty-space skipping (a few, by
/// [`VolumeTexture::content_id`]), built in [`Renderer::prepare`].
pub struct RayMarchRenderer {
    volume: Pipelines,
    volume_layout: wgpu::BindGroupLayout,
    pass_layout: wgpu::BindGroupLayout,
    field: OnceLock<FieldPipeline>,
    occupancy: OccupancyCache,
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
        last: make(
            "fs_final",
            &[setup::opaque(SLICE_FORMAT), setup::opaque(SCENE_DEPTH_FORMAT)],
        ),
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
            occupancy: OccupancyCache::new(device),
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

    /// The occupancy grid of `volume`'s current contents, built and submitted when missing (see
    /// [`VolumeOccupancy`]; [`Renderer::prepare`] builds those a frame needs). Independent of
    /// the transfer function.
    pub fn occupancy(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        volume: &VolumeTexture,
    ) -> &VolumeOccupancy {
        self.occupancy.build(device, queue, volume)
    }

    /// The volume pass: `volume` (and `overlay`, when given) as the module docs of
    /// [`crate::raymarch`] define; a volume with a singular affine leaves the background.
    fn draw_volume(
        &self,
        device: &wgpu::Device,
        target: &RayTarget,
        &RayFrame {
            camera,
            settings,
            meshes,
            ..
        }: &RayFrame<'_>,
        volume: &VolumeTexture,
        overlay: Option<(&VolumeTexture, &LayerStyle)>,
    ) -> wgpu::CommandBuffer {
        if !volume.has_invertible_affine() {
            return self.encode(device, target, settings, None);
        }
        // Skip empty space only with every grid the pass reads (without `prepare`, the same
        // picture, slower).
        let grids = if settings.empty_space_skipping {
            let grids = self.grids(volume, overlay);
            if grids.is_none() {
                tracing::debug!("occupancy grids not prepared: drawn without empty-space skipping");
            }
            grids
        } else {
            None
        };
        let data = DataBox::of_grid(volume.affine(), volume.dims());
        let mut uniform = RayUniform::new(camera, target.size(), settings, &data, settings.mode.shader_id());
        uniform.set_anatomy(volume, grids.is_some());
        if let Some((texture, style)) = overlay {
            uniform.set_overlay(texture, style);
        }
        let buffer = setup::uniform_buffer(device, "raymarch volume", &uniform);
        let anatomy_cells = grids.map_or(&self.empty_cells, |(anatomy, _)| anatomy.buffer());
        let overlay_cells = grids
            .and_then(|(_, overlay)| overlay)
            .map_or(&self.empty_cells, |o| o.buffer());
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
        self.encode(
            device,
            target,
            settings,
            Some((&self.volume, &groups[..], plan, meshes)),
        )
    }

    /// The occupancy grids of `volume` and of `overlay` (when given), when all are built.
    fn grids(
        &self,
        volume: &VolumeTexture,
        overlay: Option<(&VolumeTexture, &LayerStyle)>,
    ) -> Option<(&VolumeOccupancy, Option<&VolumeOccupancy>)> {
        let anatomy = self.occupancy.get(volume)?;
        match overlay {
            Some((texture, _)) => Some((anatomy, Some(self.occupancy.get(texture)?))),
            None => Some((anatomy, None)),
        }
    }

    /// The field passes: intensity fields through the same modes as volumes (the field's box is
    /// the volume's box, its occupancy grid marks samples that do not exist); density–colour
    /// fields composited front to back with `α = 1 − exp(−σ · step)`, ignoring the mode, the
    /// transfer function and lighting.
    fn draw_field(
        &self,
        device: &wgpu::Device,
        target: &RayTarget,
        &RayFrame {
            camera,
            settings,
            meshes,
            ..
        }: &RayFrame<'_>,
        field: &GpuField,
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
        self.encode(
            device,
            target,
            settings,
            Some((&fp.pipelines, &groups[..], plan, meshes)),
        )
    }
}

impl Renderer for RayMarchRenderer {
    type Target = RayTarget;
    type Frame<'a> = RayFrame<'a>;

    /// Builds and submits the occupancy grids that empty-space skipping needs and that are
    /// missing: the volume's and the drawn overlay's (fields bring their own).
    fn prepare(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, frame: &RayFrame<'_>) {
        if let RaySource::Volume { volume, overlay } = frame.source
            && frame.settings.empty_space_skipping
            && volume.has_invertible_affine()
        {
            self.occupancy.build(device, queue, volume);
            if let Some((texture, _)) = drawn(overlay) {
                self.occupancy.build(device, queue, texture);
            }
        }
    }

    /// Ray-marches the frame's source as the module docs of [`crate::raymarch`] define, with the
    /// occupancy grids [`Renderer::prepare`] built.
    fn draw(
        &self,
        device: &wgpu::Device,
        _queue: &wgpu::Queue,
        target: &RayTarget,
        frame: &RayFrame<'_>,
    ) -> wgpu::CommandBuffer {
        match frame.source {
            RaySource::Volume { volume, overlay } => self.draw_volume(device, target, frame, volume, drawn(overlay)),
            RaySource::Field(field) => self.draw_field(device, target, frame, field),
        }
    }
}

/// The overlay when it is drawn: visible and drawable.
fn drawn<'a>(overlay: Option<(&'a VolumeTexture, &'a LayerStyle)>) -> Option<(&'a VolumeTexture, &'a LayerStyle)> {
    overlay.filter(|(texture, style)| style.visible && texture.has_invertible_affine())
}

/// Pipelines, bind groups 0 and 1, the passes, and whether the target's mesh layer is drawn.
type Draw<'a> = (&'a Pipelines, &'a [Option<&'a wgpu::BindGroup>], PassPlan, bool);

impl RayMarchRenderer {
    /// The passes of one draw: without `draw`, one pass clearing `target` to the background;
    /// else `plan.passes` full-screen passes, all but the last into the target's state targets
    /// (ping-pong), the last into the target. Groups 0 and 1 are `groups`; group 2 is the pass
    /// (with the target's mesh layer, or stand-ins that are not read).
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
        let far = wgpu::Color {
            r: f64::from(FAR_DEPTH),
            ..wgpu::Color::TRANSPARENT
        };
        let last_views = [(target.view(), background), (target.depth_view(), far)];
        let Some((pipelines, groups, plan, meshes)) = draw else {
            begin(&mut encoder, &last_views);
            return encoder.finish();
        };
        let state = (plan.passes > 1).then(|| target.state(device));
        let (mesh_colour, mesh_depth) = if meshes {
            let layer = target.mesh_layer(device);
            (&layer.colour, &layer.depth)
        } else {
            (&self.empty_state.colour, &self.empty_state.colour)
        };
        for index in 0..plan.passes {
            let uniform = setup::uniform_buffer(device, "raymarch pass", &plan.uniform(index, meshes));
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
                    wgpu::BindingResource::TextureView(mesh_colour),
                    wgpu::BindingResource::TextureView(mesh_depth),
                ],
            );
            let last = index + 1 == plan.passes;
            let (pipeline, views) = match state {
                Some(state) if !last => {
                    let next = &state[index as usize % 2];
                    let zero = wgpu::Color::TRANSPARENT;
                    (&pipelines.state, vec![(&next.colour, zero), (&next.misc, zero)])
                }
                _ => (&pipelines.last, last_views.to_vec()),
            };
            let mut pass = begin(&mut encoder, &views);
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

/// A render pass clearing each view to its colour (the colour target to the background, the
/// depth to [`FAR_DEPTH`], state targets to zero).
fn begin<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    views: &[(&wgpu::TextureView, wgpu::Color)],
) -> wgpu::RenderPass<'e> {
    let colors: Vec<_> = views.iter().map(|&(view, clear)| setup::cleared(view, clear)).collect();
    setup::render_pass(encoder, "raymarch", &colors, None)
}

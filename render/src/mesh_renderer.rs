//! The surface view's renderer: draws meshes with a depth test into a [`MeshTarget`]; and the
//! 3D view's meshes ([`MeshRenderer::record_3d`]), into a [`RayTarget`] or under its rays.

use cortexlens_data::camera::OrbitCamera;
use glam::Vec3;
use wgpu::util::DeviceExt;

use crate::gpu_mesh::GpuMesh;
use crate::lighting::Lighting;
use crate::mesh_target::{MESH_COLOR_FORMAT, MESH_DEPTH_FORMAT, MeshTarget};
use crate::raymarch::{ClipPlane, FAR_DEPTH, MAX_CLIP_PLANES, RayTarget, SCENE_DEPTH_FORMAT};
use crate::renderer::Renderer;
use crate::setup;
use crate::shaders::MESH;
use crate::target::{OffscreenTarget, SLICE_FORMAT};

/// One mesh to draw, moved by `offset` (e.g. inflated hemispheres pushed apart).
#[derive(Clone, Copy)]
pub struct MeshInstance<'a> {
    /// The mesh.
    pub mesh: &'a GpuMesh,
    /// Added to every vertex position (world mm).
    pub offset: Vec3,
}

/// One surface picture: meshes seen through a camera, lit.
#[derive(Clone, Copy)]
pub struct MeshFrame<'a> {
    /// Pixel `(x, y)` shows what lies along `camera.ray(x + 0.5, y + 0.5, width, height)`.
    pub camera: &'a OrbitCamera,
    /// The meshes, drawn in order.
    pub instances: &'a [MeshInstance<'a>],
    /// The light, and the background the target is cleared to.
    pub lighting: &'a Lighting,
}

/// Per-draw uniform block; mirrors `struct Frame` in `shaders/mesh.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct FrameUniform {
    view_projection: [[f32; 4]; 4],
    eye: [f32; 4],
    light: [f32; 4],
    params: [f32; 4],
    forward: [f32; 4],
    clip: [[f32; 4]; MAX_CLIP_PLANES],
    clip_count: [u32; 4],
}

impl FrameUniform {
    fn new(camera: &OrbitCamera, aspect: f32, lighting: &Lighting, clip_planes: &[ClipPlane]) -> FrameUniform {
        let mut clip = [[0.0; 4]; MAX_CLIP_PLANES];
        for (slot, plane) in clip.iter_mut().zip(clip_planes) {
            let [x, y, z] = plane.normal;
            *slot = [x, y, z, plane.offset];
        }
        FrameUniform {
            view_projection: camera.view_projection(aspect).to_cols_array_2d(),
            eye: camera.eye().extend(1.0).to_array(),
            light: lighting.world_direction(camera).extend(0.0).to_array(),
            params: [
                lighting.ambient,
                lighting.diffuse,
                lighting.specular,
                lighting.shininess,
            ],
            forward: (-camera.backward()).extend(0.0).to_array(),
            clip,
            clip_count: [clip_planes.len().min(MAX_CLIP_PLANES) as u32, 0, 0, 0],
        }
    }
}

/// Where [`MeshRenderer::record_3d`] draws.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MeshDestination {
    /// Into the target's mesh layer, for the ray marcher to stop at and composite over
    /// ([`crate::RayFrame::meshes`]).
    UnderRays,
    /// Straight into the target (colour and depth) over this straight RGBA background: when
    /// nothing is ray-marched.
    Alone {
        /// The background (0..=1).
        background: [f32; 4],
    },
}

/// The mesh pipeline (`shaders/mesh.wgsl`): a [`Renderer`] of [`MeshFrame`]s into
/// [`MeshTarget`]s.
pub struct MeshRenderer {
    pipeline: wgpu::RenderPipeline,
    /// The 3D view's: colour and view depth, clip planes.
    pipeline_3d: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
}

impl MeshRenderer {
    /// Build the pipeline (targets are [`MeshTarget`]s).
    pub fn new(device: &wgpu::Device) -> MeshRenderer {
        let shader = setup::wgsl(device, "mesh.wgsl", MESH);
        let layout = setup::bind_group_layout(
            device,
            "mesh frame",
            &[setup::uniform::<FrameUniform>(0, wgpu::ShaderStages::VERTEX_FRAGMENT)],
        );
        let pipeline_layout = setup::pipeline_layout(device, "mesh", &[Some(&layout)]);
        const OFFSET: [wgpu::VertexAttribute; 1] = wgpu::vertex_attr_array![3 => Float32x3];
        let [positions, normals, colors] = GpuMesh::layouts();
        let buffers = [
            Some(positions),
            Some(normals),
            Some(colors),
            Some(wgpu::VertexBufferLayout {
                array_stride: 12,
                step_mode: wgpu::VertexStepMode::Instance,
                attributes: &OFFSET,
            }),
        ];
        let make = |entry_point, targets: &[Option<wgpu::ColorTargetState>]| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some("mesh"),
                layout: Some(&pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &shader,
                    entry_point: Some("vs_main"),
                    compilation_options: Default::default(),
                    buffers: &buffers,
                },
                primitive: wgpu::PrimitiveState {
                    topology: wgpu::PrimitiveTopology::TriangleList,
                    // Both faces: flat patches and medial walls are seen from behind.
                    cull_mode: None,
                    ..Default::default()
                },
                depth_stencil: Some(wgpu::DepthStencilState {
                    format: MESH_DEPTH_FORMAT,
                    depth_write_enabled: Some(true),
                    depth_compare: Some(wgpu::CompareFunction::Less),
                    stencil: wgpu::StencilState::default(),
                    bias: wgpu::DepthBiasState::default(),
                }),
                multisample: wgpu::MultisampleState::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &shader,
                    entry_point: Some(entry_point),
                    compilation_options: Default::default(),
                    targets,
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let pipeline = make("fs_main", &[setup::opaque(MESH_COLOR_FORMAT)]);
        let pipeline_3d = make(
            "fs_3d",
            &[setup::opaque(SLICE_FORMAT), setup::opaque(SCENE_DEPTH_FORMAT)],
        );
        MeshRenderer {
            pipeline,
            pipeline_3d,
            layout,
        }
    }
}

impl Renderer for MeshRenderer {
    type Target = MeshTarget;
    type Frame<'a> = MeshFrame<'a>;

    /// Clears the target to `lighting.background` and depth 1, then draws every instance in
    /// order with a `Less` depth test and no culling, seen through `camera` with the target's
    /// aspect ratio.
    fn draw(
        &self,
        device: &wgpu::Device,
        _queue: &wgpu::Queue,
        target: &MeshTarget,
        &MeshFrame {
            camera,
            instances,
            lighting,
        }: &MeshFrame<'_>,
    ) -> wgpu::CommandBuffer {
        let uniform = FrameUniform::new(camera, target.aspect(), lighting, &[]);
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("mesh") });
        let colours = [setup::cleared(target.view(), lighting.clear_color())];
        self.record(
            device,
            &mut encoder,
            (&self.pipeline, &uniform),
            instances,
            (&colours, target.depth_view()),
        );
        encoder.finish()
    }
}

impl MeshRenderer {
    /// Record the 3D view's meshes for `target`: seen through `frame.camera` with the target's
    /// aspect ratio, lit as in the surface view, cut by `clip_planes` (world; the points on a
    /// plane's normal side are removed, as in the ray marcher), each pixel's view depth (mm along
    /// the camera's forward axis) written beside its colour. `destination` says whether they go
    /// under the rays or straight into the target.
    pub fn record_3d(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        target: &RayTarget,
        frame: &MeshFrame<'_>,
        clip_planes: &[ClipPlane],
        destination: MeshDestination,
    ) {
        let uniform = FrameUniform::new(frame.camera, target.aspect(), frame.lighting, clip_planes);
        let layer = target.mesh_layer(device);
        let far = wgpu::Color {
            r: f64::from(FAR_DEPTH),
            ..wgpu::Color::TRANSPARENT
        };
        let colours = match destination {
            MeshDestination::UnderRays => [
                setup::cleared(&layer.colour, wgpu::Color::TRANSPARENT),
                setup::cleared(&layer.depth, far),
            ],
            MeshDestination::Alone { background } => {
                let [r, g, b, a] = background.map(|c| f64::from(c.clamp(0.0, 1.0)));
                [
                    setup::cleared(target.view(), wgpu::Color { r, g, b, a }),
                    setup::cleared(target.depth_view(), far),
                ]
            }
        };
        self.record(
            device,
            encoder,
            (&self.pipeline_3d, &uniform),
            frame.instances,
            (&colours, &layer.z_buffer),
        );
    }

    /// One pass clearing the colour attachments and the z-buffer (to 1), then every instance in
    /// order.
    fn record(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        (pipeline, uniform): (&wgpu::RenderPipeline, &FrameUniform),
        instances: &[MeshInstance<'_>],
        (colours, z_buffer): (&[Option<wgpu::RenderPassColorAttachment<'_>>], &wgpu::TextureView),
    ) {
        // Buffers per draw, so that several draws before one submit keep their own parameters.
        let frame = setup::uniform_buffer(device, "mesh frame", uniform);
        let bind_group = setup::bind_group(device, "mesh frame", &self.layout, &[frame.as_entire_binding()]);
        let offsets: Vec<[f32; 3]> = instances.iter().map(|i| i.offset.to_array()).collect();
        let offsets = (!offsets.is_empty()).then(|| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("mesh offsets"),
                contents: bytemuck::cast_slice(&offsets),
                usage: wgpu::BufferUsages::VERTEX,
            })
        });
        let depth = wgpu::RenderPassDepthStencilAttachment {
            view: z_buffer,
            depth_ops: Some(wgpu::Operations {
                load: wgpu::LoadOp::Clear(1.0),
                store: wgpu::StoreOp::Discard,
            }),
            stencil_ops: None,
        };
        let mut pass = setup::render_pass(encoder, "mesh", colours, Some(depth));
        if let Some(offsets) = &offsets {
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.set_vertex_buffer(3, offsets.slice(..));
            for (i, instance) in (0u32..).zip(instances) {
                let count = instance.mesh.bind(&mut pass);
                if count > 0 {
                    pass.draw_indexed(0..count, 0, i..i + 1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wgsl_layout::assert_wgsl_layout;

    #[test]
    fn uniform_layout_matches_wgsl() {
        assert_wgsl_layout!(
            MESH,
            "Frame",
            FrameUniform {
                view_projection,
                eye,
                light,
                params,
                forward,
                clip,
                clip_count
            }
        );
    }
}

//! The surface view's renderer: draws meshes with a depth test into a [`MeshTarget`].

use cortexlens_data::camera::OrbitCamera;
use glam::Vec3;
use wgpu::util::DeviceExt;

use crate::gpu_mesh::GpuMesh;
use crate::lighting::Lighting;
use crate::mesh_target::{MESH_COLOR_FORMAT, MESH_DEPTH_FORMAT, MeshTarget};
use crate::renderer::Renderer;
use crate::setup;
use crate::shaders::MESH;
use crate::target::OffscreenTarget;

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
}

impl FrameUniform {
    fn new(camera: &OrbitCamera, aspect: f32, lighting: &Lighting) -> FrameUniform {
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
        }
    }
}

/// The mesh pipeline (`shaders/mesh.wgsl`): a [`Renderer`] of [`MeshFrame`]s into
/// [`MeshTarget`]s.
pub struct MeshRenderer {
    pipeline: wgpu::RenderPipeline,
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
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
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
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &[setup::opaque(MESH_COLOR_FORMAT)],
            }),
            multiview_mask: None,
            cache: None,
        });
        MeshRenderer { pipeline, layout }
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
        // Buffers per draw, so that several draws before one submit keep their own parameters.
        let uniform = FrameUniform::new(camera, target.aspect(), lighting);
        let frame = setup::uniform_buffer(device, "mesh frame", &uniform);
        let bind_group = setup::bind_group(device, "mesh frame", &self.layout, &[frame.as_entire_binding()]);
        let offsets: Vec<[f32; 3]> = instances.iter().map(|i| i.offset.to_array()).collect();
        let offsets = (!offsets.is_empty()).then(|| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("mesh offsets"),
                contents: bytemuck::cast_slice(&offsets),
                usage: wgpu::BufferUsages::VERTEX,
            })
        });

        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("mesh") });
        {
            let colors = [setup::cleared(target.view(), lighting.clear_color())];
            let depth = wgpu::RenderPassDepthStencilAttachment {
                view: target.depth_view(),
                depth_ops: Some(wgpu::Operations {
                    load: wgpu::LoadOp::Clear(1.0),
                    store: wgpu::StoreOp::Discard,
                }),
                stencil_ops: None,
            };
            let mut pass = setup::render_pass(&mut encoder, "mesh", &colors, Some(depth));
            if let Some(offsets) = &offsets {
                pass.set_pipeline(&self.pipeline);
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
        encoder.finish()
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
                params
            }
        );
    }
}

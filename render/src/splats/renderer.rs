//! The splat pipelines: projection (compute), bitonic sort (compute, one dispatch per stage),
//! quads blended into an `Rgba16Float` layer, and the layer composited over the target. The sort
//! buffers and the layer are kept between frames and remade only when their size changes.

use cortexlens_data::camera::OrbitCamera;
use glam::Mat4;

use super::GpuSplats;
use crate::setup;
use crate::shaders::{SPLAT_COMPOSITE, SPLAT_DRAW, SPLAT_PREPROCESS, SPLAT_SORT};

/// Format of the layer the splats are blended into (premultiplied colour).
const LAYER_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba16Float;

/// Invocations per workgroup of both compute shaders.
const WORKGROUP: u32 = 256;

/// Mirrors `struct Frame` in `splat_preprocess.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct FrameUniform {
    view: [[f32; 4]; 4],
    world_to_scene: [[f32; 4]; 4],
    eye: [f32; 4],
    size: [f32; 2],
    focal: f32,
    near: f32,
    tan_half: [f32; 2],
    count: u32,
    sh_degree: u32,
    sh_words: u32,
    opacity_scale: f32,
    size_scale: f32,
    clip_count: u32,
    clips: [[f32; 4]; 3],
}

/// Mirrors `struct Stage` in `splat_sort.wgsl`; one per sort stage, 256 bytes apart.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct StageUniform {
    k: u32,
    j: u32,
    count: u32,
    _pad: u32,
}

/// Mirrors `struct Draw` in `splat_draw.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct DrawUniform {
    size: [f32; 2],
    count: u32,
    depth_test: u32,
}

/// One splat scene of a frame and how it is drawn.
pub struct SplatFrame<'a> {
    /// The camera (as the ray marcher's).
    pub camera: &'a OrbitCamera,
    /// The scene.
    pub splats: &'a GpuSplats,
    /// Multiplies every splat's opacity.
    pub opacity_scale: f32,
    /// Multiplies every splat's size.
    pub size_scale: f32,
    /// Up to three clip planes: splats whose centre lies on a plane's removed side are cut.
    pub clip_planes: &'a [crate::ClipPlane],
}

/// Buffers of one sort size (a power of two), kept between frames.
struct SortBuffers {
    padded: u32,
    proj_a: wgpu::Buffer,
    proj_b: wgpu::Buffer,
    keys: wgpu::Buffer,
    values: wgpu::Buffer,
}

/// The splat pipelines and what they keep between frames.
pub struct SplatRenderer {
    preprocess: wgpu::ComputePipeline,
    preprocess_layout: wgpu::BindGroupLayout,
    sort: wgpu::ComputePipeline,
    sort_layout: wgpu::BindGroupLayout,
    draw: wgpu::RenderPipeline,
    draw_layout: wgpu::BindGroupLayout,
    composite: wgpu::RenderPipeline,
    composite_layout: wgpu::BindGroupLayout,
    buffers: Option<SortBuffers>,
    layer: Option<((u32, u32), wgpu::TextureView)>,
    /// Bound in place of a scene depth when there is none (the depth test is off then).
    no_depth: wgpu::TextureView,
}

/// Premultiplied "over": `src + (1 − src alpha) · dst`, colour and alpha alike.
const OVER: wgpu::BlendState = wgpu::BlendState {
    color: wgpu::BlendComponent {
        src_factor: wgpu::BlendFactor::One,
        dst_factor: wgpu::BlendFactor::OneMinusSrcAlpha,
        operation: wgpu::BlendOperation::Add,
    },
    alpha: wgpu::BlendComponent {
        src_factor: wgpu::BlendFactor::One,
        dst_factor: wgpu::BlendFactor::OneMinusSrcAlpha,
        operation: wgpu::BlendOperation::Add,
    },
};

fn blended_pipeline(
    device: &wgpu::Device,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    source: &str,
    (vertex, fragment): (&str, &str),
    format: wgpu::TextureFormat,
    topology: wgpu::PrimitiveTopology,
) -> wgpu::RenderPipeline {
    let shader = setup::wgsl(device, label, source);
    let pipeline_layout = setup::pipeline_layout(device, label, &[Some(layout)]);
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(label),
        layout: Some(&pipeline_layout),
        vertex: wgpu::VertexState {
            module: &shader,
            entry_point: Some(vertex),
            compilation_options: Default::default(),
            buffers: &[],
        },
        primitive: wgpu::PrimitiveState {
            topology,
            ..Default::default()
        },
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        fragment: Some(wgpu::FragmentState {
            module: &shader,
            entry_point: Some(fragment),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format,
                blend: Some(OVER),
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: None,
        cache: None,
    })
}

impl SplatRenderer {
    /// The pipelines, compositing onto targets of `target_format`.
    pub fn new(device: &wgpu::Device, target_format: wgpu::TextureFormat) -> SplatRenderer {
        use wgpu::ShaderStages as S;
        let preprocess_layout = setup::bind_group_layout(
            device,
            "splat preprocess",
            &[
                setup::uniform::<FrameUniform>(0, S::COMPUTE),
                setup::storage(1, S::COMPUTE, true),
                setup::storage(2, S::COMPUTE, true),
                setup::storage(3, S::COMPUTE, true),
                setup::storage(4, S::COMPUTE, false),
                setup::storage(5, S::COMPUTE, false),
                setup::storage(6, S::COMPUTE, false),
                setup::storage(7, S::COMPUTE, false),
            ],
        );
        let preprocess = setup::compute_pipeline(
            device,
            "splat preprocess",
            &setup::pipeline_layout(device, "splat preprocess", &[Some(&preprocess_layout)]),
            &setup::wgsl(device, "splat preprocess", SPLAT_PREPROCESS),
        );
        let mut stage = setup::uniform::<StageUniform>(0, S::COMPUTE);
        if let wgpu::BindingType::Buffer { has_dynamic_offset, .. } = &mut stage.ty {
            *has_dynamic_offset = true;
        }
        let sort_layout = setup::bind_group_layout(
            device,
            "splat sort",
            &[
                stage,
                setup::storage(1, S::COMPUTE, false),
                setup::storage(2, S::COMPUTE, false),
            ],
        );
        let sort = setup::compute_pipeline(
            device,
            "splat sort",
            &setup::pipeline_layout(device, "splat sort", &[Some(&sort_layout)]),
            &setup::wgsl(device, "splat sort", SPLAT_SORT),
        );
        let draw_layout = setup::bind_group_layout(
            device,
            "splat draw",
            &[
                setup::uniform::<DrawUniform>(0, S::VERTEX | S::FRAGMENT),
                setup::storage(1, S::VERTEX, true),
                setup::storage(2, S::VERTEX, true),
                setup::storage(3, S::VERTEX, true),
                setup::storage(4, S::VERTEX, true),
                setup::texture(
                    5,
                    S::FRAGMENT,
                    wgpu::TextureSampleType::Float { filterable: false },
                    wgpu::TextureViewDimension::D2,
                ),
            ],
        );
        let draw = blended_pipeline(
            device,
            "splat draw",
            &draw_layout,
            SPLAT_DRAW,
            ("vs_main", "fs_main"),
            LAYER_FORMAT,
            wgpu::PrimitiveTopology::TriangleStrip,
        );
        let composite_layout = setup::bind_group_layout(
            device,
            "splat composite",
            &[setup::texture(
                0,
                S::FRAGMENT,
                wgpu::TextureSampleType::Float { filterable: false },
                wgpu::TextureViewDimension::D2,
            )],
        );
        let composite = blended_pipeline(
            device,
            "splat composite",
            &composite_layout,
            SPLAT_COMPOSITE,
            ("vs_fullscreen", "composite"),
            target_format,
            wgpu::PrimitiveTopology::TriangleList,
        );
        SplatRenderer {
            preprocess,
            preprocess_layout,
            sort,
            sort_layout,
            draw,
            draw_layout,
            composite,
            composite_layout,
            buffers: None,
            layer: None,
            no_depth: setup::texture_2d(
                device,
                "splat no depth",
                (1, 1),
                crate::raymarch::SCENE_DEPTH_FORMAT,
                wgpu::TextureUsages::TEXTURE_BINDING,
            )
            .create_view(&wgpu::TextureViewDescriptor::default()),
        }
    }

    fn ensure_buffers(&mut self, device: &wgpu::Device, count: u32) {
        let padded = count.max(1).next_power_of_two();
        if self.buffers.as_ref().is_none_or(|b| b.padded != padded) {
            let buffer = |label, bytes: u64| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(label),
                    size: bytes,
                    usage: wgpu::BufferUsages::STORAGE,
                    mapped_at_creation: false,
                })
            };
            let n = u64::from(padded);
            self.buffers = Some(SortBuffers {
                padded,
                proj_a: buffer("splat projection a", n * 16),
                proj_b: buffer("splat projection b", n * 16),
                keys: buffer("splat keys", n * 4),
                values: buffer("splat order", n * 4),
            });
        }
    }

    fn layer(&mut self, device: &wgpu::Device, size: (u32, u32)) -> wgpu::TextureView {
        if self.layer.as_ref().is_none_or(|(s, _)| *s != size) {
            let usage = wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING;
            let texture = setup::texture_2d(device, "splat layer", size, LAYER_FORMAT, usage);
            self.layer = Some((size, texture.create_view(&wgpu::TextureViewDescriptor::default())));
        }
        self.layer.as_ref().expect("made above").1.clone()
    }

    /// Record `frame`'s splats over `target` (a `size` view of the target format given to
    /// [`SplatRenderer::new`], already holding what lies behind them). With `scene_depth` (a
    /// [`crate::RayTarget::depth_view`] of the same size), splats behind the depth at which the
    /// ray-marched data stopped a pixel's ray are hidden there, so the data occludes them.
    pub fn record(
        &mut self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        target: &wgpu::TextureView,
        scene_depth: Option<&wgpu::TextureView>,
        size: (u32, u32),
        frame: &SplatFrame<'_>,
    ) {
        let splats = frame.splats;
        if splats.is_empty() || size.0 == 0 || size.1 == 0 {
            return;
        }
        let camera = frame.camera;
        let tan_y = (camera.fov_y * 0.5).tan();
        let eye = camera.eye();
        let uniform = FrameUniform {
            view: camera.view().to_cols_array_2d(),
            world_to_scene: Mat4::from_mat3(splats.world_to_scene).to_cols_array_2d(),
            eye: [eye.x, eye.y, eye.z, 1.0],
            size: [size.0 as f32, size.1 as f32],
            focal: super::project::focal(camera, size.1),
            near: camera.clip_planes().0,
            tan_half: [tan_y * size.0 as f32 / size.1 as f32, tan_y],
            count: splats.count,
            sh_degree: u32::from(splats.sh_degree),
            sh_words: (cortexlens_data::splats::sh_coefficients(splats.sh_degree) as u32 * 3).div_ceil(2),
            opacity_scale: frame.opacity_scale,
            size_scale: frame.size_scale,
            clip_count: frame.clip_planes.len().min(3) as u32,
            clips: std::array::from_fn(|i| {
                frame.clip_planes.get(i).map_or([0.0; 4], |c| {
                    let [x, y, z] = c.normal;
                    [x, y, z, c.offset]
                })
            }),
        };
        let frame_buffer = setup::uniform_buffer(device, "splat frame", &uniform);
        let layer = self.layer(device, size);
        self.ensure_buffers(device, splats.count);
        let buffers = self.buffers.as_ref().expect("made above");
        let padded = buffers.padded;
        let preprocess_group = setup::bind_group(
            device,
            "splat preprocess",
            &self.preprocess_layout,
            &[
                frame_buffer.as_entire_binding(),
                splats.positions.as_entire_binding(),
                splats.covariances.as_entire_binding(),
                splats.sh.as_entire_binding(),
                buffers.proj_a.as_entire_binding(),
                buffers.proj_b.as_entire_binding(),
                buffers.keys.as_entire_binding(),
                buffers.values.as_entire_binding(),
            ],
        );
        // Every stage's (k, j), 256 bytes apart for dynamic offsets.
        let align = device.limits().min_uniform_buffer_offset_alignment.max(16) as usize;
        let mut stages = Vec::new();
        let mut k = 2;
        while k <= padded {
            let mut j = k / 2;
            while j > 0 {
                stages.push(StageUniform {
                    k,
                    j,
                    count: padded,
                    _pad: 0,
                });
                j /= 2;
            }
            k *= 2;
        }
        let mut bytes = vec![0u8; stages.len().max(1) * align];
        for (i, stage) in stages.iter().enumerate() {
            bytes[i * align..i * align + 16].copy_from_slice(bytemuck::bytes_of(stage));
        }
        let stage_buffer = wgpu::util::DeviceExt::create_buffer_init(
            device,
            &wgpu::util::BufferInitDescriptor {
                label: Some("splat sort stages"),
                contents: &bytes,
                usage: wgpu::BufferUsages::UNIFORM,
            },
        );
        let sort_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("splat sort"),
            layout: &self.sort_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &stage_buffer,
                        offset: 0,
                        size: wgpu::BufferSize::new(16),
                    }),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: buffers.keys.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: buffers.values.as_entire_binding(),
                },
            ],
        });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("splat preprocess and sort"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.preprocess);
            pass.set_bind_group(0, &preprocess_group, &[]);
            pass.dispatch_workgroups(padded.div_ceil(WORKGROUP), 1, 1);
            pass.set_pipeline(&self.sort);
            let pairs = (padded / 2).div_ceil(WORKGROUP);
            let (x, y) = (pairs.min(65_535), pairs.div_ceil(65_535));
            for i in 0..stages.len() {
                pass.set_bind_group(0, &sort_group, &[(i * align) as u32]);
                pass.dispatch_workgroups(x, y, 1);
            }
        }
        let draw_uniform = DrawUniform {
            size: uniform.size,
            count: splats.count,
            depth_test: u32::from(scene_depth.is_some()),
        };
        let draw_buffer = setup::uniform_buffer(device, "splat draw", &draw_uniform);
        let draw_group = setup::bind_group(
            device,
            "splat draw",
            &self.draw_layout,
            &[
                draw_buffer.as_entire_binding(),
                buffers.proj_a.as_entire_binding(),
                buffers.proj_b.as_entire_binding(),
                buffers.values.as_entire_binding(),
                buffers.keys.as_entire_binding(),
                wgpu::BindingResource::TextureView(scene_depth.unwrap_or(&self.no_depth)),
            ],
        );
        {
            let mut pass = setup::render_pass(
                encoder,
                "splat draw",
                &[setup::cleared(&layer, wgpu::Color::TRANSPARENT)],
                None,
            );
            pass.set_pipeline(&self.draw);
            pass.set_bind_group(0, &draw_group, &[]);
            pass.draw(0..4, 0..padded);
        }
        let composite_group = setup::bind_group(
            device,
            "splat composite",
            &self.composite_layout,
            &[wgpu::BindingResource::TextureView(&layer)],
        );
        let mut pass = setup::render_pass(
            encoder,
            "splat composite",
            &[Some(wgpu::RenderPassColorAttachment {
                view: target,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Load,
                    store: wgpu::StoreOp::Store,
                },
            })],
            None,
        );
        pass.set_pipeline(&self.composite);
        pass.set_bind_group(0, &composite_group, &[]);
        pass.draw(0..3, 0..1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wgsl_layout::assert_wgsl_layout;

    #[test]
    fn uniforms_match_the_wgsl() {
        assert_wgsl_layout!(
            SPLAT_PREPROCESS,
            "Frame",
            FrameUniform {
                view,
                world_to_scene,
                eye,
                size,
                focal,
                near,
                tan_half,
                count,
                sh_degree,
                sh_words,
                opacity_scale,
                size_scale,
                clip_count,
                clips
            }
        );
        assert_wgsl_layout!(SPLAT_SORT, "Stage", StageUniform { k, j, count, _pad });
        assert_wgsl_layout!(
            SPLAT_DRAW,
            "Draw",
            DrawUniform {
                size,
                count,
                depth_test
            }
        );
    }
}

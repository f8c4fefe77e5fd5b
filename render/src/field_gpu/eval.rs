//! [`eval_field_gpu`]: the WGSL field function (`shaders/field.wgsl`) at a list of points, in a
//! compute pass (`shaders/field_eval.wgsl`).

use super::{GpuField, field_bind_group_layout};
use crate::error::RenderError;
use crate::readback::read_buffer;
use crate::setup;
use crate::shaders::FIELD_EVAL;

/// Points per dispatch (16 MiB of input).
const CHUNK: usize = 1 << 20;

/// Invocations per workgroup (`@workgroup_size` in `field_eval.wgsl`).
const WORKGROUP: usize = 64;

/// The compute pipeline, made once per field on first use.
pub(crate) struct Evaluator {
    pipeline: wgpu::ComputePipeline,
    points_layout: wgpu::BindGroupLayout,
    field_layout: wgpu::BindGroupLayout,
}

impl Evaluator {
    fn new(device: &wgpu::Device) -> Evaluator {
        let shader = setup::wgsl(device, "field_eval", FIELD_EVAL);
        let compute = wgpu::ShaderStages::COMPUTE;
        let points_layout = setup::bind_group_layout(
            device,
            "field eval points",
            &[setup::storage(0, compute, true), setup::storage(1, compute, false)],
        );
        let field_layout = field_bind_group_layout(device, compute);
        let layout = setup::pipeline_layout(device, "field eval", &[Some(&points_layout), Some(&field_layout)]);
        let pipeline = setup::compute_pipeline(device, "field eval", &layout, &shader);
        Evaluator {
            pipeline,
            points_layout,
            field_layout,
        }
    }

    fn run(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        field: &GpuField,
        points: &[[f32; 3]],
    ) -> Result<Vec<[f32; 4]>, RenderError> {
        let padded: Vec<[f32; 4]> = points.iter().map(|p| [p[0], p[1], p[2], 0.0]).collect();
        let size = (padded.len() * 16) as u64;
        let input = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("field eval points"),
            size,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        queue.write_buffer(&input, 0, bytemuck::cast_slice(&padded));
        let output = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("field eval results"),
            size,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let points_group = setup::bind_group(
            device,
            "field eval points",
            &self.points_layout,
            &[input.as_entire_binding(), output.as_entire_binding()],
        );
        let field_group = field.bind_group(device, &self.field_layout);
        let groups = padded.len().div_ceil(WORKGROUP) as u32;
        let max = device.limits().max_compute_workgroups_per_dimension.max(1);
        let (x, y) = (groups.min(max), groups.div_ceil(groups.min(max)));
        let groups = [&points_group, &field_group];
        setup::dispatch(device, queue, "field eval", &self.pipeline, &groups, [x, y, 1]);
        let bytes = read_buffer(device, queue, &output)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }
}

/// Evaluate `field` at world points with the WGSL evaluator the ray marcher uses: `[value, 0, 0, 0]`
/// for intensity fields, `[σ, r, g, b]` for density–colour fields, as `NeuralField::eval`.
///
/// Blocks until the results are back. The compute pipeline is made on the first call for a field
/// and kept with it.
pub fn eval_field_gpu(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    field: &GpuField,
    points_world: &[[f32; 3]],
) -> Result<Vec<[f32; 4]>, RenderError> {
    let evaluator = field.evaluator.get_or_init(|| Evaluator::new(device));
    let mut results = Vec::with_capacity(points_world.len());
    for chunk in points_world.chunks(CHUNK) {
        results.extend(evaluator.run(device, queue, field, chunk)?);
    }
    Ok(results)
}

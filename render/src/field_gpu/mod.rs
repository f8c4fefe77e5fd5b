//! Neural fields on the GPU: [`GpuField`] holds a [`NeuralField`] in a uniform header and two
//! storage buffers for `shaders/field.wgsl`, which evaluates it exactly as
//! [`NeuralField::eval`](cortexlens_data::field::NeuralField) specifies; [`eval_field_gpu`] runs
//! that evaluator at a list of points (parity tests, the app's readout), and
//! [`crate::RayMarchRenderer`] ray-marches it ([`crate::RaySource::Field`]).
//!
//! Limits: encodings of at most [`MAX_WIDTH`] features and [`MAX_LEVELS`] hash levels, at most
//! [`MAX_LAYERS`] layers of at most [`MAX_WIDTH`] outputs (the evaluator keeps two fixed arrays
//! of that size per invocation), and each buffer within the device's
//! `max_storage_buffer_binding_size` (128 MiB by default: a hash grid of 16 levels × 2^19
//! entries × 2 features is 64 MiB).

mod eval;
mod layout;

use std::sync::OnceLock;

use cortexlens_data::field::{FieldOutput, NeuralField};
use wgpu::util::DeviceExt;

pub use self::eval::eval_field_gpu;
use self::layout::{FieldHeader, FieldLayout};
pub use self::layout::{MAX_LAYERS, MAX_LEVELS, MAX_WIDTH};
use crate::error::RenderError;
use crate::setup;

/// A neural field uploaded for `shaders/field.wgsl` (bind group 1 of the field pipelines).
pub struct GpuField {
    header: wgpu::Buffer,
    encoding: wgpu::Buffer,
    network: wgpu::Buffer,
    bounds: ([f32; 3], [f32; 3]),
    density_rgb: bool,
    occupancy: bool,
    loop_iterations: u32,
    evaluator: OnceLock<eval::Evaluator>,
}

impl GpuField {
    /// Check `field` against the evaluator's limits and the device's, and upload it.
    pub fn upload(device: &wgpu::Device, queue: &wgpu::Queue, field: &NeuralField) -> Result<GpuField, RenderError> {
        let layout = FieldLayout::new(field).map_err(RenderError::Field)?;
        let limits = device.limits();
        let max = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        for (what, bytes) in [
            ("encoding", layout.encoding.len() as u64 * 4),
            ("network", layout.network.len() as u64 * 16),
        ] {
            if bytes > max {
                return Err(RenderError::Field(format!(
                    "its {what} takes {} MiB, over the device's storage buffer limit of {} MiB",
                    bytes >> 20,
                    max >> 20
                )));
            }
        }
        let storage = |label: &str, bytes: &[u8]| {
            // Never empty: a binding needs at least one word.
            let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (bytes.len() as u64).max(4),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            queue.write_buffer(&buffer, 0, bytes);
            buffer
        };
        let encoding = storage("field encoding", bytemuck::cast_slice(&layout.encoding));
        let network = storage("field network", bytemuck::cast_slice(&layout.network));
        let header = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("field header"),
            contents: bytemuck::bytes_of(&layout.header),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        Ok(GpuField {
            header,
            encoding,
            network,
            bounds: (field.bounds_min, field.bounds_max),
            density_rgb: matches!(field.output, FieldOutput::DensityRgb),
            occupancy: field.occupancy.is_some(),
            loop_iterations: layout.loop_iterations,
            evaluator: OnceLock::new(),
        })
    }

    /// The field's world-space box `(min, max)`.
    pub fn bounds(&self) -> ([f32; 3], [f32; 3]) {
        self.bounds
    }

    /// Whether the field gives density and colour (drawn NeRF-style) rather than an intensity.
    pub fn is_density_rgb(&self) -> bool {
        self.density_rgb
    }

    /// Whether the field has an occupancy grid (used for empty-space skipping).
    pub fn has_occupancy(&self) -> bool {
        self.occupancy
    }

    /// Upper bound of the shader loop iterations of one evaluation (how the ray marcher splits
    /// its passes; see [`crate::raymarch`]).
    pub fn loop_iterations(&self) -> u32 {
        self.loop_iterations
    }

    /// The bind group of the field for a pipeline whose group 1 is [`field_bind_group_layout`].
    pub(crate) fn bind_group(&self, device: &wgpu::Device, layout: &wgpu::BindGroupLayout) -> wgpu::BindGroup {
        setup::bind_group(
            device,
            "field",
            layout,
            &[
                self.header.as_entire_binding(),
                self.encoding.as_entire_binding(),
                self.network.as_entire_binding(),
            ],
        )
    }
}

/// Bind group 1 of every pipeline that evaluates a field: the header (uniform), the encoding
/// and the network (read-only storage).
pub(crate) fn field_bind_group_layout(device: &wgpu::Device, visibility: wgpu::ShaderStages) -> wgpu::BindGroupLayout {
    setup::bind_group_layout(
        device,
        "field",
        &[
            setup::uniform::<FieldHeader>(0, visibility),
            setup::storage(1, visibility, true),
            setup::storage(2, visibility, true),
        ],
    )
}

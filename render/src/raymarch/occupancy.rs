//! Occupancy grids of volume textures for empty-space skipping.
//!
//! A [`VolumeOccupancy`] stores, per cell of [`OCCUPANCY_CELL`]³ voxels, the value range
//! `(min, max)` of the finite voxels that sampling anywhere in the cell reads (the cell's voxels
//! and a one-voxel ring; see `shaders/occupancy.wgsl`). The ray marcher builds it on the GPU once
//! per texture contents ([`VolumeTexture::content_id`]) and keeps it; it does not depend on the
//! transfer function: the ray marcher classifies each cell
//! against the current mode when it looks at it (MIP: `max` below the lower end of the range;
//! ISO: `max` below the level; DVR: no LUT entry between those of `min` and `max` has a non-zero
//! opacity, looked up in a prefix count of the table), with a small relative margin for f32
//! rounding. So changing the transfer function, level or mode needs no rebuild, and a skipped
//! cell provably contains no sample that would change the picture.

use super::uniform::{OCCUPANCY_CELL, cell_dims};
use crate::error::RenderError;
use crate::setup;
use crate::shaders::OCCUPANCY;
use crate::volume_texture::VolumeTexture;

/// The occupancy grid of one [`VolumeTexture`] frame: `(min, max)` per cell, on the GPU.
pub struct VolumeOccupancy {
    buffer: wgpu::Buffer,
    cells: [u32; 3],
}

impl VolumeOccupancy {
    /// Cells per axis (`ceil(dims / OCCUPANCY_CELL)`).
    pub fn cells(&self) -> [u32; 3] {
        self.cells
    }

    /// The storage buffer of `vec2<f32>` ranges, x fastest.
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// Read the ranges back (for tests and diagnostics): `(min, max)` per cell, x fastest;
    /// `min > max` for a cell without finite voxels.
    pub fn read_ranges(&self, device: &wgpu::Device, queue: &wgpu::Queue) -> Result<Vec<[f32; 2]>, RenderError> {
        let bytes = crate::readback::read_buffer(device, queue, &self.buffer)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }
}

/// Mirrors `struct Grid` in `shaders/occupancy.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct GridUniform {
    /// The volume's dimensions, 0.
    dims: [i32; 4],
    /// Cells per axis, voxels per cell edge.
    cells: [i32; 4],
}

/// Builds [`VolumeOccupancy`] grids (`shaders/occupancy.wgsl`).
pub(crate) struct OccupancyBuilder {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

impl OccupancyBuilder {
    pub(crate) fn new(device: &wgpu::Device) -> OccupancyBuilder {
        let shader = setup::wgsl(device, "occupancy.wgsl", OCCUPANCY);
        let compute = wgpu::ShaderStages::COMPUTE;
        let layout = setup::bind_group_layout(
            device,
            "occupancy",
            &[
                setup::volume_texture(0, compute),
                setup::storage(1, compute, false),
                setup::uniform::<GridUniform>(2, compute),
            ],
        );
        let pipeline_layout = setup::pipeline_layout(device, "occupancy", &[Some(&layout)]);
        let pipeline = setup::compute_pipeline(device, "occupancy", &pipeline_layout, &shader);
        OccupancyBuilder { pipeline, layout }
    }

    /// Build the grid of `volume`'s current frame; the work is submitted before returning, so
    /// anything submitted later sees the grid.
    pub(crate) fn build(&self, device: &wgpu::Device, queue: &wgpu::Queue, volume: &VolumeTexture) -> VolumeOccupancy {
        let dims = volume.dims();
        let cells = cell_dims(dims);
        let count = cells.iter().map(|&c| c as u64).product::<u64>();
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("occupancy ranges"),
            size: count * 8,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let grid = GridUniform {
            dims: [dims[0] as i32, dims[1] as i32, dims[2] as i32, 0],
            cells: [cells[0] as i32, cells[1] as i32, cells[2] as i32, OCCUPANCY_CELL as i32],
        };
        let uniform = setup::uniform_buffer(device, "occupancy grid", &grid);
        let bind_group = setup::bind_group(
            device,
            "occupancy",
            &self.layout,
            &[
                wgpu::BindingResource::TextureView(volume.view()),
                buffer.as_entire_binding(),
                uniform.as_entire_binding(),
            ],
        );
        let workgroups = cells.map(|c| c.div_ceil(4));
        setup::dispatch(device, queue, "occupancy", &self.pipeline, &[&bind_group], workgroups);
        VolumeOccupancy { buffer, cells }
    }
}

/// The same grid computed on the CPU from one frame of voxels `data` (x fastest) of `dims`: the
/// definition `shaders/occupancy.wgsl` implements, for tests.
pub fn occupancy_ranges_cpu(data: &[f32], dims: [u32; 3]) -> Vec<[f32; 2]> {
    let cells = cell_dims(dims);
    let size = OCCUPANCY_CELL as i64;
    let n = dims.map(|d| d as i64);
    let mut out = Vec::with_capacity(cells.iter().map(|&c| c as usize).product());
    for cz in 0..cells[2] as i64 {
        for cy in 0..cells[1] as i64 {
            for cx in 0..cells[0] as i64 {
                let c = [cx, cy, cz];
                let lo = [0, 1, 2].map(|a| (c[a] * size - 1).clamp(0, n[a] - 1));
                let hi = [0, 1, 2].map(|a| ((c[a] + 1) * size).clamp(0, n[a] - 1));
                let mut range = [3.0e38f32, -3.0e38];
                for z in lo[2]..=hi[2] {
                    for y in lo[1]..=hi[1] {
                        for x in lo[0]..=hi[0] {
                            let v = data[(x + n[0] * (y + n[1] * z)) as usize];
                            if v.is_finite() {
                                range = [range[0].min(v), range[1].max(v)];
                            }
                        }
                    }
                }
                out.push(range);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wgsl_layout::assert_wgsl_layout;

    #[test]
    fn uniform_layout_matches_wgsl() {
        assert_wgsl_layout!(OCCUPANCY, "Grid", GridUniform { dims, cells });
    }
}

//! Gaussian splats in the 3D view: each splat projected to a screen-space ellipse
//! ([`project`]), all depth-sorted on the GPU (a bitonic sort), and blended back to front with
//! their view-dependent SH colour, into a layer that is composited over what the ray marcher drew.
//!
//! [`SplatData`] is what the GPU holds, made once per scene and placement: world positions and
//! opacities in f32, world covariances and SH coefficients rounded to f16 (so that 6 M splats fit
//! the default storage-binding size), the SH degree reduced if the coefficients would not fit.
//! The CPU reference ([`crate::splat_cpu_reference`]) rasterises the same data.

pub mod project;
mod renderer;

pub use renderer::{SplatFrame, SplatRenderer};

use cortexlens_data::splats::{Splats, sh_coefficients};
use glam::{DMat4, Mat3, Vec3};
use half::f16;
use wgpu::util::DeviceExt;

use crate::error::RenderError;

/// A splat scene as the GPU draws it, in world coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct SplatData {
    /// World centres and opacities `[x, y, z, opacity]`.
    pub position_opacity: Vec<[f32; 4]>,
    /// World covariances `[xx, xy, xz, yy, yz, zz]`, rounded to f16.
    pub covariance: Vec<[f16; 6]>,
    /// SH degree drawn (that of the scene, or lower when its coefficients do not fit the GPU).
    pub sh_degree: u8,
    /// SH coefficients, RGB, `(sh_degree + 1)²` per splat, rounded to f16.
    pub sh: Vec<[f16; 3]>,
    /// Maps a world direction to the scene's frame, where the SH are defined.
    pub world_to_scene: Mat3,
}

impl SplatData {
    /// The splats placed by `scene_to_world`, with SH coefficients up to degree `max_sh_degree`.
    pub fn new(splats: &Splats, scene_to_world: DMat4, max_sh_degree: u8) -> SplatData {
        let m = scene_to_world.as_mat4();
        let a = Mat3::from_mat4(m);
        let degree = splats.sh_degree.min(max_sh_degree);
        let (kept, stored) = (sh_coefficients(degree), sh_coefficients(splats.sh_degree));
        let mut sh = Vec::with_capacity(splats.len() * kept);
        for i in 0..splats.len() {
            sh.extend(
                splats.sh[i * stored..i * stored + kept]
                    .iter()
                    .map(|c| c.map(f16::from_f32)),
            );
        }
        SplatData {
            position_opacity: (0..splats.len())
                .map(|i| {
                    let p = m.transform_point3(Vec3::from_array(splats.positions[i]));
                    [p.x, p.y, p.z, splats.opacities[i]]
                })
                .collect(),
            covariance: (0..splats.len())
                .map(|i| {
                    let s = Mat3::from_cols_array_2d(&splats.covariance(i)).transpose();
                    let w = a * s * a.transpose();
                    [w.x_axis.x, w.y_axis.x, w.z_axis.x, w.y_axis.y, w.z_axis.y, w.z_axis.z].map(f16::from_f32)
                })
                .collect(),
            sh_degree: degree,
            sh,
            world_to_scene: a.inverse(),
        }
    }

    /// Number of splats.
    pub fn len(&self) -> usize {
        self.position_opacity.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.position_opacity.is_empty()
    }

    /// Splat `i`'s world covariance, rows.
    pub fn covariance(&self, i: usize) -> [[f32; 3]; 3] {
        let [xx, xy, xz, yy, yz, zz] = self.covariance[i].map(f32::from);
        [[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]]
    }

    /// Splat `i`'s SH coefficients as f32.
    pub fn coefficients(&self, i: usize) -> Vec<[f32; 3]> {
        let n = sh_coefficients(self.sh_degree);
        self.sh[i * n..(i + 1) * n].iter().map(|c| c.map(f32::from)).collect()
    }
}

/// Bytes the GPU buffers of `count` splats with SH degree `degree` take, the largest one first.
pub fn buffer_sizes(count: usize, degree: u8) -> [u64; 2] {
    let sh_words = (sh_coefficients(degree) * 3).div_ceil(2) as u64;
    [count as u64 * sh_words * 4, count as u64 * 16]
}

/// The largest SH degree (≤ `degree`) whose buffers for `count` splats fit `device`, or an error
/// when not even degree 0 fits.
pub fn fitting_sh_degree(device: &wgpu::Device, count: usize, degree: u8) -> Result<u8, RenderError> {
    let limits = device.limits();
    let limit = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
    // The sort's keys are padded to a power of two.
    let sorted = count.next_power_of_two() as u64 * 4;
    if buffer_sizes(count, 0)[1].max(sorted) > limit || buffer_sizes(count, 0)[0] > limit {
        return Err(RenderError::TooLarge {
            what: format!("{count} splats"),
            size: buffer_sizes(count, 0)[1].max(sorted),
            limit,
            unit: "bytes in one buffer",
        });
    }
    Ok((0..=degree)
        .rev()
        .find(|&d| buffer_sizes(count, d)[0] <= limit)
        .unwrap_or(0))
}

/// A splat scene on the GPU.
pub struct GpuSplats {
    pub(crate) positions: wgpu::Buffer,
    pub(crate) covariances: wgpu::Buffer,
    pub(crate) sh: wgpu::Buffer,
    pub(crate) count: u32,
    pub(crate) sh_degree: u8,
    pub(crate) world_to_scene: Mat3,
}

impl GpuSplats {
    /// Upload `data` (check [`fitting_sh_degree`] first).
    pub fn upload(device: &wgpu::Device, data: &SplatData) -> GpuSplats {
        let storage = |label, contents: &[u8]| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: if contents.is_empty() { &[0; 16] } else { contents },
                usage: wgpu::BufferUsages::STORAGE,
            })
        };
        let covariances: Vec<[u32; 4]> = data
            .covariance
            .iter()
            .map(|c| {
                let pair = |a: f16, b: f16| u32::from(a.to_bits()) | (u32::from(b.to_bits()) << 16);
                [pair(c[0], c[1]), pair(c[2], c[3]), pair(c[4], c[5]), 0]
            })
            .collect();
        let per_splat = sh_coefficients(data.sh_degree) * 3;
        let words = per_splat.div_ceil(2);
        let mut sh = Vec::with_capacity(data.len() * words);
        for i in 0..data.len() {
            let values: Vec<u16> = data.sh[i * (per_splat / 3)..(i + 1) * (per_splat / 3)]
                .iter()
                .flat_map(|c| c.map(|v| v.to_bits()))
                .collect();
            sh.extend(
                values
                    .chunks(2)
                    .map(|p| u32::from(p[0]) | (u32::from(*p.get(1).unwrap_or(&0)) << 16)),
            );
        }
        GpuSplats {
            positions: storage("splat positions", bytemuck::cast_slice(&data.position_opacity)),
            covariances: storage("splat covariances", bytemuck::cast_slice(&covariances)),
            sh: storage("splat SH", bytemuck::cast_slice(&sh)),
            count: data.len() as u32,
            sh_degree: data.sh_degree,
            world_to_scene: data.world_to_scene,
        }
    }

    /// Number of splats.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

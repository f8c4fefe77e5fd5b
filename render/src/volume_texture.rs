//! One frame of a volume as a 3D `R32Float` texture, downsampled when it does not fit.

use std::sync::atomic::{AtomicU64, Ordering};

use cortexlens_data::Volume;
use glam::{DMat4, DVec4};

/// How large a volume texture may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextureBudget {
    /// Largest texture extent along any axis (the device's `max_texture_dimension_3d`).
    pub max_dimension: u32,
    /// Largest texture size in bytes (4 bytes per voxel).
    pub max_bytes: u64,
}

impl TextureBudget {
    /// Default byte budget of one volume texture: 512 MiB (a 512³ float volume).
    pub const DEFAULT_MAX_BYTES: u64 = 512 << 20;

    /// The device's 3D texture limit and [`TextureBudget::DEFAULT_MAX_BYTES`].
    pub fn for_device(device: &wgpu::Device) -> TextureBudget {
        TextureBudget {
            max_dimension: device.limits().max_texture_dimension_3d,
            max_bytes: Self::DEFAULT_MAX_BYTES,
        }
    }

    /// Integer box-downsampling factors per axis that make a grid of `shape` fit.
    ///
    /// Each axis first gets the factor its own extent needs; if the bytes are still over
    /// budget, a common factor is raised until they fit (or the texture is 1×1×1).
    pub fn factors(&self, shape: [usize; 3]) -> [usize; 3] {
        let max_dim = self.max_dimension.max(1) as usize;
        let base = shape.map(|n| n.max(1).div_ceil(max_dim));
        let mut common = 1;
        loop {
            let factors = base.map(|b| b.max(common));
            let dims = downsampled_dims(shape, factors);
            let bytes = dims.iter().map(|&d| d as u64).product::<u64>() * 4;
            if bytes <= self.max_bytes || dims == [1, 1, 1] {
                return factors;
            }
            common += 1;
        }
    }
}

/// Grid size after downsampling `shape` by `factors` (partial blocks at the far edges count).
pub fn downsampled_dims(shape: [usize; 3], factors: [usize; 3]) -> [usize; 3] {
    [0, 1, 2].map(|a| shape[a].max(1).div_ceil(factors[a].max(1)))
}

/// Box-average one frame of `volume` by integer `factors`, as a single-frame volume.
///
/// Output voxel `I` averages the input voxels `I·f .. I·f + f` (fewer at the far edge),
/// ignoring NaN and infinite values; it is NaN only when none of them is finite. The affine
/// is adjusted so that output voxel `I` sits at input coordinate `I·f + (f − 1)/2`, the
/// centre of its (full) block, so the picture stays in place in world space.
pub fn box_downsample(volume: &Volume, frame: usize, factors: [usize; 3]) -> Volume {
    let factors = factors.map(|f| f.max(1));
    let shape = [volume.shape[0], volume.shape[1], volume.shape[2]];
    let dims = downsampled_dims(shape, factors);
    let data = if volume.frame_len() == 0 || frame >= volume.frames() {
        vec![f32::NAN; dims.iter().product()]
    } else {
        average_blocks(volume.frame(frame), shape, factors, dims)
    };
    Volume {
        name: volume.name.clone(),
        shape: [dims[0], dims[1], dims[2], 1],
        ndim: 3,
        zooms: (0..3)
            .map(|a| volume.zooms.get(a).copied().unwrap_or(1.0) * factors[a] as f64)
            .collect(),
        affine: downsampled_affine(volume.affine, factors),
        datatype: "float32".to_owned(),
        scl_slope: 1.0,
        scl_inter: 0.0,
        data,
        nifti_space: None,
    }
}

/// The affine of a grid downsampled by `factors`: output voxel `I` at input voxel `I·f + (f − 1)/2`.
pub fn downsampled_affine(affine: DMat4, factors: [usize; 3]) -> DMat4 {
    let [fx, fy, fz] = factors.map(|f| f.max(1) as f64);
    let scale = DMat4::from_cols(
        DVec4::new(fx, 0.0, 0.0, 0.0),
        DVec4::new(0.0, fy, 0.0, 0.0),
        DVec4::new(0.0, 0.0, fz, 0.0),
        DVec4::new((fx - 1.0) / 2.0, (fy - 1.0) / 2.0, (fz - 1.0) / 2.0, 1.0),
    );
    affine * scale
}

fn average_blocks(src: &[f32], shape: [usize; 3], factors: [usize; 3], dims: [usize; 3]) -> Vec<f32> {
    let [nx, ny, nz] = shape;
    let [fx, fy, fz] = factors;
    let [mx, my, mz] = dims;
    let mut sum = vec![0.0f64; mx * my * mz];
    let mut count = vec![0u32; mx * my * mz];
    for k in 0..nz {
        for j in 0..ny {
            let row = &src[nx * (j + ny * k)..nx * (j + ny * k + 1)];
            let out = mx * (j / fy + my * (k / fz));
            for (i, &v) in row.iter().enumerate() {
                if v.is_finite() {
                    sum[out + i / fx] += v as f64;
                    count[out + i / fx] += 1;
                }
            }
        }
    }
    sum.iter()
        .zip(&count)
        .map(|(&s, &c)| if c == 0 { f32::NAN } else { (s / c as f64) as f32 })
        .collect()
}

/// One frame of a volume on the GPU: a 3D `R32Float` texture plus its world→voxel transform.
pub struct VolumeTexture {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    dims: [u32; 3],
    source_shape: [usize; 4],
    factors: [usize; 3],
    affine: DMat4,
    world_to_voxel: DMat4,
    frame: usize,
    notice: Option<String>,
    content_id: u64,
}

/// A new content id: unique in the process.
fn next_content_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl VolumeTexture {
    /// Upload frame `frame` of `volume` (clamped to the last frame).
    ///
    /// A volume over the device's `max_texture_dimension_3d` on any axis, or over
    /// [`TextureBudget::DEFAULT_MAX_BYTES`], is box-averaged down with its affine adjusted
    /// (see [`box_downsample`]) and [`VolumeTexture::downsample_notice`] says so.
    pub fn upload(device: &wgpu::Device, queue: &wgpu::Queue, volume: &Volume, frame: usize) -> VolumeTexture {
        Self::upload_with_budget(device, queue, volume, frame, TextureBudget::for_device(device))
    }

    /// [`VolumeTexture::upload`] with an explicit budget (capped by the device's own limit).
    pub fn upload_with_budget(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        volume: &Volume,
        frame: usize,
        budget: TextureBudget,
    ) -> VolumeTexture {
        let device_max = device.limits().max_texture_dimension_3d;
        let budget = TextureBudget {
            max_dimension: budget.max_dimension.min(device_max),
            ..budget
        };
        let shape = [volume.shape[0], volume.shape[1], volume.shape[2]];
        let factors = budget.factors(shape);
        let dims = downsampled_dims(shape, factors).map(|d| d as u32);
        let notice = (factors != [1, 1, 1]).then(|| notice_text(shape, factors, dims, budget));
        if let Some(notice) = &notice {
            tracing::warn!("{}: {notice}", volume.name);
        }
        let affine = downsampled_affine(volume.affine, factors);
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some(&format!("volume {}", volume.name)),
            size: wgpu::Extent3d {
                width: dims[0],
                height: dims[1],
                depth_or_array_layers: dims[2],
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D3,
            format: wgpu::TextureFormat::R32Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let mut uploaded = VolumeTexture {
            texture,
            view,
            dims,
            source_shape: volume.shape,
            factors,
            affine,
            world_to_voxel: affine.inverse(),
            frame: usize::MAX,
            notice,
            content_id: next_content_id(),
        };
        uploaded.set_frame(queue, volume, frame);
        uploaded
    }

    /// Replace the texture's contents with frame `frame` of `volume` (clamped to the last frame).
    ///
    /// `volume` must be the volume given to [`VolumeTexture::upload`]; one of another shape is
    /// refused with an error in the log.
    pub fn set_frame(&mut self, queue: &wgpu::Queue, volume: &Volume, frame: usize) {
        if volume.shape != self.source_shape {
            tracing::error!(
                "set_frame: volume {} has shape {:?}, the texture was made for {:?}; ignored",
                volume.name,
                volume.shape,
                self.source_shape
            );
            return;
        }
        let frame = frame.min(volume.frames().saturating_sub(1));
        let downsampled;
        let data: &[f32] = if volume.frame_len() == 0 || frame >= volume.frames() {
            downsampled = vec![f32::NAN; self.dims.iter().map(|&d| d as usize).product()];
            &downsampled
        } else if self.factors == [1, 1, 1] {
            volume.frame(frame)
        } else {
            downsampled = box_downsample(volume, frame, self.factors).data;
            &downsampled
        };
        self.write(queue, data);
        self.frame = frame;
        self.content_id = next_content_id();
    }

    /// Write a whole frame, a slab of z-slices at a time to bound the staging memory.
    fn write(&self, queue: &wgpu::Queue, data: &[f32]) {
        const SLAB_BYTES: usize = 16 << 20;
        let [w, h, d] = self.dims;
        let slice_len = w as usize * h as usize;
        let slices_per_slab = (SLAB_BYTES / (slice_len * 4)).max(1);
        let mut z = 0;
        while z < d as usize {
            let n = slices_per_slab.min(d as usize - z);
            let slab = &data[z * slice_len..(z + n) * slice_len];
            queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: &self.texture,
                    mip_level: 0,
                    origin: wgpu::Origin3d {
                        x: 0,
                        y: 0,
                        z: z as u32,
                    },
                    aspect: wgpu::TextureAspect::All,
                },
                bytemuck::cast_slice(slab),
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(w * 4),
                    rows_per_image: Some(h),
                },
                wgpu::Extent3d {
                    width: w,
                    height: h,
                    depth_or_array_layers: n as u32,
                },
            );
            z += n;
        }
    }

    /// Why and how much the volume was downsampled, for the UI; `None` when it was not.
    pub fn downsample_notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// The texture's grid size (after any downsampling).
    pub fn dims(&self) -> [u32; 3] {
        self.dims
    }

    /// Downsampling factors per axis (`[1, 1, 1]` when none).
    pub fn factors(&self) -> [usize; 3] {
        self.factors
    }

    /// Texel index → world millimetres (the volume's affine, adjusted for downsampling).
    pub fn affine(&self) -> DMat4 {
        self.affine
    }

    /// Whether the affine can be inverted (its world → voxel matrix is finite): a volume with a
    /// singular affine cannot be placed in the world, and the 3D view draws nothing of it.
    pub fn has_invertible_affine(&self) -> bool {
        self.world_to_voxel().is_finite()
    }

    /// World millimetres → continuous texel coordinate, inverted in f64.
    pub fn world_to_voxel(&self) -> DMat4 {
        self.world_to_voxel
    }

    /// The frame currently uploaded.
    pub fn frame(&self) -> usize {
        self.frame
    }

    /// Identifies the texture's current contents: unique in the process, new after every
    /// upload and [`VolumeTexture::set_frame`]; for caches of things derived from the voxels.
    pub fn content_id(&self) -> u64 {
        self.content_id
    }

    /// The texture view bound by the slice shader.
    pub fn view(&self) -> &wgpu::TextureView {
        &self.view
    }
}

fn notice_text(shape: [usize; 3], factors: [usize; 3], dims: [u32; 3], budget: TextureBudget) -> String {
    let by = if factors[0] == factors[1] && factors[1] == factors[2] {
        format!("{}×", factors[0])
    } else {
        format!("{}×{}×{}", factors[0], factors[1], factors[2])
    };
    let over_dimension = shape.iter().any(|&n| n > budget.max_dimension as usize);
    let reason = if over_dimension {
        format!("texture limit {}", budget.max_dimension)
    } else {
        format!("texture budget {}", human_bytes(budget.max_bytes))
    };
    format!(
        "downsampled {by} ({reason}): {}×{}×{} → {}×{}×{}",
        shape[0], shape[1], shape[2], dims[0], dims[1], dims[2]
    )
}

fn human_bytes(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::DVec3;

    fn volume(shape: [usize; 3], data: Vec<f32>, affine: DMat4) -> Volume {
        Volume::from_f32("t", [shape[0], shape[1], shape[2], 1], affine, data)
    }

    #[test]
    fn factors_per_axis_then_common() {
        let b = TextureBudget {
            max_dimension: 256,
            max_bytes: u64::MAX,
        };
        assert_eq!(b.factors([100, 200, 256]), [1, 1, 1]);
        assert_eq!(b.factors([257, 200, 600]), [2, 1, 3]);
        let b = TextureBudget {
            max_dimension: 256,
            max_bytes: 64 * 64 * 64 * 4,
        };
        assert_eq!(b.factors([128, 128, 128]), [2, 2, 2]);
        assert_eq!(b.factors([100, 100, 100]), [2, 2, 2]);
        let b = TextureBudget {
            max_dimension: 1,
            max_bytes: 0,
        };
        assert_eq!(b.factors([5, 1, 0]), [5, 1, 1]);
    }

    #[test]
    fn box_average_values_and_affine() {
        // 5×2×1 ramp, factor 2 along x: blocks {0,1}, {2,3}, {4}; NaN ignored; all-NaN block stays NaN.
        let data = vec![
            0.0,
            2.0,
            f32::NAN,
            4.0,
            10.0,
            /* j=1 */ 1.0,
            3.0,
            5.0,
            5.0,
            f32::NAN,
        ];
        let mut v = volume([5, 2, 1], data, DMat4::from_translation(DVec3::new(10.0, 0.0, 0.0)));
        v.affine.x_axis.x = -2.0; // 2 mm voxels, x flipped
        let d = box_downsample(&v, 0, [2, 1, 1]);
        assert_eq!(d.shape, [3, 2, 1, 1]);
        assert_eq!(&d.data[..3], &[1.0, 4.0, 10.0]);
        assert_eq!(&d.data[3..5], &[2.0, 5.0]);
        assert!(d.data[5].is_nan());
        // Output voxel 1 covers input voxels 2 and 3, centred at input 2.5: world x = 10 − 2·2.5.
        let w = d.voxel_to_world(DVec3::new(1.0, 0.0, 0.0));
        assert!((w - DVec3::new(5.0, 0.0, 0.0)).length() < 1e-12, "{w}");
        assert_eq!(d.zooms, vec![2.0, 1.0, 1.0]);
    }

    #[test]
    fn notice_names_factor_and_reason() {
        let b = TextureBudget {
            max_dimension: 2048,
            max_bytes: u64::MAX,
        };
        let text = notice_text([4000, 100, 100], [2, 1, 1], [2000, 100, 100], b);
        assert_eq!(
            text,
            "downsampled 2×1×1 (texture limit 2048): 4000×100×100 → 2000×100×100"
        );
        let b = TextureBudget {
            max_dimension: 2048,
            max_bytes: 1 << 20,
        };
        let text = notice_text([100, 100, 100], [2, 2, 2], [50, 50, 50], b);
        assert!(text.starts_with("downsampled 2× (texture budget 1 MiB)"), "{text}");
    }
}

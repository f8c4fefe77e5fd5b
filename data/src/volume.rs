//! A loaded 3D or 4D volume with its voxel→world affine.

use glam::{DMat4, DVec3, DVec4};

/// A scalar volume: scaled voxel values of every frame, in Fortran order (i fastest).
#[derive(Clone, Debug)]
pub struct Volume {
    /// Display name (the file name).
    pub name: String,
    /// `[nx, ny, nz, nt]`; `nt` is 1 for a 3D volume.
    pub shape: [usize; 4],
    /// Number of dimensions the file declares (3 or 4).
    pub ndim: usize,
    /// Voxel sizes as the header states them (`pixdim[1..=ndim]`, or MGH's spacing).
    pub zooms: Vec<f64>,
    /// Voxel index → world millimetres (RAS+), chosen as nibabel's `img.affine`.
    pub affine: DMat4,
    /// On-disk datatype name as numpy spells it (`uint8`, `int16`, `float32`, …).
    pub datatype: String,
    /// Scale slope applied to the stored values (1 when the file has none).
    pub scl_slope: f64,
    /// Scale intercept applied to the stored values (0 when the file has none).
    pub scl_inter: f64,
    /// Scaled values, `nx*ny*nz*nt` of them, frame after frame.
    pub data: Vec<f32>,
    /// The spatial fields of the NIfTI header it was read from, if it was (kept so that a volume
    /// saved on this grid, e.g. a region drawn on it, carries the same codes and transforms).
    pub nifti_space: Option<Box<NiftiSpace>>,
}

/// A NIfTI header's spatial fields, as stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NiftiSpace {
    /// `qform_code`.
    pub qform_code: i32,
    /// `sform_code`.
    pub sform_code: i32,
    /// `quatern_b, quatern_c, quatern_d`.
    pub quatern: [f64; 3],
    /// `qoffset_x, qoffset_y, qoffset_z`.
    pub qoffset: [f64; 3],
    /// `pixdim[0..4]`: qfac, then the three voxel sizes.
    pub pixdim: [f64; 4],
    /// `srow_x, srow_y, srow_z`.
    pub srow: [[f64; 4]; 3],
    /// `xyzt_units`.
    pub xyzt_units: i32,
}

impl Volume {
    /// A `float32` volume made in memory (a computed map, a baked field, a test volume): 3D when
    /// `shape[3]` is 1, zooms the lengths of the affine's columns, no scaling.
    pub fn from_f32(name: impl Into<String>, shape: [usize; 4], affine: DMat4, data: Vec<f32>) -> Volume {
        Volume {
            name: name.into(),
            shape,
            ndim: if shape[3] == 1 { 3 } else { 4 },
            zooms: (0..3).map(|a| affine.col(a).truncate().length()).collect(),
            affine,
            datatype: "float32".into(),
            scl_slope: 1.0,
            scl_inter: 0.0,
            data,
            nifti_space: None,
        }
    }

    /// Voxels in one frame.
    pub fn frame_len(&self) -> usize {
        self.shape[0] * self.shape[1] * self.shape[2]
    }

    /// Number of frames (1 for 3D).
    pub fn frames(&self) -> usize {
        self.shape[3]
    }

    /// The values of frame `t`.
    pub fn frame(&self, t: usize) -> &[f32] {
        let n = self.frame_len();
        &self.data[t * n..(t + 1) * n]
    }

    /// Linear index of voxel `(i, j, k)` within a frame.
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        i + self.shape[0] * (j + self.shape[1] * k)
    }

    /// Value at an integer voxel of frame `t`, `None` outside the grid.
    pub fn value_at(&self, ijk: [i64; 3], t: usize) -> Option<f32> {
        let inside = (0..3).all(|a| ijk[a] >= 0 && (ijk[a] as usize) < self.shape[a]);
        (inside && t < self.frames())
            .then(|| self.frame(t)[self.index(ijk[0] as usize, ijk[1] as usize, ijk[2] as usize)])
    }

    /// The time series at an integer voxel, `None` outside the grid.
    pub fn time_series(&self, ijk: [i64; 3]) -> Option<Vec<f32>> {
        (0..self.frames()).map(|t| self.value_at(ijk, t)).collect()
    }

    /// World millimetres of a (continuous) voxel coordinate.
    pub fn voxel_to_world(&self, ijk: DVec3) -> DVec3 {
        (self.affine * DVec4::new(ijk.x, ijk.y, ijk.z, 1.0)).truncate()
    }

    /// Continuous voxel coordinate of a world point.
    pub fn world_to_voxel(&self, world: DVec3) -> DVec3 {
        (self.affine.inverse() * world.extend(1.0)).truncate()
    }

    /// Nearest integer voxel of a world point (may lie outside the grid).
    pub fn nearest_voxel(&self, world: DVec3) -> [i64; 3] {
        let v = self.world_to_voxel(world);
        [v.x, v.y, v.z].map(|c| (c + 0.5).floor() as i64)
    }

    /// World-space bounding box `(min, max)` of the voxel centres' grid extended by half a voxel.
    pub fn world_bounds(&self) -> (DVec3, DVec3) {
        let mut lo = DVec3::splat(f64::INFINITY);
        let mut hi = DVec3::splat(f64::NEG_INFINITY);
        for c in 0..8 {
            let corner = DVec3::new(
                if c & 1 == 0 { -0.5 } else { self.shape[0] as f64 - 0.5 },
                if c & 2 == 0 { -0.5 } else { self.shape[1] as f64 - 0.5 },
                if c & 4 == 0 { -0.5 } else { self.shape[2] as f64 - 0.5 },
            );
            let w = self.voxel_to_world(corner);
            lo = lo.min(w);
            hi = hi.max(w);
        }
        (lo, hi)
    }

    /// World coordinate of the grid's centre.
    pub fn world_center(&self) -> DVec3 {
        let (lo, hi) = self.world_bounds();
        (lo + hi) * 0.5
    }

    /// Smallest voxel edge length in world millimetres (the natural slice step).
    pub fn min_voxel_mm(&self) -> f64 {
        (0..3)
            .map(|a| self.affine.col(a).truncate().length())
            .fold(f64::INFINITY, f64::min)
    }
}

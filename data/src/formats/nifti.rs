//! What NIfTI-1 and NIfTI-2 share: one header model, nibabel's rules for shape, zooms, scaling
//! and affine, and reading the voxels of a single-file image.

use glam::{DMat3, DMat4, DVec3, DVec4};

use super::input::Input;
use super::progress::Progress;
use super::voxels::{DType, Layout, Scaling, read_voxels};
use super::{MEMORY_BUDGET, nifti1, nifti2};
use crate::error::LoadError;
use crate::volume::{NiftiSpace, Volume};

/// NIfTI-1 or NIfTI-2 header fields in their widest types, byte order resolved.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Header {
    /// 1 or 2.
    pub version: u8,
    /// Byte order of the header and of the voxels.
    pub big_endian: bool,
    /// `dim[0..8]`: number of dimensions, then their sizes.
    pub dim: [i64; 8],
    /// `pixdim[0..8]`: qfac, then voxel sizes.
    pub pixdim: [f64; 8],
    /// NIfTI datatype code.
    pub datatype: i32,
    /// Byte offset of the voxels (in the `.nii`, or in the `.img` of a pair).
    pub vox_offset: f64,
    /// Stored `scl_slope`.
    pub scl_slope: f64,
    /// Stored `scl_inter`.
    pub scl_inter: f64,
    /// `qform_code`.
    pub qform_code: i32,
    /// `sform_code`.
    pub sform_code: i32,
    /// `quatern_b, quatern_c, quatern_d`.
    pub quatern: [f64; 3],
    /// `qoffset_x, qoffset_y, qoffset_z`.
    pub qoffset: [f64; 3],
    /// `srow_x, srow_y, srow_z`.
    pub srow: [[f64; 4]; 3],
    /// `glmin` (NIfTI-1 only), used by FreeSurfer's large-vector convention.
    pub glmin: i64,
    /// `xyzt_units`.
    pub xyzt_units: i32,
}

/// Validated grid of a volume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// `[nx, ny, nz, nt]`.
    pub dims: [usize; 4],
    /// 3 or 4.
    pub ndim: usize,
}

impl Shape {
    /// Number of voxels of all frames.
    pub fn count(&self) -> usize {
        self.dims.iter().product()
    }
}

/// NIfTI version of a header that starts with `head`, from `sizeof_hdr` (348 or 540, either byte
/// order) or, failing that, from the magic string.
pub(crate) fn sniff_version(head: &[u8]) -> Option<u8> {
    let first: [u8; 4] = head.get(..4)?.try_into().ok()?;
    for size in [i32::from_le_bytes(first), i32::from_be_bytes(first)] {
        match size {
            348 => return Some(1),
            540 => return Some(2),
            _ => {}
        }
    }
    if head.get(4..7) == Some(b"n+2") || head.get(4..7) == Some(b"ni2") {
        return Some(2);
    }
    if head.get(344..347) == Some(b"n+1") || head.get(344..347) == Some(b"ni1") {
        return Some(1);
    }
    None
}

/// Size of the fixed header of `version`.
pub(crate) fn header_len(version: u8) -> usize {
    if version == 2 {
        nifti2::HEADER_LEN
    } else {
        nifti1::HEADER_LEN
    }
}

/// Parses a fixed header of either version.
pub(crate) fn parse_header(bytes: &[u8], version: u8) -> Result<Header, LoadError> {
    if version == 2 {
        nifti2::parse(bytes)
    } else {
        nifti1::parse(bytes)
    }
}

impl Header {
    /// Smallest `vox_offset` of a single-file image (header plus the 4 extension bytes).
    fn single_min_offset(&self) -> u64 {
        header_len(self.version) as u64 + 4
    }

    /// The grid, validated: 1 to 7 dimensions, none zero or negative, nothing beyond the 4th.
    pub fn shape(&self) -> Result<Shape, LoadError> {
        let n = self.dim[0];
        if !(1..=7).contains(&n) {
            return Err(LoadError::bad_header(format!(
                "dim[0] = {n}: the number of dimensions must be 1 to 7"
            )));
        }
        let n = n as usize;
        let mut d: Vec<i64> = self.dim[1..=n].to_vec();
        // FreeSurfer stores long vectors as (-1, 1, 1) with the length in glmin, and the ico7
        // surface as (27307, 1, 6); nibabel's get_data_shape undoes both.
        if n >= 3 && self.version == 1 {
            if d[..3] == [-1, 1, 1] {
                if self.glmin <= 0 {
                    return Err(LoadError::bad_header(
                        "dim[1] = -1 (FreeSurfer large vector) but glmin is not positive",
                    ));
                }
                d[0] = self.glmin;
            } else if d[..3] == [27307, 1, 6] {
                d[..3].copy_from_slice(&[163842, 1, 1]);
            }
        }
        for (i, &v) in d.iter().enumerate() {
            if v == 0 {
                return Err(LoadError::bad_header(format!(
                    "dim[{}] = 0: zero-sized dimension (dim = {:?})",
                    i + 1,
                    &self.dim[..=n]
                )));
            }
            if v < 0 {
                return Err(LoadError::bad_header(format!("dim[{}] = {v} is negative", i + 1)));
            }
        }
        if let Some(i) = d.iter().skip(4).position(|&v| v != 1) {
            return Err(LoadError::bad_header(format!(
                "{n}-D image (dim[{}] = {}): only 3-D and 4-D volumes are supported",
                i + 5,
                d[i + 4]
            )));
        }
        let mut dims = [1usize; 4];
        for (slot, &v) in dims.iter_mut().zip(&d) {
            *slot = usize::try_from(v).map_err(|_| LoadError::too_large(format!("dimension {v}")))?;
        }
        let shape = Shape {
            dims,
            ndim: if n >= 4 { 4 } else { 3 },
        };
        check_budget(&shape)?;
        Ok(shape)
    }

    /// `pixdim[1..=3]` as nibabel's header check fixes them: 0 becomes 1, negatives their absolute value.
    fn fixed_pixdim(&self) -> [f64; 8] {
        let mut p = self.pixdim;
        for v in &mut p[1..4] {
            if *v == 0.0 {
                *v = 1.0;
            } else if *v < 0.0 {
                *v = v.abs();
            }
        }
        if p[0] != 1.0 && p[0] != -1.0 {
            p[0] = 1.0;
        }
        p
    }

    /// nibabel's `header.get_zooms()`: `pixdim[1..=ndim]` (padded with 1 below three dimensions).
    pub fn zooms(&self, shape: &Shape) -> Vec<f64> {
        let p = self.fixed_pixdim();
        let declared = self.dim[0].clamp(1, 7) as usize;
        (1..=shape.ndim)
            .map(|i| if i <= declared { p[i] } else { 1.0 })
            .collect()
    }

    /// The scaling nibabel applies.
    pub fn scaling(&self) -> Result<Scaling, LoadError> {
        Scaling::nifti(self.scl_slope, self.scl_inter)
    }

    /// The voxel type.
    pub fn dtype(&self) -> Result<DType, LoadError> {
        DType::from_nifti(self.datatype)
    }

    /// The sform matrix.
    pub fn sform(&self) -> DMat4 {
        let [x, y, z] = self.srow;
        DMat4::from_cols_array_2d(&[x, y, z, [0.0, 0.0, 0.0, 1.0]]).transpose()
    }

    /// The qform matrix from the quaternion, qfac and voxel sizes (nibabel's `get_qform`).
    pub fn qform(&self) -> DMat4 {
        let [b, c, d] = self.quatern;
        let threshold = if self.version == 2 {
            3.0 * f64::EPSILON
        } else {
            3.0 * f64::from(f32::EPSILON)
        };
        let w2 = 1.0 - (b * b + c * c + d * d);
        let (a, b, c, d) = if w2.abs() < threshold {
            (0.0, b, c, d)
        } else if w2 < 0.0 {
            // Not a unit quaternion (nibabel refuses it): normalise (b, c, d) as nifti_clib does.
            let norm = (b * b + c * c + d * d).sqrt();
            (0.0, b / norm, c / norm, d / norm)
        } else {
            (w2.sqrt(), b, c, d)
        };
        let r = quat_to_mat(a, b, c, d);
        let p = self.fixed_pixdim();
        let scale = DVec3::new(p[1], p[2], p[3] * p[0]);
        let m = r * DMat3::from_diagonal(scale);
        DMat4::from_cols(
            m.x_axis.extend(0.0),
            m.y_axis.extend(0.0),
            m.z_axis.extend(0.0),
            DVec4::new(self.qoffset[0], self.qoffset[1], self.qoffset[2], 1.0),
        )
    }

    /// nibabel's `get_base_affine`: voxel sizes on the diagonal, x flipped, origin at the centre.
    pub fn base_affine(&self, shape: &Shape) -> DMat4 {
        let p = self.fixed_pixdim();
        let declared = self.dim[0].clamp(1, 7) as usize;
        let zoom = |i: usize| {
            if i <= declared && p[i].is_finite() { p[i] } else { 1.0 }
        };
        let z = DVec3::new(-zoom(1), zoom(2), zoom(3));
        let origin = DVec3::new(
            (shape.dims[0] as f64 - 1.0) / 2.0,
            (shape.dims[1] as f64 - 1.0) / 2.0,
            (shape.dims[2] as f64 - 1.0) / 2.0,
        );
        let mut m = DMat4::from_diagonal(z.extend(1.0));
        m.w_axis = (-origin * z).extend(1.0);
        m
    }

    /// nibabel's `img.affine` (`get_best_affine`): the sform if `sform_code` ≠ 0, else the qform
    /// if `qform_code` ≠ 0, else the base affine. Codes outside 0..=5 count as 0 (nibabel's fix).
    /// Unlike nibabel, a chosen matrix that is not finite or not invertible falls through to the
    /// next candidate, so that a viewer always gets a usable transform.
    pub fn affine(&self, shape: &Shape) -> DMat4 {
        let valid = |code: i32| (1..=5).contains(&code);
        let usable = |m: &DMat4| m.is_finite() && m.determinant().abs() > 1e-12;
        if valid(self.sform_code) {
            let m = self.sform();
            if usable(&m) {
                return m;
            }
        }
        if valid(self.qform_code) {
            let m = self.qform();
            if usable(&m) {
                return m;
            }
        }
        self.base_affine(shape)
    }

    /// Byte offset of the voxels: `vox_offset` validated; a single file's 0 means "right after
    /// the header".
    pub fn data_offset(&self, single_file: bool) -> Result<u64, LoadError> {
        let v = self.vox_offset;
        if !(0.0..=1e15).contains(&v) {
            return Err(LoadError::bad_header(format!(
                "vox_offset = {v} is not a valid byte offset"
            )));
        }
        let off = v.trunc() as u64;
        if single_file {
            let min = self.single_min_offset();
            if off == 0 {
                return Ok(min);
            }
            if off < min {
                return Err(LoadError::bad_header(format!(
                    "vox_offset = {off} lies inside the {}-byte header",
                    header_len(self.version)
                )));
            }
        }
        Ok(off)
    }
}

/// nibabel's `quat2mat` (for a unit quaternion `w, x, y, z`).
fn quat_to_mat(w: f64, x: f64, y: f64, z: f64) -> DMat3 {
    let nq = w * w + x * x + y * y + z * z;
    if nq < f64::EPSILON {
        return DMat3::IDENTITY;
    }
    let s = 2.0 / nq;
    let (xs, ys, zs) = (x * s, y * s, z * s);
    let (wx, wy, wz) = (w * xs, w * ys, w * zs);
    let (xx, xy, xz) = (x * xs, x * ys, x * zs);
    let (yy, yz, zz) = (y * ys, y * zs, z * zs);
    // Rows of the rotation, then transposed into glam's column order.
    DMat3::from_cols_array_2d(&[
        [1.0 - (yy + zz), xy - wz, xz + wy],
        [xy + wz, 1.0 - (xx + zz), yz - wx],
        [xz - wy, yz + wx, 1.0 - (xx + yy)],
    ])
    .transpose()
}

/// Fails with [`LoadError::TooLarge`] when the decoded `f32` data would exceed the memory budget.
pub(crate) fn check_budget(shape: &Shape) -> Result<(), LoadError> {
    let count = shape.dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
    let bytes = count.and_then(|c| c.checked_mul(4));
    match bytes {
        Some(b) if b <= MEMORY_BUDGET && usize::try_from(b).is_ok() => Ok(()),
        _ => Err(LoadError::too_large(format!(
            "header claims {}×{}×{}×{} voxels, more than the memory budget of {} GiB allows as f32",
            shape.dims[0],
            shape.dims[1],
            shape.dims[2],
            shape.dims[3],
            MEMORY_BUDGET >> 30
        ))),
    }
}

/// Checks that an uncompressed `input` holds `needed` more bytes before anything is allocated.
pub(crate) fn check_available(input: &Input, needed: u64, what: &str) -> Result<(), LoadError> {
    if let Some(left) = input.exact_remaining()
        && left < needed
    {
        return Err(LoadError::truncated(format!(
            "header claims {needed} bytes of {what}, file has {left} after the header"
        )));
    }
    Ok(())
}

/// Reads the voxels of `header` from `data` (positioned at `offset`) into a [`Volume`].
pub(crate) fn read_volume(
    header: &Header,
    name: &str,
    data: &mut Input,
    progress: &mut Progress,
) -> Result<Volume, LoadError> {
    let shape = header.shape()?;
    let dtype = header.dtype()?;
    let scaling = header.scaling()?;
    let count = shape.count();
    check_available(data, count as u64 * dtype.size() as u64, "voxels")?;
    let layout = Layout {
        count,
        dtype,
        big_endian: header.big_endian,
        scaling,
    };
    let values = read_voxels(data, layout, progress)?;
    Ok(Volume {
        name: name.to_owned(),
        shape: shape.dims,
        ndim: shape.ndim,
        zooms: header.zooms(&shape),
        affine: header.affine(&shape),
        datatype: dtype.numpy_name().to_owned(),
        scl_slope: scaling.slope,
        scl_inter: scaling.inter,
        data: values,
        nifti_space: Some(Box::new(NiftiSpace {
            qform_code: header.qform_code,
            sform_code: header.sform_code,
            quatern: header.quatern,
            qoffset: header.qoffset,
            pixdim: [header.pixdim[0], header.pixdim[1], header.pixdim[2], header.pixdim[3]],
            srow: header.srow,
            xyzt_units: header.xyzt_units,
        })),
    })
}

/// The header at the start of `input` (a `.nii` or a pair's `.hdr`), with its validated shape.
pub(crate) fn read_header(input: &mut Input) -> Result<(Header, Shape), LoadError> {
    let head = input.peek(nifti2::HEADER_LEN)?;
    let version = sniff_version(head).ok_or_else(|| {
        if head.is_empty() {
            LoadError::truncated("the file is empty")
        } else {
            LoadError::bad_magic("NIfTI", "neither sizeof_hdr (348 or 540) nor the magic string match")
        }
    })?;
    let bytes = input.read_header(header_len(version), &format!("NIfTI-{version} header"))?;
    let header = parse_header(&bytes, version)?;
    let shape = header.shape()?;
    Ok((header, shape))
}

/// Loads a single-file NIfTI-1 or NIfTI-2 image (`.nii`, `.nii.gz`) from the start of `input`.
pub(crate) fn load_single(input: &mut Input, name: &str, progress: &mut Progress) -> Result<Volume, LoadError> {
    let head = input.peek(nifti2::HEADER_LEN)?;
    let version = sniff_version(head).ok_or_else(|| {
        if head.is_empty() {
            LoadError::truncated("the file is empty")
        } else {
            LoadError::bad_magic("NIfTI", "neither sizeof_hdr (348 or 540) nor the magic string match")
        }
    })?;
    let len = header_len(version);
    let bytes = input.read_header(len, &format!("NIfTI-{version} header"))?;
    let header = parse_header(&bytes, version)?;
    let shape = header.shape()?;
    let offset = header.data_offset(true)?;
    let dtype = header.dtype()?;
    let needed = offset - len as u64 + shape.count() as u64 * dtype.size() as u64;
    input.expect(len as u64 + needed);
    if let Some(left) = input.exact_remaining()
        && left < needed
    {
        return Err(LoadError::truncated(format!(
            "header claims {} bytes of voxels at offset {offset}, the {} has {}",
            shape.count() as u64 * dtype.size() as u64,
            input.data_noun(),
            input.raw_len()
        )));
    }
    let skipped = input.skip(offset - len as u64)?;
    if skipped < offset - len as u64 {
        return Err(LoadError::truncated(format!(
            "vox_offset = {offset} but the {} ends at {}",
            input.data_noun(),
            input.position()
        )));
    }
    read_volume(&header, name, input, progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            version: 1,
            big_endian: false,
            dim: [3, 4, 5, 6, 1, 1, 1, 1],
            pixdim: [1.0, 2.0, 3.0, 4.0, 1.0, 1.0, 1.0, 1.0],
            datatype: 2,
            vox_offset: 352.0,
            scl_slope: 0.0,
            scl_inter: 0.0,
            qform_code: 0,
            sform_code: 0,
            quatern: [0.0; 3],
            qoffset: [0.0; 3],
            srow: [[0.0; 4]; 3],
            glmin: 0,
            xyzt_units: 0,
        }
    }

    #[test]
    fn base_affine_like_nibabel() {
        // nibabel: AnalyzeHeader shape (3, 5, 7), zooms (3, 2, 1) → [[-3,0,0,3],[0,2,0,-4],[0,0,1,-3]].
        let mut h = header();
        h.dim = [3, 3, 5, 7, 1, 1, 1, 1];
        h.pixdim = [1.0, 3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let s = h.shape().unwrap();
        let m = h.affine(&s);
        assert_eq!(m.row(0), DVec4::new(-3.0, 0.0, 0.0, 3.0));
        assert_eq!(m.row(1), DVec4::new(0.0, 2.0, 0.0, -4.0));
        assert_eq!(m.row(2), DVec4::new(0.0, 0.0, 1.0, -3.0));
    }

    #[test]
    fn qform_with_qfac() {
        // 180° about x (b = 1): y and z flip; qfac = -1 flips z back.
        let mut h = header();
        h.qform_code = 1;
        h.quatern = [1.0, 0.0, 0.0];
        h.qoffset = [10.0, 20.0, 30.0];
        h.pixdim[0] = -1.0;
        let s = h.shape().unwrap();
        let m = h.affine(&s);
        assert!((m.row(0) - DVec4::new(2.0, 0.0, 0.0, 10.0)).length() < 1e-12);
        assert!((m.row(1) - DVec4::new(0.0, -3.0, 0.0, 20.0)).length() < 1e-12);
        assert!((m.row(2) - DVec4::new(0.0, 0.0, 4.0, 30.0)).length() < 1e-12);
        // sform wins when its code is set; invalid codes count as 0.
        h.sform_code = 2;
        h.srow = [[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 1.0, 3.0]];
        assert_eq!(h.affine(&s).w_axis, DVec4::new(1.0, 2.0, 3.0, 1.0));
        h.sform_code = 9;
        assert_eq!(h.affine(&s).w_axis, DVec4::new(10.0, 20.0, 30.0, 1.0));
    }

    #[test]
    fn shape_rules() {
        let mut h = header();
        assert_eq!(
            h.shape().unwrap(),
            Shape {
                dims: [4, 5, 6, 1],
                ndim: 3
            }
        );
        h.dim = [5, 4, 5, 6, 2, 1, 1, 1];
        assert_eq!(
            h.shape().unwrap(),
            Shape {
                dims: [4, 5, 6, 2],
                ndim: 4
            }
        );
        h.dim = [5, 4, 5, 6, 2, 3, 1, 1];
        assert!(h.shape().unwrap_err().to_string().contains("5-D"));
        h.dim = [3, 4, 0, 6, 1, 1, 1, 1];
        assert!(h.shape().unwrap_err().to_string().contains("zero-sized"));
        h.dim = [3, 4, -2, 6, 1, 1, 1, 1];
        assert!(h.shape().unwrap_err().to_string().contains("negative"));
        h.dim = [0, 4, 5, 6, 1, 1, 1, 1];
        assert!(h.shape().is_err());
        h.dim = [3, 30000, 30000, 30000, 1, 1, 1, 1];
        assert!(matches!(h.shape(), Err(LoadError::TooLarge { .. })));
        h.dim = [3, -1, 1, 1, 1, 1, 1, 1];
        h.glmin = 163842;
        assert_eq!(h.shape().unwrap().dims, [163842, 1, 1, 1]);
        h.dim = [2, 7, 3, 1, 1, 1, 1, 1];
        let s = h.shape().unwrap();
        assert_eq!(
            s,
            Shape {
                dims: [7, 3, 1, 1],
                ndim: 3
            }
        );
        assert_eq!(h.zooms(&s), [2.0, 3.0, 1.0]);
    }

    #[test]
    fn offsets() {
        let mut h = header();
        assert_eq!(h.data_offset(true).unwrap(), 352);
        h.vox_offset = 0.0;
        assert_eq!(h.data_offset(true).unwrap(), 352);
        assert_eq!(h.data_offset(false).unwrap(), 0);
        h.vox_offset = 100.0;
        assert!(h.data_offset(true).is_err());
        h.vox_offset = f64::NAN;
        assert!(h.data_offset(false).is_err());
        h.vox_offset = -16.0;
        assert!(h.data_offset(false).is_err());
    }
}

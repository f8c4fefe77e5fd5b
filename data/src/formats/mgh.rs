//! FreeSurfer MGH/MGZ volumes: a 284-byte big-endian header, the voxels, an optional footer.
//!
//! The affine is nibabel's `MGHHeader.get_affine()`: `Mdc` (stored transposed) times the voxel
//! sizes, translated so that the volume centre `dims / 2` lands at `Pxyz_c`.

use glam::{DMat4, DVec3};

use super::bytes::Endian;
use super::input::Input;
use super::nifti::{Shape, check_available, check_budget};
use super::progress::Progress;
use super::voxels::{DType, Layout, Scaling, read_voxels};
use crate::error::LoadError;
use crate::volume::Volume;

/// Bytes before the voxels.
const DATA_OFFSET: usize = 284;
/// Bytes of the fixed header fields.
const HEADER_FIELDS: usize = 90;

/// The header fields nibabel uses.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MghHeader {
    /// width, height, depth, frames.
    pub dims: [i32; 4],
    /// Data type code.
    pub kind: i32,
    /// Whether `delta`, `mdc` and `pxyz_c` are valid.
    pub good_ras: bool,
    /// Voxel sizes.
    pub delta: [f32; 3],
    /// Direction cosines, as stored (row `i` is the direction of voxel axis `i`).
    pub mdc: [[f32; 3]; 3],
    /// World coordinate of the volume centre.
    pub pxyz_c: [f32; 3],
}

/// The voxel type of an MGH type code (uchar, int, float, short, ushort).
fn dtype(code: i32) -> Result<DType, LoadError> {
    Ok(match code {
        0 => DType::U8,
        1 => DType::I32,
        3 => DType::F32,
        4 => DType::I16,
        10 => DType::U16,
        _ => {
            return Err(LoadError::unsupported(format!(
                "MGH type code {code} (supported: 0 uchar, 1 int, 3 float, 4 short, 10 ushort)"
            )));
        }
    })
}

/// Parses the fixed header fields (the first 90 of its 284 bytes).
pub(crate) fn parse(b: &[u8]) -> Result<MghHeader, LoadError> {
    if b.len() < HEADER_FIELDS {
        return Err(LoadError::truncated(format!(
            "an MGH header needs {HEADER_FIELDS} bytes, the file has {}",
            b.len()
        )));
    }
    let e = Endian::Big;
    let i32_at = |o: usize| e.i32(b, o).unwrap_or(0);
    let f32_at = |o: usize| e.f32(b, o).unwrap_or(f32::NAN);
    let version = i32_at(0);
    if version != 1 {
        return Err(LoadError::bad_magic("MGH", format!("version is {version}, expected 1")));
    }
    let mut h = MghHeader {
        dims: [i32_at(4), i32_at(8), i32_at(12), i32_at(16)],
        kind: i32_at(20),
        good_ras: e.i16(b, 28).unwrap_or(0) != 0,
        delta: [f32_at(30), f32_at(34), f32_at(38)],
        mdc: [
            [f32_at(42), f32_at(46), f32_at(50)],
            [f32_at(54), f32_at(58), f32_at(62)],
            [f32_at(66), f32_at(70), f32_at(74)],
        ],
        pxyz_c: [f32_at(78), f32_at(82), f32_at(86)],
    };
    if !h.good_ras {
        // nibabel's _set_affine_default.
        h.delta = [1.0; 3];
        h.mdc = [[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]];
        h.pxyz_c = [0.0; 3];
    }
    Ok(h)
}

impl MghHeader {
    /// The validated grid.
    pub(crate) fn shape(&self) -> Result<Shape, LoadError> {
        let mut dims = [0usize; 4];
        for (i, (slot, &d)) in dims.iter_mut().zip(&self.dims).enumerate() {
            if d <= 0 {
                return Err(LoadError::bad_header(format!(
                    "dimension {} is {d}; MGH dimensions must be positive",
                    i + 1
                )));
            }
            *slot = d as usize;
        }
        let shape = Shape {
            dims,
            ndim: if dims[3] > 1 { 4 } else { 3 },
        };
        check_budget(&shape)?;
        Ok(shape)
    }

    /// nibabel's `get_affine()`.
    pub(crate) fn affine(&self) -> DMat4 {
        let d = self.delta.map(f64::from);
        // Columns of MdcD are the stored rows of Mdc scaled by the voxel sizes.
        let col = |i: usize| DVec3::from_array(self.mdc[i].map(f64::from)) * d[i];
        let (cx, cy, cz) = (col(0), col(1), col(2));
        let half = |i: usize| f64::from(self.dims[i]) / 2.0;
        let centre = cx * half(0) + cy * half(1) + cz * half(2);
        let t = DVec3::from_array(self.pxyz_c.map(f64::from)) - centre;
        DMat4::from_cols(cx.extend(0.0), cy.extend(0.0), cz.extend(0.0), t.extend(1.0))
    }
}

/// Loads an `.mgh` or `.mgz` (the [`Input`] has already undone the gzip of an `.mgz`).
pub(crate) fn load(input: &mut Input, name: &str, progress: &mut Progress) -> Result<Volume, LoadError> {
    let head = input.read_header(DATA_OFFSET, "MGH header").map_err(|e| {
        if input.position() == 0 {
            LoadError::truncated("the file is empty")
        } else {
            e
        }
    })?;
    let h = parse(&head)?;
    let shape = h.shape()?;
    let dtype = dtype(h.kind)?;
    let count = shape.count();
    // The header, the voxels and the TR that starts the optional footer.
    input.expect((DATA_OFFSET as u64).saturating_add(count as u64 * dtype.size() as u64) + 4);
    check_available(input, count as u64 * dtype.size() as u64, "voxels")?;
    let layout = Layout {
        count,
        dtype,
        big_endian: true,
        scaling: Scaling::IDENTITY,
    };
    let data = read_voxels(input, layout, progress)?;
    // The optional footer starts with TR (ms); nibabel reads zeros where it is missing.
    let mut tr = [0u8; 4];
    let got = input.read_full(&mut tr)?;
    let tr = if got == 4 {
        f64::from(f32::from_be_bytes(tr))
    } else {
        0.0
    };
    let mut zooms: Vec<f64> = h.delta.iter().map(|&v| f64::from(v)).collect();
    if shape.ndim == 4 {
        zooms.push(tr);
    }
    Ok(Volume {
        name: name.to_owned(),
        shape: shape.dims,
        ndim: shape.ndim,
        zooms,
        affine: h.affine(),
        datatype: dtype.numpy_name().to_owned(),
        scl_slope: 1.0,
        scl_inter: 0.0,
        data,
        nifti_space: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(dims: [i32; 4], kind: i32) -> Vec<u8> {
        let mut b = vec![0u8; DATA_OFFSET];
        b[0..4].copy_from_slice(&1i32.to_be_bytes());
        for (i, d) in dims.iter().enumerate() {
            b[4 + 4 * i..8 + 4 * i].copy_from_slice(&d.to_be_bytes());
        }
        b[20..24].copy_from_slice(&kind.to_be_bytes());
        b
    }

    #[test]
    fn default_affine_without_good_ras() {
        let h = parse(&header([4, 6, 8, 1], 3)).unwrap();
        assert!(!h.good_ras);
        // Default Mdc rows (-1,0,0), (0,0,1), (0,-1,0): x = -i, y = -k, z = j (LIA), centred.
        let m = h.affine();
        let expect = DMat4::from_cols_array_2d(&[
            [-1.0, 0.0, 0.0, 2.0],
            [0.0, 0.0, -1.0, 4.0],
            [0.0, 1.0, 0.0, -3.0],
            [0.0, 0.0, 0.0, 1.0],
        ])
        .transpose();
        assert!(m.abs_diff_eq(expect, 1e-12), "{m}");
    }

    #[test]
    fn rejects_bad_headers() {
        let mut b = header([4, 6, 8, 1], 3);
        b[3] = 2;
        assert!(matches!(parse(&b), Err(LoadError::BadMagic { .. })));
        let h = parse(&header([4, 0, 8, 1], 3)).unwrap();
        assert!(matches!(h.shape(), Err(LoadError::BadHeader { .. })));
        let h = parse(&header([4, -6, 8, 1], 3)).unwrap();
        assert!(matches!(h.shape(), Err(LoadError::BadHeader { .. })));
        let h = parse(&header([100_000, 100_000, 100_000, 1], 3)).unwrap();
        assert!(matches!(h.shape(), Err(LoadError::TooLarge { .. })));
        assert!(matches!(dtype(2), Err(LoadError::UnsupportedDatatype { .. })));
        assert!(matches!(parse(&b[..20]), Err(LoadError::Truncated { .. })));
    }
}

//! Reading CIFTI-2 files: a NIfTI-2 header with an intent code in 3000–3099, the CIFTI extension
//! (code 32) holding the XML that describes the matrix's dimensions, then the matrix (any NIfTI
//! datatype, with scaling), as nibabel's `Cifti2Image` reads them.
//!
//! Nothing a header or extension merely claims is allocated: sizes are checked against the file
//! (or the decompressed data), the extension area and [`MEMORY_BUDGET`] first.

mod check;
mod xml;

use super::bytes::Endian;
use super::input::Input;
use super::nifti::{Header, check_available, parse_header};
use super::progress::Progress;
use super::voxels::{Layout, read_voxels};
use super::{MEMORY_BUDGET, nifti2};
use crate::cifti::CiftiFile;
use crate::error::LoadError;

/// `NIFTI_ECODE_CIFTI`.
const ECODE_CIFTI: i32 = 32;

/// Byte offset of `intent_code` in a NIfTI-2 header.
const INTENT_CODE_AT: usize = 504;

/// Whether `head` starts a NIfTI-2 header with a CIFTI intent code (3000–3099), as nibabel's
/// `_Cifti2AsNiftiHeader.may_contain_header` decides.
pub(crate) fn is_cifti(head: &[u8]) -> bool {
    let Some(bytes) = head.get(..nifti2::HEADER_LEN) else {
        return false;
    };
    let Ok(header) = nifti2::parse(bytes) else {
        return false;
    };
    let endian = if header.big_endian { Endian::Big } else { Endian::Little };
    endian
        .i32(bytes, INTENT_CODE_AT)
        .is_some_and(|code| (3000..3100).contains(&code))
}

/// The matrix shape `[dim[5], dim[6]]` of a 2-D CIFTI header (`dim[1..=4]` all 1).
fn matrix_shape(header: &Header) -> Result<[usize; 2], LoadError> {
    let dim = header.dim;
    if dim[0] == 7 {
        return Err(LoadError::bad_header(
            "dim[0] = 7: three-dimensional CIFTI matrices are not read",
        ));
    }
    if dim[0] != 6 || dim[1..5] != [1, 1, 1, 1] {
        return Err(LoadError::bad_header(format!(
            "CIFTI-2 needs dim[0] = 6 and dim[1..=4] = 1, the header has dim = {:?}",
            &dim[..8]
        )));
    }
    let mut shape = [0usize; 2];
    for (slot, (i, &d)) in shape.iter_mut().zip(dim.iter().enumerate().skip(5)) {
        if d <= 0 {
            return Err(LoadError::bad_header(format!("dim[{i}] = {d}: the matrix is empty")));
        }
        *slot = usize::try_from(d).map_err(|_| LoadError::too_large(format!("dim[{i}] = {d}")))?;
    }
    let bytes = (shape[0] as u64)
        .checked_mul(shape[1] as u64)
        .and_then(|n| n.checked_mul(4));
    if !bytes.is_some_and(|b| b <= MEMORY_BUDGET && usize::try_from(b).is_ok()) {
        return Err(LoadError::too_large(format!(
            "header claims a {}×{} matrix, more than the memory budget of {} GiB allows as f32",
            shape[0],
            shape[1],
            MEMORY_BUDGET >> 30
        )));
    }
    Ok(shape)
}

/// Reads the extensions between the header and `offset`; returns the CIFTI extension's XML.
fn read_cifti_xml(input: &mut Input, header: &Header, offset: u64) -> Result<Vec<u8>, LoadError> {
    let endian = if header.big_endian { Endian::Big } else { Endian::Little };
    let missing =
        || LoadError::cifti("the file has a CIFTI intent code but no CIFTI extension (code 32) holding the XML");
    let mut at = nifti2::HEADER_LEN as u64;
    if offset < at + 4 {
        return Err(missing());
    }
    let extender = input.read_header(4, "NIfTI extension flag")?;
    at += 4;
    if extender[0] == 0 {
        return Err(missing());
    }
    let mut xml = None;
    while at + 8 <= offset {
        let head = input.read_header(8, "NIfTI extension header")?;
        let esize = endian.i32(&head, 0).unwrap_or(0);
        let ecode = endian.i32(&head, 4).unwrap_or(0);
        if esize < 8 || at + esize as u64 > offset {
            return Err(LoadError::bad_header(format!(
                "the extension at byte {at} claims {esize} bytes, but the extensions end at vox_offset = {offset}"
            )));
        }
        let body = esize as u64 - 8;
        if ecode == ECODE_CIFTI && xml.is_none() {
            check_available(input, body, "CIFTI XML")?;
            if body > input.max_remaining() || body > MEMORY_BUDGET {
                return Err(LoadError::truncated(format!(
                    "the CIFTI extension claims {body} bytes, more than the file holds"
                )));
            }
            let mut bytes = input.read_header(body as usize, "CIFTI extension")?;
            while bytes.last() == Some(&0) {
                bytes.pop();
            }
            xml = Some(bytes);
        } else if input.skip(body)? < body {
            return Err(LoadError::truncated(format!("the extension at byte {at} is cut short")));
        }
        at += esize as u64;
    }
    let xml = xml.ok_or_else(missing)?;
    if input.skip(offset - at)? < offset - at {
        return Err(LoadError::truncated(format!(
            "vox_offset = {offset} but the {} ends before it",
            input.data_noun()
        )));
    }
    Ok(xml)
}

/// Loads a CIFTI-2 file from the start of `input`.
pub(crate) fn load(input: &mut Input, name: &str, progress: &mut Progress) -> Result<CiftiFile, LoadError> {
    let bytes = input.read_header(nifti2::HEADER_LEN, "NIfTI-2 header")?;
    let header = parse_header(&bytes, 2)?;
    let intent_code = {
        let endian = if header.big_endian { Endian::Big } else { Endian::Little };
        endian.i32(&bytes, INTENT_CODE_AT).unwrap_or(0)
    };
    let shape = matrix_shape(&header)?;
    let dtype = header.dtype()?;
    let scaling = header.scaling()?;
    let offset = header.data_offset(true)?;
    let count = shape[0] * shape[1];
    let matrix_bytes = count as u64 * dtype.size() as u64;
    input.expect(offset.saturating_add(matrix_bytes));
    if let Some(left) = input.exact_remaining()
        && left < (offset - nifti2::HEADER_LEN as u64).saturating_add(matrix_bytes)
    {
        return Err(LoadError::truncated(format!(
            "header claims a {}×{} matrix of {matrix_bytes} bytes at offset {offset}, the {} has {}",
            shape[0],
            shape[1],
            input.data_noun(),
            input.raw_len()
        )));
    }
    progress.range(0.0, 0.1);
    let xml = read_cifti_xml(input, &header, offset)?;
    let maps = xml::parse(&xml)?;
    check::check(&maps, shape)?;
    progress.range(0.1, 1.0);
    let layout = Layout {
        count,
        dtype,
        big_endian: header.big_endian,
        scaling,
    };
    let data = read_voxels(input, layout, progress)?;
    Ok(CiftiFile {
        name: name.to_owned(),
        intent_code,
        shape,
        datatype: dtype.numpy_name().to_owned(),
        maps,
        data,
    })
}

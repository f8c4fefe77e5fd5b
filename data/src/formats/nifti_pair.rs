//! NIfTI pairs: the header in `.hdr` (or `.hdr.gz`), the voxels in `.img` (or `.img.gz`).

use std::io;
use std::path::{Path, PathBuf};

use super::input::Input;
use super::nifti::{header_len, parse_header, read_volume, sniff_version};
use super::nifti2;
use super::progress::Progress;
use crate::error::LoadError;
use crate::volume::Volume;

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// The `.hdr` and `.img` of the pair that `path` (either of them, gzipped or not) belongs to.
pub(crate) fn pair_paths(path: &Path) -> Result<(PathBuf, PathBuf), LoadError> {
    let name = file_name(path);
    let stem = match name.len().checked_sub(3) {
        Some(i) if name.get(i..).is_some_and(|s| s.eq_ignore_ascii_case(".gz")) => &name[..i],
        _ => name.as_str(),
    };
    let split = stem.len().checked_sub(4).filter(|&i| stem.is_char_boundary(i));
    let (base, ext) = match split {
        Some(i) => (&stem[..i], &stem[i..]),
        None => (stem, ""),
    };
    let upper = ext.chars().any(|c| c.is_ascii_uppercase());
    let is_hdr = ext.eq_ignore_ascii_case(".hdr");
    if !is_hdr && !ext.eq_ignore_ascii_case(".img") {
        return Err(LoadError::unknown("a NIfTI pair needs a .hdr or .img file"));
    }
    let partner_ext = match (is_hdr, upper) {
        (true, false) => ".img",
        (true, true) => ".IMG",
        (false, false) => ".hdr",
        (false, true) => ".HDR",
    };
    let dir = path.parent().unwrap_or(Path::new(""));
    let candidates = [
        dir.join(format!("{base}{partner_ext}")),
        dir.join(format!("{base}{partner_ext}.gz")),
        dir.join(format!("{base}{partner_ext}.GZ")),
    ];
    let partner = candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        LoadError::io(io::Error::new(
            io::ErrorKind::NotFound,
            format!("the other file of the pair ({base}{partner_ext} or {base}{partner_ext}.gz) does not exist"),
        ))
    })?;
    Ok(if is_hdr {
        (path.to_path_buf(), partner)
    } else {
        (partner, path.to_path_buf())
    })
}

/// Loads the pair that `path` belongs to; the volume is named `name`.
pub(crate) fn load(path: &Path, name: &str, progress: &mut Progress) -> Result<Volume, LoadError> {
    let (hdr_path, img_path) = pair_paths(path)?;
    let hdr_name = file_name(&hdr_path);
    let img_name = file_name(&img_path);
    let header = (|| {
        let mut input = Input::open(&hdr_path)?;
        let head = input.peek(nifti2::HEADER_LEN)?;
        let version = sniff_version(head).ok_or_else(|| {
            if head.is_empty() {
                LoadError::truncated("the file is empty")
            } else {
                LoadError::bad_magic(
                    "NIfTI header",
                    "neither sizeof_hdr (348 or 540) nor the magic string match",
                )
            }
        })?;
        let bytes = input.read_header(header_len(version), &format!("NIfTI-{version} header"))?;
        let header = parse_header(&bytes, version)?;
        let offset = header.data_offset(false)?;
        header.shape()?;
        header.dtype()?;
        Ok::<_, LoadError>((header, offset))
    })()
    .map_err(|e| e.in_file(&hdr_name))?;
    let (header, offset) = header;
    (|| {
        let mut img = Input::open(&img_path)?;
        let data_bytes = header.shape()?.count() as u64 * header.dtype()?.size() as u64;
        img.expect(offset.saturating_add(data_bytes));
        if let Some(left) = img.exact_remaining()
            && left < offset
        {
            return Err(LoadError::truncated(format!(
                "vox_offset = {offset} but the file has {left} bytes"
            )));
        }
        if img.skip(offset)? < offset {
            return Err(LoadError::truncated(format!(
                "vox_offset = {offset} but the decompressed data ends at {}",
                img.position()
            )));
        }
        read_volume(&header, name, &mut img, progress)
    })()
    .map_err(|e| e.in_file(&img_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_partner_either_way() {
        let dir = std::env::temp_dir().join(format!("cortexlens-pair-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.hdr"), b"").unwrap();
        std::fs::write(dir.join("a.img.gz"), b"").unwrap();
        let (h, i) = pair_paths(&dir.join("a.hdr")).unwrap();
        assert_eq!((h, i), (dir.join("a.hdr"), dir.join("a.img.gz")));
        let (h, _) = pair_paths(&dir.join("a.img.gz")).unwrap();
        assert_eq!(h, dir.join("a.hdr"));
        assert!(matches!(pair_paths(&dir.join("b.hdr")), Err(LoadError::Io { .. })));
        assert!(pair_paths(&dir.join("c.nii")).is_err());
    }
}

//! Names of integer labels (an atlas's or a segmentation's): a BIDS `dseg.tsv` (tab-separated, a
//! header with `index` and `name` columns), a FreeSurfer colour table (`17  Left-Hippocampus  220
//! 216 20 0`) or an ITK-SNAP label description (`17 220 216 20 1 1 1 "Left-Hippocampus"`).
//! Written by hand: no crate reads these small text formats.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::LoadError;

/// The largest label table read (FreeSurfer's full colour table is about 1 MB).
const MAX_BYTES: u64 = 16 << 20;

/// Label number → name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelNames {
    names: BTreeMap<i64, String>,
}

impl FromIterator<(i64, String)> for LabelNames {
    /// A table from (label, name) pairs, such as a CIFTI or GIFTI label table's.
    fn from_iter<I: IntoIterator<Item = (i64, String)>>(pairs: I) -> Self {
        LabelNames {
            names: pairs.into_iter().collect(),
        }
    }
}

impl LabelNames {
    /// The name of the label a voxel value stands for (values within 0.001 of an integer).
    pub fn name(&self, value: f32) -> Option<&str> {
        self.get(label_number(value)?)
    }

    /// The name of label `label`.
    pub fn get(&self, label: i64) -> Option<&str> {
        self.names.get(&label).map(String::as_str)
    }

    /// The labels and their names, by label number.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &str)> {
        self.names.iter().map(|(&label, name)| (label, name.as_str()))
    }

    /// How many labels are named.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no label is named.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Parse a table in any of the formats of the module docs.
    pub fn parse(text: &str) -> Result<LabelNames, LoadError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(n, line)| (n + 1, line.trim_end_matches('\r')))
            .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'));
        let Some((first_no, first)) = lines.next() else {
            return Err(LoadError::bad_header("no labels in the table"));
        };
        let mut names = BTreeMap::new();
        if let Some((index_col, name_col)) = tsv_columns(first) {
            for (n, line) in lines {
                let cells: Vec<&str> = line.split('\t').collect();
                let index = cells.get(index_col).map(|c| c.trim());
                let name = cells.get(name_col).map(|c| c.trim()).unwrap_or("");
                let index = index
                    .and_then(|i| i.parse::<i64>().ok())
                    .ok_or_else(|| LoadError::bad_header(format!("line {n}: no label number in column `index`")))?;
                if !name.is_empty() {
                    names.insert(index, name.to_owned());
                }
            }
        } else {
            for (n, line) in std::iter::once((first_no, first)).chain(lines) {
                let mut tokens = line.split_whitespace();
                let index = tokens
                    .next()
                    .and_then(|t| t.parse::<i64>().ok())
                    .ok_or_else(|| LoadError::bad_header(format!("line {n}: expected a label number first")))?;
                let name = match (line.find('"'), line.rfind('"')) {
                    (Some(open), Some(close)) if close > open => &line[open + 1..close],
                    _ => tokens
                        .next()
                        .ok_or_else(|| LoadError::bad_header(format!("line {n}: label {index} has no name")))?,
                };
                names.insert(index, name.to_owned());
            }
        }
        if names.is_empty() {
            return Err(LoadError::bad_header("no labels in the table"));
        }
        Ok(LabelNames { names })
    }
}

/// The integer label a voxel value stands for: the nearest integer, for finite values within
/// 0.001 of one.
pub fn label_number(value: f32) -> Option<i64> {
    let label = value.round();
    (value.is_finite() && (value - label).abs() <= 1e-3).then_some(label as i64)
}

/// The `index` and `name` columns of a BIDS header line, if it is one.
fn tsv_columns(header: &str) -> Option<(usize, usize)> {
    if !header.contains('\t') {
        return None;
    }
    let columns: Vec<String> = header.split('\t').map(|c| c.trim().to_ascii_lowercase()).collect();
    let find = |name: &str| columns.iter().position(|c| c == name);
    Some((find("index")?, find("name")?))
}

/// Read a label table (see the module docs).
pub fn load_label_names(path: &Path) -> Result<LabelNames, LoadError> {
    let name = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let read = || {
        let size = std::fs::metadata(path).map_err(LoadError::io)?.len();
        if size > MAX_BYTES {
            return Err(LoadError::too_large(format!("{size} bytes for a label table")));
        }
        let bytes = std::fs::read(path).map_err(LoadError::io)?;
        LabelNames::parse(&String::from_utf8_lossy(&bytes))
    };
    read().map_err(|e| e.in_file(&name))
}

/// The label names of a segmentation volume's BIDS sidecar (`NAME.tsv` beside `NAME.nii[.gz]`): none without
/// one, else the table or why it could not be read.
pub fn sidecar_label_names(volume: &Path) -> Option<Result<LabelNames, LoadError>> {
    label_sidecar(volume).map(|sidecar| load_label_names(&sidecar))
}

/// The BIDS sidecar of a segmentation volume: `NAME.tsv` beside `NAME.nii.gz` (or `.nii`, `.mgz`,
/// `.mgh`, `.hdr`, `.img`), when its first line is a header with `index` and `name` columns.
fn label_sidecar(volume: &Path) -> Option<PathBuf> {
    let file = volume.file_name()?.to_str()?;
    let stem = [".nii.gz", ".nii", ".mgz", ".mgh", ".hdr", ".img.gz", ".img"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))?;
    let sidecar = volume.with_file_name(format!("{stem}.tsv"));
    // Only the header is needed: read at most 4 KiB of what may be any large table.
    let mut head = Vec::new();
    std::fs::File::open(&sidecar)
        .ok()?
        .take(4096)
        .read_to_end(&mut head)
        .ok()?;
    let first = String::from_utf8_lossy(&head).lines().next().map(str::to_owned)?;
    tsv_columns(&first).map(|_| sidecar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bids_freesurfer_and_itk_snap_tables() {
        let bids = "index\tname\tabbreviation\n0\tBackground\tBG\n17\tLeft-Hippocampus\tLHip\n";
        let t = LabelNames::parse(bids).unwrap();
        assert_eq!(
            (t.len(), t.name(17.0), t.name(0.0)),
            (2, Some("Left-Hippocampus"), Some("Background"))
        );
        let unnamed = LabelNames::parse("index\tname\n4\t\n5\tWM\n").unwrap();
        assert_eq!(
            (unnamed.len(), unnamed.name(4.0)),
            (1, None),
            "an empty name names nothing"
        );
        let reordered = "name\tindex\r\nCortex\t3\r\n";
        assert_eq!(LabelNames::parse(reordered).unwrap().name(3.0), Some("Cortex"));

        let freesurfer = "#$Id: FreeSurferColorLUT.txt\n\n0   Unknown  0 0 0 0\n17  Left-Hippocampus  220 216 20 0\n";
        let t = LabelNames::parse(freesurfer).unwrap();
        assert_eq!(t.name(17.0), Some("Left-Hippocampus"));
        assert_eq!(t.name(16.9999), Some("Left-Hippocampus"), "float voxel values round");
        assert_eq!(t.name(16.5), None, "not an integer label");
        assert_eq!(t.name(f32::NAN), None);
        assert_eq!(t.name(5.0), None);

        let itk = "# ITK-SnAP Label Description File\n    0     0    0    0        0  0  0    \"Clear Label\"\n    1   255    0    0        1  1  1    \"Left hippocampus\"\n";
        let t = LabelNames::parse(itk).unwrap();
        assert_eq!(t.name(1.0), Some("Left hippocampus"));
    }

    #[test]
    fn bad_tables_are_errors_that_say_where() {
        let err = LabelNames::parse("17 Left\nhello world\n").unwrap_err();
        assert!(err.to_string().contains("line 2: expected a label number"), "{err}");
        let err = LabelNames::parse("17\n").unwrap_err();
        assert!(err.to_string().contains("label 17 has no name"), "{err}");
        let err = LabelNames::parse("index\tname\nx\tA\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(LabelNames::parse("# only a comment\n\n").is_err());
        assert!(LabelNames::parse("index\tname\n").is_err(), "a header without rows");
    }

    #[test]
    fn files_and_sidecars() {
        let dir = std::env::temp_dir().join(format!("cortexlens-labels-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let volume = dir.join("sub-01_dseg.nii.gz");
        assert_eq!(label_sidecar(&volume), None, "no sidecar");
        std::fs::write(dir.join("sub-01_dseg.tsv"), "index\tname\n1\tGM\n").unwrap();
        assert_eq!(label_sidecar(&volume), Some(dir.join("sub-01_dseg.tsv")));
        let names = load_label_names(&dir.join("sub-01_dseg.tsv")).unwrap();
        assert_eq!(names.name(1.0), Some("GM"));
        // A TSV that is not a label table (e.g. responses) is no sidecar.
        std::fs::write(dir.join("responses.tsv"), "1.0\t2.0\n").unwrap();
        assert_eq!(label_sidecar(&dir.join("responses.nii")), None);
        std::fs::write(dir.join("bad.txt"), "x y\n").unwrap();
        let err = load_label_names(&dir.join("bad.txt")).unwrap_err();
        assert!(err.to_string().contains("bad.txt"), "errors name the file: {err}");
        assert!(load_label_names(&dir.join("missing.txt")).is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}

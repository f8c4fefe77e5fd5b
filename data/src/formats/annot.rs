//! FreeSurfer `.annot` parcellations: per-vertex packed colours plus a colour table.
//!
//! Keys follow nibabel's `read_annot` (with `orig_ids=False`): each vertex's key is the index of
//! its colour-table entry, and `-1` marks vertices with no label (stored value 0 or a colour that
//! is not in the table). The labels are the table entries, keyed by that index.

use super::bytes::Cursor;
use crate::error::LoadError;
use crate::surface::{ArrayData, DataArray, Label, SurfaceFile};

/// One colour-table entry: index, name, and colour as stored (`t` is 255 − alpha).
struct Entry {
    index: i32,
    name: String,
    rgbt: [i32; 4],
}

impl Entry {
    /// The value vertices store for this entry: `r + g·2⁸ + b·2¹⁶`.
    fn packed(&self) -> i64 {
        let [r, g, b, _] = self.rgbt.map(i64::from);
        r + (g << 8) + (b << 16)
    }

    fn label(&self) -> Label {
        let c = |v: i32| (v.clamp(0, 255) as f32) / 255.0;
        let [r, g, b, t] = self.rgbt;
        Label {
            key: self.index,
            name: self.name.clone(),
            rgba: [c(r), c(g), c(b), c(255 - t)],
        }
    }
}

fn string(c: &mut Cursor, what: &str) -> Result<String, LoadError> {
    let len = c.i32(what)?;
    let len = usize::try_from(len).map_err(|_| LoadError::freesurfer(format!("{what}: negative length {len}")))?;
    let raw = c.take(len, what)?;
    Ok(String::from_utf8_lossy(raw).trim_end_matches('\0').to_owned())
}

fn entry_count(v: i32, what: &str, remaining: usize) -> Result<usize, LoadError> {
    // Every entry takes at least 20 bytes, which bounds any honest count by the file size.
    match usize::try_from(v) {
        Ok(n) if n <= remaining / 20 => Ok(n),
        _ => Err(LoadError::freesurfer(format!(
            "{what} = {v} does not fit in the {remaining} bytes that follow"
        ))),
    }
}

fn read_ctab(c: &mut Cursor) -> Result<Vec<Entry>, LoadError> {
    let n = c.i32("colour table size")?;
    let mut entries = Vec::new();
    if n > 0 {
        // Old format: n entries, indexed in order.
        let n = entry_count(n, "colour table size", c.remaining())?;
        string(c, "colour table file name")?;
        for index in 0..n {
            let name = string(c, "label name")?;
            let rgbt = [c.i32("red")?, c.i32("green")?, c.i32("blue")?, c.i32("transparency")?];
            entries.push(Entry {
                index: index as i32,
                name,
                rgbt,
            });
        }
    } else {
        let version = -i64::from(n);
        if version != 2 {
            return Err(LoadError::freesurfer(format!("unknown colour table version {version}")));
        }
        let _max_index = c.i32("colour table max index")?;
        string(c, "colour table file name")?;
        let n = c.i32("colour table entries")?;
        let n = entry_count(n, "colour table entries", c.remaining())?;
        for _ in 0..n {
            let index = c.i32("label index")?;
            let name = string(c, "label name")?;
            let rgbt = [c.i32("red")?, c.i32("green")?, c.i32("blue")?, c.i32("transparency")?];
            entries.push(Entry { index, name, rgbt });
        }
    }
    Ok(entries)
}

/// Reads an `.annot` into one LABEL int32 `[n]` array of keys and the colour table as labels.
pub(crate) fn read_annot(bytes: &[u8], name: &str) -> Result<SurfaceFile, LoadError> {
    let mut c = Cursor::new(bytes);
    let nv = c.i32("vertex count")?;
    let nv = usize::try_from(nv).map_err(|_| LoadError::freesurfer(format!("vertex count is negative ({nv})")))?;
    let pairs = c.many::<8, i32>(nv, "vertex labels", |b| i32::from_be_bytes([b[4], b[5], b[6], b[7]]))?;
    let has_ctab = c.i32("colour table flag")?;
    if has_ctab == 0 {
        return Err(LoadError::freesurfer("no colour table in the annotation"));
    }
    let entries = read_ctab(&mut c)?;
    let mut by_value: Vec<(i64, i32)> = entries.iter().map(|e| (e.packed(), e.index)).collect();
    by_value.sort_unstable();
    let keys = pairs
        .iter()
        .map(|&v| {
            if v == 0 {
                return -1;
            }
            match by_value.binary_search_by_key(&i64::from(v), |&(p, _)| p) {
                Ok(i) => by_value[i].1,
                Err(_) => -1,
            }
        })
        .collect();
    Ok(SurfaceFile {
        name: name.to_owned(),
        arrays: vec![DataArray {
            intent: "NIFTI_INTENT_LABEL".into(),
            dims: vec![nv],
            data: ArrayData::I32(keys),
            ..DataArray::default()
        }],
        labels: entries.iter().map(Entry::label).collect(),
        meta: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_str(b: &mut Vec<u8>, s: &str) {
        b.extend_from_slice(&(s.len() as i32 + 1).to_be_bytes());
        b.extend_from_slice(s.as_bytes());
        b.push(0);
    }

    fn annot(values: &[i32], new_format: bool) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&(values.len() as i32).to_be_bytes());
        for (i, v) in values.iter().enumerate() {
            b.extend_from_slice(&(i as i32).to_be_bytes());
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend_from_slice(&1i32.to_be_bytes());
        let table = [("a", [10, 0, 0, 0]), ("b", [0, 1, 0, 255])];
        if new_format {
            b.extend_from_slice(&(-2i32).to_be_bytes());
            b.extend_from_slice(&2i32.to_be_bytes());
            put_str(&mut b, "ctab.txt");
            b.extend_from_slice(&2i32.to_be_bytes());
        } else {
            b.extend_from_slice(&2i32.to_be_bytes());
            put_str(&mut b, "ctab.txt");
        }
        for (i, (name, rgbt)) in table.iter().enumerate() {
            if new_format {
                b.extend_from_slice(&(i as i32).to_be_bytes());
            }
            put_str(&mut b, name);
            rgbt.iter().for_each(|v: &i32| b.extend_from_slice(&v.to_be_bytes()));
        }
        b
    }

    #[test]
    fn keys_are_table_indices() {
        for new_format in [true, false] {
            let s = read_annot(&annot(&[10, 256, 0, 77], new_format), "x").unwrap();
            assert_eq!(s.arrays[0].data, ArrayData::I32(vec![0, 1, -1, -1]));
            assert_eq!(s.labels.len(), 2);
            assert_eq!(s.labels[0].name, "a");
            assert_eq!(s.labels[0].rgba, [10.0 / 255.0, 0.0, 0.0, 1.0]);
            assert_eq!(s.labels[1].key, 1);
            assert_eq!(s.labels[1].rgba[3], 0.0);
        }
    }

    #[test]
    fn malformed() {
        let b = annot(&[10, 256], true);
        assert!(matches!(read_annot(&b[..12], "x"), Err(LoadError::Truncated { .. })));
        let mut huge = b.clone();
        huge[..4].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(matches!(read_annot(&huge, "x"), Err(LoadError::Truncated { .. })));
        let mut no_table = b[..4 + 16].to_vec();
        no_table.extend_from_slice(&0i32.to_be_bytes());
        assert!(matches!(read_annot(&no_table, "x"), Err(LoadError::FreeSurfer { .. })));
    }
}

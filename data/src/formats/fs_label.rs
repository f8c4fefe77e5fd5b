//! FreeSurfer `.label` files (`lh.V1.label`, `lh.BA44.label`): the region-of-interest format of
//! FreeSurfer, read by Freeview, FSLeyes and nibabel's `read_label`.
//!
//! ```text
//! #!ascii label  , from subject fsaverage vox2ras=TkReg
//! 3
//! 12  -37.5  -20.1  50.2  0.0000000000
//! 13  -38.0  -21.0  49.8  0.0000000000
//! 99  -36.2  -19.4  51.0  0.0000000000
//! ```
//!
//! A comment line, the number of rows, then one row per point: vertex number (0-based; −1 for a
//! point of a volume label), x, y, z (mm, usually tkregister RAS of the white surface) and a value.
//!
//! A header count that disagrees with the rows that follow is an error
//! ([`LoadError::Label`] at line 2). nibabel's `read_label` ignores the count and returns the rows
//! that are there, but FreeSurfer's own readers (`LabelRead`, `read_label.m`) read exactly the
//! counted rows and fail on a short file; the count is the format's only integrity check, and a
//! label is a region that captions and statistics are computed over, so a file that disagrees with
//! itself is refused rather than silently shrunk or grown.

use crate::error::LoadError;

/// A FreeSurfer label: rows of vertex number, position and value, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FreeSurferLabel {
    /// Display name (the file name).
    pub name: String,
    /// The first line, without its leading `#` (e.g. `!ascii label  , from subject fsaverage vox2ras=TkReg`).
    pub comment: String,
    /// Vertex number of each row (0-based; −1 for the points of a volume label).
    pub vertices: Vec<i64>,
    /// Position of each row, mm, as written (FreeSurfer writes tkregister RAS).
    pub coords: Vec<[f64; 3]>,
    /// The value of each row (a statistic, or 0).
    pub values: Vec<f64>,
}

impl FreeSurferLabel {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.vertices.len()
    }

    /// Whether the label has no rows.
    pub fn is_empty(&self) -> bool {
        self.vertices.is_empty()
    }

    /// Whether some row is a volume point (vertex −1) rather than a surface vertex.
    pub fn has_volume_points(&self) -> bool {
        self.vertices.iter().any(|&v| v < 0)
    }

    /// The smallest and largest vertex numbers, `None` without rows.
    pub fn vertex_range(&self) -> Option<(i64, i64)> {
        let lo = *self.vertices.iter().min()?;
        let hi = *self.vertices.iter().max()?;
        Some((lo, hi))
    }
}

/// Whether `head` (a file's first bytes) starts like a FreeSurfer label.
pub(crate) fn sniff(head: &[u8]) -> bool {
    head.starts_with(b"#!ascii label")
}

fn error(line: usize, detail: impl Into<String>) -> LoadError {
    LoadError::Label {
        file: String::new(),
        line,
        detail: detail.into(),
    }
}

/// Reads a label from the file's bytes. Memory grows with the rows actually present, never with
/// the count the header claims.
pub(crate) fn read_label(bytes: &[u8], name: &str) -> Result<FreeSurferLabel, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        error(line, "not text (invalid UTF-8)")
    })?;
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let Some((_, first)) = lines.next() else {
        return Err(LoadError::truncated("the file is empty"));
    };
    let comment = first
        .trim_end()
        .strip_prefix('#')
        .unwrap_or(first.trim_end())
        .to_owned();
    let Some((_, count_line)) = lines.next() else {
        return Err(error(2, "the file ends before the line with the number of rows"));
    };
    let count: u64 = count_line
        .trim()
        .parse()
        .map_err(|_| error(2, format!("{:?} is not a number of rows", count_line.trim())))?;
    let mut label = FreeSurferLabel {
        name: name.to_owned(),
        comment,
        ..FreeSurferLabel::default()
    };
    for (number, line) in lines {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        let [vertex, x, y, z, value] = fields.as_slice() else {
            return Err(error(
                number,
                format!("{} columns, expected 5 (vertex x y z value)", fields.len()),
            ));
        };
        let vertex: i64 = vertex
            .parse()
            .map_err(|_| error(number, format!("vertex number {vertex:?} is not an integer")))?;
        if vertex < -1 {
            return Err(error(
                number,
                format!("vertex number {vertex} (vertices count from 0; −1 marks a volume point)"),
            ));
        }
        let number_at = |text: &str, what: &str| {
            text.parse::<f64>()
                .map_err(|_| error(number, format!("{what} {text:?} is not a number")))
        };
        label.vertices.push(vertex);
        label
            .coords
            .push([number_at(x, "x")?, number_at(y, "y")?, number_at(z, "z")?]);
        label.values.push(number_at(value, "value")?);
    }
    if label.len() as u64 != count {
        return Err(error(
            2,
            format!("the header counts {count} rows but {} follow", label.len()),
        ));
    }
    Ok(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "#!ascii label  , from subject fsaverage vox2ras=TkReg\n3\n12  -37.5  -20.1  50.2  0.5\n\
                      13 -38 -21 49.8 0\n99 -36.2 -19.4 51.0 1e-3\n";

    #[test]
    fn reads_rows() {
        let l = read_label(V1.as_bytes(), "lh.V1.label").unwrap();
        assert_eq!(l.comment, "!ascii label  , from subject fsaverage vox2ras=TkReg");
        assert_eq!(l.vertices, [12, 13, 99]);
        assert_eq!(l.coords[1], [-38.0, -21.0, 49.8]);
        assert_eq!(l.values, [0.5, 0.0, 1e-3]);
        assert_eq!(l.vertex_range(), Some((12, 99)));
        assert!(!l.has_volume_points());
        assert!(sniff(V1.as_bytes()));
        // CRLF line ends, a trailing blank line, a volume point.
        let crlf = "#!ascii label\r\n1\r\n-1 1 2 3 4\r\n\r\n";
        let l = read_label(crlf.as_bytes(), "v.label").unwrap();
        assert_eq!((l.vertices.as_slice(), l.has_volume_points()), ([-1].as_slice(), true));
        let empty = read_label(b"#!ascii label\n0\n", "e.label").unwrap();
        assert!(empty.is_empty() && empty.vertex_range().is_none());
    }

    #[test]
    fn malformed_labels_say_which_line() {
        let line_of = |text: &str| match read_label(text.as_bytes(), "x.label") {
            Err(LoadError::Label { line, detail, .. }) => (line, detail),
            other => panic!("{text:?}: {other:?}"),
        };
        assert_eq!(line_of("#\n2\n1 0 0 0 0\n").0, 2, "fewer rows than counted");
        assert!(line_of("#\n2\n1 0 0 0 0\n").1.contains("counts 2 rows but 1 follow"));
        assert_eq!(line_of("#\n0\n1 0 0 0 0\n").0, 2, "more rows than counted");
        assert_eq!(line_of("#\nmany\n").0, 2);
        assert_eq!(line_of("#\n-3\n").0, 2);
        assert_eq!(line_of("#\n1\n1 0 0 0\n").0, 3);
        assert_eq!(line_of("#\n2\n1 0 0 0 0\n\n1.5 0 0 0 0\n").0, 5);
        assert_eq!(line_of("#\n1\n1 0 zero 0 0\n").0, 3);
        assert_eq!(line_of("#\n1\n-2 0 0 0 0\n").0, 3);
        assert_eq!(line_of("#\n").0, 2);
        assert!(matches!(read_label(b"", "x"), Err(LoadError::Truncated { .. })));
        assert_eq!(
            match read_label(b"#\n1\n\xff 0 0 0 0\n", "x") {
                Err(LoadError::Label { line, .. }) => line,
                other => panic!("{other:?}"),
            },
            3
        );
        // A count far beyond the file allocates nothing for it.
        assert!(matches!(
            read_label(b"#\n18446744073709551615\n", "x"),
            Err(LoadError::Label { line: 2, .. })
        ));
    }
}

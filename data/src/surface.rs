//! Surface files (GIFTI, FreeSurfer) in one form: a list of typed data arrays plus a label table.

/// A surface file as read: data arrays in file order, and the label table if any.
#[derive(Clone, Debug, Default)]
pub struct SurfaceFile {
    /// Display name (the file name).
    pub name: String,
    /// Data arrays in file order.
    pub arrays: Vec<DataArray>,
    /// Label table (GIFTI `LabelTable`, FreeSurfer `.annot` colour table).
    pub labels: Vec<Label>,
    /// The file's metadata as (name, value) pairs in file order (GIFTI's top-level `MetaData`;
    /// empty for FreeSurfer files).
    pub meta: Vec<(String, String)>,
}

impl SurfaceFile {
    /// The first value of a file-level metadata entry.
    pub fn meta_value(&self, name: &str) -> Option<&str> {
        meta_lookup(&self.meta, name)
    }
}

/// One data array: its NIfTI intent, datatype and dimensions as the file states them.
#[derive(Clone, Debug, Default)]
pub struct DataArray {
    /// Intent name, e.g. `NIFTI_INTENT_POINTSET`, `NIFTI_INTENT_TRIANGLE`, `NIFTI_INTENT_SHAPE`.
    pub intent: String,
    /// The file's `Dim0..DimN`, e.g. `[10242, 3]`.
    pub dims: Vec<usize>,
    /// Values in row-major order of `dims` (column-major files are transposed on read).
    pub data: ArrayData,
    /// The array's metadata as (name, value) pairs in file order (GIFTI's per-array `MetaData`,
    /// e.g. `AnatomicalStructurePrimary`, `GeometricType`, `Name`).
    pub meta: Vec<(String, String)>,
}

impl DataArray {
    /// The first value of an array metadata entry.
    pub fn meta_value(&self, name: &str) -> Option<&str> {
        meta_lookup(&self.meta, name)
    }
}

fn meta_lookup<'a>(meta: &'a [(String, String)], name: &str) -> Option<&'a str> {
    meta.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Typed values of a data array.
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayData {
    /// `NIFTI_TYPE_FLOAT32`.
    F32(Vec<f32>),
    /// `NIFTI_TYPE_INT32`.
    I32(Vec<i32>),
    /// `NIFTI_TYPE_UINT8`.
    U8(Vec<u8>),
}

impl Default for ArrayData {
    /// An empty `float32` array.
    fn default() -> Self {
        ArrayData::F32(Vec::new())
    }
}

impl ArrayData {
    /// numpy's name of the datatype (`float32`, `int32`, `uint8`).
    pub fn dtype_name(&self) -> &'static str {
        match self {
            ArrayData::F32(_) => "float32",
            ArrayData::I32(_) => "int32",
            ArrayData::U8(_) => "uint8",
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::I32(v) => v.len(),
            ArrayData::U8(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values widened to `f64`.
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            ArrayData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            ArrayData::I32(v) => v.iter().map(|&x| x as f64).collect(),
            ArrayData::U8(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }
}

/// One entry of a label table.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// The value that data arrays store for this label.
    pub key: i32,
    /// Region name.
    pub name: String,
    /// Colour, components in 0..=1.
    pub rgba: [f32; 4],
}

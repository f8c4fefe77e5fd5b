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
    /// The file's `Dim0..DimN`, e.g. `[10242, 3]`. For a `NIFTI_TYPE_RGB24` or
    /// `NIFTI_TYPE_RGBA32` array a last axis of its 3 or 4 components is appended (`[n]` in the
    /// file is `[n, 3]` of `uint8` here, as `.view(np.uint8)` of nibabel's structured array).
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

/// Typed values of a data array, in the datatype the file stores (GIFTI allows only `uint8`,
/// `int32` and `float32`, but nibabel reads every real NIfTI datatype, and so does cortexlens:
/// pycortex, for one, writes its triangles as `NIFTI_TYPE_UINT32`).
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayData {
    /// `NIFTI_TYPE_FLOAT32`.
    F32(Vec<f32>),
    /// `NIFTI_TYPE_INT32`.
    I32(Vec<i32>),
    /// `NIFTI_TYPE_UINT8`; also the components of `NIFTI_TYPE_RGB24` and `NIFTI_TYPE_RGBA32`
    /// arrays (see [`DataArray::dims`]).
    U8(Vec<u8>),
    /// `NIFTI_TYPE_INT8`.
    I8(Vec<i8>),
    /// `NIFTI_TYPE_INT16`.
    I16(Vec<i16>),
    /// `NIFTI_TYPE_UINT16`.
    U16(Vec<u16>),
    /// `NIFTI_TYPE_UINT32`.
    U32(Vec<u32>),
    /// `NIFTI_TYPE_INT64`.
    I64(Vec<i64>),
    /// `NIFTI_TYPE_UINT64`.
    U64(Vec<u64>),
    /// `NIFTI_TYPE_FLOAT64`.
    F64(Vec<f64>),
}

impl Default for ArrayData {
    /// An empty `float32` array.
    fn default() -> Self {
        ArrayData::F32(Vec::new())
    }
}

/// Runs `$body` with `$v` bound to the values of whichever variant `$data` is.
macro_rules! each_variant {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            ArrayData::F32($v) => $body,
            ArrayData::I32($v) => $body,
            ArrayData::U8($v) => $body,
            ArrayData::I8($v) => $body,
            ArrayData::I16($v) => $body,
            ArrayData::U16($v) => $body,
            ArrayData::U32($v) => $body,
            ArrayData::I64($v) => $body,
            ArrayData::U64($v) => $body,
            ArrayData::F64($v) => $body,
        }
    };
}

impl ArrayData {
    /// numpy's name of the datatype (`float32`, `int32`, `uint8`, `uint32`, …).
    pub fn dtype_name(&self) -> &'static str {
        match self {
            ArrayData::F32(_) => "float32",
            ArrayData::I32(_) => "int32",
            ArrayData::U8(_) => "uint8",
            ArrayData::I8(_) => "int8",
            ArrayData::I16(_) => "int16",
            ArrayData::U16(_) => "uint16",
            ArrayData::U32(_) => "uint32",
            ArrayData::I64(_) => "int64",
            ArrayData::U64(_) => "uint64",
            ArrayData::F64(_) => "float64",
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        each_variant!(self, v => v.len())
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values widened to `f64` (64-bit integers beyond 2⁵³ are rounded).
    pub fn to_f64(&self) -> Vec<f64> {
        // `as` widens every integer type and f32 (and is the identity on f64).
        #[allow(clippy::unnecessary_cast)]
        let values = each_variant!(self, v => v.iter().map(|&x| x as f64).collect());
        values
    }

    /// The values as exact integers (wide enough for every integer datatype), or `None` for a
    /// floating-point array: triangle indices are checked against the vertex count with these.
    pub fn to_i128(&self) -> Option<Vec<i128>> {
        fn widen<T: Copy + Into<i128>>(v: &[T]) -> Option<Vec<i128>> {
            Some(v.iter().map(|&x| x.into()).collect())
        }
        match self {
            ArrayData::F32(_) | ArrayData::F64(_) => None,
            ArrayData::I32(v) => widen(v),
            ArrayData::U8(v) => widen(v),
            ArrayData::I8(v) => widen(v),
            ArrayData::I16(v) => widen(v),
            ArrayData::U16(v) => widen(v),
            ArrayData::U32(v) => widen(v),
            ArrayData::I64(v) => widen(v),
            ArrayData::U64(v) => widen(v),
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

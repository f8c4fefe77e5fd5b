//! Writing GIFTI: a mesh (POINTSET + TRIANGLE) or one per-vertex shape array, base64 or
//! zlib + base64 encoded, little-endian, row-major — readable by cortexlens and nibabel.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// How the arrays' values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiftiEncoding {
    /// `Base64Binary`: base64 of the raw little-endian bytes.
    Base64,
    /// `GZipBase64Binary`: base64 of a zlib stream of the raw bytes (smaller; the default).
    GzipBase64,
}

impl GiftiEncoding {
    fn attribute(self) -> &'static str {
        match self {
            GiftiEncoding::Base64 => "Base64Binary",
            GiftiEncoding::GzipBase64 => "GZipBase64Binary",
        }
    }

    fn encode(self, bytes: &[u8]) -> String {
        match self {
            GiftiEncoding::Base64 => STANDARD.encode(bytes),
            GiftiEncoding::GzipBase64 => {
                let mut z = flate2::write::ZlibEncoder::new(
                    Vec::with_capacity(bytes.len() / 2),
                    flate2::Compression::default(),
                );
                z.write_all(bytes).expect("writing to memory");
                STANDARD.encode(z.finish().expect("writing to memory"))
            }
        }
    }
}

/// One array to write.
pub(crate) struct Array<'a> {
    /// `NIFTI_INTENT_…`.
    pub(crate) intent: &'static str,
    /// `NIFTI_TYPE_FLOAT32` or `NIFTI_TYPE_INT32`.
    pub(crate) datatype: &'static str,
    /// `[n]` or `[n, 3]`.
    pub(crate) dims: &'a [usize],
    /// Little-endian bytes of the values, row-major.
    pub(crate) bytes: Vec<u8>,
    /// Whether to add the identity `CoordinateSystemTransformMatrix` (coordinates).
    pub(crate) coordinates: bool,
}

/// A whole GIFTI document holding `arrays`.
pub(crate) fn document(arrays: &[Array], encoding: GiftiEncoding) -> String {
    let mut xml = String::new();
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str("<!DOCTYPE GIFTI SYSTEM \"http://www.nitrc.org/frs/download.php/115/gifti.dtd\">\n");
    xml.push_str(&format!(
        "<GIFTI Version=\"1.0\" NumberOfDataArrays=\"{}\">\n",
        arrays.len()
    ));
    xml.push_str(&format!(
        "  <MetaData>\n    <MD><Name><![CDATA[generator]]></Name><Value><![CDATA[cortexlens {}]]></Value></MD>\n  </MetaData>\n",
        env!("CARGO_PKG_VERSION")
    ));
    xml.push_str("  <LabelTable/>\n");
    for a in arrays {
        let dims: String = a
            .dims
            .iter()
            .enumerate()
            .map(|(i, d)| format!(" Dim{i}=\"{d}\""))
            .collect();
        xml.push_str(&format!(
            "  <DataArray Intent=\"{}\" DataType=\"{}\" ArrayIndexingOrder=\"RowMajorOrder\" Dimensionality=\"{}\"{dims} Encoding=\"{}\" Endian=\"LittleEndian\" ExternalFileName=\"\" ExternalFileOffset=\"\">\n",
            a.intent,
            a.datatype,
            a.dims.len(),
            encoding.attribute()
        ));
        xml.push_str("    <MetaData/>\n");
        if a.coordinates {
            xml.push_str(concat!(
                "    <CoordinateSystemTransformMatrix>\n",
                "      <DataSpace><![CDATA[NIFTI_XFORM_UNKNOWN]]></DataSpace>\n",
                "      <TransformedSpace><![CDATA[NIFTI_XFORM_UNKNOWN]]></TransformedSpace>\n",
                "      <MatrixData>1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1</MatrixData>\n",
                "    </CoordinateSystemTransformMatrix>\n"
            ));
        }
        xml.push_str("    <Data>");
        xml.push_str(&encoding.encode(&a.bytes));
        xml.push_str("</Data>\n  </DataArray>\n");
    }
    xml.push_str("</GIFTI>\n");
    xml
}

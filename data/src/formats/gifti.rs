//! GIFTI surface files: the XML structure (data arrays, their attributes and metadata, the file's
//! metadata, the label table).
//! Decoding of each array's values lives in [`super::gifti_data`].

use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::gifti_data::{ArraySpec, Encoding, Kind};
use super::progress::Progress;
use crate::error::LoadError;
use crate::surface::{DataArray, Label, SurfaceFile};

fn xml_error(e: impl std::fmt::Display, pos: u64) -> LoadError {
    LoadError::Xml {
        file: String::new(),
        detail: format!("{e} (near byte {pos})"),
    }
}

/// The attributes of an element as (name, unescaped value) pairs.
fn attributes(e: &BytesStart, pos: u64) -> Result<Vec<(String, String)>, LoadError> {
    e.attributes()
        .map(|a| {
            let a = a.map_err(|err| xml_error(err, pos))?;
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let value = a.unescape_value().map_err(|err| xml_error(err, pos))?.into_owned();
            Ok((key, value))
        })
        .collect()
}

fn get<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A `DataArray` being read: its intent and spec from the attributes, its `<Data>` text and
/// its metadata.
struct Pending {
    intent: String,
    spec: ArraySpec,
    text: String,
    meta: Vec<(String, String)>,
}

fn data_array(attrs: &[(String, String)], index: usize) -> Result<Pending, LoadError> {
    let dimensionality = get(attrs, "Dimensionality").unwrap_or("1").trim();
    let nd: usize = dimensionality.parse().map_err(|_| {
        LoadError::gifti(format!(
            "data array {index}: Dimensionality {dimensionality:?} is not a count"
        ))
    })?;
    if nd == 0 || nd > 16 {
        return Err(LoadError::gifti(format!(
            "data array {index}: Dimensionality {nd} (must be 1 to 16)"
        )));
    }
    let dims = (0..nd)
        .map(|i| {
            let key = format!("Dim{i}");
            let v =
                get(attrs, &key).ok_or_else(|| LoadError::gifti(format!("data array {index}: {key} is missing")))?;
            v.trim().parse::<usize>().map_err(|_| {
                LoadError::gifti(format!(
                    "data array {index}: {key} = {v:?} is not a non-negative integer"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let kind = Kind::parse(get(attrs, "DataType").unwrap_or("(missing)"))?;
    let encoding = Encoding::parse(get(attrs, "Encoding").unwrap_or("ASCII"))?;
    let big_endian = match get(attrs, "Endian").map(str::trim) {
        Some("BigEndian" | "GIFTI_ENDIAN_BIG") => true,
        Some("LittleEndian" | "GIFTI_ENDIAN_LITTLE" | "Undef" | "GIFTI_ENDIAN_UNDEF" | "") | None => false,
        Some(other) => {
            return Err(LoadError::gifti(format!(
                "data array {index}: unknown Endian {other:?}"
            )));
        }
    };
    let column_major = match get(attrs, "ArrayIndexingOrder").map(str::trim) {
        Some("ColumnMajorOrder") => true,
        Some("RowMajorOrder" | "") | None => false,
        Some(other) => {
            return Err(LoadError::gifti(format!(
                "data array {index}: unknown ArrayIndexingOrder {other:?}"
            )));
        }
    };
    let offset = get(attrs, "ExternalFileOffset").unwrap_or("").trim();
    let external_offset = if offset.is_empty() {
        0
    } else {
        offset.parse().map_err(|_| {
            LoadError::gifti(format!(
                "data array {index}: ExternalFileOffset {offset:?} is not a byte offset"
            ))
        })?
    };
    let intent = get(attrs, "Intent")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("NIFTI_INTENT_NONE");
    kind.check_intent(intent, index)?;
    Ok(Pending {
        intent: intent.to_owned(),
        spec: ArraySpec {
            index,
            kind,
            dims,
            encoding,
            big_endian,
            column_major,
            external_name: get(attrs, "ExternalFileName").unwrap_or("").to_owned(),
            external_offset,
        },
        text: String::new(),
        meta: Vec::new(),
    })
}

fn label_start(attrs: &[(String, String)]) -> Result<Label, LoadError> {
    let key_text = get(attrs, "Key").or_else(|| get(attrs, "Index")).unwrap_or("0").trim();
    let key = key_text
        .parse::<i32>()
        .map_err(|_| LoadError::gifti(format!("label Key {key_text:?} is not an integer")))?;
    let colour = |name: &str, default: f32| -> Result<f32, LoadError> {
        match get(attrs, name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<f32>()
                .map_err(|_| LoadError::gifti(format!("label {key}: {name} = {v:?} is not a number"))),
        }
    };
    Ok(Label {
        key,
        name: String::new(),
        rgba: [
            colour("Red", 0.0)?,
            colour("Green", 0.0)?,
            colour("Blue", 0.0)?,
            colour("Alpha", 1.0)?,
        ],
    })
}

/// Where text goes while it is being read.
enum Sink {
    None,
    Data,
    Label,
    MetaName,
    MetaValue,
}

/// The elements whose text is being collected.
#[derive(Default)]
struct Open {
    pending: Option<Pending>,
    label: Option<Label>,
    /// An `<MD>` entry: its `<Name>` and `<Value>`.
    md: Option<(String, String)>,
}

impl Open {
    fn text(&mut self, sink: &Sink) -> Option<&mut String> {
        match sink {
            Sink::Data => self.pending.as_mut().map(|p| &mut p.text),
            Sink::Label => self.label.as_mut().map(|l| &mut l.name),
            Sink::MetaName => self.md.as_mut().map(|(n, _)| n),
            Sink::MetaValue => self.md.as_mut().map(|(_, v)| v),
            Sink::None => None,
        }
    }
}

/// Parses a GIFTI document held in `xml`; `path` locates external data files.
pub(crate) fn parse(xml: &[u8], path: &Path, name: &str, progress: &mut Progress) -> Result<SurfaceFile, LoadError> {
    let mut reader = Reader::from_reader(xml);
    let mut surface = SurfaceFile {
        name: name.to_owned(),
        ..SurfaceFile::default()
    };
    let mut open = Open::default();
    let mut sink = Sink::None;
    let mut seen_root = false;
    let mut closed_root = false;
    let mut depth = 0usize;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| xml_error(e, reader.error_position()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let tag = e.local_name();
                let tag = tag.as_ref();
                if !seen_root {
                    if tag != b"GIFTI" {
                        return Err(LoadError::bad_magic(
                            "GIFTI",
                            format!(
                                "the root element is <{}>, expected <GIFTI>",
                                String::from_utf8_lossy(tag)
                            ),
                        ));
                    }
                    seen_root = true;
                }
                if !empty {
                    depth += 1;
                }
                match tag {
                    b"DataArray" => {
                        let attrs = attributes(e, pos)?;
                        let p = data_array(&attrs, surface.arrays.len())?;
                        if empty {
                            surface.arrays.push(finish(p, path)?);
                        } else {
                            open.pending = Some(p);
                        }
                    }
                    b"Data" if open.pending.is_some() && !empty => sink = Sink::Data,
                    b"Label" => {
                        let l = label_start(&attributes(e, pos)?)?;
                        if empty {
                            surface.labels.push(l);
                        } else {
                            open.label = Some(l);
                            sink = Sink::Label;
                        }
                    }
                    b"MD" if !empty => open.md = Some(Default::default()),
                    b"Name" if open.md.is_some() && !empty => sink = Sink::MetaName,
                    b"Value" if open.md.is_some() && !empty => sink = Sink::MetaValue,
                    _ => {}
                }
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                match e.local_name().as_ref() {
                    b"Data" | b"Name" | b"Value" => sink = Sink::None,
                    b"Label" => {
                        sink = Sink::None;
                        if let Some(mut l) = open.label.take() {
                            l.name = l.name.trim().to_owned();
                            surface.labels.push(l);
                        }
                    }
                    b"MD" => {
                        sink = Sink::None;
                        if let Some((name, value)) = open.md.take() {
                            let entry = (name.trim().to_owned(), value.trim().to_owned());
                            match open.pending.as_mut() {
                                Some(p) => p.meta.push(entry),
                                None => surface.meta.push(entry),
                            }
                        }
                    }
                    b"DataArray" => {
                        if let Some(p) = open.pending.take() {
                            surface.arrays.push(finish(p, path)?);
                            progress.set(reader.buffer_position() as f64 / xml.len().max(1) as f64);
                        }
                    }
                    b"GIFTI" if depth == 0 => closed_root = true,
                    _ => {}
                }
            }
            Event::Text(ref t) => {
                if let Some(target) = open.text(&sink) {
                    target.push_str(&t.decode().map_err(|e| xml_error(e, pos))?);
                }
            }
            Event::CData(ref t) => {
                if let Some(target) = open.text(&sink) {
                    target.push_str(&t.decode().map_err(|e| xml_error(e, pos))?);
                }
            }
            Event::GeneralRef(ref r) => {
                if let Some(target) = open.text(&sink) {
                    let c = match r.resolve_char_ref().map_err(|e| xml_error(e, pos))? {
                        Some(c) => c,
                        None => match r.decode().map_err(|e| xml_error(e, pos))?.as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => {
                                return Err(xml_error(format!("unknown entity &{other};"), pos));
                            }
                        },
                    };
                    target.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(if xml.iter().all(u8::is_ascii_whitespace) {
            LoadError::truncated("the file is empty")
        } else {
            LoadError::bad_magic("GIFTI", "no XML element found")
        });
    }
    if !closed_root {
        return Err(LoadError::truncated("the XML ends before </GIFTI>"));
    }
    Ok(surface)
}

fn finish(p: Pending, path: &Path) -> Result<DataArray, LoadError> {
    let data = p.spec.decode(&p.text, path)?;
    Ok(DataArray {
        intent: p.intent,
        dims: p.spec.value_dims(),
        data,
        meta: p.meta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface::ArrayData;

    fn parse_str(xml: &str) -> Result<SurfaceFile, LoadError> {
        let mut cb = |_: f32| {};
        parse(xml.as_bytes(), Path::new("t.gii"), "t.gii", &mut Progress::new(&mut cb))
    }

    const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE GIFTI SYSTEM "http://www.nitrc.org/frs/download.php/115/gifti.dtd">
<GIFTI Version="1.0" NumberOfDataArrays="2">
  <MetaData><MD><Name><![CDATA[x]]></Name><Value><![CDATA[1 2 3]]></Value></MD></MetaData>
  <LabelTable>
    <Label Key="0" Red="0" Green="0" Blue="0" Alpha="0"><![CDATA[unknown]]></Label>
    <Label Key="7" Red="1" Green="0.5" Blue="0.25" Alpha="1">A &amp; B</Label>
  </LabelTable>
  <DataArray Intent="NIFTI_INTENT_LABEL" DataType="NIFTI_TYPE_INT32" ArrayIndexingOrder="RowMajorOrder"
             Dimensionality="1" Dim0="3" Encoding="ASCII" Endian="LittleEndian" ExternalFileName="" ExternalFileOffset="">
    <MetaData><MD><Name>AnatomicalStructurePrimary</Name><Value> CortexLeft </Value></MD><MD/></MetaData>
    <Data>0 7 7</Data>
  </DataArray>
  <DataArray Intent="NIFTI_INTENT_VECTOR" DataType="NIFTI_TYPE_UINT8" Dimensionality="2" Dim0="2" Dim1="2"
             Encoding="ASCII" ArrayIndexingOrder="ColumnMajorOrder">
    <Data>1 2 3 4</Data>
  </DataArray>
</GIFTI>"#;

    #[test]
    fn structure() {
        let s = parse_str(DOC).unwrap();
        assert_eq!(s.arrays.len(), 2);
        assert_eq!(s.meta, vec![("x".to_owned(), "1 2 3".to_owned())]);
        assert_eq!(
            s.arrays[0].meta,
            vec![("AnatomicalStructurePrimary".to_owned(), "CortexLeft".to_owned())]
        );
        assert_eq!(s.arrays[0].meta_value("AnatomicalStructurePrimary"), Some("CortexLeft"));
        assert!(s.arrays[1].meta.is_empty());
        assert_eq!(s.arrays[0].intent, "NIFTI_INTENT_LABEL");
        assert_eq!(s.arrays[0].data, ArrayData::I32(vec![0, 7, 7]));
        assert_eq!(s.arrays[1].intent, "NIFTI_INTENT_VECTOR");
        assert_eq!(s.arrays[1].data, ArrayData::U8(vec![1, 3, 2, 4]));
        assert_eq!(s.labels.len(), 2);
        assert_eq!(
            s.labels[1],
            Label {
                key: 7,
                name: "A & B".into(),
                rgba: [1.0, 0.5, 0.25, 1.0]
            }
        );
    }

    #[test]
    fn malformed() {
        assert!(matches!(parse_str(""), Err(LoadError::Truncated { .. })));
        assert!(matches!(parse_str("<html></html>"), Err(LoadError::BadMagic { .. })));
        assert!(matches!(
            parse_str(&DOC[..DOC.len() / 2]),
            Err(LoadError::Truncated { .. } | LoadError::Xml { .. })
        ));
        assert!(matches!(
            parse_str("<GIFTI><DataArray></GIFTI>"),
            Err(LoadError::Xml { .. } | LoadError::Gifti { .. })
        ));
        let bad_dim = DOC.replace("Dim0=\"3\"", "Dim0=\"-3\"");
        assert!(matches!(parse_str(&bad_dim), Err(LoadError::Gifti { .. })));
    }
}

//! The CIFTI-2 XML (`<CIFTI Version="2"><Matrix><MatrixIndicesMap …>`) into typed index maps,
//! one per matrix dimension. Consistency with the matrix is checked in `check.rs`.

use glam::DMat4;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::cifti::{BrainModel, BrainModels, IndexMap, LabelMap, ModelKind, Parcel, Parcels, Series, VolumeSpace};
use crate::error::LoadError;
use crate::surface::Label;

fn xml_error(e: impl std::fmt::Display, pos: u64) -> LoadError {
    LoadError::Xml {
        file: String::new(),
        detail: format!("{e} (near byte {pos} of the CIFTI XML)"),
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

struct Attrs {
    list: Vec<(String, String)>,
    element: &'static str,
}

impl Attrs {
    fn get(&self, key: &str) -> Option<&str> {
        self.list.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim())
    }

    fn required(&self, key: &str) -> Result<&str, LoadError> {
        self.get(key)
            .ok_or_else(|| LoadError::cifti(format!("<{}> lacks its {key} attribute", self.element)))
    }

    fn parse<T: std::str::FromStr>(&self, key: &str) -> Result<T, LoadError> {
        let text = self.required(key)?;
        text.parse()
            .map_err(|_| LoadError::cifti(format!("<{}> {key}={text:?} is not a valid number", self.element)))
    }

    fn parse_or<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, LoadError> {
        if self.get(key).is_none() {
            return Ok(default);
        }
        self.parse(key)
    }
}

/// Whitespace-separated numbers of an element's text.
fn numbers<T: std::str::FromStr>(text: &str, element: &str) -> Result<Vec<T>, LoadError> {
    text.split_ascii_whitespace()
        .map(|t| {
            t.parse()
                .map_err(|_| LoadError::cifti(format!("<{element}> holds {t:?}, not a valid index or number")))
        })
        .collect()
}

fn triples(text: &str, element: &str) -> Result<Vec<[u32; 3]>, LoadError> {
    let flat: Vec<u32> = numbers(text, element)?;
    if !flat.len().is_multiple_of(3) {
        return Err(LoadError::cifti(format!(
            "<{element}> holds {} numbers, not i j k triples",
            flat.len()
        )));
    }
    Ok(flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect())
}

/// A `MatrixIndicesMap` being read.
struct MapBuilder {
    dims: Vec<usize>,
    kind: String,
    attrs: Attrs,
    models: Vec<BrainModel>,
    volume: Option<VolumeSpace>,
    surfaces: Vec<(String, usize)>,
    parcels: Vec<Parcel>,
    names: Vec<String>,
    label_maps: Vec<LabelMap>,
}

impl MapBuilder {
    fn finish(self) -> Result<IndexMap, LoadError> {
        Ok(match self.kind.as_str() {
            "CIFTI_INDEX_TYPE_BRAIN_MODELS" => IndexMap::BrainModels(BrainModels {
                models: self.models,
                volume: self.volume,
            }),
            "CIFTI_INDEX_TYPE_PARCELS" => IndexMap::Parcels(Parcels {
                surfaces: self.surfaces,
                volume: self.volume,
                parcels: self.parcels,
            }),
            "CIFTI_INDEX_TYPE_SERIES" => IndexMap::Series(Series {
                start: self.attrs.parse("SeriesStart")?,
                step: self.attrs.parse("SeriesStep")?,
                unit: self.attrs.required("SeriesUnit")?.to_owned(),
                exponent: self.attrs.parse_or("SeriesExponent", 0)?,
                count: self.attrs.parse("NumberOfSeriesPoints")?,
            }),
            "CIFTI_INDEX_TYPE_SCALARS" => IndexMap::Scalars(self.names),
            "CIFTI_INDEX_TYPE_LABELS" => IndexMap::Labels(self.label_maps),
            other => {
                return Err(LoadError::cifti(format!(
                    "unknown IndicesMapToDataType {other:?} (CIFTI-2 has BRAIN_MODELS, PARCELS, SERIES, SCALARS, LABELS)"
                )));
            }
        })
    }
}

/// What is open besides the map: the element whose children or text are being read.
#[derive(Default)]
struct Open {
    model: Option<(BrainModel, Attrs)>,
    named_map: Option<LabelMap>,
    label: Option<Label>,
    parcel: Option<Parcel>,
    vertices_of: Option<String>,
    volume: Option<([usize; 3], Option<i32>)>,
    /// Text of the innermost element (elements with text have no children).
    text: String,
}

/// Parses the CIFTI-2 XML into the index maps of dimension 0 and dimension 1.
pub(crate) fn parse(xml: &[u8]) -> Result<[IndexMap; 2], LoadError> {
    let mut reader = Reader::from_reader(xml);
    let mut maps: [Option<IndexMap>; 2] = [None, None];
    let mut current: Option<MapBuilder> = None;
    let mut open = Open::default();
    let mut seen_root = false;
    let mut closed_root = false;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| xml_error(e, reader.error_position()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let tag = e.local_name();
                let tag = tag.as_ref();
                open.text.clear();
                if !seen_root {
                    if tag != b"CIFTI" {
                        return Err(LoadError::cifti(format!(
                            "the XML's root element is <{}>, expected <CIFTI>",
                            String::from_utf8_lossy(tag)
                        )));
                    }
                    let attrs = attributes(e, pos)?;
                    let version = attrs.iter().find(|(k, _)| k == "Version").map(|(_, v)| v.trim());
                    if !version.is_some_and(|v| v.starts_with('2')) {
                        return Err(LoadError::cifti(format!(
                            "CIFTI Version {version:?}: only CIFTI-2 is read"
                        )));
                    }
                    seen_root = true;
                    continue;
                }
                start(tag, e, pos, &mut current, &mut open)?;
                if empty {
                    end(tag, &mut current, &mut open, &mut maps)?;
                }
            }
            Event::End(ref e) => {
                let tag = e.local_name();
                if tag.as_ref() == b"CIFTI" {
                    closed_root = true;
                }
                end(tag.as_ref(), &mut current, &mut open, &mut maps)?;
                open.text.clear();
            }
            Event::Text(ref t) => open.text.push_str(&t.decode().map_err(|e| xml_error(e, pos))?),
            Event::CData(ref t) => open.text.push_str(&t.decode().map_err(|e| xml_error(e, pos))?),
            Event::GeneralRef(ref r) => {
                let c = match r.resolve_char_ref().map_err(|e| xml_error(e, pos))? {
                    Some(c) => c,
                    None => match r.decode().map_err(|e| xml_error(e, pos))?.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(xml_error(format!("unknown entity &{other};"), pos)),
                    },
                };
                open.text.push(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(LoadError::cifti("the CIFTI extension holds no XML element"));
    }
    if !closed_root {
        return Err(LoadError::Xml {
            file: String::new(),
            detail: "the CIFTI XML ends before </CIFTI>".into(),
        });
    }
    let [rows, cols] = maps;
    let missing = |d: usize| LoadError::cifti(format!("no MatrixIndicesMap applies to dimension {d}"));
    Ok([rows.ok_or_else(|| missing(0))?, cols.ok_or_else(|| missing(1))?])
}

fn start(
    tag: &[u8],
    e: &BytesStart,
    pos: u64,
    current: &mut Option<MapBuilder>,
    open: &mut Open,
) -> Result<(), LoadError> {
    let attrs = |element: &'static str| -> Result<Attrs, LoadError> {
        Ok(Attrs {
            list: attributes(e, pos)?,
            element,
        })
    };
    match tag {
        b"MatrixIndicesMap" => {
            let a = attrs("MatrixIndicesMap")?;
            let dims = a
                .required("AppliesToMatrixDimension")?
                .split(',')
                .map(|d| {
                    d.trim().parse::<usize>().ok().filter(|&d| d < 2).ok_or_else(|| {
                        LoadError::cifti(format!(
                            "AppliesToMatrixDimension {d:?}: only 2-D CIFTI matrices (dimensions 0 and 1) are read"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let kind = a.required("IndicesMapToDataType")?.to_owned();
            *current = Some(MapBuilder {
                dims,
                kind,
                attrs: a,
                models: Vec::new(),
                volume: None,
                surfaces: Vec::new(),
                parcels: Vec::new(),
                names: Vec::new(),
                label_maps: Vec::new(),
            });
        }
        b"BrainModel" => {
            let a = attrs("BrainModel")?;
            let model = BrainModel {
                structure: a.required("BrainStructure")?.to_owned(),
                offset: a.parse("IndexOffset")?,
                count: a.parse("IndexCount")?,
                kind: match a.required("ModelType")? {
                    "CIFTI_MODEL_TYPE_SURFACE" => ModelKind::Surface {
                        vertex_count: a.parse("SurfaceNumberOfVertices")?,
                        vertices: Vec::new(),
                    },
                    "CIFTI_MODEL_TYPE_VOXELS" => ModelKind::Voxels { voxels: Vec::new() },
                    other => return Err(LoadError::cifti(format!("unknown BrainModel ModelType {other:?}"))),
                },
            };
            open.model = Some((model, a));
        }
        b"Volume" => {
            let a = attrs("Volume")?;
            let dims: Vec<usize> = numbers(&a.required("VolumeDimensions")?.replace(',', " "), "Volume")?;
            let dims: [usize; 3] = dims
                .try_into()
                .map_err(|_| LoadError::cifti("VolumeDimensions must hold three sizes"))?;
            open.volume = Some((dims, None));
        }
        b"TransformationMatrixVoxelIndicesIJKtoXYZ" => {
            let a = attrs("TransformationMatrixVoxelIndicesIJKtoXYZ")?;
            if let Some((_, exponent)) = open.volume.as_mut() {
                *exponent = Some(a.parse("MeterExponent")?);
            }
        }
        b"NamedMap" => {
            open.named_map = Some(LabelMap {
                name: String::new(),
                labels: Vec::new(),
            })
        }
        b"Label" => open.label = Some(label(&attrs("Label")?)?),
        b"Surface" => {
            let a = attrs("Surface")?;
            if let Some(map) = current.as_mut() {
                let entry = (
                    a.required("BrainStructure")?.to_owned(),
                    a.parse("SurfaceNumberOfVertices")?,
                );
                map.surfaces.push(entry);
            }
        }
        b"Parcel" => {
            let a = attrs("Parcel")?;
            open.parcel = Some(Parcel {
                name: a.required("Name")?.to_owned(),
                vertices: Vec::new(),
                voxels: Vec::new(),
            });
        }
        b"Vertices" => open.vertices_of = Some(attrs("Vertices")?.required("BrainStructure")?.to_owned()),
        _ => {}
    }
    Ok(())
}

fn label(a: &Attrs) -> Result<Label, LoadError> {
    let key: i32 = a.parse("Key")?;
    let mut rgba = [0.0f32; 4];
    for (slot, name) in rgba.iter_mut().zip(["Red", "Green", "Blue", "Alpha"]) {
        *slot = a.parse_or(name, if name == "Alpha" { 1.0 } else { 0.0 })?;
    }
    Ok(Label {
        key,
        name: String::new(),
        rgba,
    })
}

fn end(
    tag: &[u8],
    current: &mut Option<MapBuilder>,
    open: &mut Open,
    maps: &mut [Option<IndexMap>; 2],
) -> Result<(), LoadError> {
    let text = std::mem::take(&mut open.text);
    match tag {
        b"MatrixIndicesMap" => {
            if let Some(builder) = current.take() {
                let dims = builder.dims.clone();
                let map = builder.finish()?;
                for d in dims {
                    if maps[d].is_some() {
                        return Err(LoadError::cifti(format!(
                            "two MatrixIndicesMaps apply to dimension {d}"
                        )));
                    }
                    maps[d] = Some(map.clone());
                }
            }
        }
        b"BrainModel" => {
            if let (Some((model, _)), Some(map)) = (open.model.take(), current.as_mut()) {
                map.models.push(model);
            }
        }
        b"VertexIndices" => {
            if let Some((model, _)) = open.model.as_mut()
                && let ModelKind::Surface { vertices, .. } = &mut model.kind
            {
                *vertices = numbers(&text, "VertexIndices")?;
            }
        }
        b"VoxelIndicesIJK" => {
            let voxels = triples(&text, "VoxelIndicesIJK")?;
            if let Some((model, _)) = open.model.as_mut() {
                if let ModelKind::Voxels { voxels: slot } = &mut model.kind {
                    *slot = voxels;
                }
            } else if let Some(parcel) = open.parcel.as_mut() {
                parcel.voxels = voxels;
            }
        }
        b"TransformationMatrixVoxelIndicesIJKtoXYZ" => {
            let values: Vec<f64> = numbers(&text, "TransformationMatrixVoxelIndicesIJKtoXYZ")?;
            let rows: [f64; 16] = values
                .try_into()
                .map_err(|_| LoadError::cifti("TransformationMatrixVoxelIndicesIJKtoXYZ must hold 16 numbers"))?;
            let (dims, exponent) = open
                .volume
                .ok_or_else(|| LoadError::cifti("TransformationMatrixVoxelIndicesIJKtoXYZ outside <Volume>"))?;
            if let Some(map) = current.as_mut() {
                map.volume = Some(VolumeSpace {
                    dims,
                    // Written row by row; glam is column-major.
                    transform: DMat4::from_cols_array(&rows).transpose(),
                    meter_exponent: exponent.unwrap_or(-3),
                });
            }
        }
        b"Volume" => {
            let volume_set = current.as_ref().is_some_and(|m| m.volume.is_some());
            if !volume_set {
                return Err(LoadError::cifti(
                    "<Volume> lacks its TransformationMatrixVoxelIndicesIJKtoXYZ",
                ));
            }
            open.volume = None;
        }
        b"MapName" => {
            if let Some(named) = open.named_map.as_mut() {
                named.name = text.trim().to_owned();
            }
        }
        b"Label" => {
            if let (Some(mut label), Some(named)) = (open.label.take(), open.named_map.as_mut()) {
                label.name = text.trim().to_owned();
                named.labels.push(label);
            }
        }
        b"NamedMap" => {
            if let (Some(named), Some(map)) = (open.named_map.take(), current.as_mut()) {
                if map.kind == "CIFTI_INDEX_TYPE_LABELS" {
                    map.label_maps.push(named);
                } else {
                    map.names.push(named.name);
                }
            }
        }
        b"Vertices" => {
            if let (Some(structure), Some(parcel)) = (open.vertices_of.take(), open.parcel.as_mut()) {
                parcel.vertices.push((structure, numbers(&text, "Vertices")?));
            }
        }
        b"Parcel" => {
            if let (Some(parcel), Some(map)) = (open.parcel.take(), current.as_mut()) {
                map.parcels.push(parcel);
            }
        }
        _ => {}
    }
    Ok(())
}

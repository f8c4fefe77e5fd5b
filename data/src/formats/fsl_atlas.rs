//! FSL atlas descriptors, the XML files of `$FSLDIR/data/atlases/` as FSLeyes and fslpy read them:
//!
//! ```xml
//! <atlas version="1.0">
//!   <header>
//!     <name>Harvard-Oxford Cortical Structural Atlas</name>
//!     <shortname>HOCPA</shortname>
//!     <type>Probabilistic</type>          <!-- or Label, Statistic (and the old "Probabalistic") -->
//!     <images>                            <!-- one per resolution -->
//!       <imagefile>/HarvardOxford/HarvardOxford-cort-prob-2mm</imagefile>
//!       <summaryimagefile>/HarvardOxford/HarvardOxford-cort-maxprob-thr25-2mm</summaryimagefile>
//!     </images>
//!   </header>
//!   <data>
//!     <label index="0" x="48" y="94" z="35">Frontal Pole</label>
//!   </data>
//! </atlas>
//! ```
//!
//! Only the text is parsed here; `crate::atlas` finds the images and reads them. Other header
//! elements are ignored, except a statistic atlas's `<units>`, `<precision>` and `<lower>`.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::atlas::AtlasKind;
use crate::error::LoadError;

/// What an FSL atlas descriptor says, as written.
#[derive(Clone, Debug, PartialEq)]
pub struct FslAtlasXml {
    /// `<name>`.
    pub name: String,
    /// `<shortname>`, when given.
    pub short_name: Option<String>,
    /// `<type>`, with a statistic atlas's units, precision and lower threshold.
    pub kind: AtlasKind,
    /// Each `<images>` element: one resolution.
    pub images: Vec<AtlasImagesXml>,
    /// The `<label>` elements of `<data>`, in file order.
    pub labels: Vec<XmlLabel>,
}

/// One `<images>` element: paths relative to the XML's folder, without their extension.
#[derive(Clone, Debug, PartialEq)]
pub struct AtlasImagesXml {
    /// `<imagefile>`: the 4D image of a probabilistic or statistic atlas, the label image of a
    /// label atlas.
    pub image: String,
    /// `<summaryimagefile>` (the first, when several are given): a 3D label image whose value
    /// `index + 1` marks region `index`; a label atlas may leave it out.
    pub summary: Option<String>,
}

/// One `<label>`: a region.
#[derive(Clone, Debug, PartialEq)]
pub struct XmlLabel {
    /// `index`: the region's frame of the 4D image, or its value in a label atlas's image.
    pub index: i64,
    /// The region's name.
    pub name: String,
    /// `x`, `y`, `z`: a reference point in voxel coordinates of the first `<images>`' image.
    pub voxel: Option<[f64; 3]>,
}

/// Elements whose text is kept.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Field {
    Name,
    ShortName,
    Type,
    Units,
    Precision,
    Lower,
    ImageFile,
    SummaryFile,
    Label,
}

fn xml_error(e: impl std::fmt::Display, pos: u64) -> LoadError {
    LoadError::Xml {
        file: String::new(),
        detail: format!("{e} (near byte {pos})"),
    }
}

/// Parse an FSL atlas descriptor. Errors: [`LoadError::Xml`] for text that is not well-formed
/// XML, [`LoadError::BadMagic`] for XML whose root is not `<atlas>`, [`LoadError::Atlas`] for an
/// atlas that lacks what it needs (name, type, images, labels) or holds bad values.
pub fn parse_fsl_atlas_xml(text: &str) -> Result<FslAtlasXml, LoadError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut fields: Vec<(Field, String)> = Vec::new();
    let mut images: Vec<AtlasImagesXml> = Vec::new();
    let mut images_open: Option<(Option<String>, Option<String>)> = None;
    let mut labels: Vec<XmlLabel> = Vec::new();
    let mut label_open: Option<(i64, Option<[f64; 3]>)> = None;
    // The element whose text is being kept, that text, and the depth the element opened at.
    let mut capture: Option<(Field, String, usize)> = None;
    let mut closed_root = false;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| xml_error(e, reader.error_position()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let tag = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if stack.is_empty() && (closed_root || tag != "atlas") {
                    return Err(root_error(&tag, closed_root));
                }
                let parent: Vec<&str> = stack.iter().map(String::as_str).collect();
                let is_images = parent == ["atlas", "header"] && tag == "images";
                let field = match (parent.as_slice(), tag.as_str()) {
                    (["atlas", "header"], "name") => Some(Field::Name),
                    (["atlas", "header"], "shortname") => Some(Field::ShortName),
                    (["atlas", "header"], "type") => Some(Field::Type),
                    (["atlas", "header"], "units") => Some(Field::Units),
                    (["atlas", "header"], "precision") => Some(Field::Precision),
                    (["atlas", "header"], "lower") => Some(Field::Lower),
                    (["atlas", "header", "images"], "imagefile") => Some(Field::ImageFile),
                    (["atlas", "header", "images"], "summaryimagefile") => Some(Field::SummaryFile),
                    (["atlas", "data"], "label") => {
                        label_open = Some(label_attributes(e, pos)?);
                        Some(Field::Label)
                    }
                    _ => None,
                };
                if is_images {
                    images_open = Some((None, None));
                }
                if empty {
                    if let Some(field) = field {
                        close(field, "", &mut fields, &mut images_open, &mut label_open, &mut labels)?;
                    }
                    if is_images {
                        images.push(finish_images(images_open.take())?);
                    }
                    closed_root |= stack.is_empty();
                } else {
                    if let Some(field) = field {
                        capture = Some((field, String::new(), stack.len()));
                    }
                    stack.push(tag);
                }
            }
            Event::End(_) => {
                let tag = stack.pop().unwrap_or_default();
                if let Some((field, text, _)) = capture.take_if(|(_, _, depth)| *depth == stack.len()) {
                    close(
                        field,
                        &text,
                        &mut fields,
                        &mut images_open,
                        &mut label_open,
                        &mut labels,
                    )?;
                }
                if tag == "images" && stack.len() == 2 {
                    images.push(finish_images(images_open.take())?);
                }
                closed_root |= stack.is_empty();
            }
            Event::Text(ref t) => {
                if let Some((_, target, _)) = capture.as_mut() {
                    target.push_str(&t.decode().map_err(|e| xml_error(e, pos))?);
                }
            }
            Event::CData(ref t) => {
                if let Some((_, target, _)) = capture.as_mut() {
                    target.push_str(&t.decode().map_err(|e| xml_error(e, pos))?);
                }
            }
            Event::GeneralRef(ref r) => {
                if let Some((_, target, _)) = capture.as_mut() {
                    let char_ref = r.resolve_char_ref().map_err(|e| xml_error(e, pos))?;
                    let name = r.decode().map_err(|e| xml_error(e, pos))?;
                    target.push(entity(char_ref, &name, pos)?);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !closed_root {
        return Err(if stack.is_empty() {
            LoadError::bad_magic("FSL atlas", "no XML element in the file, expected <atlas>")
        } else {
            xml_error(
                format!("the document ends inside <{}>", stack.join("><")),
                text.len() as u64,
            )
        });
    }
    finish(fields, images, labels)
}

fn root_error(tag: &str, closed_root: bool) -> LoadError {
    if closed_root {
        xml_error(format!("a second root element <{tag}> after </atlas>"), 0)
    } else {
        LoadError::bad_magic("FSL atlas", format!("the root element is <{tag}>, expected <atlas>"))
    }
}

/// The character an entity reference stands for.
fn entity(char_ref: Option<char>, name: &str, pos: u64) -> Result<char, LoadError> {
    if let Some(c) = char_ref {
        return Ok(c);
    }
    match name {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(xml_error(format!("unknown entity &{other};"), pos)),
    }
}

/// `index` and the reference point (`x`, `y`, `z`: all three or none) of a `<label>`.
fn label_attributes(e: &BytesStart, pos: u64) -> Result<(i64, Option<[f64; 3]>), LoadError> {
    let mut index = None;
    let mut xyz: [Option<f64>; 3] = [None; 3];
    for attribute in e.attributes() {
        let attribute = attribute.map_err(|err| xml_error(err, pos))?;
        let value = attribute.unescape_value().map_err(|err| xml_error(err, pos))?;
        let value = value.trim();
        let key = attribute.key.local_name();
        let axis = match key.as_ref() {
            b"index" => {
                let parsed = value
                    .parse::<i64>()
                    .map_err(|_| LoadError::atlas(format!("<label index=\"{value}\">: the index is not an integer")))?;
                index = Some(parsed);
                continue;
            }
            b"x" => 0,
            b"y" => 1,
            b"z" => 2,
            _ => continue,
        };
        let parsed = value.parse::<f64>().ok().filter(|v| v.is_finite());
        xyz[axis] = Some(parsed.ok_or_else(|| {
            LoadError::atlas(format!("<label> {}=\"{value}\" is not a number", ["x", "y", "z"][axis]))
        })?);
    }
    let index = index.ok_or_else(|| LoadError::atlas("a <label> without its index attribute"))?;
    let voxel = match xyz {
        [Some(x), Some(y), Some(z)] => Some([x, y, z]),
        [None, None, None] => None,
        _ => {
            return Err(LoadError::atlas(format!(
                "<label index=\"{index}\"> gives some of x, y, z but not all three"
            )));
        }
    };
    Ok((index, voxel))
}

/// File an element's text where it belongs.
fn close(
    field: Field,
    text: &str,
    fields: &mut Vec<(Field, String)>,
    images_open: &mut Option<(Option<String>, Option<String>)>,
    label_open: &mut Option<(i64, Option<[f64; 3]>)>,
    labels: &mut Vec<XmlLabel>,
) -> Result<(), LoadError> {
    let text = text.trim().to_owned();
    match field {
        Field::ImageFile => {
            if let Some((image @ None, _)) = images_open.as_mut() {
                *image = Some(text);
            }
        }
        Field::SummaryFile => {
            if let Some((_, summary @ None)) = images_open.as_mut() {
                *summary = Some(text);
            }
        }
        Field::Label => {
            let Some((index, voxel)) = label_open.take() else {
                return Ok(());
            };
            if text.is_empty() {
                return Err(LoadError::atlas(format!("<label index=\"{index}\"> has no name")));
            }
            labels.push(XmlLabel {
                index,
                name: text,
                voxel,
            });
        }
        field => {
            if !fields.iter().any(|(f, _)| *f == field) {
                fields.push((field, text));
            }
        }
    }
    Ok(())
}

fn finish_images(open: Option<(Option<String>, Option<String>)>) -> Result<AtlasImagesXml, LoadError> {
    let (image, summary) = open.unwrap_or_default();
    let image = image
        .filter(|i| !i.is_empty())
        .ok_or_else(|| LoadError::atlas("an <images> element without its <imagefile>"))?;
    Ok(AtlasImagesXml {
        image,
        summary: summary.filter(|s| !s.is_empty()),
    })
}

fn finish(
    fields: Vec<(Field, String)>,
    images: Vec<AtlasImagesXml>,
    labels: Vec<XmlLabel>,
) -> Result<FslAtlasXml, LoadError> {
    let get = |field: Field| fields.iter().find(|(f, _)| *f == field).map(|(_, t)| t.as_str());
    let name = get(Field::Name)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| LoadError::atlas("the header has no <name>"))?
        .to_owned();
    let kind_text = get(Field::Type).ok_or_else(|| LoadError::atlas("the header has no <type>"))?;
    let kind = match kind_text.to_ascii_lowercase().as_str() {
        "label" => AtlasKind::Label,
        // Some of FSL's own files spell it so (fslpy reads it as probabilistic).
        "probabilistic" | "probabalistic" => AtlasKind::Probabilistic,
        "statistic" => AtlasKind::Statistic {
            units: get(Field::Units).unwrap_or("").to_owned(),
            precision: number(get(Field::Precision), "precision", 2usize)?.min(9),
            lower: number(get(Field::Lower), "lower", 0.0f64)?,
        },
        other => {
            return Err(LoadError::atlas(format!(
                "<type>{other}</type>: expected Label, Probabilistic or Statistic"
            )));
        }
    };
    if images.is_empty() {
        return Err(LoadError::atlas("the header lists no <images>"));
    }
    if kind != AtlasKind::Label
        && let Some(missing) = images.iter().find(|i| i.summary.is_none())
    {
        return Err(LoadError::atlas(format!(
            "<imagefile>{}</imagefile> has no <summaryimagefile> (a {} atlas needs one per image)",
            missing.image,
            kind.name()
        )));
    }
    if labels.is_empty() {
        return Err(LoadError::atlas("<data> holds no <label>"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for label in &labels {
        if !seen.insert(label.index) {
            return Err(LoadError::atlas(format!("label index {} appears twice", label.index)));
        }
        if kind != AtlasKind::Label && label.index < 0 {
            return Err(LoadError::atlas(format!(
                "label index {} is negative, but indices of a {} atlas are frames of its 4D image",
                label.index,
                kind.name()
            )));
        }
    }
    Ok(FslAtlasXml {
        name,
        short_name: get(Field::ShortName).filter(|s| !s.is_empty()).map(str::to_owned),
        kind,
        images,
        labels,
    })
}

fn number<T: std::str::FromStr>(text: Option<&str>, element: &str, default: T) -> Result<T, LoadError> {
    match text {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| LoadError::atlas(format!("<{element}>{text}</{element}> is not a valid number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"<?xml version="1.0" encoding="ISO-8859-1"?>
<atlas version="1.0">
  <header>
    <name>Test &amp; Atlas</name>
    <shortname>TA</shortname>
    <type>Probabalistic</type>
    <images>
      <imagefile>/T/t-prob-2mm</imagefile>
      <summaryimagefile>/T/t-maxprob-2mm</summaryimagefile>
      <summaryimagefile>/T/t-maxprob-thr50-2mm</summaryimagefile>
    </images>
    <images><imagefile>/T/t-prob-1mm</imagefile><summaryimagefile>/T/t-maxprob-1mm</summaryimagefile></images>
  </header>
  <data>
    <!-- a comment -->
    <label index="0" x="48" y="94" z="35.5">Frontal Pole</label>
    <label index="1">Heschl&apos;s Gyrus</label>
  </data>
</atlas>
"#;

    #[test]
    fn reads_header_images_and_labels() {
        let atlas = parse_fsl_atlas_xml(GOOD).unwrap();
        assert_eq!(atlas.name, "Test & Atlas");
        assert_eq!(atlas.short_name.as_deref(), Some("TA"));
        assert_eq!(atlas.kind, AtlasKind::Probabilistic, "FSL's misspelling is read");
        assert_eq!(
            atlas.images,
            [
                AtlasImagesXml {
                    image: "/T/t-prob-2mm".into(),
                    summary: Some("/T/t-maxprob-2mm".into()),
                },
                AtlasImagesXml {
                    image: "/T/t-prob-1mm".into(),
                    summary: Some("/T/t-maxprob-1mm".into()),
                },
            ]
        );
        assert_eq!(
            atlas.labels,
            [
                XmlLabel {
                    index: 0,
                    name: "Frontal Pole".into(),
                    voxel: Some([48.0, 94.0, 35.5]),
                },
                XmlLabel {
                    index: 1,
                    name: "Heschl's Gyrus".into(),
                    voxel: None,
                },
            ]
        );
    }

    #[test]
    fn statistic_and_label_atlases() {
        let statistic = GOOD.replace("Probabalistic", "Statistic").replace(
            "<shortname>TA</shortname>",
            "<units>mm</units><precision>1</precision><lower>0.5</lower>",
        );
        let atlas = parse_fsl_atlas_xml(&statistic).unwrap();
        assert_eq!(
            atlas.kind,
            AtlasKind::Statistic {
                units: "mm".into(),
                precision: 1,
                lower: 0.5,
            }
        );
        // A label atlas needs no summary image; its indices are label values.
        let label = r#"<atlas><header><name>L</name><type>label</type><images><imagefile>/l</imagefile></images></header>
            <data><label index="-3" x="1" y="2" z="3">Minus three</label></data></atlas>"#;
        let atlas = parse_fsl_atlas_xml(label).unwrap();
        assert_eq!(
            (atlas.kind, atlas.images[0].summary.as_deref()),
            (AtlasKind::Label, None)
        );
        assert_eq!(atlas.labels[0].index, -3);
    }

    fn error(text: &str) -> LoadError {
        parse_fsl_atlas_xml(text).expect_err(text)
    }

    #[test]
    fn malformed_descriptors_are_typed_errors() {
        assert!(matches!(error("<atlas><header>"), LoadError::Xml { .. }));
        assert!(matches!(error("<atlas><header></atlas>"), LoadError::Xml { .. }));
        assert!(matches!(error("\u{1}\u{2}binary garbage"), LoadError::BadMagic { .. }));
        assert!(matches!(error(""), LoadError::BadMagic { .. }));
        assert!(matches!(error("<GIFTI></GIFTI>"), LoadError::BadMagic { .. }));
        assert!(matches!(error("<atlas/><atlas/>"), LoadError::Xml { .. }));
        let cases = [
            (GOOD.replace("<name>Test &amp; Atlas</name>", ""), "no <name>"),
            (GOOD.replace("Probabalistic", "Fuzzy"), "expected Label"),
            (GOOD.replace("<type>Probabalistic</type>", ""), "no <type>"),
            (
                GOOD.replace("<imagefile>/T/t-prob-1mm</imagefile>", ""),
                "without its <imagefile>",
            ),
            (
                GOOD.replace("<summaryimagefile>/T/t-maxprob-1mm</summaryimagefile>", ""),
                "no <summaryimagefile>",
            ),
            (GOOD.replace("index=\"1\"", "index=\"0\""), "index 0 appears twice"),
            (GOOD.replace("index=\"1\"", "index=\"-1\""), "is negative"),
            (GOOD.replace("index=\"1\"", "index=\"one\""), "not an integer"),
            (GOOD.replace("index=\"1\"", ""), "without its index"),
            (GOOD.replace("z=\"35.5\"", ""), "not all three"),
            (GOOD.replace("y=\"94\"", "y=\"nan\""), "y=\"nan\" is not a number"),
            (GOOD.replace("Frontal Pole", " "), "has no name"),
        ];
        for (text, want) in cases {
            let e = error(&text);
            assert!(matches!(e, LoadError::Atlas { .. }), "{want}: {e}");
            assert!(e.to_string().contains(want), "{want}: {e}");
        }
        let no_images = GOOD.replace(
            "<images><imagefile>/T/t-prob-1mm</imagefile><summaryimagefile>/T/t-maxprob-1mm</summaryimagefile></images>",
            "",
        );
        let no_images =
            no_images.split("<images>").next().unwrap().to_owned() + no_images.split("</images>").nth(1).unwrap();
        assert!(
            error(&no_images).to_string().contains("no <images>"),
            "{}",
            error(&no_images)
        );
        let no_labels = GOOD.split("<data>").next().unwrap().to_owned() + "<data/></atlas>";
        assert!(error(&no_labels).to_string().contains("no <label>"));
    }
}

//! The one open step: what a file holds ([`FileContents`]) becomes a layer, surface meshes and maps,
//! or a neural field of a [`Viewer`], named and styled as a user expects. The window (after its
//! read job) and `cortexlens render` (after reading directly) both call [`open`], so a file looks
//! the same in both.

use std::path::Path;
use std::sync::Arc;

use cortexlens_data::atlas::Atlas;
use cortexlens_data::mesh::MeshError;

use crate::loader::FileContents;
use crate::viewer::{
    CiftiAdded, FieldId, Layer, LayerId, Layout, SplatsId, SurfaceId, Viewer, default_style, label_style,
};

/// What opening a file added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Added {
    /// A volume layer, on top of the stack.
    Layer(LayerId),
    /// Meshes and per-vertex maps (the maps added, in order; a mesh or a shading file adds none).
    Surface {
        /// The maps added.
        maps: Vec<SurfaceId>,
    },
    /// A region of a hemisphere (a FreeSurfer label), drawn over its maps.
    Region(SurfaceId),
    /// A neural field, shown in the 3D view.
    Field(FieldId),
    /// A Gaussian-splat scene, shown in the 3D view.
    Splats(SplatsId),
    /// A CIFTI file: per-vertex maps on the meshes open (more attach as their meshes open) and a
    /// volume layer of its subcortical voxels.
    Cifti(CiftiAdded),
}

/// What was added, and what the user should know although it opened (e.g. a broken label table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// What was added.
    pub added: Added,
    /// Warnings, one line each.
    pub warnings: Vec<String>,
    /// Notes, one line each: what attached to a mesh that opened, what still waits for a mesh.
    pub notes: Vec<String>,
}

/// Add what `path` held to `viewer`.
///
/// - A volume becomes the top layer (the first one the base, which centres the crosshair) and the
///   selected one when it is an overlay or nothing is selected. With a label table beside it, it
///   is drawn as labels ([`label_style`]) and is a label atlas; a 4D volume whose table names
///   its frames is a probabilistic atlas drawn with [`default_style`], as is any other volume.
///   A label table that cannot be read is a warning, and the volume is drawn without it.
/// - An FSL atlas becomes a layer of its summary (or label) image, drawn as labels and named by
///   its regions, carrying the atlas; over other layers it is hidden (looked up, not drawn, as in
///   FSLeyes), alone it is shown.
/// - A surface file joins the surface scene: a mesh its hemisphere, maps the hemisphere whose
///   vertex count they match. A mismatch is an error and leaves the scene as it was.
/// - A FreeSurfer label becomes a region of the hemisphere its name names (`lh.`/`rh.`), or of
///   the one whose vertex count covers its vertex numbers ([`crate::viewer::SurfaceScene::add_label`]);
///   a label that fits no open mesh is an error naming both.
/// - A neural field opens in the 3D view, which becomes the layout.
/// - A CIFTI file's rows become per-vertex maps on the mesh of each surface structure (the
///   hemisphere its structure names, with its vertex count), and its subcortical voxels a volume
///   layer ([`Viewer::add_cifti`]). A structure whose mesh is not open waits for it, with a note
///   saying which mesh to open; a mesh that opens later takes the maps waiting for it.
pub fn open(viewer: &mut Viewer, path: &Path, contents: FileContents) -> Result<Opened, MeshError> {
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let added = match contents {
        FileContents::Volume { volume, label_names } => {
            let names = label_names.and_then(|names| {
                names
                    .map_err(|error| {
                        warnings.push(format!("{} is drawn without its label table: {error}", volume.name))
                    })
                    .ok()
            });
            let is_base = viewer.layers.is_empty();
            let volume = Arc::new(volume);
            let atlas = match names.as_ref().filter(|_| volume.frames() > 1) {
                Some(names) => Atlas::from_probabilistic_volume(volume.clone(), names).unwrap_or_else(|error| {
                    warnings.push(format!("{} is not read as an atlas: {error}", volume.name));
                    None
                }),
                None => None,
            };
            let id = viewer.new_layer_id();
            let layer = match (atlas, names) {
                (Some(atlas), _) => {
                    let mut layer = Layer::new(id, volume.clone(), default_style(&volume, is_base));
                    layer.atlas = Some(Arc::new(atlas));
                    layer
                }
                (None, Some(names)) => {
                    let mut layer = Layer::new(id, volume, label_style(is_base));
                    layer.set_label_names(Arc::new(names));
                    layer
                }
                (None, None) => Layer::new(id, volume.clone(), default_style(&volume, is_base)),
            };
            if !is_base || viewer.selected.is_none() {
                viewer.selected = Some(id);
            }
            viewer.push_layer(layer);
            Added::Layer(id)
        }
        FileContents::Atlas(atlas) => {
            let is_base = viewer.layers.is_empty();
            let mut style = label_style(is_base);
            // Over other layers an atlas is looked up, not drawn, as in FSLeyes: its parcellation
            // would hide the maps beneath it. Alone, it is what there is to see.
            style.visible = is_base;
            if !is_base {
                notes.push(format!(
                    "{}: {} regions, named in the readout; not drawn over the other layers (show it in Layers or Atlases)",
                    atlas.name,
                    atlas.regions.len()
                ));
            }
            let id = viewer.new_layer_id();
            let mut layer = Layer::new(id, atlas.image().clone(), style);
            layer.label_names = Some(Arc::new(atlas.label_names()));
            layer.atlas = Some(Arc::from(atlas));
            viewer.selected.get_or_insert(id);
            viewer.push_layer(layer);
            Added::Layer(id)
        }
        FileContents::Surface(file) => {
            let first_new = viewer.surfaces.maps.len();
            viewer.surfaces.add_file(&file)?;
            let maps = viewer.surfaces.maps[first_new..].iter().map(|m| m.id).collect();
            let attached = viewer.attach_waiting_cifti();
            if !attached.is_empty() {
                let names: Vec<&str> = viewer
                    .surfaces
                    .maps
                    .iter()
                    .filter(|m| attached.contains(&m.id))
                    .map(|m| m.name.as_str())
                    .collect();
                notes.push(format!("{} shows {}", file.name, names.join(", ")));
            }
            // The crosshair's nearest vertex may now be on the new mesh.
            viewer.set_crosshair(viewer.crosshair);
            Added::Surface { maps }
        }
        FileContents::Cifti(file) => {
            let name = file.name.clone();
            let columns = file.maps[1].type_name();
            let added = viewer.add_cifti(file);
            let waiting: Vec<String> = viewer
                .waiting_cifti()
                .into_iter()
                .filter(|w| w.starts_with(&format!("{name}:")))
                .collect();
            if added.maps.is_empty() && added.layer.is_none() && waiting.is_empty() {
                warnings.push(format!(
                    "{name}: nothing to show: its columns are {columns}, not brain models or parcels (cortexlens info lists its index maps)"
                ));
            }
            notes.extend(waiting);
            Added::Cifti(added)
        }
        FileContents::Label(label) => {
            let (id, warning) = viewer.surfaces.add_label(&label)?;
            warnings.extend(warning);
            Added::Region(id)
        }
        FileContents::Field(field) => {
            let name = path
                .file_name()
                .map_or("field".into(), |n| n.to_string_lossy().into_owned());
            let id = viewer.volume3d.add_field(name, field);
            viewer.layout = Layout::Volume3d;
            Added::Field(id)
        }
        FileContents::Splats { splats, transform } => {
            let name = splats.name.clone();
            let transform = match transform {
                Some(Ok(transform)) => {
                    notes.push(format!("{name} is placed by its sidecar {}", sidecar_name(path)));
                    transform
                }
                Some(Err(error)) => {
                    warnings.push(format!("{name} is shown in its own coordinates: {error}"));
                    glam::DMat4::IDENTITY
                }
                None => glam::DMat4::IDENTITY,
            };
            let id = viewer.volume3d.add_splats(name, splats, transform);
            viewer.layout = Layout::Volume3d;
            Added::Splats(id)
        }
    };
    viewer.files.push((path.to_owned(), added.clone()));
    Ok(Opened { added, warnings, notes })
}

/// The file name of a scene's placement sidecar.
fn sidecar_name(scene: &Path) -> String {
    let sidecar = cortexlens_data::splats::placement::sidecar_path(scene);
    sidecar
        .file_name()
        .map_or_else(|| sidecar.display().to_string(), |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cortexlens_data::formats::LabelNames;
    use cortexlens_data::{Colormap, Volume};

    fn volume(name: &str, data: Vec<f32>) -> Volume {
        Volume::from_f32(name, [data.len(), 1, 1, 1], glam::DMat4::IDENTITY, data)
    }

    /// Two hemispheres of 4 vertices (a tetrahedron each, the right one shifted).
    fn two_hemispheres() -> Viewer {
        use cortexlens_data::mesh::{GeometryKind, Hemisphere, Mesh};
        let mut viewer = Viewer::default();
        for (side, name, dx) in [(Hemisphere::Left, "lh.pial", 0.0), (Hemisphere::Right, "rh.pial", 5.0)] {
            let mesh = Mesh {
                vertices: vec![[dx, 0., 0.], [dx + 1., 0., 0.], [dx, 1., 0.], [dx, 0., 1.]],
                triangles: vec![[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]],
            };
            let surfaces = &mut viewer.surfaces;
            surfaces
                .add_mesh(Some(side), GeometryKind::Pial, name.into(), mesh)
                .unwrap();
        }
        viewer
    }

    fn label(name: &str, vertices: Vec<i64>) -> FileContents {
        FileContents::Label(cortexlens_data::FreeSurferLabel {
            name: name.into(),
            coords: vec![[0.0; 3]; vertices.len()],
            values: vec![0.0; vertices.len()],
            vertices,
            ..Default::default()
        })
    }

    #[test]
    fn a_label_joins_the_hemisphere_it_names_or_the_one_it_fits() {
        let mut viewer = two_hemispheres();
        let right = viewer.surfaces.hemispheres[1].id;
        let opened = open(
            &mut viewer,
            Path::new("rh.V1.label"),
            label("rh.V1.label", vec![3, 1, 3]),
        )
        .unwrap();
        let Added::Region(id) = opened.added else {
            panic!("{opened:?}")
        };
        let region = viewer.surfaces.region(id).unwrap();
        assert_eq!((region.surface, region.vertices.as_slice()), (right, [1, 3].as_slice()));
        assert!(opened.warnings.is_empty());
        let points = viewer.surfaces.region_points(id).unwrap();
        assert_eq!(
            points,
            [glam::DVec3::new(6.0, 0.0, 0.0), glam::DVec3::new(5.0, 0.0, 1.0)]
        );

        // No hemisphere in the name: the first that fits, with a warning when both do.
        let opened = open(&mut viewer, Path::new("V1.label"), label("V1.label", vec![0])).unwrap();
        assert!(opened.warnings[0].contains("lh.pial"), "{:?}", opened.warnings);
        let e = open(
            &mut viewer,
            Path::new("lh.big.label"),
            label("lh.big.label", vec![0, 4]),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "lh.big.label: vertex 4 but mesh lh.pial has 4 vertices (is the label of another surface?)"
        );
        assert_eq!(viewer.surfaces.regions.len(), 2, "an error adds nothing");
        let e = open(
            &mut Viewer::default(),
            Path::new("lh.a.label"),
            label("lh.a.label", vec![0]),
        )
        .unwrap_err();
        assert!(matches!(e, MeshError::NoMesh { .. }), "{e}");
    }

    #[test]
    fn a_segmentation_with_names_opens_as_labels_and_a_broken_table_warns() {
        let mut viewer = Viewer::default();
        let t1 = FileContents::Volume {
            volume: volume("t1", vec![1.0, 2.0, 3.0]),
            label_names: None,
        };
        let opened = open(&mut viewer, Path::new("t1.nii"), t1).unwrap();
        let Added::Layer(base) = opened.added else {
            panic!("{opened:?}")
        };
        assert_eq!(viewer.selected, Some(base), "the base is selected when nothing is");

        let names = LabelNames::parse("index\tname\n1\tone\n").unwrap();
        let seg = FileContents::Volume {
            volume: volume("seg", vec![0.0, 1.0, 1.0]),
            label_names: Some(Ok(names)),
        };
        let opened = open(&mut viewer, Path::new("seg.nii"), seg).unwrap();
        assert!(opened.warnings.is_empty());
        let layer = viewer.layers.last().unwrap();
        assert_eq!(viewer.selected, Some(layer.id), "an overlay is selected");
        assert_eq!(layer.style, label_style(false));
        assert_eq!(layer.style.colormap, Colormap::Labels);
        let atlas = layer.atlas.as_ref().expect("a labelled volume is a label atlas");
        assert_eq!(atlas.describe(glam::DVec3::X).as_deref(), Some("one"));

        let broken = FileContents::Volume {
            volume: volume("seg2", vec![0.0, 1.0, 1.0]),
            label_names: Some(LabelNames::parse("index\tname\nx\ty\n")),
        };
        let opened = open(&mut viewer, Path::new("seg2.nii"), broken).unwrap();
        let warning = &opened.warnings[0];
        assert!(
            warning.contains("seg2 is drawn without its label table") && warning.contains("line 2"),
            "{warning}"
        );
        let layer = viewer.layers.last().unwrap();
        assert!(layer.label_names.is_none() && layer.atlas.is_none());
        assert_ne!(layer.style.colormap, Colormap::Labels);
    }

    #[test]
    fn atlases_are_looked_up_and_hidden_over_other_layers() {
        let mut viewer = Viewer::default();
        let t1 = FileContents::Volume {
            volume: volume("t1", vec![1.0, 2.0]),
            label_names: None,
        };
        open(&mut viewer, Path::new("t1.nii"), t1).unwrap();
        // A 4D volume whose table names its frames: a probabilistic atlas, drawn as a map (at
        // x = 100 mm, away from the FSL atlas below).
        let far = glam::DVec3::new(100.0, 0.0, 0.0);
        let affine = glam::DMat4::from_translation(far);
        let prob = Volume::from_f32("prob", [2, 1, 1, 2], affine, vec![0.2, 0.0, 0.6, 0.3]);
        let contents = FileContents::Volume {
            volume: prob,
            label_names: Some(LabelNames::parse("1 A\n2 B\n")),
        };
        let opened = open(&mut viewer, Path::new("prob.nii"), contents).unwrap();
        let Added::Layer(prob) = opened.added else {
            panic!("{opened:?}")
        };
        let layer = viewer.layer(prob).unwrap();
        assert!(layer.label_names.is_none() && layer.style.colormap != Colormap::Labels);
        assert_eq!(layer.atlas.as_ref().map(|a| a.regions.len()), Some(2));
        assert_eq!(viewer.label_at(far).as_deref(), Some("60% B"));

        // An FSL atlas over them: its summary image as hidden labels, named, not selected.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/generated/atlases/Blobs.xml");
        let atlas = cortexlens_data::atlas::load_atlas(&path, &mut |_| {}).unwrap();
        let opened = open(&mut viewer, &path, FileContents::Atlas(Box::new(atlas))).unwrap();
        assert!(
            opened.notes[0].starts_with("Blobs Probabilistic Atlas: 4 regions"),
            "{:?}",
            opened.notes
        );
        let layer = viewer.layers.last().unwrap();
        assert_eq!((layer.name(), layer.style.visible), ("Blobs.xml", false));
        assert_eq!(layer.style.colormap, Colormap::Labels);
        assert_eq!(layer.label_names.as_ref().and_then(|n| n.get(3)), Some("Occipital Cap"));
        assert_eq!(viewer.selected, Some(prob), "the hidden atlas is not selected");
        assert_eq!(viewer.atlases().count(), 2);
        let blob = glam::DVec3::new(-14.0, 10.0, 8.0);
        assert_eq!(
            viewer.label_at(blob).as_deref(),
            Some("90% Left Frontal Blob"),
            "the top atlas"
        );
        assert_eq!(viewer.label_at(far).as_deref(), Some("60% B"), "where it has none");

        // Alone, an atlas is shown.
        let mut alone = Viewer::default();
        let atlas = cortexlens_data::atlas::load_atlas(&path, &mut |_| {}).unwrap();
        let opened = open(&mut alone, &path, FileContents::Atlas(Box::new(atlas))).unwrap();
        assert!(alone.layers[0].style.visible && opened.notes.is_empty());
    }

    #[test]
    fn a_cifti_file_without_brainordinate_columns_warns_instead_of_vanishing() {
        use cortexlens_data::cifti::{CiftiFile, IndexMap, Series};
        let file = CiftiFile {
            name: "odd.dscalar.nii".into(),
            intent_code: 3006,
            shape: [1, 3],
            datatype: "float32".into(),
            maps: [
                IndexMap::Scalars(vec!["a".into()]),
                IndexMap::Series(Series {
                    start: 0.0,
                    step: 1.0,
                    unit: "SECOND".into(),
                    exponent: 0,
                    count: 3,
                }),
            ],
            data: vec![1.0, 2.0, 3.0],
        };
        let mut viewer = Viewer::default();
        let opened = open(
            &mut viewer,
            Path::new("odd.dscalar.nii"),
            FileContents::Cifti(Arc::new(file)),
        )
        .unwrap();
        assert_eq!(
            opened.warnings,
            [
                "odd.dscalar.nii: nothing to show: its columns are series, not brain models or parcels (cortexlens info lists its index maps)"
            ]
        );
    }
}

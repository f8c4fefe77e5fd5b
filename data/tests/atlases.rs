//! Atlas lookup on generated atlases in FSL's format (a probabilistic one in two resolutions, a
//! label one), on a plain 4D probabilistic volume with a label table, and broken descriptors;
//! checked against what numpy computes from the same files
//! (`tests/data/generated/make_atlases.py` → `atlases.json`).

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::*;
use cortexlens_data::LoadError;
use cortexlens_data::atlas::{Atlas, AtlasKind, is_atlas_path, load_atlas, read_fsl_atlas};
use cortexlens_data::formats::{label_number, load_volume, read_grid, sidecar_label_names};
use glam::DVec3;
use serde_json::Value;

fn atlases_dir() -> PathBuf {
    data_dir().join("generated/atlases")
}

fn mm(v: &Value) -> DVec3 {
    let v = fs(v);
    DVec3::new(v[0], v[1], v[2])
}

/// The regions, values and words of every sampled point, and every region's centre, as numpy has them.
fn check_lookups(atlas: &Atlas, want: &Value, tolerance: f64) {
    for point in want["points"].as_array().unwrap() {
        let at = mm(&point["mm"]);
        let hits = atlas.lookup(at);
        let regions = point["regions"].as_array().unwrap();
        assert_eq!(hits.len(), regions.len(), "at {at}: {hits:?}");
        for (hit, region) in hits.iter().zip(regions) {
            assert_eq!(
                atlas.regions[hit.region].name,
                region["name"].as_str().unwrap(),
                "at {at}"
            );
            assert_close(
                &format!("at {at}"),
                f64::from(hit.value.unwrap()),
                f(&region["value"]),
                0.0,
                tolerance,
            );
        }
        assert_eq!(atlas.describe(at).as_deref(), point["text"].as_str(), "at {at}");
    }
    check_centres(atlas, want);
}

fn check_centres(atlas: &Atlas, want: &Value) {
    for (i, centre) in want["centres"].as_array().unwrap().iter().enumerate() {
        assert_eq!(atlas.regions[i].name, centre["name"].as_str().unwrap());
        let got = atlas.centre(i).expect("a centre");
        let want = mm(&centre["mm"]);
        assert!(
            (got - want).length() < 1e-6,
            "{}: centre {got}, numpy {want}",
            atlas.regions[i].name
        );
    }
}

#[test]
fn an_fsl_probabilistic_atlas_reads_as_numpy_does() {
    let reference = json("generated/atlases.json");
    let want = &reference["blobs"];
    let mut fractions = Vec::new();
    let atlas = load_atlas(&atlases_dir().join("Blobs.xml"), &mut |f| fractions.push(f)).unwrap();
    assert!(
        fractions.windows(2).all(|w| w[0] <= w[1]) && fractions.last() == Some(&1.0),
        "{fractions:?}"
    );
    assert_eq!(atlas.name, want["name"].as_str().unwrap());
    assert_eq!(atlas.kind, AtlasKind::Probabilistic);
    assert_eq!(atlas.kind.name(), want["type"].as_str().unwrap());
    let values: Vec<(i64, Option<usize>)> = atlas.regions.iter().map(|r| (r.value, r.frame)).collect();
    assert_eq!(
        values,
        [(1, Some(0)), (2, Some(1)), (3, Some(2)), (4, Some(3))],
        "summary value = index + 1"
    );
    // The finest resolution is loaded: the 2 mm summary image.
    let summary = atlas.image();
    assert_eq!(summary.shape, [30, 36, 30, 1]);
    check_lookups(&atlas, want, 0.0);
    // Reference points are voxels of the first (4 mm) image; the one without is a centre of mass.
    assert!(atlas.regions[0].reference.is_some() && atlas.regions[2].reference.is_none());
    let names = atlas.label_names();
    for point in want["points"].as_array().unwrap() {
        let at = mm(&point["mm"]);
        let value = summary.value_at(summary.nearest_voxel(at), 0);
        assert_eq!(value.and_then(label_number), point["summary_value"].as_i64(), "at {at}");
        assert_eq!(
            value.and_then(|v| names.name(v)),
            point["summary_name"].as_str(),
            "at {at}"
        );
    }
    assert_eq!(
        atlas.top(mm(&want["points"][4]["mm"])).as_deref(),
        Some("21% Left Frontal Blob")
    );
    assert_eq!(atlas.search("blob").collect::<Vec<_>>(), [0, 1]);
    assert_eq!(atlas.search(" CAP").collect::<Vec<_>>(), [2]);
}

#[test]
fn the_descriptor_lists_every_resolution_without_reading_voxels() {
    let reference = json("generated/atlases.json");
    let fsl = read_fsl_atlas(&atlases_dir().join("Blobs.xml")).unwrap();
    assert_eq!(fsl.xml.short_name.as_deref(), Some("BLOBS"));
    assert_eq!(fsl.xml.labels.len(), 4);
    let images = reference["blobs"]["images"].as_array().unwrap();
    assert_eq!(fsl.resolutions.len(), images.len());
    for (got, want) in fsl.resolutions.iter().zip(images) {
        assert!(
            got.image
                .ends_with(format!("Blobs/{}", want["imagefile"].as_str().unwrap()))
        );
        assert!(
            got.summary
                .ends_with(format!("Blobs/{}", want["summaryimagefile"].as_str().unwrap()))
        );
        assert_eq!(got.image_grid.shape[..], us(&want["shape"])[..]);
        assert_eq!(got.image_grid.zooms[..3], fs(&want["zooms"])[..]);
        assert_eq!(got.summary_grid.shape[3], 1);
    }
    assert_eq!(fsl.finest(), 1, "2 mm, listed second");
    assert!(
        fsl.resolutions[1]
            .image
            .ends_with(reference["blobs"]["loaded"].as_str().unwrap())
    );
}

#[test]
fn an_fsl_label_atlas_reads_as_numpy_does() {
    let reference = json("generated/atlases.json");
    let want = &reference["lobes"];
    let atlas = load_atlas(&atlases_dir().join("Lobes.xml"), &mut |_| {}).unwrap();
    assert_eq!(
        (atlas.name.as_str(), &atlas.kind),
        (want["name"].as_str().unwrap(), &AtlasKind::Label)
    );
    assert_eq!(
        atlas.regions[3].name, "Temporal Lobe (Schläfenlappen)",
        "the Latin-1 descriptor is decoded"
    );
    assert_eq!(atlas.regions.iter().map(|r| r.value).collect::<Vec<_>>(), [2, 5, 9, 11]);
    for point in want["points"].as_array().unwrap() {
        let at = mm(&point["mm"]);
        assert_eq!(atlas.describe(at).as_deref(), point["name"].as_str(), "at {at}");
        assert!(atlas.lookup(at).iter().all(|hit| hit.value.is_none()));
    }
    check_centres(&atlas, want);
}

#[test]
fn a_4d_volume_with_a_name_per_frame_reads_as_numpy_does() {
    let reference = json("generated/atlases.json");
    let path = atlases_dir().join("blobs_fractions.nii.gz");
    let volume = Arc::new(load_volume(&path, &mut |_| {}).unwrap());
    let names = sidecar_label_names(&path).expect("a sidecar").unwrap();
    let atlas = Atlas::from_probabilistic_volume(volume.clone(), &names)
        .unwrap()
        .expect("one name per frame");
    assert_eq!(atlas.name, "blobs_fractions.nii.gz");
    assert!(Arc::ptr_eq(atlas.image(), &volume), "the volume draws itself");
    // Fractions read as percentages (float32 fractions × 100).
    check_lookups(&atlas, &reference["fractions"], 1e-4);

    // The same volume's first frame as a labelled volume is a label atlas of whatever it holds.
    let label = Atlas::from_label_volume(volume, &names);
    assert_eq!(label.kind, AtlasKind::Label);
    assert_eq!(label.describe(DVec3::new(100.0, 0.0, 0.0)), None);
}

#[test]
fn broken_descriptors_are_typed_errors_that_name_the_file() {
    // File, the error's variants (one of), words of its message.
    let cases = [
        ("bad_garbage.xml", "Xml BadMagic", ""),
        ("bad_root.xml", "BadMagic", "the root element is <GIFTI>"),
        ("bad_no_images.xml", "Atlas", "lists no <images>"),
        (
            "bad_missing_image.xml",
            "Atlas",
            "image /Blobs/missing-prob-2mm: none of",
        ),
        (
            "bad_index.xml",
            "Atlas",
            "label index 4 (Phantom Blob) but blobs-prob-4mm.nii.gz has 4 frames",
        ),
        (
            "bad_summary.xml",
            "Atlas",
            "blobs-prob-2mm.nii.gz has 4 frames, a 3D image",
        ),
    ];
    for (file, variants, words) in cases {
        let e = load_atlas(&atlases_dir().join(file), &mut |_| {}).expect_err(file);
        let variant = format!("{e:?}").split(' ').next().unwrap_or_default().to_owned();
        assert!(variants.split(' ').any(|v| v == variant), "{file}: {e:?}");
        assert_eq!(e.file(), file, "{e}");
        assert!(e.to_string().contains(words), "{file}: {e}");
        assert_eq!(
            read_fsl_atlas(&atlases_dir().join(file)).unwrap_err().to_string(),
            e.to_string()
        );
    }
    // A descriptor's size is bounded before it is read.
    let dir = std::env::temp_dir().join(format!("cortexlens-atlases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.xml");
    std::fs::File::create(&big).unwrap().set_len(17 << 20).unwrap();
    let e = load_atlas(&big, &mut |_| {}).unwrap_err();
    assert!(matches!(e, LoadError::TooLarge { .. }), "{e}");
    let missing = load_atlas(&dir.join("missing.xml"), &mut |_| {}).unwrap_err();
    assert!(
        matches!(missing, LoadError::Io { .. }) && missing.file() == "missing.xml",
        "{missing}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn image_grids_come_from_headers_as_the_volumes_have_them() {
    for path in [
        atlases_dir().join("Blobs/blobs-prob-4mm.nii.gz"),
        volume_path("nibabel_test.mgz"),
        volume_path("nibabel_anatomical.nii"),
    ] {
        let grid = read_grid(&path).unwrap();
        let volume = load_volume(&path, &mut |_| {}).unwrap();
        assert_eq!(
            (grid.shape, grid.zooms, grid.affine),
            (volume.shape, volume.zooms, volume.affine),
            "{path:?}"
        );
    }
    let e = read_grid(&atlases_dir().join("Blobs.xml")).unwrap_err();
    assert_eq!(e.file(), "Blobs.xml", "{e}");
}

#[test]
fn atlas_paths_are_xml_files() {
    assert!(is_atlas_path(&atlases_dir().join("Blobs.xml")));
    assert!(is_atlas_path(std::path::Path::new("HarvardOxford-Cortical.XML")));
    assert!(!is_atlas_path(std::path::Path::new("lh.pial.gii")));
    assert!(!is_atlas_path(std::path::Path::new("xml")));
}

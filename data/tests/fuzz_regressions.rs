//! Inputs the fuzzers made (`tests/data/fuzz/<target>/`, picked from the corpora of the runs in
//! `docs/robustness.md`: inputs that reached new code, none of them a test file), replayed through
//! the same calls as the fuzz targets in `fuzz/`: each must be opened or refused without a panic,
//! within 2 seconds. Findings (crashes, hangs, allocations over budget) go to the same folders.
//! The encoder and pool targets are replayed in `inference/tests/fuzz_regressions.rs`.

use std::path::Path;

mod common;

use common::fuzz_replay::replay;
use common::scratch;

/// How each target opens its input: the file name it is written under (the extension picks the
/// parser), and the call.
#[derive(Clone, Copy)]
enum Open {
    /// `load_path`, as the app opens a file.
    Path(&'static str),
    /// A NIfTI pair: the first 348 bytes as `.hdr`, the rest as `.img`.
    Pair,
    /// `field::load_field`.
    Field(&'static str),
    /// `formats::load_label_names`.
    LabelTable,
}

const TARGETS: &[(&str, Open)] = &[
    ("nifti", Open::Path("fuzz.nii")),
    ("nifti_gz", Open::Path("fuzz.nii.gz")),
    ("nifti_pair", Open::Pair),
    ("mgh", Open::Path("fuzz.mgh")),
    ("mgz", Open::Path("fuzz.mgz")),
    ("gifti", Open::Path("fuzz.gii")),
    ("cifti", Open::Path("fuzz.dscalar.nii")),
    ("freesurfer_surface", Open::Path("lh.pial")),
    ("freesurfer_curv", Open::Path("lh.curv")),
    ("freesurfer_annot", Open::Path("lh.fuzz.annot")),
    ("freesurfer_label", Open::Path("lh.fuzz.label")),
    ("fsl_atlas", Open::Path("fuzz.xml")),
    ("label_table", Open::LabelTable),
    ("nfield", Open::Field("fuzz.nfield")),
    ("ingp", Open::Field("fuzz.msgpack")),
    ("splats", Open::Path("fuzz.splats")),
];

fn open(dir: &Path, how: Open, data: &[u8]) {
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    match how {
        Open::Path(name) => {
            let _ = cortexlens_data::load_path(&write(name, data), &mut |_| {});
        }
        Open::Pair => {
            let split = data.len().min(348);
            write("fuzz.img", &data[split..]);
            let _ = cortexlens_data::load_path(&write("fuzz.hdr", &data[..split]), &mut |_| {});
        }
        Open::Field(name) => {
            let _ = cortexlens_data::field::load_field(&write(name, data));
        }
        Open::LabelTable => {
            let _ = cortexlens_data::formats::load_label_names(&write("fuzz.tsv", data));
        }
    }
}

#[test]
fn fuzzer_inputs_are_opened_or_refused_without_panics_or_hangs() {
    let dir = scratch("fuzz-regressions");
    let failures: Vec<String> = TARGETS
        .iter()
        .flat_map(|&(target, how)| replay(target, |data| open(&dir, how, data)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

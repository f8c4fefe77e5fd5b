//! Every WGSL shader of the crate parses and validates with naga, without a GPU
//! (rerun's `shader_validation.rs` pattern), using no optional capabilities: the standalone
//! files as they are, and the ray marchers as `cortexlens_render::shaders` composes them.

use std::path::Path;

use cortexlens_render::shaders::COMPOSED;

/// Files that are complete modules on their own.
const STANDALONE: [&str; 6] = [
    "composite.wgsl",
    "mesh.wgsl",
    "splat_composite.wgsl",
    "splat_draw.wgsl",
    "splat_preprocess.wgsl",
    "splat_sort.wgsl",
];

fn validate(name: &str, source: &str) {
    let module =
        naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{}", e.emit_to_string_with_path(source, name)));
    let mut validator =
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
    if let Err(e) = validator.validate(&module) {
        panic!("{}", e.emit_to_string_with_path(source, name));
    }
}

#[test]
fn every_shader_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("render/shaders exists") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_none_or(|e| e != "wgsl") {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if STANDALONE.contains(&name.as_str()) {
            let source = std::fs::read_to_string(&path).expect("shader is UTF-8");
            validate(&path.display().to_string(), &source);
        }
        found.push(name);
    }
    for (name, source, _) in COMPOSED {
        validate(name, source);
    }
    // Every file is validated, standalone or as part of a composed module.
    let mut covered: Vec<String> = STANDALONE.iter().map(|s| s.to_string()).collect();
    covered.extend(
        COMPOSED
            .iter()
            .flat_map(|(_, _, parts)| parts.iter().map(|p| p.to_string())),
    );
    covered.sort();
    covered.dedup();
    found.sort();
    assert_eq!(found, covered, "shaders found in {}", dir.display());
    assert_eq!(
        found,
        [
            "composite.wgsl",
            "field.wgsl",
            "field_eval.wgsl",
            "field_sampler.wgsl",
            "lut.wgsl",
            "mesh.wgsl",
            "occupancy.wgsl",
            "raymarch.wgsl",
            "raymarch_common.wgsl",
            "slice.wgsl",
            "splat_composite.wgsl",
            "splat_draw.wgsl",
            "splat_preprocess.wgsl",
            "splat_sort.wgsl",
            "volume_sampler.wgsl",
            "voxel_sampling.wgsl",
        ]
    );
}

#[test]
fn composed_modules_name_their_parts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    for (name, source, parts) in COMPOSED {
        let joined: String = parts
            .iter()
            .map(|p| std::fs::read_to_string(dir.join(p)).expect("part exists"))
            .collect();
        assert_eq!(joined, source, "{name} is not the concatenation of {parts:?}");
    }
}

//! Every WGSL shader of the crate parses and validates with naga, without a GPU
//! (rerun's `shader_validation.rs` pattern), using no optional capabilities.

use std::path::Path;

#[test]
fn every_shader_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("render/shaders exists") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_none_or(|e| e != "wgsl") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("shader is UTF-8");
        let name = path.display().to_string();
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{}", e.emit_to_string_with_path(&source, &name)));
        let mut validator =
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
        if let Err(e) = validator.validate(&module) {
            panic!("{}", e.emit_to_string_with_path(&source, &name));
        }
        checked.push(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
    }
    checked.sort();
    assert_eq!(
        checked,
        ["composite.wgsl", "mesh.wgsl", "slice.wgsl"],
        "shaders found in {}",
        dir.display()
    );
}

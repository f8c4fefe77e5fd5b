//! WGSL sources. WGSL has no includes: the ray marchers are put together from parts here, and
//! `tests/shader_validation.rs` validates every module below with naga.

/// The surface mesh pipeline (one file).
pub const MESH: &str = include_str!("../shaders/mesh.wgsl");

/// The slice reslicer: voxel sampling, lookup-table entries, the per-layer pass.
pub const SLICE: &str = concat!(
    include_str!("../shaders/voxel_sampling.wgsl"),
    include_str!("../shaders/lut.wgsl"),
    include_str!("../shaders/slice.wgsl"),
);

/// The volume ray marcher: common maths, lookup-table entries, voxel sampling, the volume
/// sampler, the marching loop.
pub const RAYMARCH_VOLUME: &str = concat!(
    include_str!("../shaders/raymarch_common.wgsl"),
    include_str!("../shaders/lut.wgsl"),
    include_str!("../shaders/voxel_sampling.wgsl"),
    include_str!("../shaders/volume_sampler.wgsl"),
    include_str!("../shaders/raymarch.wgsl"),
);

/// The neural-field ray marcher: common maths, lookup-table entries, the field, the field
/// sampler, the marching loop.
pub const RAYMARCH_FIELD: &str = concat!(
    include_str!("../shaders/raymarch_common.wgsl"),
    include_str!("../shaders/lut.wgsl"),
    include_str!("../shaders/field.wgsl"),
    include_str!("../shaders/field_sampler.wgsl"),
    include_str!("../shaders/raymarch.wgsl"),
);

/// The neural field evaluated at a list of points (compute).
pub const FIELD_EVAL: &str = concat!(
    include_str!("../shaders/field.wgsl"),
    include_str!("../shaders/field_eval.wgsl"),
);

/// A volume's occupancy grid (compute).
pub const OCCUPANCY: &str = concat!(
    include_str!("../shaders/voxel_sampling.wgsl"),
    include_str!("../shaders/occupancy.wgsl"),
);

/// Gaussian splats: projection and SH colour (compute).
pub const SPLAT_PREPROCESS: &str = include_str!("../shaders/splat_preprocess.wgsl");

/// Gaussian splats: one bitonic-sort stage (compute).
pub const SPLAT_SORT: &str = include_str!("../shaders/splat_sort.wgsl");

/// Gaussian splats: the quads, blended into a layer.
pub const SPLAT_DRAW: &str = include_str!("../shaders/splat_draw.wgsl");

/// Gaussian splats: the layer over the target.
pub const SPLAT_COMPOSITE: &str = include_str!("../shaders/splat_composite.wgsl");

/// Every composed module: `(name, source, parts)`, the parts being file names in `shaders/`.
pub const COMPOSED: [(&str, &str, &[&str]); 5] = [
    ("slice", SLICE, &["voxel_sampling.wgsl", "lut.wgsl", "slice.wgsl"]),
    (
        "raymarch_volume",
        RAYMARCH_VOLUME,
        &[
            "raymarch_common.wgsl",
            "lut.wgsl",
            "voxel_sampling.wgsl",
            "volume_sampler.wgsl",
            "raymarch.wgsl",
        ],
    ),
    (
        "raymarch_field",
        RAYMARCH_FIELD,
        &[
            "raymarch_common.wgsl",
            "lut.wgsl",
            "field.wgsl",
            "field_sampler.wgsl",
            "raymarch.wgsl",
        ],
    ),
    ("field_eval", FIELD_EVAL, &["field.wgsl", "field_eval.wgsl"]),
    ("occupancy", OCCUPANCY, &["voxel_sampling.wgsl", "occupancy.wgsl"]),
];

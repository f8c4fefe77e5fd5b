//! How a [`NeuralField`] is laid out for `shaders/field.wgsl`: the uniform header, the encoding
//! buffer and the network buffer, with the checks that keep the shader within its fixed sizes.

use cortexlens_data::field::{Activation, CamGrid, Encoding, FieldOutput, NeuralField};

/// Widest layer (and longest encoding feature vector) the WGSL evaluator holds
/// (`FIELD_MAX_WIDTH` in `shaders/field.wgsl`).
pub const MAX_WIDTH: usize = 128;

/// Most MLP layers.
pub const MAX_LAYERS: usize = 16;

/// Most hash-grid levels.
pub const MAX_LEVELS: usize = 32;

/// One layer; mirrors `struct FieldLayer` in `shaders/field.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct LayerHeader {
    shape: [u32; 4],
    offsets: [u32; 4],
    cam_res: [u32; 4],
}

/// Mirrors `struct FieldHeader` in `shaders/field.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct FieldHeader {
    bounds_min: [f32; 4],
    bounds_max: [f32; 4],
    encoding: [u32; 4],
    dense_res: [u32; 4],
    network: [u32; 4],
    output: [f32; 4],
    occupancy: [u32; 4],
    level_scale: [[f32; 4]; MAX_LEVELS / 4],
    level_res: [[u32; 4]; MAX_LEVELS / 4],
    layers: [LayerHeader; MAX_LAYERS],
}

/// A field ready for upload: the header and the two storage buffers' contents.
pub(crate) struct FieldLayout {
    pub header: FieldHeader,
    /// Hash-grid params or dense-grid values.
    pub encoding: Vec<f32>,
    /// vec4 blocks: weights (rows padded to whole blocks, row count to a multiple of 4) and
    /// biases per layer, CAM γ and β (4 per block), then the occupancy bytes (16 per block).
    pub network: Vec<[u32; 4]>,
    /// Upper bound of the loop iterations of one evaluation (see [`loop_iterations`]).
    pub loop_iterations: u32,
}

fn activation_id(a: Activation) -> u32 {
    match a {
        Activation::None => 0,
        Activation::Relu => 1,
        Activation::Sigmoid => 2,
        Activation::Exp => 3,
    }
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what()) }
}

/// Number of encoding features, after checking the encoding's sizes.
fn check_encoding(encoding: &Encoding) -> Result<usize, String> {
    match encoding {
        Encoding::HashGrid(g) => {
            check((1..=MAX_LEVELS as u32).contains(&g.levels), || {
                format!("{} hash levels (1..={MAX_LEVELS} supported)", g.levels)
            })?;
            check(g.features >= 1, || "hash grid with 0 features".into())?;
            check(g.log2_table_size <= 30, || {
                format!("hash table of 2^{} entries", g.log2_table_size)
            })?;
            check(g.per_level_scale.is_finite() && g.per_level_scale > 0.0, || {
                format!("per-level scale {}", g.per_level_scale)
            })?;
            check(g.base_resolution >= 1, || "base resolution 0".into())?;
            let expected = g.levels as u64 * (1u64 << g.log2_table_size) * g.features as u64;
            check(g.params.len() as u64 == expected, || {
                format!("hash grid has {} params, its shape needs {expected}", g.params.len())
            })?;
            Ok(g.levels as usize * g.features as usize)
        }
        Encoding::Dense(g) => {
            check(g.resolution.iter().all(|&r| r >= 2), || {
                format!("dense grid resolution {:?} (each ≥ 2)", g.resolution)
            })?;
            check(g.features >= 1, || "dense grid with 0 features".into())?;
            let expected = g.resolution.iter().map(|&r| r as u64).product::<u64>() * g.features as u64;
            check(g.values.len() as u64 == expected, || {
                format!("dense grid has {} values, its shape needs {expected}", g.values.len())
            })?;
            Ok(g.features as usize)
        }
    }
}

fn check_cam(grid: &CamGrid, layer: usize) -> Result<(), String> {
    check(grid.resolution.iter().all(|&r| r >= 2), || {
        format!("CAM grid {layer} resolution {:?} (each ≥ 2)", grid.resolution)
    })?;
    let n = grid.resolution.iter().map(|&r| r as u64).product::<u64>();
    check(grid.scale.len() as u64 == n && grid.shift.len() as u64 == n, || {
        format!(
            "CAM grid {layer} has {} γ and {} β for {n} vertices",
            grid.scale.len(),
            grid.shift.len()
        )
    })
}

/// Check everything the shader relies on: the field's own consistency
/// ([`NeuralField::validate`]), then the evaluator's limits.
fn validate(field: &NeuralField) -> Result<(), String> {
    field.validate().map_err(|e| e.to_string())?;
    let finite = field.bounds_min.iter().chain(&field.bounds_max).all(|v| v.is_finite());
    check(
        finite && (0..3).all(|a| field.bounds_max[a] > field.bounds_min[a]),
        || format!("bounds {:?} .. {:?}", field.bounds_min, field.bounds_max),
    )?;
    let features = check_encoding(&field.encoding)?;
    check(features <= MAX_WIDTH, || {
        format!("{features} encoding features (at most {MAX_WIDTH})")
    })?;
    let layers = &field.layers;
    check(!layers.is_empty() && layers.len() <= MAX_LAYERS, || {
        format!("{} layers (1..={MAX_LAYERS} supported)", layers.len())
    })?;
    let mut width = features;
    for (i, l) in layers.iter().enumerate() {
        check(l.inputs == width, || {
            format!("layer {i} takes {} inputs, gets {width}", l.inputs)
        })?;
        check((1..=MAX_WIDTH).contains(&l.outputs), || {
            format!("layer {i} has {} outputs (1..={MAX_WIDTH})", l.outputs)
        })?;
        check(
            l.weight.len() == l.inputs * l.outputs && l.bias.len() == l.outputs,
            || {
                format!(
                    "layer {i}: {} weights and {} biases for {}×{}",
                    l.weight.len(),
                    l.bias.len(),
                    l.outputs,
                    l.inputs
                )
            },
        )?;
        width = l.outputs;
    }
    let needed = match field.output {
        FieldOutput::Intensity { .. } => 1,
        FieldOutput::DensityRgb => 4,
    };
    check(width == needed, || {
        format!("the last layer has {width} outputs, {:?} reads {needed}", field.output)
    })?;
    if let Some(cam) = &field.cam {
        check(cam.grids.len() == layers.len() - 1, || {
            format!("{} CAM grids for {} hidden layers", cam.grids.len(), layers.len() - 1)
        })?;
        for (i, g) in cam.grids.iter().enumerate() {
            check_cam(g, i)?;
        }
    }
    if let Some(occ) = &field.occupancy {
        let n = occ.resolution.iter().map(|&r| r as u64).product::<u64>();
        check(
            occ.resolution.iter().all(|&r| r >= 1) && occ.occupied.len() as u64 == n,
            || format!("occupancy {:?} with {} bytes", occ.resolution, occ.occupied.len()),
        )?;
    }
    Ok(())
}

/// f32 values as blocks of 4 (bits), the last one padded with zeros.
fn blocks(values: &[f32]) -> impl Iterator<Item = [u32; 4]> + '_ {
    values.chunks(4).map(|c| {
        let mut block = [0u32; 4];
        for (b, v) in block.iter_mut().zip(c) {
            *b = v.to_bits();
        }
        block
    })
}

fn offset(network: &[[u32; 4]]) -> Result<u32, String> {
    u32::try_from(network.len()).map_err(|_| "the network is over 2^32 blocks".to_string())
}

/// Upper bound of the loop iterations (every loop body run, nested ones included) of one
/// `field_eval` in `shaders/field.wgsl`, counted loop by loop; the ray marcher splits its passes
/// by it (see [`crate::raymarch`]).
pub(crate) fn loop_iterations(field: &NeuralField) -> u64 {
    let blocks = |n: u64| n.div_ceil(4);
    let encode = match &field.encoding {
        Encoding::HashGrid(g) => {
            let (levels, features) = (g.levels as u64, g.features as u64);
            blocks(levels * features) + levels * (1 + 8 * (1 + features))
        }
        Encoding::Dense(g) => blocks(g.features as u64) + 8 * (1 + g.features as u64),
    };
    let last = field.layers.len().saturating_sub(1);
    let layers: u64 = field
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (in4, out4) = (blocks(l.inputs as u64), blocks(l.outputs as u64));
            let matvec = 1 + out4 * (1 + in4);
            let modulated = field.cam.is_some() && i < last;
            let norm = if modulated { 3 * out4 + 8 } else { 0 };
            let activation = if i < last { out4 } else { 0 };
            matvec + norm + activation
        })
        .sum();
    encode + layers
}

impl FieldLayout {
    /// Check and lay out `field`; the error says what does not fit.
    pub(crate) fn new(field: &NeuralField) -> Result<FieldLayout, String> {
        validate(field)?;
        let mut header = FieldHeader {
            bounds_min: [field.bounds_min[0], field.bounds_min[1], field.bounds_min[2], 0.0],
            bounds_max: [field.bounds_max[0], field.bounds_max[1], field.bounds_max[2], 0.0],
            encoding: [0; 4],
            dense_res: [0; 4],
            network: [0; 4],
            output: [1.0, 0.0, 0.0, 0.0],
            occupancy: [1, 1, 1, 0],
            level_scale: [[0.0; 4]; MAX_LEVELS / 4],
            level_res: [[0; 4]; MAX_LEVELS / 4],
            layers: [LayerHeader::default(); MAX_LAYERS],
        };
        let encoding = match &field.encoding {
            Encoding::HashGrid(g) => {
                let table = 1u32 << g.log2_table_size;
                header.encoding = [0, g.levels, g.features, table];
                // The per-level geometry exactly as the CPU reference takes it.
                for l in 0..g.levels {
                    let level = g.level(l);
                    let (i, j) = (l as usize / 4, l as usize % 4);
                    header.level_scale[i][j] = level.scale;
                    header.level_res[i][j] = if level.dense { level.resolution } else { 0 };
                }
                g.params.clone()
            }
            Encoding::Dense(g) => {
                header.encoding = [1, 1, g.features, 0];
                header.dense_res = [g.resolution[0], g.resolution[1], g.resolution[2], 0];
                g.values.clone()
            }
        };
        let mut network: Vec<[u32; 4]> = Vec::new();
        for (i, layer) in field.layers.iter().enumerate() {
            let in4 = layer.inputs.div_ceil(4);
            let out4 = layer.outputs.div_ceil(4);
            let weight_offset = offset(&network)?;
            for row in 0..4 * out4 {
                if row < layer.outputs {
                    let weights = &layer.weight[row * layer.inputs..(row + 1) * layer.inputs];
                    let before = network.len();
                    network.extend(blocks(weights));
                    network.resize(before + in4, [0; 4]);
                } else {
                    network.extend(std::iter::repeat_n([0u32; 4], in4));
                }
            }
            let bias_offset = offset(&network)?;
            network.extend(blocks(&layer.bias));
            let mut h = LayerHeader {
                shape: [
                    layer.inputs as u32,
                    layer.outputs as u32,
                    activation_id(layer.activation),
                    weight_offset,
                ],
                offsets: [bias_offset, 0, 0, 0],
                cam_res: [2, 2, 2, 0],
            };
            if let Some((grid, normalize)) = field.cam.as_ref().and_then(|c| Some((c.grids.get(i)?, c.normalize))) {
                let scale_offset = offset(&network)?;
                network.extend(blocks(&grid.scale));
                let shift_offset = offset(&network)?;
                network.extend(blocks(&grid.shift));
                h.offsets = [bias_offset, scale_offset, shift_offset, 1];
                h.cam_res = [
                    grid.resolution[0],
                    grid.resolution[1],
                    grid.resolution[2],
                    u32::from(normalize),
                ];
            }
            header.layers[i] = h;
        }
        let (output_kind, output) = match field.output {
            FieldOutput::Intensity { scale, offset } => (0, [scale, offset, 0.0, 0.0]),
            FieldOutput::DensityRgb => (1, [1.0, 0.0, 0.0, 0.0]),
        };
        header.output = output;
        let occupancy_offset = offset(&network)?;
        let has_occupancy = field.occupancy.is_some() as u32;
        if let Some(occ) = &field.occupancy {
            header.occupancy = [occ.resolution[0], occ.resolution[1], occ.resolution[2], 1];
            network.extend(occ.occupied.chunks(16).map(|c| {
                let mut bytes = [0u8; 16];
                bytes[..c.len()].copy_from_slice(c);
                std::array::from_fn(|w| {
                    u32::from_le_bytes([bytes[4 * w], bytes[4 * w + 1], bytes[4 * w + 2], bytes[4 * w + 3]])
                })
            }));
        }
        header.network = [field.layers.len() as u32, output_kind, occupancy_offset, has_occupancy];
        let loop_iterations = loop_iterations(field).min(u32::MAX as u64) as u32;
        Ok(FieldLayout {
            header,
            encoding,
            network,
            loop_iterations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use cortexlens_data::field::{DenseGrid, DenseLayer};

    use crate::shaders::FIELD_EVAL;
    use crate::wgsl_layout::assert_wgsl_layout;

    #[test]
    fn weights_are_padded_to_blocks() {
        let field = NeuralField {
            bounds_min: [0.0; 3],
            bounds_max: [1.0; 3],
            encoding: Encoding::Dense(DenseGrid {
                resolution: [2, 2, 2],
                features: 5,
                values: (0..40).map(|v| v as f32).collect(),
            }),
            layers: vec![DenseLayer {
                inputs: 5,
                outputs: 1,
                weight: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                bias: vec![0.5],
                activation: Activation::None,
            }],
            cam: None,
            output: FieldOutput::Intensity {
                scale: 1.0,
                offset: 0.0,
            },
            occupancy: None,
        };
        let l = FieldLayout::new(&field).unwrap();
        let f = |v: f32| v.to_bits();
        // 4 rows × 2 blocks of weights, then 1 block of bias.
        assert_eq!(l.network.len(), 9);
        assert_eq!(l.network[0], [f(1.0), f(2.0), f(3.0), f(4.0)]);
        assert_eq!(l.network[1], [f(5.0), 0, 0, 0]);
        assert_eq!(l.network[2..8], [[0; 4]; 6]);
        assert_eq!(l.network[8], [f(0.5), 0, 0, 0]);
        // Encoding: 2 zeroing blocks + 8 corners × (1 + 5 features); the layer 1 + 1 × (1 + 2).
        assert_eq!(l.loop_iterations, 2 + 48 + 4);
    }

    #[test]
    fn header_matches_wgsl() {
        assert_wgsl_layout!(
            FIELD_EVAL,
            "FieldLayer",
            LayerHeader {
                shape,
                offsets,
                cam_res
            }
        );
        assert_wgsl_layout!(
            FIELD_EVAL,
            "FieldHeader",
            FieldHeader {
                bounds_min,
                bounds_max,
                encoding,
                dense_res,
                network,
                output,
                occupancy,
                level_scale,
                level_res,
                layers,
            }
        );
    }
}

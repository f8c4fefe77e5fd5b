//! [`NeuralField::validate`]: every consistency rule that evaluation relies on.

use super::{Activation, CamGrid, Encoding, FieldError, FieldOutput, NeuralField};

/// Largest `log2_table_size` accepted: 2^30 entries per level (4 GiB of `f32` per feature and level).
pub const MAX_LOG2_TABLE_SIZE: u32 = 30;

/// Largest hash-grid level scale accepted: beyond 2^24, `x · scale` no longer has a fractional part
/// in `f32`.
pub const MAX_LEVEL_SCALE: f32 = 16_777_216.0;

fn invalid(detail: String) -> Result<(), FieldError> {
    Err(FieldError::invalid(detail))
}

/// `Some(product)` of the values, or `None` on overflow.
pub(crate) fn checked_product(values: &[u64]) -> Option<u64> {
    values.iter().try_fold(1u64, |acc, &v| acc.checked_mul(v))
}

/// Checks that every value of `values` is finite.
fn all_finite(what: &str, values: &[f32]) -> Result<(), FieldError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => invalid(format!("{what} holds a non-finite value ({}) at index {i}", values[i])),
        None => Ok(()),
    }
}

fn check_grid_resolution(what: &str, resolution: [u32; 3]) -> Result<u64, FieldError> {
    if resolution.iter().any(|&r| r < 2) {
        invalid(format!(
            "{what} resolution {resolution:?} needs at least 2 vertices per axis"
        ))?;
    }
    checked_product(&resolution.map(u64::from)).ok_or_else(|| FieldError::invalid(format!("{what} is too large")))
}

fn check_cam(i: usize, grid: &CamGrid) -> Result<(), FieldError> {
    let what = format!("cam grid {i}");
    let n = check_grid_resolution(&what, grid.resolution)?;
    for (name, values) in [("scale", &grid.scale), ("shift", &grid.shift)] {
        if values.len() as u64 != n {
            invalid(format!(
                "{what} has {} {name} values, its resolution {:?} needs {n}",
                values.len(),
                grid.resolution
            ))?;
        }
        all_finite(&format!("{what} {name}"), values)?;
    }
    Ok(())
}

impl NeuralField {
    /// Checks that the field can be evaluated: positive box, consistent encoding sizes, a layer
    /// chain whose inputs match the previous outputs (the first layer's the feature count), one CAM
    /// grid per hidden layer, outputs that fit [`FieldOutput`] (1 for an intensity, 4 for σ and
    /// colour with a non-negative activation), occupancy of the right size, and finite parameters.
    pub fn validate(&self) -> Result<(), FieldError> {
        for d in 0..3 {
            let (lo, hi) = (self.bounds_min[d], self.bounds_max[d]);
            if !lo.is_finite() || !hi.is_finite() || hi <= lo || !(hi - lo).is_finite() {
                invalid(format!(
                    "bounds along axis {d} are [{lo}, {hi}]: they must be finite with max > min"
                ))?;
            }
        }

        match &self.encoding {
            Encoding::HashGrid(g) => {
                if g.levels == 0 || g.features == 0 {
                    invalid(format!(
                        "hash grid with {} levels of {} features: both must be at least 1",
                        g.levels, g.features
                    ))?;
                }
                if g.log2_table_size > MAX_LOG2_TABLE_SIZE {
                    invalid(format!(
                        "hash grid log2_table_size {} is over {MAX_LOG2_TABLE_SIZE}",
                        g.log2_table_size
                    ))?;
                }
                if g.base_resolution == 0 || !g.per_level_scale.is_finite() || g.per_level_scale <= 0.0 {
                    invalid(format!(
                        "hash grid base_resolution {} and per_level_scale {}: the first must be at least 1, \
                         the second finite and positive",
                        g.base_resolution, g.per_level_scale
                    ))?;
                }
                for l in 0..g.levels {
                    let level = g.level(l);
                    if !(0.0..=MAX_LEVEL_SCALE).contains(&level.scale) {
                        invalid(format!(
                            "hash grid level {l} has scale {}: it must lie in [0, 2^24]",
                            level.scale
                        ))?;
                    }
                }
                let want = checked_product(&[g.levels as u64, 1u64 << g.log2_table_size, g.features as u64]);
                if want != Some(g.params.len() as u64) {
                    invalid(format!(
                        "hash grid holds {} values, {} levels × 2^{} entries × {} features need {}",
                        g.params.len(),
                        g.levels,
                        g.log2_table_size,
                        g.features,
                        want.map_or_else(|| "more than 2^64".to_owned(), |w| w.to_string())
                    ))?;
                }
                all_finite("hash grid", &g.params)?;
            }
            Encoding::Dense(g) => {
                let n = check_grid_resolution("dense grid", g.resolution)?;
                if g.features == 0 {
                    invalid("dense grid with 0 features".into())?;
                }
                let want = n.checked_mul(g.features as u64);
                if want != Some(g.values.len() as u64) {
                    invalid(format!(
                        "dense grid holds {} values, resolution {:?} × {} features needs {}",
                        g.values.len(),
                        g.resolution,
                        g.features,
                        want.map_or_else(|| "more than 2^64".to_owned(), |w| w.to_string())
                    ))?;
                }
                all_finite("dense grid", &g.values)?;
            }
        }

        if self.layers.is_empty() {
            invalid("the MLP has no layers".into())?;
        }
        let mut expected = self.feature_count();
        for (i, layer) in self.layers.iter().enumerate() {
            if layer.inputs != expected {
                if i == 0 {
                    invalid(format!(
                        "layer 0 takes {} inputs, the encoding gives {expected} features",
                        layer.inputs
                    ))?;
                } else {
                    invalid(format!(
                        "layer {i} takes {} inputs, layer {} gives {expected} outputs",
                        layer.inputs,
                        i - 1
                    ))?;
                }
            }
            if layer.outputs == 0 {
                invalid(format!("layer {i} has no outputs"))?;
            }
            let want = layer.inputs.checked_mul(layer.outputs);
            if want != Some(layer.weight.len()) {
                invalid(format!(
                    "layer {i} weight holds {} values, {} outputs × {} inputs need {}",
                    layer.weight.len(),
                    layer.outputs,
                    layer.inputs,
                    want.map_or_else(|| "more than usize::MAX".to_owned(), |w| w.to_string())
                ))?;
            }
            if layer.bias.len() != layer.outputs {
                invalid(format!(
                    "layer {i} bias holds {} values, it has {} outputs",
                    layer.bias.len(),
                    layer.outputs
                ))?;
            }
            all_finite(&format!("layer {i} weight"), &layer.weight)?;
            all_finite(&format!("layer {i} bias"), &layer.bias)?;
            expected = layer.outputs;
        }

        if let Some(cam) = &self.cam {
            let hidden = self.layers.len() - 1;
            if cam.grids.len() != hidden {
                invalid(format!(
                    "cam has {} grids, the MLP has {hidden} hidden layers (one grid per layer but the last)",
                    cam.grids.len()
                ))?;
            }
            for (i, grid) in cam.grids.iter().enumerate() {
                check_cam(i, grid)?;
            }
        }

        let last = self.layers.last().expect("checked above");
        match self.output {
            FieldOutput::Intensity { scale, offset } => {
                if last.outputs != 1 {
                    invalid(format!(
                        "an intensity field's last layer must have 1 output, it has {}",
                        last.outputs
                    ))?;
                }
                if !scale.is_finite() || !offset.is_finite() {
                    invalid(format!("intensity scale {scale} and offset {offset} must be finite"))?;
                }
            }
            FieldOutput::DensityRgb => {
                if last.outputs != 4 {
                    invalid(format!(
                        "a density_rgb field's last layer must have 4 outputs (σ, r, g, b), it has {}",
                        last.outputs
                    ))?;
                }
                if last.activation == Activation::None {
                    invalid(
                        "a density_rgb field's last layer needs a non-negative activation for σ \
                         (relu, exp or sigmoid), it has none"
                            .into(),
                    )?;
                }
            }
        }

        if let Some(occ) = &self.occupancy {
            if occ.resolution.contains(&0) {
                invalid(format!(
                    "occupancy resolution {:?} needs at least 1 cell per axis",
                    occ.resolution
                ))?;
            }
            let want = checked_product(&occ.resolution.map(u64::from));
            if want != Some(occ.occupied.len() as u64) {
                invalid(format!(
                    "occupancy holds {} cells, resolution {:?} needs {}",
                    occ.occupied.len(),
                    occ.resolution,
                    want.map_or_else(|| "more than 2^64".to_owned(), |w| w.to_string())
                ))?;
            }
        }
        Ok(())
    }
}

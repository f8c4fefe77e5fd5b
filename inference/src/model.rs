//! [`FieldModel`]: a [`NeuralField`] as candle variables, evaluated exactly as
//! [`cortexlens_data::field`] specifies and differentiable with respect to every learned value.

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Module, Tensor, Var};
use cortexlens_data::field::{
    Activation, Cam, CamGrid, DenseGrid, DenseLayer, Encoding, FieldOutput, HashGrid, NeuralField, OccupancyGrid,
};

use crate::error::FitError;
use crate::lookup::{Lookups, dense_grid_lookups, dense_lookups, hash_lookups};
use crate::ops::{activate, interpolate, normalise_features};

/// A neural field on a candle device: the learned arrays are [`Var`]s, everything else is kept as in
/// the [`NeuralField`] it came from, so that [`FieldModel::to_field`] gives it back unchanged.
///
/// [`Module::forward`] takes world points `[n, 3]` in millimetres (any float dtype) and returns the
/// last layer's outputs `[n, outputs]` in the model's dtype, read as the specification reads them
/// (output 0 through the last layer's activation; a radiance field's colour through the sigmoid)
/// but before [`FieldOutput::Intensity`]'s scale and offset; [`FieldModel::evaluate`] gives exactly
/// what [`NeuralField::eval`] gives. Grid lookups (corner rows and trilinear weights) are computed
/// on the host in `f32`, the same arithmetic as [`NeuralField::eval`]; the gathers, weighting, MLP
/// and modulation are tensor ops, so gradients reach every table entry, weight and CAM value.
#[derive(Debug)]
pub struct FieldModel {
    bounds_min: [f32; 3],
    bounds_max: [f32; 3],
    encoding: EncodingModel,
    layers: Vec<LayerModel>,
    /// The CAM grids, and whether each modulated layer is normalised first ([`Cam::normalize`]).
    cam: Option<(Vec<CamModel>, bool)>,
    output: FieldOutput,
    occupancy: Option<OccupancyGrid>,
    device: Device,
    dtype: DType,
}

/// The encoding's sizes (with empty value arrays) and its learned table.
#[derive(Debug)]
enum EncodingModel {
    /// `table`: `[levels · table_size, features]`.
    Hash { grid: HashGrid, table: Var },
    /// `table`: `[rz · ry · rx, features]`.
    Dense { grid: DenseGrid, table: Var },
}

/// One fully connected layer: `weight` `[outputs, inputs]`, `bias` `[outputs]`.
#[derive(Debug)]
struct LayerModel {
    weight: Var,
    bias: Var,
    activation: Activation,
}

/// One CAM grid: `values` `[vertices, 2]` holding (γ, β) per vertex.
#[derive(Debug)]
struct CamModel {
    resolution: [u32; 3],
    values: Var,
}

impl FieldModel {
    /// Loads `field` onto `device` in `f32`.
    pub fn from_field(field: &NeuralField, device: &Device) -> Result<Self, FitError> {
        Self::from_field_with_dtype(field, device, DType::F32)
    }

    /// Loads `field` onto `device` in `dtype` (`F32` or `F64`; `F64` serves gradient checks).
    pub fn from_field_with_dtype(field: &NeuralField, device: &Device, dtype: DType) -> Result<Self, FitError> {
        field.validate().map_err(|e| FitError::InvalidField(e.to_string()))?;
        if let Encoding::HashGrid(grid) = &field.encoding
            && (grid.levels as u64) << grid.log2_table_size > u32::MAX as u64
        {
            return Err(FitError::InvalidField("the hash table has more than 2^32 rows".into()));
        }
        if !matches!(dtype, DType::F32 | DType::F64) {
            return Err(FitError::InvalidField(format!("unsupported dtype {dtype:?}")));
        }
        let var = |values: &[f32], shape: (usize, usize)| -> Result<Var, FitError> {
            let tensor = Tensor::from_slice(values, shape, device)?.to_dtype(dtype)?;
            Ok(Var::from_tensor(&tensor)?)
        };
        let encoding = match &field.encoding {
            Encoding::HashGrid(grid) => {
                let features = grid.features as usize;
                let table = var(&grid.params, (grid.params.len() / features, features))?;
                let grid = HashGrid {
                    params: Vec::new(),
                    ..grid.clone()
                };
                EncodingModel::Hash { grid, table }
            }
            Encoding::Dense(grid) => {
                let features = grid.features as usize;
                let table = var(&grid.values, (grid.values.len() / features, features))?;
                let grid = DenseGrid {
                    values: Vec::new(),
                    ..grid.clone()
                };
                EncodingModel::Dense { grid, table }
            }
        };
        let layers = field
            .layers
            .iter()
            .map(|layer| {
                Ok(LayerModel {
                    weight: var(&layer.weight, (layer.outputs, layer.inputs))?,
                    bias: Var::from_tensor(&Tensor::from_slice(&layer.bias, layer.outputs, device)?.to_dtype(dtype)?)?,
                    activation: layer.activation,
                })
            })
            .collect::<Result<Vec<_>, FitError>>()?;
        let cam = match &field.cam {
            None => None,
            Some(cam) => {
                let grids = cam
                    .grids
                    .iter()
                    .map(|grid| {
                        let interleaved: Vec<f32> =
                            grid.scale.iter().zip(&grid.shift).flat_map(|(&g, &b)| [g, b]).collect();
                        Ok(CamModel {
                            resolution: grid.resolution,
                            values: var(&interleaved, (grid.scale.len(), 2))?,
                        })
                    })
                    .collect::<Result<Vec<_>, FitError>>()?;
                Some((grids, cam.normalize))
            }
        };
        Ok(Self {
            bounds_min: field.bounds_min,
            bounds_max: field.bounds_max,
            encoding,
            layers,
            cam,
            output: field.output,
            occupancy: field.occupancy.clone(),
            device: device.clone(),
            dtype,
        })
    }

    /// The field with the current values, read back from the device.
    ///
    /// # Panics
    /// If the device cannot copy the values back (a CUDA failure); [`FieldModel::try_to_field`]
    /// reports that as an error instead.
    pub fn to_field(&self) -> NeuralField {
        self.try_to_field().expect("reading the field back from the device")
    }

    /// The field with the current values, read back from the device.
    pub fn try_to_field(&self) -> Result<NeuralField, FitError> {
        let encoding = match &self.encoding {
            EncodingModel::Hash { grid, table } => Encoding::HashGrid(HashGrid {
                params: read(table)?,
                ..grid.clone()
            }),
            EncodingModel::Dense { grid, table } => Encoding::Dense(DenseGrid {
                values: read(table)?,
                ..grid.clone()
            }),
        };
        let layers = self
            .layers
            .iter()
            .map(|layer| {
                let (outputs, inputs) = layer.weight.dims2()?;
                Ok(DenseLayer {
                    inputs,
                    outputs,
                    weight: read(&layer.weight)?,
                    bias: read(&layer.bias)?,
                    activation: layer.activation,
                })
            })
            .collect::<Result<Vec<_>, FitError>>()?;
        let cam = match &self.cam {
            None => None,
            Some((grids, normalize)) => Some(Cam {
                grids: grids
                    .iter()
                    .map(|grid| {
                        let values = read(&grid.values)?;
                        Ok(CamGrid {
                            resolution: grid.resolution,
                            scale: values.iter().step_by(2).copied().collect(),
                            shift: values.iter().skip(1).step_by(2).copied().collect(),
                        })
                    })
                    .collect::<Result<Vec<_>, FitError>>()?,
                normalize: *normalize,
            }),
        };
        Ok(NeuralField {
            bounds_min: self.bounds_min,
            bounds_max: self.bounds_max,
            encoding,
            layers,
            cam,
            output: self.output,
            occupancy: self.occupancy.clone(),
        })
    }

    /// The gradient of a loss with respect to every learned value, laid out as a field: each array
    /// of the returned [`NeuralField`] holds `∂loss/∂value` where this model's field holds the value
    /// (zeros where `grads` has no entry); sizes, activations, bounds and output are this model's.
    pub fn gradient_field(&self, grads: &GradStore) -> Result<NeuralField, FitError> {
        let mut field = self.try_to_field()?;
        let grad = |var: &Var| -> Result<Vec<f32>, FitError> {
            match grads.get(var.as_tensor()) {
                Some(g) => Ok(g.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?),
                None => Ok(vec![0.0; var.elem_count()]),
            }
        };
        match (&mut field.encoding, &self.encoding) {
            (Encoding::HashGrid(g), EncodingModel::Hash { table, .. }) => g.params = grad(table)?,
            (Encoding::Dense(g), EncodingModel::Dense { table, .. }) => g.values = grad(table)?,
            _ => unreachable!("to_field keeps the encoding's kind"),
        }
        for (layer, model) in field.layers.iter_mut().zip(&self.layers) {
            layer.weight = grad(&model.weight)?;
            layer.bias = grad(&model.bias)?;
        }
        let models = self.cam.iter().flat_map(|(grids, _)| grids);
        for (grid, model) in field.cam.iter_mut().flat_map(|cam| &mut cam.grids).zip(models) {
            let values = grad(&model.values)?;
            grid.scale = values.iter().step_by(2).copied().collect();
            grid.shift = values.iter().skip(1).step_by(2).copied().collect();
        }
        Ok(field)
    }

    /// The device holding the values.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The dtype of the values and of the outputs.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Outputs of the last layer.
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |l| l.bias.dims1().unwrap_or(0))
    }

    /// Number of learned values.
    pub fn parameter_count(&self) -> usize {
        self.encoding_vars()
            .iter()
            .chain(&self.mlp_vars())
            .chain(&self.cam_vars())
            .map(|v| v.elem_count())
            .sum()
    }

    /// `x` of a world point: `(p − bounds_min) / (bounds_max − bounds_min)`, clamped to `[0, 1]`
    /// (NaN reads as 0), exactly as [`NeuralField::normalize`].
    pub fn normalise(&self, p: [f32; 3]) -> [f32; 3] {
        std::array::from_fn(|a| {
            let t = (p[a] - self.bounds_min[a]) / (self.bounds_max[a] - self.bounds_min[a]);
            if t >= 0.0 { t.min(1.0) } else { 0.0 }
        })
    }

    /// What [`NeuralField::eval`] gives at world points `[n, 3]` (mm): `[n, 4]`, intensity fields
    /// `[value, 0, 0, 0]` (in the volume's units), radiance fields `[σ, r, g, b]`.
    pub fn evaluate(&self, points: &Tensor) -> candle_core::Result<Tensor> {
        let out = self.forward(points)?;
        let n = out.dim(0)?;
        match self.output {
            FieldOutput::Intensity { scale, offset } => {
                let value = out.narrow(1, 0, 1)?.affine(scale as f64, offset as f64)?;
                Tensor::cat(&[value, Tensor::zeros((n, 3), self.dtype, &self.device)?], 1)
            }
            FieldOutput::DensityRgb => out.narrow(1, 0, 4),
        }
    }

    /// The encoding's learned table.
    pub(crate) fn encoding_vars(&self) -> Vec<Var> {
        match &self.encoding {
            EncodingModel::Hash { table, .. } | EncodingModel::Dense { table, .. } => vec![table.clone()],
        }
    }

    /// The MLP's weights and biases.
    pub(crate) fn mlp_vars(&self) -> Vec<Var> {
        self.layers
            .iter()
            .flat_map(|l| [l.weight.clone(), l.bias.clone()])
            .collect()
    }

    /// The CAM grids (none without CAM).
    pub(crate) fn cam_vars(&self) -> Vec<Var> {
        self.cam
            .iter()
            .flat_map(|(grids, _)| grids)
            .map(|g| g.values.clone())
            .collect()
    }

    /// Outputs `[n, outputs]` (as [`Module::forward`]) at normalised positions `x ∈ [0, 1]³`.
    pub fn forward_normalised(&self, x: &[[f32; 3]]) -> candle_core::Result<Tensor> {
        if x.is_empty() {
            return Tensor::zeros((0, self.outputs()), self.dtype, &self.device);
        }
        let mut h = self.encode(x)?;
        let mut cam_lookups: Option<([u32; 3], Tensor, Tensor)> = None;
        let hidden = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            h = h.matmul(&layer.weight.t()?)?.broadcast_add(&layer.bias)?;
            if let (Some((grids, normalize)), true) = (&self.cam, i < hidden) {
                let grid = &grids[i];
                let reuse = matches!(&cam_lookups, Some((res, ..)) if *res == grid.resolution);
                if !reuse {
                    let (indices, weights) = self.lookup_tensors(dense_lookups(grid.resolution, x), x.len())?;
                    cam_lookups = Some((grid.resolution, indices, weights));
                }
                let (_, indices, weights) = cam_lookups.as_ref().expect("CAM lookups were just set");
                let modulation = interpolate(grid.values.as_tensor(), indices, weights, x.len(), 1)?;
                let gamma = modulation.narrow(1, 0, 1)?;
                let beta = modulation.narrow(1, 1, 1)?;
                if *normalize {
                    h = normalise_features(&h)?;
                }
                h = h.broadcast_mul(&gamma)?.broadcast_add(&beta)?;
            }
            if i < hidden {
                h = activate(&h, layer.activation)?;
            }
        }
        self.read_out(&h)
    }

    /// The last layer's outputs `z` as the field reads them: `act(z0)` first; for a radiance field
    /// with 4 outputs the colour `sigmoid(z1..=3)`; any other output through `act`.
    fn read_out(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        let activation = self.layers.last().map_or(Activation::None, |l| l.activation);
        let outputs = z.dim(1)?;
        if self.output == FieldOutput::DensityRgb && outputs == 4 {
            let sigma = activate(&z.narrow(1, 0, 1)?, activation)?;
            let colour = activate(&z.narrow(1, 1, 3)?, Activation::Sigmoid)?;
            Tensor::cat(&[sigma, colour], 1)
        } else {
            activate(z, activation)
        }
    }

    /// Encoded features `[n, encoding outputs]` at normalised positions.
    fn encode(&self, x: &[[f32; 3]]) -> candle_core::Result<Tensor> {
        let (lookups, grids, table) = match &self.encoding {
            EncodingModel::Hash { grid, table } => (hash_lookups(grid, x), grid.levels as usize, table),
            EncodingModel::Dense { grid, table } => (dense_grid_lookups(grid, x), 1, table),
        };
        let (indices, weights) = self.lookup_tensors(lookups, x.len() * grids)?;
        interpolate(table.as_tensor(), &indices, &weights, x.len(), grids)
    }

    /// Index tensor `[count · 8]` (u32) and weight tensor `[count · 8, 1]` (model dtype).
    fn lookup_tensors(&self, lookups: Lookups, count: usize) -> candle_core::Result<(Tensor, Tensor)> {
        let indices = Tensor::from_vec(lookups.indices, count * 8, &self.device)?;
        let weights = Tensor::from_vec(lookups.weights, (count * 8, 1), &self.device)?.to_dtype(self.dtype)?;
        Ok((indices, weights))
    }
}

impl Module for FieldModel {
    /// Outputs `[n, outputs]` at world points `[n, 3]` (mm); see [`FieldModel`].
    fn forward(&self, points: &Tensor) -> candle_core::Result<Tensor> {
        let points = points.to_dtype(DType::F32)?.to_vec2::<f32>()?;
        let x: Vec<[f32; 3]> = points
            .iter()
            .map(|p| match p.as_slice() {
                [a, b, c] => Ok(self.normalise([*a, *b, *c])),
                _ => Err(candle_core::Error::Msg(format!(
                    "points must be [n, 3], got rows of {}",
                    p.len()
                ))),
            })
            .collect::<candle_core::Result<_>>()?;
        self.forward_normalised(&x)
    }
}

/// A variable's values as `f32`, flattened row-major.
fn read(var: &Var) -> Result<Vec<f32>, FitError> {
    Ok(var.as_tensor().flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
}

//! Initial weights of a field to fit.

use cortexlens_data::field::{
    Activation, Cam, CamGrid, DenseGrid, DenseLayer, Encoding, FieldOutput, HashGrid, NeuralField,
};

use crate::config::{EncodingConfig, FitConfig};
use crate::rng::Rng;

/// Half-width of the uniform initialisation of encoding values (instant-ngp's `1e-4`).
const ENCODING_INIT: f32 = 1e-4;

/// A freshly initialised field for `config` over the world box `bounds_min..bounds_max`, with one
/// output read through `output`:
/// - encoding values uniform in `±1e-4` (instant-ngp);
/// - each layer's weights and biases uniform in `±1/√inputs` (PyTorch's `nn.Linear`, as in the CAM
///   paper's code); ReLU on hidden layers, no activation on the output;
/// - CAM grids (when `config.cam`) with γ = 1 and β = 0 everywhere, so modulation starts as plain
///   normalisation.
///
/// The same `config.seed` gives the same field.
pub fn initial_field(
    config: &FitConfig,
    bounds_min: [f32; 3],
    bounds_max: [f32; 3],
    output: FieldOutput,
) -> NeuralField {
    let mut rng = Rng::new(config.seed ^ 0x5EED_F1E1_D000_0001);
    let mut uniform = |n: usize, half: f32| -> Vec<f32> { (0..n).map(|_| rng.uniform(-half, half)).collect() };
    let encoding = match config.encoding {
        EncodingConfig::HashGrid {
            levels,
            features,
            log2_table_size,
            base_resolution,
            per_level_scale,
        } => Encoding::HashGrid(HashGrid {
            levels,
            features,
            log2_table_size,
            base_resolution,
            per_level_scale,
            params: uniform(config.encoding.parameter_count(), ENCODING_INIT),
        }),
        EncodingConfig::Dense { resolution, features } => Encoding::Dense(DenseGrid {
            resolution,
            features,
            values: uniform(config.encoding.parameter_count(), ENCODING_INIT),
        }),
    };
    let mut layers = Vec::with_capacity(config.hidden.len() + 1);
    let mut inputs = config.encoding.output_features();
    for (i, &outputs) in config.hidden.iter().chain(std::iter::once(&1)).enumerate() {
        let bound = 1.0 / (inputs as f32).sqrt();
        layers.push(DenseLayer {
            inputs,
            outputs,
            weight: uniform(inputs * outputs, bound),
            bias: uniform(outputs, bound),
            activation: if i < config.hidden.len() {
                Activation::Relu
            } else {
                Activation::None
            },
        });
        inputs = outputs;
    }
    let cam = config.cam.then(|| {
        let vertices: usize = config.cam_resolution.iter().map(|&r| r as usize).product();
        Cam {
            grids: (0..config.hidden.len())
                .map(|_| CamGrid {
                    resolution: config.cam_resolution,
                    scale: vec![1.0; vertices],
                    shift: vec![0.0; vertices],
                })
                .collect(),
            normalize: config.cam_normalize,
        }
    });
    NeuralField {
        bounds_min,
        bounds_max,
        encoding,
        layers,
        cam,
        output,
        occupancy: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_field_matches_the_config() {
        let mut config = FitConfig::default_hash(true);
        config.encoding = EncodingConfig::HashGrid {
            levels: 4,
            features: 2,
            log2_table_size: 10,
            base_resolution: 4,
            per_level_scale: 1.5,
        };
        let output = FieldOutput::Intensity {
            scale: 2.0,
            offset: 1.0,
        };
        let field = initial_field(&config, [0.0; 3], [1.0; 3], output);
        field.validate().unwrap();
        assert_eq!(field.parameter_count(), config.parameter_count());
        assert_eq!(field.layers.last().unwrap().activation, Activation::None);
        assert_eq!(field, initial_field(&config, [0.0; 3], [1.0; 3], output));
    }
}

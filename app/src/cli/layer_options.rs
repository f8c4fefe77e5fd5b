//! Per-layer options of `cortexlens render`, which apply to the file they follow (as in `fsleyes render`):
//! `cortexlens render base.nii.gz --colormap gray stat.nii.gz --colormap hot --threshold 3`.

use clap::ArgMatches;
use cortexlens_data::{Colormap, Interpolation, LayerStyle};

use super::CliError;

/// One layer's options as given, each `None` when not given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerOptions {
    /// `--colormap`.
    pub colormap: Option<Colormap>,
    /// `--negative-colormap` (makes the map signed).
    pub negative: Option<Colormap>,
    /// `--range lo,hi`.
    pub range: Option<(f32, f32)>,
    /// `--threshold t`.
    pub threshold: Option<f32>,
    /// `--opacity a`.
    pub opacity: Option<f32>,
    /// `--interp nearest|linear`.
    pub interpolation: Option<Interpolation>,
    /// `--frame t`.
    pub frame: Option<usize>,
}

impl LayerOptions {
    /// `style` with these options applied (a threshold without `--range` also starts the range
    /// there). Any option given shows the layer: an atlas over other layers opens hidden.
    pub fn apply(&self, mut style: LayerStyle) -> LayerStyle {
        if *self != LayerOptions::default() {
            style.visible = true;
        }
        if let Some(c) = self.colormap {
            style.set_colormap(c);
        }
        if let Some(c) = self.negative {
            style.negative = Some(c);
        }
        if let Some(t) = self.threshold {
            style.threshold = Some(t);
            // Without an explicit range, the colours start at the threshold.
            style.range = (t, style.range.1.max(t));
        }
        if let Some(r) = self.range {
            style.range = r;
        }
        if let Some(a) = self.opacity {
            style.opacity = a.clamp(0.0, 1.0);
        }
        if let Some(i) = self.interpolation {
            style.interpolation = i;
        }
        style
    }
}

/// Parse a colormap name.
pub fn parse_colormap(text: &str) -> Result<Colormap, String> {
    Colormap::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = Colormap::ALL.iter().map(|c| c.name()).collect();
        format!("unknown colormap '{text}' (one of {})", names.join(", "))
    })
}

/// Parse `lo,hi`.
pub fn parse_range(text: &str) -> Result<(f32, f32), String> {
    let (lo, hi) = text
        .split_once(',')
        .ok_or_else(|| format!("expected lo,hi, got '{text}'"))?;
    let parse = |s: &str| s.trim().parse::<f32>().map_err(|_| format!("'{s}' is not a number"));
    Ok((parse(lo)?, parse(hi)?))
}

/// Parse `nearest|linear`.
pub fn parse_interpolation(text: &str) -> Result<Interpolation, String> {
    match text {
        "nearest" => Ok(Interpolation::Nearest),
        "linear" => Ok(Interpolation::Linear),
        _ => Err(format!("expected nearest or linear, got '{text}'")),
    }
}

/// Assign each occurrence of the per-layer options to the file it follows on the command line.
pub fn collect(matches: &ArgMatches, files_id: &str, layer_count: usize) -> Result<Vec<LayerOptions>, CliError> {
    let file_positions: Vec<usize> = matches.indices_of(files_id).map(Iterator::collect).unwrap_or_default();
    let mut options = vec![LayerOptions::default(); layer_count];
    let mut assign = |id: &str, set: &mut dyn FnMut(&mut LayerOptions, usize)| -> Result<(), CliError> {
        let Some(positions) = matches.indices_of(id) else {
            return Ok(());
        };
        for (occurrence, position) in positions.enumerate() {
            let layer = file_positions
                .iter()
                .rposition(|&f| f < position)
                .ok_or_else(|| CliError::bad_input(format!("--{id} must follow the file it applies to")))?;
            set(&mut options[layer], occurrence);
        }
        Ok(())
    };
    macro_rules! per_layer {
        ($id:literal, $ty:ty, $field:ident) => {
            let values: Vec<$ty> = matches
                .get_many::<$ty>($id)
                .map(|v| v.copied().collect())
                .unwrap_or_default();
            assign($id, &mut |o, i| o.$field = Some(values[i]))?;
        };
    }
    per_layer!("colormap", Colormap, colormap);
    per_layer!("negative-colormap", Colormap, negative);
    per_layer!("range", (f32, f32), range);
    per_layer!("threshold", f32, threshold);
    per_layer!("opacity", f32, opacity);
    per_layer!("interp", Interpolation, interpolation);
    per_layer!("frame", usize, frame);
    Ok(options)
}

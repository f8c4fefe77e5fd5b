//! Transfer functions of the 3D view: value → colour and opacity, for direct volume rendering
//! (and the colour of maximum-intensity projections and isosurfaces).
//!
//! [`TransferFunction::lut`] is the definition: the GPU ray marcher and its CPU reference both
//! read the same 256-entry table, indexed by [`TransferFunction::index`] (the same rounding as
//! [`crate::LayerStyle::lut_entry`]).

use crate::colormap::{Colormap, LUT_SIZE, range_index};

/// A colormap over a value range plus a piecewise-linear opacity curve.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TransferFunction {
    /// Colour of the values: entry `i` of the colormap's table at `t = i / 255`.
    pub colormap: Colormap,
    /// Values mapped to `t = 0` and `t = 1` (values outside are clamped).
    pub range: (f32, f32),
    /// Opacity control points `[t, alpha]`, `t` and `alpha` in 0..=1, sorted by `t`; linear in
    /// between, constant beyond the first and last points. No points means opaque everywhere.
    pub opacity: Vec<[f32; 2]>,
}

impl Default for TransferFunction {
    /// [`TransferFunction::default_for`] over `0..1`.
    fn default() -> Self {
        TransferFunction::default_for((0.0, 1.0))
    }
}

impl TransferFunction {
    /// Gray over `range`, transparent in the lowest 10 % (background and noise), then an opacity
    /// ramp up to 0.8 at the top.
    pub fn default_for(range: (f32, f32)) -> Self {
        TransferFunction {
            colormap: Colormap::Gray,
            range,
            opacity: vec![[0.0, 0.0], [0.1, 0.0], [1.0, 0.8]],
        }
    }

    /// The opacity curve at `t` (see [`TransferFunction::opacity`]), clamped to 0..=1; points
    /// out of order are taken sorted by `t`, non-finite ones ignored.
    pub fn opacity_at(&self, t: f32) -> f32 {
        let points = self.opacity_points();
        opacity_on(&points, t)
    }

    /// The opacity curve's finite points, sorted by `t`.
    fn opacity_points(&self) -> Vec<[f32; 2]> {
        let mut points: Vec<[f32; 2]> = self
            .opacity
            .iter()
            .copied()
            .filter(|p| p[0].is_finite() && p[1].is_finite())
            .collect();
        points.sort_by(|a, b| a[0].total_cmp(&b[0]));
        points
    }

    /// Lookup-table entry of a value: `floor(clamp((value − lo) / (hi − lo), 0, 1) · 255 + 0.5)`,
    /// with a zero span mapping values `≥ hi` to 255 and the rest to 0; `None` for NaN and ±∞
    /// (as [`crate::LayerStyle::lut_entry`] without a threshold).
    pub fn index(&self, value: f32) -> Option<usize> {
        if !value.is_finite() {
            return None;
        }
        Some(range_index(value, self.range))
    }

    /// The table: RGB of the colormap's entry `i`, alpha the opacity curve at `t = i / 255`
    /// rounded to 8 bits.
    pub fn lut(&self) -> [[u8; 4]; LUT_SIZE] {
        let points = self.opacity_points();
        let colors = self.colormap.lut();
        std::array::from_fn(|i| {
            let alpha = opacity_on(&points, i as f32 / (LUT_SIZE - 1) as f32);
            let [r, g, b, _] = colors[i];
            [r, g, b, (alpha * 255.0).round() as u8]
        })
    }

    /// Straight RGBA (0..=1) of a value through [`TransferFunction::lut`]; transparent black for
    /// NaN and ±∞.
    pub fn sample(&self, value: f32) -> [f32; 4] {
        match self.index(value) {
            Some(i) => self.lut()[i].map(|c| c as f32 / 255.0),
            None => [0.0; 4],
        }
    }
}

/// Piecewise-linear opacity over sorted finite points, clamped to 0..=1.
fn opacity_on(points: &[[f32; 2]], t: f32) -> f32 {
    let alpha = match points {
        [] => 1.0,
        [first, ..] if t <= first[0] => first[1],
        [.., last] if t >= last[0] => last[1],
        _ => points
            .windows(2)
            .find(|w| t <= w[1][0])
            .map(|w| {
                let ([t0, a0], [t1, a1]) = (w[0], w[1]);
                if t1 > t0 {
                    a0 + (a1 - a0) * (t - t0) / (t1 - t0)
                } else {
                    a1
                }
            })
            .unwrap_or(1.0),
    };
    alpha.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_is_piecewise_linear_and_clamped() {
        let tf = TransferFunction {
            colormap: Colormap::Hot,
            range: (0.0, 100.0),
            opacity: vec![[0.2, 0.0], [0.6, 1.0], [0.4, 0.25]],
        };
        assert_eq!(tf.opacity_at(0.0), 0.0);
        assert!((tf.opacity_at(0.3) - 0.125).abs() < 1e-6);
        assert!((tf.opacity_at(0.5) - 0.625).abs() < 1e-6);
        assert_eq!(tf.opacity_at(0.9), 1.0);
        let empty = TransferFunction {
            opacity: vec![],
            ..tf.clone()
        };
        assert_eq!(empty.opacity_at(0.5), 1.0);
        let wild = TransferFunction {
            opacity: vec![[0.0, -1.0], [1.0, 3.0], [0.5, f32::NAN]],
            ..tf
        };
        assert_eq!(wild.opacity_at(0.0), 0.0);
        assert_eq!(wild.opacity_at(1.0), 1.0);
    }

    #[test]
    fn lut_and_sample() {
        let tf = TransferFunction::default_for((0.0, 255.0));
        let lut = tf.lut();
        assert_eq!(lut[0], [0, 0, 0, 0]);
        assert_eq!(lut[25], [25, 25, 25, 0]);
        assert_eq!(lut[255], [255, 255, 255, 204]);
        assert_eq!(tf.index(-3.0), Some(0));
        assert_eq!(tf.index(128.0), Some(128));
        assert_eq!(tf.index(1e9), Some(255));
        assert_eq!(tf.index(f32::NAN), None);
        assert_eq!(tf.sample(255.0), [1.0, 1.0, 1.0, 0.8]);
        assert_eq!(tf.sample(f32::INFINITY), [0.0; 4]);
        let flat = TransferFunction::default_for((5.0, 5.0));
        assert_eq!(flat.index(5.0), Some(255));
        assert_eq!(flat.index(4.9), Some(0));
    }
}

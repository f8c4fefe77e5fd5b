//! Neural fields (any function of world position) as a data source of the CPU marcher.

use glam::DVec3;

use super::march::Source;

/// A field for [`super::render_field`]: a function of world position, its box and kind.
pub struct CpuField<'a> {
    /// World point → `[value, 0, 0, 0]` (intensity fields) or `[σ, r, g, b]` (density–colour),
    /// as `NeuralField::eval`.
    pub eval: &'a dyn Fn([f32; 3]) -> [f32; 4],
    /// The box `(min, max)` in world mm.
    pub bounds: ([f32; 3], [f32; 3]),
    /// Whether the outputs are density and colour (composited NeRF-style).
    pub density_rgb: bool,
    /// Whether a world point lies in a cell that the occupancy grid marks non-empty; `None`
    /// means everywhere.
    pub occupied: Option<&'a dyn Fn([f32; 3]) -> bool>,
}

impl CpuField<'_> {
    fn at(&self, p: DVec3) -> [f32; 4] {
        (self.eval)(p.as_vec3().to_array())
    }

    fn occupied(&self, p: DVec3) -> bool {
        self.occupied.is_none_or(|f| f(p.as_vec3().to_array()))
    }
}

/// A field with the step of its central differences.
pub(super) struct FieldSource<'a> {
    pub field: &'a CpuField<'a>,
    pub step: f64,
}

impl Source for FieldSource<'_> {
    fn value(&self, p: DVec3) -> Option<f32> {
        self.field.occupied(p).then(|| self.field.at(p)[0])
    }

    fn gradient(&self, p: DVec3, _centre: f32) -> DVec3 {
        let h = self.step;
        let axes = [DVec3::X, DVec3::Y, DVec3::Z];
        DVec3::from_array(
            axes.map(|e| (self.field.at(p + e * h)[0] as f64 - self.field.at(p - e * h)[0] as f64) / (2.0 * h)),
        )
    }

    fn density(&self, p: DVec3) -> [f64; 4] {
        if !self.field.occupied(p) {
            return [0.0; 4];
        }
        let [sigma, r, g, b] = self.field.at(p).map(f64::from);
        [sigma.max(0.0), r.clamp(0.0, 1.0), g.clamp(0.0, 1.0), b.clamp(0.0, 1.0)]
    }
}

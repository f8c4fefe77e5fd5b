//! 3D Gaussian splats (Kerbl et al., SIGGRAPH 2023): each splat a Gaussian with a centre, an
//! anisotropic covariance (scales and a rotation), an opacity and a colour that depends on the
//! viewing direction through spherical harmonics (degree 0 to 3), in the scene's own coordinates.
//!
//! Values are stored activated, as renderers use them: scales are `exp` of the files' log-scales,
//! opacities `sigmoid` of their logits, rotations unit quaternions. [`Splats::color`] evaluates the
//! SH as the reference implementation does (`computeColorFromSH` in diff-gaussian-rasterization).
//!
//! Files are read by [`crate::load_path`] (3DGS and SuperSplat compressed `.ply`, `.spz`);
//! [`placement`] fits and stores the transform that puts a scene in world millimetres.

pub mod placement;
mod sh;

pub use sh::{SH_C0, sh_coefficients, sh_color};

/// A splat scene.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Splats {
    /// Display name (the file name).
    pub name: String,
    /// Centres, scene units.
    pub positions: Vec<[f32; 3]>,
    /// Standard deviations along the splat's own axes (activated: `exp` of a file's log-scale).
    pub scales: Vec<[f32; 3]>,
    /// Rotations as unit quaternions `[w, x, y, z]`.
    pub rotations: Vec<[f32; 4]>,
    /// Opacities in 0..=1 (activated: `sigmoid` of a file's logit).
    pub opacities: Vec<f32>,
    /// Degree of the spherical harmonics, 0 to 3.
    pub sh_degree: u8,
    /// SH coefficients, RGB, [`sh_coefficients`]`(sh_degree)` per splat, splat after splat;
    /// coefficient 0 is the DC term (`f_dc`), then the `f_rest` terms in SH order.
    pub sh: Vec<[f32; 3]>,
}

impl Splats {
    /// Number of splats.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The SH coefficients of splat `i`.
    pub fn coefficients(&self, i: usize) -> &[[f32; 3]] {
        let n = sh_coefficients(self.sh_degree);
        &self.sh[i * n..(i + 1) * n]
    }

    /// Colour of splat `i` seen along `direction` (from the camera to the splat, need not be unit
    /// length), RGB clamped below at 0.
    pub fn color(&self, i: usize, direction: [f32; 3]) -> [f32; 3] {
        sh_color(self.sh_degree, self.coefficients(i), direction)
    }

    /// The 3×3 covariance `R·S·Sᵀ·Rᵀ` of splat `i`, rows.
    pub fn covariance(&self, i: usize) -> [[f32; 3]; 3] {
        let [w, x, y, z] = self.rotations[i];
        let r = [
            [
                1.0 - 2.0 * (y * y + z * z),
                2.0 * (x * y - w * z),
                2.0 * (x * z + w * y),
            ],
            [
                2.0 * (x * y + w * z),
                1.0 - 2.0 * (x * x + z * z),
                2.0 * (y * z - w * x),
            ],
            [
                2.0 * (x * z - w * y),
                2.0 * (y * z + w * x),
                1.0 - 2.0 * (x * x + y * y),
            ],
        ];
        let s = self.scales[i];
        let m: [[f32; 3]; 3] = std::array::from_fn(|row| std::array::from_fn(|col| r[row][col] * s[col]));
        std::array::from_fn(|a| std::array::from_fn(|b| (0..3).map(|k| m[a][k] * m[b][k]).sum()))
    }

    /// The box around the centres, `None` when there are none.
    pub fn bounds(&self) -> Option<([f32; 3], [f32; 3])> {
        let first = *self.positions.first()?;
        Some(self.positions.iter().fold((first, first), |(lo, hi), p| {
            (
                std::array::from_fn(|a| lo[a].min(p[a])),
                std::array::from_fn(|a| hi[a].max(p[a])),
            )
        }))
    }

    /// Checks that the arrays agree with each other and hold finite values; returns what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.len();
        let lengths = [self.scales.len(), self.rotations.len(), self.opacities.len()];
        if lengths.iter().any(|&l| l != n) {
            return Err(format!("{n} positions but scales, rotations, opacities {lengths:?}"));
        }
        if self.sh_degree > 3 {
            return Err(format!("SH degree {} (at most 3)", self.sh_degree));
        }
        if self.sh.len() != n * sh_coefficients(self.sh_degree) {
            return Err(format!(
                "{} SH coefficients for {n} splats of degree {}",
                self.sh.len(),
                self.sh_degree
            ));
        }
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        let bad = (0..n).find(|&i| {
            !finite(&self.positions[i])
                || !finite(&self.scales[i])
                || !finite(&self.rotations[i])
                || !self.opacities[i].is_finite()
                || !self.coefficients(i).iter().all(|c| finite(c))
        });
        match bad {
            Some(i) => Err(format!("splat {i} has a value that is not finite")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;

//! Spherical-harmonic colour of a splat, with the constants and sign conventions of the 3DGS
//! reference rasteriser (`computeColorFromSH`, diff-gaussian-rasterization), whose `.ply` files
//! store the coefficients.

/// `Y₀⁰`: colour = 0.5 + `SH_C0`·DC (+ higher bands).
pub const SH_C0: f32 = 0.282_094_8;
const SH_C1: f32 = 0.488_602_5;
const SH_C2: [f32; 5] = [1.092_548_4, -1.092_548_4, 0.315_391_57, -1.092_548_4, 0.546_274_2];
const SH_C3: [f32; 7] = [
    -0.590_043_6,
    2.890_611_4,
    -0.457_045_8,
    0.373_176_33,
    -0.457_045_8,
    1.445_305_7,
    -0.590_043_6,
];

/// Coefficients per colour channel of degree `degree`: `(degree + 1)²`.
pub fn sh_coefficients(degree: u8) -> usize {
    (usize::from(degree) + 1).pow(2)
}

/// The colour of SH coefficients `sh` (RGB, at least [`sh_coefficients`]`(degree)`) seen along
/// `direction` (camera to splat), `0.5` added and clamped below at 0.
pub fn sh_color(degree: u8, sh: &[[f32; 3]], direction: [f32; 3]) -> [f32; 3] {
    let length = direction.iter().map(|d| d * d).sum::<f32>().sqrt();
    let [x, y, z] = if length > 0.0 {
        direction.map(|d| d / length)
    } else {
        [0.0, 0.0, 1.0]
    };
    let mut basis = vec![SH_C0];
    if degree >= 1 {
        basis.extend([-SH_C1 * y, SH_C1 * z, -SH_C1 * x]);
    }
    if degree >= 2 {
        let (xx, yy, zz, xy, yz, xz) = (x * x, y * y, z * z, x * y, y * z, x * z);
        basis.extend([
            SH_C2[0] * xy,
            SH_C2[1] * yz,
            SH_C2[2] * (2.0 * zz - xx - yy),
            SH_C2[3] * xz,
            SH_C2[4] * (xx - yy),
        ]);
        if degree >= 3 {
            basis.extend([
                SH_C3[0] * y * (3.0 * xx - yy),
                SH_C3[1] * xy * z,
                SH_C3[2] * y * (4.0 * zz - xx - yy),
                SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy),
                SH_C3[4] * x * (4.0 * zz - xx - yy),
                SH_C3[5] * z * (xx - yy),
                SH_C3[6] * x * (xx - 3.0 * yy),
            ]);
        }
    }
    std::array::from_fn(|c| (0.5 + basis.iter().zip(sh).map(|(b, k)| b * k[c]).sum::<f32>()).max(0.0))
}

//! The slice picture computed on the CPU (positions in f64, values through
//! [`LayerStyle::lut_entry`] as [`LayerStyle::shade`] does), to test the GPU reslicer against.
//!
//! It follows the GPU's definition step by step but shares none of its code paths: pixels go
//! through [`SliceGeometry::pixel_to_world`] (not `pixel_axes`), voxels through the f64
//! inverse of the volume's affine, colours through `LayerStyle::lut_entry` and
//! `Colormap::lut`, and blending is done per layer on 8-bit values as the target stores them.

use cortexlens_data::{Interpolation, LayerStyle, SliceGeometry, Volume};
use glam::{DVec2, DVec3};

use crate::style_uniform::clamp_opacity;

/// The picture of `layers` (volume, frame, style; bottom first) in `geometry`, as tightly
/// packed RGBA8, top row first: opaque black, then each visible layer blended
/// `src·a + dst·(1 − a)` with `a` its opacity.
pub fn reslice(geometry: &SliceGeometry, layers: &[(&Volume, usize, &LayerStyle)]) -> Vec<u8> {
    let (width, height) = (geometry.width.max(1) as usize, geometry.height.max(1) as usize);
    let mut pixels = [0u8, 0, 0, 255].repeat(width * height);
    for &(volume, frame, style) in layers {
        if !style.visible || volume.frames() == 0 || volume.frame_len() == 0 {
            continue;
        }
        let world_to_voxel = volume.affine.inverse();
        if !world_to_voxel.is_finite() {
            continue;
        }
        let frame = frame.min(volume.frames() - 1);
        // `LayerStyle::shade` rebuilds a LUT per call; look the entries up in tables built once.
        let a = clamp_opacity(style.opacity);
        let luts: Vec<_> = [Some(style.colormap), style.negative]
            .into_iter()
            .flatten()
            .map(|c| (c, c.lut()))
            .collect();
        for y in 0..height {
            for x in 0..width {
                let world = geometry.pixel_to_world(DVec2::new(x as f64 + 0.5, y as f64 + 0.5));
                let p = world_to_voxel.transform_point3(world);
                let Some(value) = sample(volume, frame, p, style.interpolation) else {
                    continue;
                };
                let Some((colormap, index)) = style.lut_entry(value) else {
                    continue;
                };
                let Some((_, lut)) = luts.iter().find(|(c, _)| *c == colormap) else {
                    continue;
                };
                let [r, g, b, _] = lut[index].map(|c| c as f32 / 255.0);
                let dst = &mut pixels[(y * width + x) * 4..][..3];
                for (d, s) in dst.iter_mut().zip([r, g, b]) {
                    let blended = s * a + (*d as f32 / 255.0) * (1.0 - a);
                    *d = (blended * 255.0).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
    pixels
}

/// The value of frame `frame` at continuous voxel coordinate `p` (voxel centres at integers),
/// as the slice shader samples it; `None` outside the grid or where the value is not finite.
///
/// - Nearest: voxel `floor(p + 0.5)`, which must lie inside the grid.
/// - Linear: `p` must lie within `−0.5 ..= n − 0.5` on every axis; trilinear from the eight
///   neighbours `floor(p)` and `floor(p) + 1`, indices clamped to the grid; `None` when any of
///   the eight is not finite.
pub fn sample(volume: &Volume, frame: usize, p: DVec3, interpolation: Interpolation) -> Option<f32> {
    let n = [volume.shape[0], volume.shape[1], volume.shape[2]];
    if frame >= volume.frames() || n.contains(&0) {
        return None;
    }
    let data = volume.frame(frame);
    let at = |i: [usize; 3]| data[i[0] + n[0] * (i[1] + n[1] * i[2])];
    let p = p.to_array();
    match interpolation {
        Interpolation::Nearest => {
            let i = p.map(|c| (c + 0.5).floor());
            if !(0..3).all(|a| i[a] >= 0.0 && i[a] < n[a] as f64) {
                return None;
            }
            let v = at(i.map(|c| c as usize));
            v.is_finite().then_some(v)
        }
        Interpolation::Linear => {
            if !(0..3).all(|a| p[a] >= -0.5 && p[a] <= n[a] as f64 - 0.5) {
                return None;
            }
            let f0 = p.map(f64::floor);
            let w = [0, 1, 2].map(|a| p[a] - f0[a]);
            let i0 = [0, 1, 2].map(|a| (f0[a] as i64).clamp(0, n[a] as i64 - 1) as usize);
            let i1 = [0, 1, 2].map(|a| (f0[a] as i64 + 1).clamp(0, n[a] as i64 - 1) as usize);
            let corner = |dx: bool, dy: bool, dz: bool| {
                at([
                    if dx { i1[0] } else { i0[0] },
                    if dy { i1[1] } else { i0[1] },
                    if dz { i1[2] } else { i0[2] },
                ])
            };
            let corners = [
                corner(false, false, false),
                corner(true, false, false),
                corner(false, true, false),
                corner(true, true, false),
                corner(false, false, true),
                corner(true, false, true),
                corner(false, true, true),
                corner(true, true, true),
            ];
            if !corners.iter().all(|v| v.is_finite()) {
                return None;
            }
            let [v000, v100, v010, v110, v001, v101, v011, v111] = corners.map(f64::from);
            let lerp = |a: f64, b: f64, t: f64| a * (1.0 - t) + b * t;
            let c0 = lerp(lerp(v000, v100, w[0]), lerp(v010, v110, w[0]), w[1]);
            let c1 = lerp(lerp(v001, v101, w[0]), lerp(v011, v111, w[0]), w[1]);
            Some(lerp(c0, c1, w[2]) as f32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cortexlens_data::Plane;
    use glam::DMat4;

    fn ramp() -> Volume {
        Volume::from_f32(
            "ramp",
            [4, 3, 2, 1],
            DMat4::IDENTITY,
            (0..24).map(|i| i as f32).collect(),
        )
    }

    #[test]
    fn nearest_and_linear_bounds() {
        let v = ramp();
        let s = |p: [f64; 3], m| sample(&v, 0, DVec3::from_array(p), m);
        assert_eq!(s([0.0, 0.0, 0.0], Interpolation::Nearest), Some(0.0));
        assert_eq!(s([3.49, 2.0, 1.0], Interpolation::Nearest), Some(23.0));
        assert_eq!(s([3.5, 2.0, 1.0], Interpolation::Nearest), None);
        assert_eq!(s([-0.5, 0.0, 0.0], Interpolation::Nearest), Some(0.0));
        assert_eq!(s([-0.51, 0.0, 0.0], Interpolation::Nearest), None);
        // Linear: x + 4y + 12z is linear, so trilinear reproduces it inside the grid …
        assert_eq!(s([1.25, 0.5, 0.5], Interpolation::Linear), Some(1.25 + 2.0 + 6.0));
        // … and clamps to the edge voxels within the outer half voxel.
        assert_eq!(s([3.5, 2.0, 1.0], Interpolation::Linear), Some(23.0));
        assert_eq!(s([-0.5, 0.0, 0.0], Interpolation::Linear), Some(0.0));
        assert_eq!(s([3.51, 2.0, 1.0], Interpolation::Linear), None);
    }

    #[test]
    fn nan_neighbours_hide_the_pixel() {
        let mut v = ramp();
        v.data[1] = f32::NAN;
        assert_eq!(
            sample(&v, 0, DVec3::new(0.0, 0.0, 0.0), Interpolation::Nearest),
            Some(0.0)
        );
        assert_eq!(sample(&v, 0, DVec3::new(0.0, 0.0, 0.0), Interpolation::Linear), None);
        assert_eq!(sample(&v, 0, DVec3::new(1.0, 0.0, 0.0), Interpolation::Nearest), None);
    }

    #[test]
    fn blends_layers_over_black() {
        let v = ramp();
        let g = SliceGeometry::fit(
            Plane::Axial,
            DVec3::ZERO,
            DVec3::new(1.5, 1.0, 0.0),
            DVec2::new(4.0, 3.0),
            4,
            3,
        );
        let base = LayerStyle::base((0.0, 255.0));
        let mut half = LayerStyle::base((0.0, 0.0));
        half.opacity = 0.25;
        let pixels = reslice(&g, &[(&v, 0, &base), (&v, 0, &half)]);
        // Top-left pixel shows voxel (0, 2, 0) = 8; bottom-right (3, 0, 0) = 3.
        // Zero span: values ≥ hi are white: 8·0.75 + 255·0.25 = 69.75 → 70.
        assert_eq!(&pixels[..4], &[70, 70, 70, 255]);
        let last = pixels.len() - 4;
        assert_eq!(&pixels[last..], &[66, 66, 66, 255]);
    }
}

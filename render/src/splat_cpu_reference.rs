//! The CPU reference for the splat renderer: the same projection ([`crate::splats::project`]),
//! the same SH colour rounded to 8 bits as the shader packs it, every splat at every pixel of
//! its square (splats whose centre a clip plane removes left out), composited front to back in f64 (`C += T·α·c`, `T ·= 1 − α`, then `C + T·bg`).
//! Slow and exact: for tests on small scenes.

use cortexlens_data::camera::OrbitCamera;
use cortexlens_data::splats::sh_color;
use glam::{Vec2, Vec3};

use crate::splats::SplatData;
use crate::splats::project::{LOW_PASS, Projected, alpha_at, project_with_low_pass};

/// `data` seen by `camera` at `size`, over `background` (RGB 0..=1), as RGBA8 rows.
pub fn rasterise_splats(
    data: &SplatData,
    camera: &OrbitCamera,
    size: (u32, u32),
    background: [f32; 3],
    opacity_scale: f32,
    size_scale: f32,
    clip_planes: &[crate::ClipPlane],
) -> Vec<u8> {
    let scales = (opacity_scale, size_scale);
    composite(
        project_splats(data, camera, size, scales, clip_planes, LOW_PASS),
        size,
        background,
    )
}

/// Every splat of `data` projected for `camera` at `size` with `low_pass` (see
/// [`project_with_low_pass`]), opacity and size scaled by `(opacity_scale, size_scale)`, with its
/// colour as the shader packs it; splats whose centre a clip plane removes are left out.
pub fn project_splats(
    data: &SplatData,
    camera: &OrbitCamera,
    size: (u32, u32),
    (opacity_scale, size_scale): (f32, f32),
    clip_planes: &[crate::ClipPlane],
    low_pass: f32,
) -> Vec<(Projected, [f32; 3], f32)> {
    let eye = camera.eye();
    (0..data.len())
        .filter_map(|i| {
            let [x, y, z, opacity] = data.position_opacity[i];
            let center = Vec3::new(x, y, z);
            let cut = clip_planes
                .iter()
                .any(|c| Vec3::from_array(c.normal).dot(center) > c.offset);
            if cut {
                return None;
            }
            let cov = data.covariance(i).map(|row| row.map(|v| v * size_scale * size_scale));
            let projected = project_with_low_pass(camera, size, center, cov, low_pass)?;
            let dir = data.world_to_scene * (center - eye);
            let colour = sh_color(data.sh_degree, &data.coefficients(i), dir.to_array())
                .map(|c| (c.clamp(0.0, 1.0) * 255.0).round() / 255.0);
            Some((projected, colour, opacity * opacity_scale))
        })
        .collect()
}

/// Projected splats (with colour 0..=1 and opacity) composited front to back over `background`
/// at `size`: RGBA8 rows.
pub fn composite(
    mut splats: Vec<(Projected, [f32; 3], f32)>,
    (width, height): (u32, u32),
    background: [f32; 3],
) -> Vec<u8> {
    splats.sort_by(|a, b| a.0.depth.total_cmp(&b.0.depth));
    let mut colour = vec![[0f64; 3]; (width * height) as usize];
    let mut transmittance = vec![1f64; (width * height) as usize];
    for (projected, rgb, opacity) in &splats {
        let r = projected.radius;
        let (x0, x1) = (
            (projected.center.x - r).floor().max(0.0),
            (projected.center.x + r).ceil().min(width as f32),
        );
        let (y0, y1) = (
            (projected.center.y - r).floor().max(0.0),
            (projected.center.y + r).ceil().min(height as f32),
        );
        for py in y0 as u32..y1.max(y0) as u32 {
            for px in x0 as u32..x1.max(x0) as u32 {
                let pixel = Vec2::new(px as f32 + 0.5, py as f32 + 0.5);
                // The shader's quad covers centre ± radius: pixels whose centre lies outside get nothing.
                let d = (pixel - projected.center).abs();
                if d.x > r || d.y > r {
                    continue;
                }
                let alpha = f64::from(alpha_at(projected, *opacity, pixel));
                if alpha == 0.0 {
                    continue;
                }
                let at = (py * width + px) as usize;
                for c in 0..3 {
                    colour[at][c] += transmittance[at] * alpha * f64::from(rgb[c]);
                }
                transmittance[at] *= 1.0 - alpha;
            }
        }
    }
    colour
        .iter()
        .zip(&transmittance)
        .flat_map(|(c, t)| {
            let channel = |i: usize| ((c[i] + t * f64::from(background[i])).clamp(0.0, 1.0) * 255.0).round() as u8;
            [channel(0), channel(1), channel(2), 255]
        })
        .collect()
}

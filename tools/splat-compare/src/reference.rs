//! `rasterise_splats` with the low-pass filter (`LOW_PASS`, 0.3 px² added to the 2D covariance's
//! diagonal, as 3DGS does) as a parameter: at 0.3 it is the CPU reference itself (checked in
//! debug builds), at 0 it tells how much of a renderer's difference comes from leaving it out.
//! Copied from render/src/splat_cpu_reference.rs and render/src/splats/project.rs; no clip planes,
//! opacity and size scales 1.

use cortexlens_data::camera::OrbitCamera;
use cortexlens_data::splats::sh_color;
use cortexlens_render::SplatData;
use cortexlens_render::splats::project::{Projected, alpha_at, focal};
use glam::{Mat3, Vec2, Vec3};

/// `project` of render/src/splats/project.rs with `low_pass` for its `LOW_PASS`.
fn project(
    camera: &OrbitCamera,
    (width, height): (u32, u32),
    center: Vec3,
    cov: [[f32; 3]; 3],
    low_pass: f32,
) -> Option<Projected> {
    let view = camera.view();
    let t = view.transform_point3(center);
    let depth = -t.z;
    let (near, _) = camera.clip_planes();
    if depth <= near {
        return None;
    }
    let f = focal(camera, height);
    let screen = Vec2::new(
        width as f32 * 0.5 + f * t.x / depth,
        height as f32 * 0.5 - f * t.y / depth,
    );
    let tan_y = (camera.fov_y * 0.5).tan();
    let tan_x = tan_y * width as f32 / height.max(1) as f32;
    let x = (t.x / depth).clamp(-1.3 * tan_x, 1.3 * tan_x) * depth;
    let y = (t.y / depth).clamp(-1.3 * tan_y, 1.3 * tan_y) * depth;
    let j = [
        Vec3::new(f / depth, 0.0, f * x / (depth * depth)),
        Vec3::new(0.0, -f / depth, -f * y / (depth * depth)),
    ];
    let w = Mat3::from_mat4(view);
    let sigma = Mat3::from_cols_array_2d(&cov).transpose();
    let world_to_screen = |row: Vec3| w.transpose() * row;
    let (j0, j1) = (world_to_screen(j[0]), world_to_screen(j[1]));
    let a = j0.dot(sigma * j0) + low_pass;
    let b = j0.dot(sigma * j1);
    let c = j1.dot(sigma * j1) + low_pass;
    let det = a * c - b * b;
    if det.is_nan() || det <= 0.0 {
        return None;
    }
    let mid = 0.5 * (a + c);
    let lambda = mid + (mid * mid - det).max(0.1).sqrt();
    Some(Projected {
        center: screen,
        conic: [c / det, -b / det, a / det],
        radius: (3.0 * lambda.sqrt()).ceil(),
        depth,
    })
}

/// `rasterise_splats(data, camera, size, background, 1.0, 1.0, &[])` with `low_pass`.
pub fn rasterise(
    data: &SplatData,
    camera: &OrbitCamera,
    (width, height): (u32, u32),
    background: [f32; 3],
    low_pass: f32,
) -> Vec<u8> {
    let eye = camera.eye();
    let mut splats: Vec<(Projected, [f32; 3], f32)> = (0..data.len())
        .filter_map(|i| {
            let [x, y, z, opacity] = data.position_opacity[i];
            let center = Vec3::new(x, y, z);
            let projected = project(camera, (width, height), center, data.covariance(i), low_pass)?;
            let dir = data.world_to_scene * (center - eye);
            let colour = sh_color(data.sh_degree, &data.coefficients(i), dir.to_array())
                .map(|c| (c.clamp(0.0, 1.0) * 255.0).round() / 255.0);
            Some((projected, colour, opacity))
        })
        .collect();
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

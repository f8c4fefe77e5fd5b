//! A splat's projection to the screen, as 3DGS's reference rasteriser does it (EWA splatting:
//! the 3D covariance through the view rotation and the projection's Jacobian at the centre, plus
//! 0.3 px² of low-pass), shared by the CPU reference and mirrored by `splat_preprocess.wgsl`.
//!
//! Pixel coordinates as [`cortexlens_data::camera::OrbitCamera::ray`]: x right, y down, pixel
//! `(i, j)`'s centre at `(i + 0.5, j + 0.5)`.

use cortexlens_data::camera::OrbitCamera;
use glam::{Mat3, Vec2, Vec3};

/// What a pixel needs of a projected splat.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Projected {
    /// Centre, pixels.
    pub center: Vec2,
    /// The inverse of the 2D covariance: `[a, b, c]` of `[[a, b], [b, c]]`.
    pub conic: [f32; 3],
    /// Half-width of the square the splat covers (3 σ of its larger axis), pixels.
    pub radius: f32,
    /// Distance from the eye along the viewing axis, world units.
    pub depth: f32,
}

/// Low-pass filter added to the 2D covariance's diagonal (pixels²), as in 3DGS.
pub const LOW_PASS: f32 = 0.3;

/// Smallest alpha drawn (3DGS: 1/255), and the largest (0.99).
pub const ALPHA_MIN: f32 = 1.0 / 255.0;
/// Largest alpha of one splat at one pixel.
pub const ALPHA_MAX: f32 = 0.99;

/// Focal length in pixels of `camera` for an image `height` pixels high.
pub fn focal(camera: &OrbitCamera, height: u32) -> f32 {
    height as f32 / (2.0 * (camera.fov_y * 0.5).tan())
}

/// Project a splat of world centre `center` and world covariance `cov` (rows) for a
/// `width × height` image; `None` when it lies behind the near plane or its 2D covariance is
/// degenerate.
pub fn project(camera: &OrbitCamera, size: (u32, u32), center: Vec3, cov: [[f32; 3]; 3]) -> Option<Projected> {
    project_with_low_pass(camera, size, center, cov, LOW_PASS)
}

/// [`project`] with `low_pass` px² on the 2D covariance's diagonal instead of [`LOW_PASS`] (0:
/// none), to measure what the filter does to a picture.
pub fn project_with_low_pass(
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
    // Jacobian of (x, y, z) ↦ (f·x/d, −f·y/d), d = −z, at t with x/d and y/d limited to 1.3× the
    // half field of view (as 3DGS does, so splats far off screen do not blow up).
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

/// The alpha of a splat of opacity `opacity` at the pixel centre `pixel`, 0 below [`ALPHA_MIN`].
pub fn alpha_at(projected: &Projected, opacity: f32, pixel: Vec2) -> f32 {
    let d = pixel - projected.center;
    let [a, b, c] = projected.conic;
    let power = -0.5 * (a * d.x * d.x + c * d.y * d.y) - b * d.x * d.y;
    if power > 0.0 {
        return 0.0;
    }
    let alpha = (opacity * power.exp()).min(ALPHA_MAX);
    if alpha < ALPHA_MIN { 0.0 } else { alpha }
}

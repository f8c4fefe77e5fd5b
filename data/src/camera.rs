//! The surface view's camera: an orbit camera around a target point, its standard views
//! (lateral, medial, dorsal, …), picking rays and ray–mesh picking.
//!
//! Pure `glam` maths, no GPU: the renderer, its CPU reference and the app's picking all use
//! these matrices, so what is drawn and what is picked agree.
//!
//! Conventions:
//! - World space is RAS+ millimetres (x right, y anterior, z superior); z is up.
//! - The eye sits at `target + distance · (cos pitch · cos yaw, cos pitch · sin yaw, sin pitch)`:
//!   yaw 0 looks from +x (from the right), yaw 90° from +y (the front), pitch 90° from above.
//! - The camera's up vector is the derivative of that direction by pitch, so it is defined at
//!   every pitch, the poles included (where it points to `−(cos yaw, sin yaw, 0)`).
//! - Pixels: `(0, 0)` is the top-left corner of the image, y grows downwards, and pixel
//!   `(i, j)` covers `i..i + 1 × j..j + 1`, so its centre is `(i + 0.5, j + 0.5)` (the same
//!   convention as wgpu's fragment positions).
//! - Projection: right-handed perspective with depth 0 (near) ..= 1 (far), as wgpu expects.

use std::f32::consts::{FRAC_PI_2, PI};

use glam::{Mat4, Vec3};

/// Default vertical field of view: 30°, as Freeview's 3D view.
pub const DEFAULT_FOV_Y: f32 = 30.0 * PI / 180.0;

/// Fraction of the image height (and of the width of a square image) that
/// [`OrbitCamera::preset`] fills with the bounds.
pub const FRAME_FILL: f32 = 0.95;

/// Near and far clipping planes as fractions and multiples of [`OrbitCamera::distance`].
const NEAR_FRACTION: f32 = 0.05;
const FAR_MULTIPLE: f32 = 20.0;

/// Smallest and largest allowed distance from the target, in mm.
const MIN_DISTANCE: f32 = 1e-3;
const MAX_DISTANCE: f32 = 1e7;

/// A camera orbiting `target`, looking at it from `distance` millimetres.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrbitCamera {
    /// The point looked at (world RAS+ mm); orbiting turns around it.
    pub target: Vec3,
    /// Azimuth of the eye around the z axis, radians (0: eye on +x, π/2: eye on +y).
    pub yaw: f32,
    /// Elevation of the eye above the xy plane, radians, within −π/2..=π/2.
    pub pitch: f32,
    /// Distance from the eye to the target, mm (positive).
    pub distance: f32,
    /// Vertical field of view, radians.
    pub fov_y: f32,
}

/// The standard views of a cortical surface. Each looks at the bounds given to
/// [`OrbitCamera::preset`] from one side; for medial views pass the bounds of the hemisphere
/// shown (and hide the other one, which would be in front of it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CameraPreset {
    /// From the left (−x), anterior to the left of the image.
    LateralLeft,
    /// From the right (+x) onto the left hemisphere's medial wall, anterior to the right.
    MedialLeft,
    /// From the right (+x), anterior to the right.
    LateralRight,
    /// From the left (−x) onto the right hemisphere's medial wall, anterior to the left.
    MedialRight,
    /// From above (+z), anterior up, the subject's right on the right.
    Dorsal,
    /// From below (−z), anterior up, the subject's right on the left.
    Ventral,
    /// From the front (+y), the subject's right on the left, superior up.
    Anterior,
    /// From behind (−y), the subject's right on the right, superior up.
    Posterior,
}

impl CameraPreset {
    /// Every preset, in menu order.
    pub const ALL: [CameraPreset; 8] = [
        CameraPreset::LateralLeft,
        CameraPreset::MedialLeft,
        CameraPreset::LateralRight,
        CameraPreset::MedialRight,
        CameraPreset::Dorsal,
        CameraPreset::Ventral,
        CameraPreset::Anterior,
        CameraPreset::Posterior,
    ];

    /// Name as used on the command line (`--camera lateral-left`).
    pub fn name(self) -> &'static str {
        match self {
            CameraPreset::LateralLeft => "lateral-left",
            CameraPreset::MedialLeft => "medial-left",
            CameraPreset::LateralRight => "lateral-right",
            CameraPreset::MedialRight => "medial-right",
            CameraPreset::Dorsal => "dorsal",
            CameraPreset::Ventral => "ventral",
            CameraPreset::Anterior => "anterior",
            CameraPreset::Posterior => "posterior",
        }
    }

    /// Parse a name as printed by [`CameraPreset::name`] (case and surrounding space ignored,
    /// `_` accepted for `-`).
    pub fn from_name(name: &str) -> Option<CameraPreset> {
        let name = name.trim().to_ascii_lowercase().replace('_', "-");
        CameraPreset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// `(yaw, pitch)` of the eye for this view.
    pub fn angles(self) -> (f32, f32) {
        match self {
            CameraPreset::LateralLeft | CameraPreset::MedialRight => (PI, 0.0),
            CameraPreset::LateralRight | CameraPreset::MedialLeft => (0.0, 0.0),
            // At the poles the up vector is −(cos yaw, sin yaw, 0): yaw −90° / +90° make it +y.
            CameraPreset::Dorsal => (-FRAC_PI_2, FRAC_PI_2),
            CameraPreset::Ventral => (FRAC_PI_2, -FRAC_PI_2),
            CameraPreset::Anterior => (FRAC_PI_2, 0.0),
            CameraPreset::Posterior => (-FRAC_PI_2, 0.0),
        }
    }
}

impl OrbitCamera {
    /// The camera of `preset` framing the axis-aligned box `bounds` (`(min, max)`, world mm):
    /// it looks at the box's centre from the nearest distance at which all eight corners fall
    /// within [`FRAME_FILL`] of a square image's height and width (field of view
    /// [`DEFAULT_FOV_Y`]); wider images show more on the sides. Empty or non-finite bounds
    /// frame a 1 mm box at the origin.
    pub fn preset(preset: CameraPreset, bounds: ([f32; 3], [f32; 3])) -> OrbitCamera {
        let (lo, hi) = (Vec3::from_array(bounds.0), Vec3::from_array(bounds.1));
        let (lo, hi) = if lo.is_finite() && hi.is_finite() && lo.cmple(hi).all() {
            (lo, hi)
        } else {
            (Vec3::splat(-0.5), Vec3::splat(0.5))
        };
        let (yaw, pitch) = preset.angles();
        let mut camera = OrbitCamera {
            target: (lo + hi) * 0.5,
            yaw,
            pitch,
            distance: 1.0,
            fov_y: DEFAULT_FOV_Y,
        };
        // A corner at (x, y) across the view and z towards the eye from the target is inside
        // when max(|x|, |y|) ≤ FRAME_FILL · tan(fov / 2) · (distance − z).
        let tan = FRAME_FILL * (DEFAULT_FOV_Y * 0.5).tan();
        let (right, up, back) = (camera.right(), camera.up(), camera.backward());
        let half = (hi - lo) * 0.5;
        let mut distance = 0.5f32;
        for corner in 0..8 {
            let sign = |bit: usize| if corner & bit == 0 { -1.0 } else { 1.0 };
            let c = Vec3::new(sign(1) * half.x, sign(2) * half.y, sign(4) * half.z);
            let across = c.dot(right).abs().max(c.dot(up).abs());
            distance = distance.max(c.dot(back) + across / tan);
            // Keep every corner well beyond the near plane (distance / 20).
            distance = distance.max(c.dot(back) / 0.9);
        }
        camera.distance = distance.clamp(MIN_DISTANCE, MAX_DISTANCE);
        camera
    }

    /// Unit vector from the target towards the eye.
    pub fn backward(&self) -> Vec3 {
        let (sy, cy) = self.yaw.sin_cos();
        let (sp, cp) = self.pitch.sin_cos();
        Vec3::new(cp * cy, cp * sy, sp)
    }

    /// Unit up vector of the image (perpendicular to the viewing direction).
    pub fn up(&self) -> Vec3 {
        let (sy, cy) = self.yaw.sin_cos();
        let (sp, cp) = self.pitch.sin_cos();
        Vec3::new(-sp * cy, -sp * sy, cp)
    }

    /// Unit vector pointing to the right of the image.
    pub fn right(&self) -> Vec3 {
        (-self.backward()).cross(self.up())
    }

    /// Position of the eye (world mm).
    pub fn eye(&self) -> Vec3 {
        self.target + self.backward() * self.distance
    }

    /// World → view (camera looks down −z, y up).
    pub fn view(&self) -> Mat4 {
        Mat4::look_at_rh(self.eye(), self.target, self.up())
    }

    /// `(near, far)` clipping distances: `distance / 20` and `20 · distance`.
    pub fn clip_planes(&self) -> (f32, f32) {
        (self.distance * NEAR_FRACTION, self.distance * FAR_MULTIPLE)
    }

    /// View → clip space for an image of `aspect` = width / height (depth 0..=1).
    pub fn projection(&self, aspect: f32) -> Mat4 {
        let (near, far) = self.clip_planes();
        let aspect = if aspect.is_finite() && aspect > 0.0 {
            aspect
        } else {
            1.0
        };
        Mat4::perspective_rh(self.fov_y, aspect, near, far)
    }

    /// World → clip space: `projection(aspect) · view()`.
    pub fn view_projection(&self, aspect: f32) -> Mat4 {
        self.projection(aspect) * self.view()
    }

    /// Turn around the target as a drag would: `dx_radians > 0` (pointer moving right) turns
    /// the surface to the right (the eye moves left), `dy_radians > 0` (pointer moving down)
    /// tips the top of the surface towards the viewer (the eye rises). Pitch stops at ±90°.
    pub fn orbit(&mut self, dx_radians: f32, dy_radians: f32) {
        if dx_radians.is_finite() {
            self.yaw = (self.yaw - dx_radians).rem_euclid(2.0 * PI);
        }
        if dy_radians.is_finite() {
            self.pitch = (self.pitch + dy_radians).clamp(-FRAC_PI_2, FRAC_PI_2);
        }
    }

    /// Move closer by `factor` (> 1 zooms in, < 1 zooms out): `distance /= factor`.
    /// Non-positive or non-finite factors are ignored.
    pub fn zoom(&mut self, factor: f32) {
        if factor.is_finite() && factor > 0.0 {
            self.distance = (self.distance / factor).clamp(MIN_DISTANCE, MAX_DISTANCE);
        }
    }

    /// Move the target in the image plane so that what lies at the target's depth follows a
    /// drag of `(dx_px, dy_px)` pixels (x right, y down) in a viewport `viewport_height_px` high.
    pub fn pan(&mut self, dx_px: f32, dy_px: f32, viewport_height_px: f32) {
        if !(viewport_height_px > 0.0 && dx_px.is_finite() && dy_px.is_finite()) {
            return;
        }
        let mm_per_px = 2.0 * self.distance * (self.fov_y * 0.5).tan() / viewport_height_px;
        self.target += (-self.right() * dx_px + self.up() * dy_px) * mm_per_px;
    }

    /// The ray through the image point `(px, py)` of a `width × height` image (pixel
    /// coordinates as in the module docs: pixel `(i, j)`'s centre is `(i + 0.5, j + 0.5)`).
    /// Returns the eye and the unit direction.
    pub fn ray(&self, px: f32, py: f32, width: f32, height: f32) -> (Vec3, Vec3) {
        let (width, height) = (width.max(1.0), height.max(1.0));
        let ndc_x = 2.0 * px / width - 1.0;
        let ndc_y = 1.0 - 2.0 * py / height;
        let tan = (self.fov_y * 0.5).tan();
        let aspect = width / height;
        let dir = -self.backward() + self.right() * (ndc_x * tan * aspect) + self.up() * (ndc_y * tan);
        (self.eye(), dir.normalize())
    }
}

/// Where a ray hits a set of meshes: see [`pick`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pick {
    /// Index of the mesh hit, in the slice given to [`pick`].
    pub mesh: usize,
    /// The corner of the hit triangle nearest to the hit point.
    pub vertex: usize,
    /// Index of the triangle hit.
    pub triangle: usize,
    /// The hit point (world mm, offset included).
    pub point: Vec3,
    /// Distance along the ray to the hit point.
    pub distance: f32,
}

/// A mesh for [`pick`]: displayed vertex positions, triangles, and the offset added to every
/// vertex when it is drawn.
pub type PickMesh<'a> = (&'a [[f32; 3]], &'a [[u32; 3]], Vec3);

/// The nearest triangle hit by `ray` (origin, unit direction) in front of its origin, over all
/// meshes; both faces count. Möller–Trumbore per triangle; triangles with an out-of-range
/// vertex index are skipped. Ties keep the first mesh and triangle.
pub fn pick(ray: (Vec3, Vec3), meshes: &[PickMesh<'_>]) -> Option<Pick> {
    let (origin, dir) = ray;
    let mut best: Option<Pick> = None;
    for (m, &(vertices, triangles, offset)) in meshes.iter().enumerate() {
        // Intersect in the mesh's own coordinates: the ray moves by −offset.
        let local_origin = origin - offset;
        for (t, tri) in triangles.iter().enumerate() {
            let Some(corners) = corners(vertices, tri) else {
                continue;
            };
            let Some(distance) = intersect(local_origin, dir, corners) else {
                continue;
            };
            if best.is_some_and(|b| b.distance <= distance) {
                continue;
            }
            let local = local_origin + dir * distance;
            let nearest = (0..3)
                .min_by(|&a, &b| {
                    corners[a]
                        .distance_squared(local)
                        .total_cmp(&corners[b].distance_squared(local))
                })
                .unwrap_or(0);
            best = Some(Pick {
                mesh: m,
                vertex: tri[nearest] as usize,
                triangle: t,
                point: local + offset,
                distance,
            });
        }
    }
    best
}

fn corners(vertices: &[[f32; 3]], tri: &[u32; 3]) -> Option<[Vec3; 3]> {
    let at = |i: u32| vertices.get(i as usize).map(|&v| Vec3::from_array(v));
    Some([at(tri[0])?, at(tri[1])?, at(tri[2])?])
}

/// Möller–Trumbore: distance `t > 0` along the ray to the triangle, either face.
fn intersect(origin: Vec3, dir: Vec3, [a, b, c]: [Vec3; 3]) -> Option<f32> {
    let e1 = b - a;
    let e2 = c - a;
    let p = dir.cross(e2);
    let det = e1.dot(p);
    if det.abs() <= f32::EPSILON * e1.length() * e2.length() {
        return None; // parallel to the plane, or degenerate
    }
    let inv = 1.0 / det;
    let s = origin - a;
    let u = s.dot(p) * inv;
    if !(0.0..=1.0).contains(&u) {
        return None;
    }
    let q = s.cross(e1);
    let v = dir.dot(q) * inv;
    if v < 0.0 || u + v > 1.0 {
        return None;
    }
    let t = e2.dot(q) * inv;
    (t > 0.0 && t.is_finite()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOX: ([f32; 3], [f32; 3]) = ([-70.0, -105.0, -45.0], [-2.0, 70.0, 80.0]);

    fn close(a: Vec3, b: Vec3, tol: f32) -> bool {
        (a - b).length() <= tol
    }

    #[test]
    fn names_round_trip() {
        for p in CameraPreset::ALL {
            assert_eq!(CameraPreset::from_name(p.name()), Some(p));
        }
        assert_eq!(
            CameraPreset::from_name(" Lateral_Left "),
            Some(CameraPreset::LateralLeft)
        );
        assert_eq!(CameraPreset::from_name("lateral"), None);
    }

    #[test]
    fn presets_look_from_the_right_side() {
        let centre = Vec3::new(-36.0, -17.5, 17.5);
        for p in CameraPreset::ALL {
            let c = OrbitCamera::preset(p, BOX);
            assert!(close(c.target, centre, 1e-4), "{p:?}");
            let d = c.eye() - c.target;
            let side = match p {
                CameraPreset::LateralLeft | CameraPreset::MedialRight => -Vec3::X,
                CameraPreset::LateralRight | CameraPreset::MedialLeft => Vec3::X,
                CameraPreset::Dorsal => Vec3::Z,
                CameraPreset::Ventral => -Vec3::Z,
                CameraPreset::Anterior => Vec3::Y,
                CameraPreset::Posterior => -Vec3::Y,
            };
            assert!(d.normalize().dot(side) > 0.9999, "{p:?}: eye offset {d}");
        }
        // Lateral left: the eye is at x < target.x, anterior (+y) on the left of the image.
        let c = OrbitCamera::preset(CameraPreset::LateralLeft, BOX);
        assert!(c.eye().x < c.target.x);
        assert!(close(c.right(), -Vec3::Y, 1e-6) && close(c.up(), Vec3::Z, 1e-6));
        // Dorsal and ventral: anterior up; right on the right from above, on the left from below.
        let d = OrbitCamera::preset(CameraPreset::Dorsal, BOX);
        assert!(close(d.up(), Vec3::Y, 1e-6) && close(d.right(), Vec3::X, 1e-6));
        let v = OrbitCamera::preset(CameraPreset::Ventral, BOX);
        assert!(close(v.up(), Vec3::Y, 1e-6) && close(v.right(), -Vec3::X, 1e-6));
        let a = OrbitCamera::preset(CameraPreset::Anterior, BOX);
        assert!(close(a.right(), -Vec3::X, 1e-6) && close(a.up(), Vec3::Z, 1e-6));
    }

    #[test]
    fn preset_frames_the_box() {
        for p in CameraPreset::ALL {
            let c = OrbitCamera::preset(p, BOX);
            let vp = c.view_projection(1.0);
            let mut widest = 0.0f32;
            for corner in 0..8 {
                let v = Vec3::new(
                    if corner & 1 == 0 { BOX.0[0] } else { BOX.1[0] },
                    if corner & 2 == 0 { BOX.0[1] } else { BOX.1[1] },
                    if corner & 4 == 0 { BOX.0[2] } else { BOX.1[2] },
                );
                let ndc = vp.project_point3(v);
                assert!(
                    ndc.x.abs() <= 1.0 && ndc.y.abs() <= 1.0 && (0.0..=1.0).contains(&ndc.z),
                    "{p:?}: corner {v} at {ndc}"
                );
                widest = widest.max(ndc.x.abs().max(ndc.y.abs()));
            }
            assert!((widest - FRAME_FILL).abs() < 1e-4, "{p:?}: {widest}");
        }
    }

    #[test]
    fn view_matrix_agrees_with_the_basis() {
        let mut c = OrbitCamera::preset(CameraPreset::Anterior, BOX);
        c.orbit(0.3, -0.4);
        let v = c.view();
        assert!(close(v.transform_point3(c.eye()), Vec3::ZERO, 1e-3));
        assert!(close(v.transform_vector3(c.right()), Vec3::X, 1e-5));
        assert!(close(v.transform_vector3(c.up()), Vec3::Y, 1e-5));
        assert!(close(v.transform_vector3(c.backward()), Vec3::Z, 1e-5));
    }

    #[test]
    fn centre_ray_hits_the_target_and_rays_match_the_projection() {
        let mut c = OrbitCamera::preset(CameraPreset::Dorsal, BOX);
        c.orbit(0.7, 0.2);
        let (w, h) = (640.0, 480.0);
        let (origin, dir) = c.ray(w / 2.0, h / 2.0, w, h);
        assert!(close(origin, c.eye(), 1e-4));
        assert!((dir.length() - 1.0).abs() < 1e-6);
        assert!(close(origin + dir * c.distance, c.target, 1e-3));
        // A point along the ray through pixel centre (10.5, 400.5) projects back onto it.
        let (origin, dir) = c.ray(10.5, 400.5, w, h);
        let ndc = c.view_projection(w / h).project_point3(origin + dir * c.distance);
        let px = ((ndc.x + 1.0) * 0.5 * w, (1.0 - ndc.y) * 0.5 * h);
        assert!((px.0 - 10.5).abs() < 1e-2 && (px.1 - 400.5).abs() < 1e-2, "{px:?}");
    }

    #[test]
    fn orbit_zoom_and_pan() {
        let mut c = OrbitCamera::preset(CameraPreset::LateralRight, BOX);
        let eye = c.eye();
        // Drag right: the eye moves to the image's left.
        let right = c.right();
        c.orbit(0.1, 0.0);
        assert!((c.eye() - eye).dot(right) < 0.0);
        // Drag down: the eye rises; pitch stops at the pole.
        c.orbit(0.0, 0.2);
        assert!(c.eye().z > eye.z);
        c.orbit(0.0, 10.0);
        assert_eq!(c.pitch, FRAC_PI_2);
        assert!(c.up().is_finite() && (c.up().length() - 1.0).abs() < 1e-6);
        let d = c.distance;
        c.zoom(2.0);
        assert!((c.distance - d / 2.0).abs() < 1e-4);
        c.zoom(0.0);
        c.zoom(f32::NAN);
        assert!((c.distance - d / 2.0).abs() < 1e-4);
        // Pan by a whole viewport height moves the target by the visible height at its depth.
        let mut c = OrbitCamera::preset(CameraPreset::Posterior, BOX);
        let (t, up, right) = (c.target, c.up(), c.right());
        c.pan(0.0, 100.0, 100.0);
        let visible = 2.0 * c.distance * (c.fov_y * 0.5).tan();
        assert!(close(c.target, t + up * visible, 1e-3));
        c.pan(50.0, 0.0, 100.0);
        assert!(close(c.target, t + up * visible - right * visible * 0.5, 1e-3));
    }

    /// Two triangles making the unit square in the z = 0 plane.
    fn square() -> (Vec<[f32; 3]>, Vec<[u32; 3]>) {
        (
            vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]],
            vec![[0, 1, 2], [2, 1, 3]],
        )
    }

    #[test]
    fn pick_nearest_corner_and_nearest_hit() {
        let (v, t) = square();
        let down = (Vec3::new(0.8, 0.9, 5.0), -Vec3::Z);
        let hit = pick(down, &[(&v, &t, Vec3::ZERO)]).unwrap();
        assert_eq!((hit.mesh, hit.triangle, hit.vertex), (0, 1, 3));
        assert!(close(hit.point, Vec3::new(0.8, 0.9, 0.0), 1e-6));
        assert!((hit.distance - 5.0).abs() < 1e-6);
        // Seen from below too (two-sided).
        let up = (Vec3::new(0.1, 0.2, -5.0), Vec3::Z);
        assert_eq!(pick(up, &[(&v, &t, Vec3::ZERO)]).unwrap().vertex, 0);
        // Offsets are applied, and the nearest of several hits wins regardless of order.
        let meshes = [(&v[..], &t[..], Vec3::ZERO), (&v[..], &t[..], Vec3::new(0.0, 0.0, 2.0))];
        let hit = pick(down, &meshes).unwrap();
        assert_eq!(hit.mesh, 1);
        assert!(close(hit.point, Vec3::new(0.8, 0.9, 2.0), 1e-6));
        let reversed = [meshes[1], meshes[0]];
        assert_eq!(pick(down, &reversed).unwrap().mesh, 0);
        // Shifted sideways out of the ray: a miss.
        let aside = [(&v[..], &t[..], Vec3::new(3.0, 0.0, 0.0))];
        assert_eq!(pick(down, &aside), None);
        // Behind the origin: a miss.
        assert_eq!(
            pick((Vec3::new(0.5, 0.5, -1.0), -Vec3::Z), &[(&v, &t, Vec3::ZERO)]),
            None
        );
        // Bad indices are skipped.
        assert_eq!(pick(down, &[(&v, &[[0, 1, 9]], Vec3::ZERO)]), None);
    }
}

//! Lighting of the surface view: a headlight fixed to the camera, ambient + Lambert + Blinn
//! specular, lit from both sides.
//!
//! [`Lighting::shade`] is the definition; `shaders/mesh.wgsl` implements the same steps and is
//! tested pixel by pixel against it through [`crate::mesh_cpu_reference`].

use cortexlens_data::camera::OrbitCamera;
use glam::Vec3;

/// How surfaces are lit, and the background they are drawn over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lighting {
    /// Direction towards the light in the camera's frame (x right, y up, z towards the
    /// viewer); normalised when used. `(0, 0, 1)` is a pure headlight.
    pub direction: Vec3,
    /// Light everywhere, as a fraction of the vertex colour.
    pub ambient: f32,
    /// Weight of the Lambert term `max(n · l, 0)`.
    pub diffuse: f32,
    /// Weight of the white Blinn–Phong highlight `max(n · h, 0)^shininess`; 0 turns it off.
    pub specular: f32,
    /// Exponent of the highlight.
    pub shininess: f32,
    /// Clear colour of the target (straight RGBA8).
    pub background: [u8; 4],
}

impl Default for Lighting {
    /// A headlight slightly above and left of the eye; ambient 0.25 + diffuse 0.75, so a
    /// surface facing the light shows its vertex colour exactly, plus a faint highlight; black
    /// background, as the slice views.
    fn default() -> Lighting {
        Lighting {
            direction: Vec3::new(-0.2, 0.3, 1.0),
            ambient: 0.25,
            diffuse: 0.75,
            specular: 0.1,
            shininess: 40.0,
            background: [0, 0, 0, 255],
        }
    }
}

impl Lighting {
    /// Unit direction towards the light in world space for `camera` (the light turns with it).
    /// A zero or non-finite direction gives the pure headlight.
    pub fn world_direction(&self, camera: &OrbitCamera) -> Vec3 {
        let d = self.direction;
        let world = camera.right() * d.x + camera.up() * d.y + camera.backward() * d.z;
        world.try_normalize().unwrap_or_else(|| camera.backward())
    }

    /// Background as the render pass's clear value.
    pub fn clear_color(&self) -> wgpu::Color {
        let [r, g, b, a] = self.background.map(|c| c as f64 / 255.0);
        wgpu::Color { r, g, b, a }
    }

    /// The lit colour (components 0..=1) of a surface point, all vectors in world space:
    ///
    /// 1. `v` = unit vector from the point to the eye (`to_eye`, normalised);
    /// 2. `n` = the interpolated `normal` normalised (`v` when it is shorter than 1e-10), and
    ///    negated when it faces away from the eye (`n · v < 0`): both faces are lit;
    /// 3. `l` = `light` (unit, from [`Lighting::world_direction`]), `h` = normalize(`l + v`);
    /// 4. colour = clamp(`color · (ambient + diffuse · max(n · l, 0)) + specular · s`, 0, 1)
    ///    where `s = max(n · h, 0)^shininess` (0 when `n · h ≤ 0` or `specular ≤ 0`).
    pub fn shade(&self, color: Vec3, normal: Vec3, to_eye: Vec3, light: Vec3) -> Vec3 {
        let v = to_eye.normalize_or_zero();
        let len2 = normal.length_squared();
        let mut n = if len2 > 1e-20 { normal * len2.sqrt().recip() } else { v };
        if n.dot(v) < 0.0 {
            n = -n;
        }
        let lambert = n.dot(light).max(0.0);
        let mut highlight = 0.0;
        if self.specular > 0.0 {
            let n_dot_h = n.dot((light + v).normalize_or_zero());
            if n_dot_h > 0.0 {
                highlight = self.specular * n_dot_h.powf(self.shininess);
            }
        }
        (color * (self.ambient + self.diffuse * lambert) + Vec3::splat(highlight)).clamp(Vec3::ZERO, Vec3::ONE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cortexlens_data::camera::CameraPreset;

    #[test]
    fn headlight_turns_with_the_camera() {
        let l = Lighting {
            direction: Vec3::Z,
            ..Lighting::default()
        };
        for p in CameraPreset::ALL {
            let c = OrbitCamera::preset(p, ([-1.0; 3], [1.0; 3]));
            assert!((l.world_direction(&c) - c.backward()).length() < 1e-6);
        }
        let zero = Lighting {
            direction: Vec3::ZERO,
            ..l
        };
        let c = OrbitCamera::preset(CameraPreset::Dorsal, ([-1.0; 3], [1.0; 3]));
        assert_eq!(zero.world_direction(&c), c.backward());
    }

    #[test]
    fn two_sided_lambert() {
        let l = Lighting {
            specular: 0.0,
            ..Lighting::default()
        };
        let c = Vec3::new(0.8, 0.4, 0.2);
        let eye = Vec3::Z;
        // Facing the light: the colour itself; the back face is lit the same.
        assert!((l.shade(c, Vec3::Z, eye, Vec3::Z) - c).length() < 1e-6);
        assert!((l.shade(c, -Vec3::Z, eye, Vec3::Z) - c).length() < 1e-6);
        // Edge-on to the light: ambient only.
        assert!((l.shade(c, Vec3::Z, eye, Vec3::X) - c * 0.25).length() < 1e-6);
        // Degenerate normal: treated as facing the eye.
        assert!((l.shade(c, Vec3::ZERO, eye * 3.0, Vec3::Z) - c).length() < 1e-6);
        // A highlight saturates towards white.
        let shiny = Lighting::default();
        let lit = shiny.shade(Vec3::ONE, Vec3::Z, eye, Vec3::Z);
        assert_eq!(lit, Vec3::ONE);
    }
}

//! Slice geometry: which world point each pixel of a slice view shows.
//!
//! One definition serves the GPU reslicer, its CPU reference, the app's mouse handling and
//! the CLI, so every picture and every click agree on the same world millimetres.

use glam::{DVec2, DVec3};

/// The three orthogonal planes, in world (RAS+) space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Plane {
    /// z constant; screen right = +x (left in radiological), screen up = +y (anterior).
    Axial,
    /// y constant; screen right = +x (left in radiological), screen up = +z (superior).
    Coronal,
    /// x constant; screen right = +y (anterior), screen up = +z (superior).
    Sagittal,
}

impl Plane {
    /// All planes in the order of the 3-up layout.
    pub const ALL: [Plane; 3] = [Plane::Sagittal, Plane::Coronal, Plane::Axial];

    /// Lower-case name (`axial`, `coronal`, `sagittal`).
    pub fn name(self) -> &'static str {
        match self {
            Plane::Axial => "axial",
            Plane::Coronal => "coronal",
            Plane::Sagittal => "sagittal",
        }
    }

    /// World axis normal to the plane (0 = x, 1 = y, 2 = z).
    pub fn normal_axis(self) -> usize {
        match self {
            Plane::Axial => 2,
            Plane::Coronal => 1,
            Plane::Sagittal => 0,
        }
    }

    /// World axes shown along screen right and screen up.
    pub fn screen_axes(self) -> (usize, usize) {
        match self {
            Plane::Axial => (0, 1),
            Plane::Coronal => (0, 2),
            Plane::Sagittal => (1, 2),
        }
    }
}

/// A slice view: a plane through the crosshair, a zoom and a pan, rasterised to `width × height`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SliceGeometry {
    /// Which plane.
    pub plane: Plane,
    /// The crosshair in world mm; the slice passes through it.
    pub crosshair: DVec3,
    /// World point (in-plane components only matter) shown at the centre of the view.
    pub view_center: DVec3,
    /// Millimetres per pixel.
    pub mm_per_px: f64,
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// Radiological convention: patient left on screen right (axial and coronal only).
    pub radiological: bool,
}

impl SliceGeometry {
    /// A view of `plane` centred on `crosshair` that fits a field of view of `fov_mm` (width, height).
    pub fn fit(plane: Plane, crosshair: DVec3, center: DVec3, fov_mm: DVec2, width: u32, height: u32) -> Self {
        let mm_per_px = (fov_mm.x / width.max(1) as f64).max(fov_mm.y / height.max(1) as f64);
        SliceGeometry {
            plane,
            crosshair,
            view_center: center,
            mm_per_px,
            width,
            height,
            radiological: false,
        }
    }

    /// Sign applied to world axis along screen right.
    fn right_sign(&self) -> f64 {
        if self.radiological && self.plane != Plane::Sagittal {
            -1.0
        } else {
            1.0
        }
    }

    /// World point under a pixel position (in pixels from the top-left corner; pixel centres at +0.5).
    pub fn pixel_to_world(&self, px: DVec2) -> DVec3 {
        let (ax_r, ax_u) = self.plane.screen_axes();
        let dx = (px.x - self.width as f64 * 0.5) * self.mm_per_px * self.right_sign();
        let dy = (self.height as f64 * 0.5 - px.y) * self.mm_per_px;
        let mut w = self.crosshair;
        w[ax_r] = self.view_center[ax_r] + dx;
        w[ax_u] = self.view_center[ax_u] + dy;
        w
    }

    /// Pixel position of a world point projected onto the plane.
    pub fn world_to_pixel(&self, world: DVec3) -> DVec2 {
        let (ax_r, ax_u) = self.plane.screen_axes();
        DVec2::new(
            (world[ax_r] - self.view_center[ax_r]) / (self.mm_per_px * self.right_sign()) + self.width as f64 * 0.5,
            self.height as f64 * 0.5 - (world[ax_u] - self.view_center[ax_u]) / self.mm_per_px,
        )
    }

    /// Affine terms for shaders: world = origin + px * step_x + py * step_y, for pixel centres `(px, py)`.
    pub fn pixel_axes(&self) -> (DVec3, DVec3, DVec3) {
        let origin = self.pixel_to_world(DVec2::ZERO);
        let step_x = self.pixel_to_world(DVec2::X) - origin;
        let step_y = self.pixel_to_world(DVec2::Y) - origin;
        (origin, step_x, step_y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_world_round_trip() {
        for plane in Plane::ALL {
            for radiological in [false, true] {
                let mut g = SliceGeometry::fit(
                    plane,
                    DVec3::new(1.0, -2.0, 3.0),
                    DVec3::new(4.0, 5.0, 6.0),
                    DVec2::new(200.0, 100.0),
                    64,
                    48,
                );
                g.radiological = radiological;
                let px = DVec2::new(10.5, 20.5);
                let back = g.world_to_pixel(g.pixel_to_world(px));
                assert!((back - px).length() < 1e-9, "{plane:?} {back}");
                assert_eq!(
                    g.pixel_to_world(px)[plane.normal_axis()],
                    g.crosshair[plane.normal_axis()]
                );
            }
        }
    }

    #[test]
    fn orientation_conventions() {
        let g = SliceGeometry::fit(Plane::Axial, DVec3::ZERO, DVec3::ZERO, DVec2::splat(100.0), 100, 100);
        let right = g.pixel_to_world(DVec2::new(99.5, 50.0));
        let top = g.pixel_to_world(DVec2::new(50.0, 0.5));
        assert!(right.x > 0.0 && top.y > 0.0);
        let r = SliceGeometry {
            radiological: true,
            ..g
        };
        assert!(r.pixel_to_world(DVec2::new(99.5, 50.0)).x < 0.0);
    }
}

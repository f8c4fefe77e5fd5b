//! Zoom and pan of one slice view.

use glam::DVec2;

/// Zoom and pan of one view; zoom 1 fits everything open into the view.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ViewCamera {
    /// Magnification relative to "fit".
    pub zoom: f64,
    /// Offset of the view centre from the centre of the open data, along screen right and up, in mm.
    pub pan_mm: DVec2,
}

impl Default for ViewCamera {
    fn default() -> Self {
        ViewCamera {
            zoom: 1.0,
            pan_mm: DVec2::ZERO,
        }
    }
}

impl ViewCamera {
    /// Multiply the zoom by `factor`, kept within 0.1..=50.
    pub fn zoom_by(&mut self, factor: f64) {
        self.zoom = (self.zoom * factor).clamp(0.1, 50.0);
    }
}

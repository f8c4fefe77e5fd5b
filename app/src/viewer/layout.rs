//! Which views are shown and where: the same arithmetic for the window and offscreen pictures.

use cortexlens_data::Plane;

/// One kind of view.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum View {
    /// A slice through the crosshair.
    Slice(Plane),
    /// One slice of a mosaic: `plane` at `at` mm along its normal (the crosshair elsewhere).
    Tile {
        /// The plane.
        plane: Plane,
        /// Its place in the mosaic, row by row.
        index: usize,
        /// Where along the plane's normal, in world mm.
        at: f64,
    },
    /// The cortex surfaces.
    Surface,
    /// The 3D ray-marched volume or neural field.
    Volume3d,
}

/// A mosaic (lightbox): slices of one plane from `from` to `to` mm along its normal every `step`
/// mm, row by row in `columns` columns (0: as square a grid as fits).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mosaic {
    /// The plane of every slice.
    pub plane: Plane,
    /// The first slice, in world mm along the plane's normal.
    pub from: f64,
    /// The last slice at most.
    pub to: f64,
    /// Between slices, in mm (positive).
    pub step: f64,
    /// Columns; 0 chooses about the square root of the slice count.
    pub columns: u32,
}

/// The most slices a mosaic shows.
pub const MOSAIC_MAX_SLICES: usize = 200;

impl Mosaic {
    /// Parse `AXIS:FROM:TO:STEP` (AXIS: axial, coronal, sagittal, or z, y, x).
    pub fn parse(text: &str, columns: u32) -> Result<Mosaic, String> {
        let parts: Vec<&str> = text.split(':').map(str::trim).collect();
        let [axis, from, to, step] = parts.as_slice() else {
            return Err(format!(
                "expected AXIS:FROM:TO:STEP (e.g. axial:-30:60:10), got '{text}'"
            ));
        };
        let plane = match *axis {
            "axial" | "z" => Plane::Axial,
            "coronal" | "y" => Plane::Coronal,
            "sagittal" | "x" => Plane::Sagittal,
            other => return Err(format!("'{other}' is not axial, coronal or sagittal")),
        };
        let number = |s: &str| s.parse::<f64>().map_err(|_| format!("'{s}' is not a number of mm"));
        let mosaic = Mosaic {
            plane,
            from: number(from)?,
            to: number(to)?,
            step: number(step)?,
            columns,
        };
        mosaic.slices().map(|_| mosaic)
    }

    /// Where its slices are, in world mm along the normal; an error when the range holds none, or
    /// more than [`MOSAIC_MAX_SLICES`].
    pub fn slices(&self) -> Result<Vec<f64>, String> {
        if self.step.is_nan() || self.step <= 0.0 || !self.from.is_finite() || !self.to.is_finite() {
            return Err(format!("a mosaic needs a positive step, got {}", self.step));
        }
        if self.to < self.from {
            return Err(format!("the mosaic runs from {} to {}: backwards", self.from, self.to));
        }
        // A slice within a millionth of a step of `to` counts (decimal steps are inexact).
        let count = ((self.to - self.from) / self.step + 1e-6).floor() as usize + 1;
        if count > MOSAIC_MAX_SLICES {
            return Err(format!("{count} slices: a mosaic shows at most {MOSAIC_MAX_SLICES}"));
        }
        Ok((0..count).map(|i| self.from + i as f64 * self.step).collect())
    }

    /// About a dozen slices of `plane` across the middle 80 % of `bounds` (world mm).
    pub fn across(plane: Plane, bounds: (glam::DVec3, glam::DVec3)) -> Mosaic {
        let axis = plane.normal_axis();
        let (lo, hi) = (bounds.0[axis], bounds.1[axis]);
        let margin = (hi - lo) * 0.1;
        let step = ((hi - lo - 2.0 * margin) / 11.0).max(1.0).round();
        Mosaic {
            plane,
            from: (lo + margin).round(),
            to: (hi - margin).round(),
            step,
            columns: 0,
        }
    }

    /// Columns and rows of its grid.
    pub fn grid(&self) -> (u32, u32) {
        let count = self.slices().map_or(1, |s| s.len()) as u32;
        let columns = if self.columns > 0 {
            self.columns.min(count)
        } else {
            (count as f64).sqrt().ceil() as u32
        }
        .max(1);
        (columns, count.div_ceil(columns))
    }
}

/// The views on screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Layout {
    /// Sagittal, coronal and axial side by side; with surfaces open, a 2×2 grid with the surface view.
    #[default]
    Ortho,
    /// One plane filling the view area.
    Single(Plane),
    /// The surface view alone.
    Surface,
    /// The 3D view alone.
    Volume3d,
    /// Slices of one plane in a grid.
    Mosaic(Mosaic),
}

impl Layout {
    /// Parse `axial|coronal|sagittal|ortho|surface|3d`.
    pub fn from_name(name: &str) -> Option<Layout> {
        match name {
            "ortho" => Some(Layout::Ortho),
            "axial" => Some(Layout::Single(Plane::Axial)),
            "coronal" => Some(Layout::Single(Plane::Coronal)),
            "sagittal" => Some(Layout::Single(Plane::Sagittal)),
            "surface" => Some(Layout::Surface),
            "3d" => Some(Layout::Volume3d),
            _ => None,
        }
    }
}

/// One view's place: what it shows and a rectangle `[x, y, width, height]` in pixels of the whole area.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pane {
    /// The view shown.
    pub view: View,
    /// Left, top, width, height in pixels.
    pub rect: [u32; 4],
}

/// Split a `width × height` area into the layout's panes. Ortho is three equal columns, or a 2×2
/// grid (sagittal, coronal / axial, surface) when `with_surface`; the last column and row take the
/// rest. A mosaic's tiles are all `width / columns × height / rows`, row by row from the top left.
pub fn panes(layout: Layout, with_surface: bool, width: u32, height: u32) -> Vec<Pane> {
    let whole = [0, 0, width, height];
    match layout {
        Layout::Mosaic(mosaic) => {
            let (columns, rows) = mosaic.grid();
            let (w, h) = (width / columns, height / rows);
            let slices = mosaic.slices().unwrap_or_default();
            slices
                .into_iter()
                .enumerate()
                .map(|(index, at)| {
                    let (col, row) = (index as u32 % columns, index as u32 / columns);
                    Pane {
                        view: View::Tile {
                            plane: mosaic.plane,
                            index,
                            at,
                        },
                        rect: [col * w, row * h, w, h],
                    }
                })
                .collect()
        }
        Layout::Single(plane) => vec![Pane {
            view: View::Slice(plane),
            rect: whole,
        }],
        Layout::Surface => vec![Pane {
            view: View::Surface,
            rect: whole,
        }],
        Layout::Volume3d => vec![Pane {
            view: View::Volume3d,
            rect: whole,
        }],
        Layout::Ortho if with_surface => {
            let (cw, ch) = (width / 2, height / 2);
            let views = [
                View::Slice(Plane::Sagittal),
                View::Slice(Plane::Coronal),
                View::Slice(Plane::Axial),
                View::Surface,
            ];
            views
                .into_iter()
                .enumerate()
                .map(|(i, view)| {
                    let (col, row) = ((i % 2) as u32, (i / 2) as u32);
                    let w = if col == 1 { width - cw } else { cw };
                    let h = if row == 1 { height - ch } else { ch };
                    Pane {
                        view,
                        rect: [col * cw, row * ch, w, h],
                    }
                })
                .collect()
        }
        Layout::Ortho => {
            let column = width / 3;
            Plane::ALL
                .into_iter()
                .enumerate()
                .map(|(i, plane)| {
                    let x = column * i as u32;
                    let w = if i == 2 { width - x } else { column };
                    Pane {
                        view: View::Slice(plane),
                        rect: [x, 0, w, height],
                    }
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ortho_covers_the_area() {
        let p = panes(Layout::Ortho, false, 1001, 300);
        assert_eq!(p.len(), 3);
        assert_eq!(p.iter().map(|p| p.rect[2]).sum::<u32>(), 1001);
        assert_eq!(p[2].rect[0] + p[2].rect[2], 1001);
        assert_eq!(
            panes(Layout::Single(Plane::Axial), false, 10, 20)[0].rect,
            [0, 0, 10, 20]
        );
    }

    #[test]
    fn mosaic_tiles_fill_rows_with_equal_slices() {
        let mosaic = Mosaic::parse("axial:-30:60:10", 0).unwrap();
        assert_eq!(mosaic.slices().unwrap().len(), 10);
        assert_eq!(mosaic.grid(), (4, 3));
        let p = panes(Layout::Mosaic(mosaic), false, 403, 300);
        assert_eq!(p.len(), 10);
        assert_eq!(
            p[5],
            Pane {
                view: View::Tile {
                    plane: Plane::Axial,
                    index: 5,
                    at: 20.0
                },
                rect: [100, 100, 100, 100]
            }
        );
        assert_eq!(
            Mosaic::parse("z:0:1:0.1", 3).unwrap().grid(),
            (3, 4),
            "11 slices, inexact step"
        );
        assert!(Mosaic::parse("axial:10:0:5", 0).is_err());
        assert!(Mosaic::parse("axial:0:10:0", 0).is_err());
        assert!(Mosaic::parse("axial:0:1000:1", 0).is_err());
        assert!(Mosaic::parse("oblique:0:10:1", 0).is_err());
    }

    #[test]
    fn ortho_with_surface_is_a_grid() {
        let p = panes(Layout::Ortho, true, 101, 51);
        assert_eq!(p.len(), 4);
        assert_eq!(p[3].view, View::Surface);
        assert_eq!(p[3].rect, [50, 25, 51, 26]);
        let area: u32 = p.iter().map(|p| p.rect[2] * p.rect[3]).sum();
        assert_eq!(area, 101 * 51);
    }
}

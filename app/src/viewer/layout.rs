//! Which views are shown and where: the same arithmetic for the window and offscreen pictures.

use cortexlens_data::Plane;

/// One kind of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    /// A slice through the crosshair.
    Slice(Plane),
    /// The cortex surfaces.
    Surface,
    /// The 3D ray-marched volume or neural field.
    Volume3d,
}

/// The views on screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
/// grid (sagittal, coronal / axial, surface) when `with_surface`; the last column and row take the rest.
pub fn panes(layout: Layout, with_surface: bool, width: u32, height: u32) -> Vec<Pane> {
    let whole = [0, 0, width, height];
    match layout {
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
    fn ortho_with_surface_is_a_grid() {
        let p = panes(Layout::Ortho, true, 101, 51);
        assert_eq!(p.len(), 4);
        assert_eq!(p[3].view, View::Surface);
        assert_eq!(p[3].rect, [50, 25, 51, 26]);
        let area: u32 = p.iter().map(|p| p.rect[2] * p.rect[3]).sum();
        assert_eq!(area, 101 * 51);
    }
}

//! Which views are shown and where: the same arithmetic for the window and offscreen pictures.

use cortexlens_data::Plane;

/// The views on screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// Sagittal, coronal and axial side by side.
    #[default]
    Ortho,
    /// One plane filling the view area.
    Single(Plane),
}

impl Layout {
    /// Parse `axial|coronal|sagittal|ortho`.
    pub fn from_name(name: &str) -> Option<Layout> {
        match name {
            "ortho" => Some(Layout::Ortho),
            "axial" => Some(Layout::Single(Plane::Axial)),
            "coronal" => Some(Layout::Single(Plane::Coronal)),
            "sagittal" => Some(Layout::Single(Plane::Sagittal)),
            _ => None,
        }
    }

    /// The planes shown, left to right.
    pub fn planes(self) -> Vec<Plane> {
        match self {
            Layout::Ortho => Plane::ALL.to_vec(),
            Layout::Single(plane) => vec![plane],
        }
    }
}

/// One view's place: a plane and a rectangle `[x, y, width, height]` in pixels of the whole area.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pane {
    /// The plane shown.
    pub plane: Plane,
    /// Left, top, width, height in pixels.
    pub rect: [u32; 4],
}

/// Split a `width × height` area into the layout's panes (equal columns; the last takes the rest).
pub fn panes(layout: Layout, width: u32, height: u32) -> Vec<Pane> {
    let planes = layout.planes();
    let n = planes.len() as u32;
    let column = width / n;
    planes
        .into_iter()
        .enumerate()
        .map(|(i, plane)| {
            let x = column * i as u32;
            let w = if i as u32 == n - 1 { width - x } else { column };
            Pane {
                plane,
                rect: [x, 0, w, height],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ortho_covers_the_area() {
        let p = panes(Layout::Ortho, 1001, 300);
        assert_eq!(p.len(), 3);
        assert_eq!(p.iter().map(|p| p.rect[2]).sum::<u32>(), 1001);
        assert_eq!(p[2].rect[0] + p[2].rect[2], 1001);
        assert_eq!(
            panes(Layout::Single(Plane::Axial), 10, 20)[0].rect,
            [0, 0, 10, 20]
        );
    }
}

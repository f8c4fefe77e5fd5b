//! Regions drawn by hand on a voxel grid: a label per voxel, changed by pen, eraser, flood fill
//! and filling between drawn slices, with undo and redo.
//!
//! A [`Drawing`] knows nothing of world space: the caller maps the mouse to voxel indices of the
//! drawing's grid and picks the grid axis a slice view looks along. Edits are recorded as lists
//! of changed voxels, so undo and redo cost what the edit changed, not the grid's size.

mod fill;
mod interpolate;
mod stats;

pub use stats::{RegionStats, SampleStats, sample_stats};

use glam::DVec3;

/// The shape of a brush: a disc in the slice being drawn, or a ball through neighbouring slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Brush {
    /// A disc across the other two axes of a slice perpendicular to `axis` (0, 1 or 2).
    Disc {
        /// The grid axis the slice view looks along.
        axis: usize,
    },
    /// A ball in all three axes.
    Ball,
}

/// One undoable change: every voxel it changed, with its label before and after.
#[derive(Clone, Debug, Default)]
struct Edit {
    changes: Vec<Change>,
}

#[derive(Clone, Copy, Debug)]
struct Change {
    index: u32,
    before: i16,
    after: i16,
}

/// Labels on a voxel grid (0 = no region) with an undo history.
#[derive(Clone, Debug)]
pub struct Drawing {
    shape: [usize; 3],
    labels: Vec<i16>,
    done: Vec<Edit>,
    undone: Vec<Edit>,
    /// The stroke being drawn, with the voxels it has touched (so a voxel records its state
    /// before the stroke once).
    stroke: Option<(Edit, std::collections::HashMap<u32, usize>)>,
    /// Bumped by every change of the labels.
    revision: u64,
}

/// Why a drawing cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum DrawingError {
    /// More voxels than a drawing indexes.
    #[error("a grid of {0:?} voxels is larger than a drawing can hold (2³² voxels)")]
    TooLarge([usize; 3]),
    /// The labels do not fill the grid.
    #[error("{labels} labels for a grid of {shape:?} voxels")]
    Size {
        /// Labels given.
        labels: usize,
        /// The grid.
        shape: [usize; 3],
    },
}

impl Drawing {
    /// An empty drawing on a grid of `shape` voxels.
    pub fn new(shape: [usize; 3]) -> Result<Drawing, DrawingError> {
        Drawing::from_labels(shape, vec![0; shape.iter().product()])
    }

    /// A drawing starting from `labels` (`i` fastest), e.g. a mask opened from a file.
    pub fn from_labels(shape: [usize; 3], labels: Vec<i16>) -> Result<Drawing, DrawingError> {
        let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if count.is_none_or(|c| c > u32::MAX as usize) {
            return Err(DrawingError::TooLarge(shape));
        }
        if count != Some(labels.len()) {
            return Err(DrawingError::Size {
                labels: labels.len(),
                shape,
            });
        }
        Ok(Drawing {
            shape,
            labels,
            done: Vec::new(),
            undone: Vec::new(),
            stroke: None,
            revision: 0,
        })
    }

    /// The grid's shape.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// The labels, `i` fastest.
    pub fn labels(&self) -> &[i16] {
        &self.labels
    }

    /// Changes whenever the labels do.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The label at a voxel, `None` outside the grid.
    pub fn label_at(&self, ijk: [i64; 3]) -> Option<i16> {
        self.index(ijk).map(|i| self.labels[i as usize])
    }

    /// The distinct non-zero labels drawn, ascending.
    pub fn used_labels(&self) -> Vec<i16> {
        let mut seen = std::collections::BTreeSet::new();
        seen.extend(self.labels.iter().copied().filter(|&l| l != 0));
        seen.into_iter().collect()
    }

    fn index(&self, [i, j, k]: [i64; 3]) -> Option<u32> {
        let [nx, ny, nz] = self.shape.map(|d| d as i64);
        ((0..nx).contains(&i) && (0..ny).contains(&j) && (0..nz).contains(&k)).then(|| (i + nx * (j + ny * k)) as u32)
    }

    fn ijk(&self, index: u32) -> [i64; 3] {
        let [nx, ny, _] = self.shape.map(|d| d as u64);
        let i = index as u64;
        [i % nx, i / nx % ny, i / (nx * ny)].map(|v| v as i64)
    }

    /// Starts a stroke: everything until [`Drawing::end_stroke`] is undone at once.
    pub fn begin_stroke(&mut self) {
        self.end_stroke();
        self.stroke = Some(Default::default());
    }

    /// Ends the stroke, recording it when it changed anything.
    pub fn end_stroke(&mut self) {
        if let Some((edit, _)) = self.stroke.take()
            && !edit.changes.is_empty()
        {
            self.done.push(edit);
            self.undone.clear();
        }
    }

    /// Sets one voxel inside the current stroke (one is started if none is).
    fn set(&mut self, index: u32, label: i16) {
        let before = self.labels[index as usize];
        if before == label {
            return;
        }
        let (edit, touched) = self.stroke.get_or_insert_with(Default::default);
        match touched.entry(index) {
            std::collections::hash_map::Entry::Occupied(at) => edit.changes[*at.get()].after = label,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(edit.changes.len());
                edit.changes.push(Change {
                    index,
                    before,
                    after: label,
                });
            }
        }
        self.labels[index as usize] = label;
        self.revision += 1;
    }

    /// Paints `label` (0 erases) with a brush `size` voxels across centred on `at`.
    pub fn paint(&mut self, at: [i64; 3], size: u32, brush: Brush, label: i16) {
        let r2 = (size.max(1) as f64 / 2.0).powi(2);
        let reach = (size as i64) / 2;
        let span = |axis: usize| match brush {
            Brush::Disc { axis: normal } if normal == axis => 0..=0,
            _ => -reach..=reach,
        };
        for dk in span(2) {
            for dj in span(1) {
                for di in span(0) {
                    if (di * di + dj * dj + dk * dk) as f64 > r2 {
                        continue;
                    }
                    if let Some(index) = self.index([at[0] + di, at[1] + dj, at[2] + dk]) {
                        self.set(index, label);
                    }
                }
            }
        }
    }

    /// Paints along the segment from `from` to `to` (voxel coordinates, fractional), so that a
    /// fast drag leaves no gaps.
    pub fn paint_line(&mut self, from: DVec3, to: DVec3, size: u32, brush: Brush, label: i16) {
        let steps = ((to - from).abs().max_element() * 2.0).ceil().max(1.0) as usize;
        let mut last = None;
        for s in 0..=steps {
            let p = from.lerp(to, s as f64 / steps as f64);
            let at = [p.x, p.y, p.z].map(|c| c.round() as i64);
            if last != Some(at) {
                self.paint(at, size, brush, label);
                last = Some(at);
            }
        }
    }

    /// Undoes the last edit; false when there is none.
    pub fn undo(&mut self) -> bool {
        self.end_stroke();
        let Some(edit) = self.done.pop() else {
            return false;
        };
        for change in edit.changes.iter().rev() {
            self.labels[change.index as usize] = change.before;
        }
        self.revision += 1;
        self.undone.push(edit);
        true
    }

    /// Redoes the last undone edit; false when there is none.
    pub fn redo(&mut self) -> bool {
        self.end_stroke();
        let Some(edit) = self.undone.pop() else {
            return false;
        };
        for change in &edit.changes {
            self.labels[change.index as usize] = change.after;
        }
        self.revision += 1;
        self.done.push(edit);
        true
    }

    /// Whether [`Drawing::undo`] has something to undo.
    pub fn can_undo(&self) -> bool {
        !self.done.is_empty() || self.stroke.as_ref().is_some_and(|(e, _)| !e.changes.is_empty())
    }

    /// Whether [`Drawing::redo`] has something to redo.
    pub fn can_redo(&self) -> bool {
        !self.undone.is_empty()
    }

    /// The voxels (`[i, j, k]`) holding `label`.
    pub fn voxels_of(&self, label: i16) -> impl Iterator<Item = [i64; 3]> + '_ {
        self.labels
            .iter()
            .enumerate()
            .filter(move |(_, l)| **l == label)
            .map(|(i, _)| self.ijk(i as u32))
    }
}

#[cfg(test)]
mod tests;

//! Flood fill within one slice of a drawing.

use std::collections::VecDeque;

use super::Drawing;

impl Drawing {
    /// Fills with `label` the voxels of the slice through `seed` perpendicular to `axis` that are
    /// 4-connected to `seed` and carry the seed's label, and for which `allowed` holds (e.g. the
    /// base image's intensity lies in a range). Returns how many voxels changed; the fill is one
    /// undoable edit.
    pub fn fill_slice(&mut self, seed: [i64; 3], axis: usize, label: i16, allowed: &dyn Fn([i64; 3]) -> bool) -> usize {
        let Some(target) = self.label_at(seed) else {
            return 0;
        };
        if target == label || !allowed(seed) {
            return 0;
        }
        let (u, v) = in_plane_axes(axis);
        self.begin_stroke();
        let mut queue = VecDeque::from([seed]);
        let mut changed = 0;
        while let Some(at) = queue.pop_front() {
            if self.label_at(at) != Some(target) || !allowed(at) {
                continue;
            }
            let index = self.index(at).expect("inside: it has a label");
            self.set(index, label);
            changed += 1;
            for (axis, step) in [(u, 1), (u, -1), (v, 1), (v, -1)] {
                let mut next = at;
                next[axis] += step;
                if self.label_at(next) == Some(target) {
                    queue.push_back(next);
                }
            }
        }
        self.end_stroke();
        changed
    }
}

/// The two grid axes spanning a slice perpendicular to `axis`.
pub(super) fn in_plane_axes(axis: usize) -> (usize, usize) {
    match axis {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    }
}

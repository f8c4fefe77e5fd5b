//! The marching-cubes case table, derived rather than typed in: for each of the 256 inside/
//! outside patterns of a cube's corners, and each way of resolving its ambiguous faces, the
//! triangles of the surface as triples of cube edges.
//!
//! How a case is triangulated: on each of the six faces, walking its corners counter-clockwise
//! seen from outside the cube, the surface enters the inside region at one edge and leaves it
//! at another; each such pair is a segment of the surface's outline on that face. A face whose
//! two diagonal corners are inside and the other two outside is ambiguous: its inside corners
//! are either joined (through the face centre) or separated, which the caller decides (with
//! the asymptotic decider) and passes as one bit per face. Every cube edge crossed by the
//! surface lies on two faces and is entered on one and left on the other, so the segments
//! chain into closed loops; each loop is fanned into triangles from an apex chosen so that no
//! fan diagonal lies on a cube face, or, where no apex allows it, around a vertex added at the
//! loop's centre.
//!
//! Because a face's segments depend only on that face's corners (and its decision, computed
//! from the same four values by both cubes), neighbouring cubes draw the same outline on their
//! shared face: the surface has no cracks, and every edge inside the grid is used by exactly
//! two triangles. The orientation of the segments makes every triangle's right-hand normal
//! point from the inside (values at or above the level) to the outside.

use std::sync::OnceLock;

/// Corner `c` of a cube sits at offset `(c & 1, (c >> 1) & 1, (c >> 2) & 1)`.
pub(crate) const CORNERS: usize = 8;

/// The 12 edges as (corner, corner with one more bit set), grouped by axis: x, then y, then z.
pub(crate) const EDGES: [(u8, u8); 12] = [
    (0, 1),
    (2, 3),
    (4, 5),
    (6, 7),
    (0, 2),
    (1, 3),
    (4, 6),
    (5, 7),
    (0, 4),
    (1, 5),
    (2, 6),
    (3, 7),
];

/// The axis of edge `e` (0 = x, 1 = y, 2 = z).
pub(crate) fn edge_axis(e: usize) -> usize {
    e / 4
}

/// The six faces: their corners counter-clockwise seen from outside the cube.
pub(crate) const FACES: [[u8; 4]; 6] = face_cycles();

const fn face_cycles() -> [[u8; 4]; 6] {
    let mut faces = [[0u8; 4]; 6];
    let mut f = 0;
    while f < 6 {
        let axis = f / 2;
        let side = f % 2;
        // The two other axes, cyclically after `axis`, so that b × c = axis.
        let b = (axis + 1) % 3;
        let c = (axis + 2) % 3;
        // Counter-clockwise around +axis in the (b, c) plane; reversed for the −axis face.
        let ccw: [(usize, usize); 4] = if side == 1 {
            [(0, 0), (1, 0), (1, 1), (0, 1)]
        } else {
            [(0, 0), (0, 1), (1, 1), (1, 0)]
        };
        let mut q = 0;
        while q < 4 {
            let (ob, oc) = ccw[q];
            faces[f][q] = ((side << axis) | (ob << b) | (oc << c)) as u8;
            q += 1;
        }
        f += 1;
    }
    faces
}

/// The edge joining two corners.
fn edge_between(a: u8, b: u8) -> usize {
    let (lo, hi) = (a.min(b), a.max(b));
    EDGES
        .iter()
        .position(|&e| e == (lo, hi))
        .expect("corners of one face edge")
}

/// Whether face `f` is ambiguous for `case` (bit `c` set = corner `c` inside): two diagonal
/// corners inside, the other two outside.
pub(crate) fn ambiguous(case: u8, f: usize) -> bool {
    let inside = FACES[f].map(|c| case >> c & 1 == 1);
    inside == [true, false, true, false] || inside == [false, true, false, true]
}

/// One outline loop of a case: crossed cube edges in order (the right-hand rule around them
/// points outwards), to be triangulated as a fan from its first edge, or — when every fan would
/// put a diagonal on a cube face — around a new vertex at its centre.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Polygon<'a> {
    /// The loop's edges, starting at the fan apex.
    pub(crate) edges: &'a [u8],
    /// Whether to triangulate around a centre vertex instead of a fan.
    pub(crate) centre: bool,
}

/// The outline loops of every case and decision, indexed by `case as usize * 64 + decisions`
/// (bit `f` of `decisions`: the inside corners of ambiguous face `f` are joined; ignored for
/// faces that are not ambiguous).
pub(crate) struct CaseTable {
    /// Per case and decision: the range of its loops in `loops`.
    start: Vec<u32>,
    /// Per loop: the range of its edges in `edges`, and whether it needs a centre vertex.
    loops: Vec<(u32, u8, bool)>,
    edges: Vec<u8>,
}

impl CaseTable {
    /// The table, built on first use (a few milliseconds).
    pub(crate) fn get() -> &'static CaseTable {
        static TABLE: OnceLock<CaseTable> = OnceLock::new();
        TABLE.get_or_init(CaseTable::build)
    }

    fn build() -> CaseTable {
        let mut table = CaseTable {
            start: Vec::with_capacity(256 * 64 + 1),
            loops: Vec::new(),
            edges: Vec::new(),
        };
        for case in 0..=255u8 {
            for decisions in 0..64u8 {
                table.start.push(table.loops.len() as u32);
                for outline in outlines(case, decisions) {
                    let (edges, centre) = fan_order(outline);
                    table.loops.push((table.edges.len() as u32, edges.len() as u8, centre));
                    table.edges.extend_from_slice(&edges);
                }
            }
        }
        table.start.push(table.loops.len() as u32);
        table
    }

    /// The loops of a case under the given decisions.
    #[inline]
    pub(crate) fn polygons(&self, case: u8, decisions: u8) -> impl Iterator<Item = Polygon<'_>> {
        let i = case as usize * 64 + decisions as usize;
        self.loops[self.start[i] as usize..self.start[i + 1] as usize]
            .iter()
            .map(|&(at, len, centre)| Polygon {
                edges: &self.edges[at as usize..at as usize + len as usize],
                centre,
            })
    }
}

/// The outline loops of one case, as chains of cube edges.
fn outlines(case: u8, decisions: u8) -> Vec<Vec<u8>> {
    let inside = |c: u8| case >> c & 1 == 1;
    // next[e] = the edge the outline goes to from edge e.
    let mut next = [usize::MAX; 12];
    for (f, face) in FACES.iter().enumerate() {
        let mut enters = Vec::with_capacity(2);
        let mut leaves = Vec::with_capacity(2);
        for q in 0..4 {
            let (a, b) = (face[q], face[(q + 1) % 4]);
            match (inside(a), inside(b)) {
                (false, true) => enters.push((q, edge_between(a, b))),
                (true, false) => leaves.push((q, edge_between(a, b))),
                _ => {}
            }
        }
        // Pair each entry with the next exit in walking order (separate inside corners), or
        // with the previous one (joined inside corners, possible only when there are two).
        let joined = enters.len() == 2 && decisions >> f & 1 == 1;
        for &(q, e) in &enters {
            let after = |&&(p, _): &&(usize, usize)| (p + 4 - q) % 4;
            let target = if joined {
                leaves.iter().max_by_key(after)
            } else {
                leaves.iter().min_by_key(after)
            };
            let &(_, l) = target.expect("a face is entered as often as it is left");
            next[e] = l;
        }
    }
    let mut used = [false; 12];
    let mut loops = Vec::new();
    for first in 0..12 {
        if next[first] == usize::MAX || used[first] {
            continue;
        }
        let mut outline = Vec::new();
        let mut e = first;
        while !used[e] {
            used[e] = true;
            outline.push(e as u8);
            e = next[e];
        }
        loops.push(outline);
    }
    loops
}

/// Whether two cube edges lie on a common face.
fn share_face(e: u8, f: u8) -> bool {
    let (a, b) = EDGES[e as usize];
    let (c, d) = EDGES[f as usize];
    FACES.iter().any(|face| [a, b, c, d].iter().all(|x| face.contains(x)))
}

/// Rotates a loop so that a fan from its first edge puts no diagonal on a cube face (such a
/// diagonal would also be drawn by the neighbouring cube, and its mesh edge would then have
/// four triangles). `centre` is true when no rotation avoids it (a loop through both
/// segments of an ambiguous face, which the caller triangulates around a centre vertex).
fn fan_order(outline: Vec<u8>) -> (Vec<u8>, bool) {
    let n = outline.len();
    for apex in 0..n {
        let clean = (2..n - 1).all(|k| !share_face(outline[apex], outline[(apex + k) % n]));
        if clean {
            let mut rotated = outline.clone();
            rotated.rotate_left(apex);
            return (rotated, false);
        }
    }
    (outline, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faces_are_counter_clockwise_from_outside() {
        let pos = |c: u8| [c & 1, c >> 1 & 1, c >> 2 & 1].map(f64::from);
        for (f, face) in FACES.iter().enumerate() {
            let [a, b, c, _] = face.map(pos);
            let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
            let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
            let n = [
                u[1] * v[2] - u[2] * v[1],
                u[2] * v[0] - u[0] * v[2],
                u[0] * v[1] - u[1] * v[0],
            ];
            let mut outward = [0.0; 3];
            outward[f / 2] = if f % 2 == 1 { 1.0 } else { -1.0 };
            assert_eq!(n, outward, "face {f}");
        }
    }

    #[test]
    fn one_corner_gives_one_outward_triangle() {
        let table = CaseTable::get();
        assert_eq!(table.polygons(0, 0).count(), 0);
        assert_eq!(table.polygons(255, 0).count(), 0);
        let t: Vec<Polygon> = table.polygons(1, 0).collect();
        assert_eq!(t.len(), 1);
        assert!(!t[0].centre);
        let t: [u8; 3] = t[0].edges.try_into().unwrap();
        // Edge midpoints of corner 0's three edges, in the triangle's order.
        let mid = |e: u8| {
            let (a, b) = EDGES[e as usize];
            [0, 1, 2].map(|k| f64::from((a >> k & 1) + (b >> k & 1)) / 2.0)
        };
        let [p, q, r] = t.map(mid);
        let u = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
        let v = [r[0] - p[0], r[1] - p[1], r[2] - p[2]];
        let n = [
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        ];
        assert!(n.iter().all(|&x| x > 0.0), "points away from corner 0: {n:?}");
    }

    #[test]
    fn every_case_is_closed_within_the_cube() {
        // Within one cube, each crossed edge starts exactly one outline segment and ends one.
        let table = CaseTable::get();
        for case in 0..=255u8 {
            let crossed = EDGES
                .iter()
                .filter(|&&(a, b)| (case >> a & 1) != (case >> b & 1))
                .count();
            for decisions in 0..64u8 {
                let mut seen = [0; 12];
                for p in table.polygons(case, decisions) {
                    assert!(p.edges.len() >= 3);
                    for &e in p.edges {
                        seen[e as usize] += 1;
                    }
                }
                assert_eq!(seen.iter().filter(|&&s| s == 1).count(), crossed, "case {case}");
                assert!(seen.iter().all(|&s| s <= 1), "case {case}");
            }
        }
        // Case 0b0000_0101 (corners 0 and 2… adjacent: not ambiguous) vs 0b1001 (0 and 3,
        // diagonal on the z = 0 face): only the latter depends on that face's decision.
        let z0 = 4;
        assert!(ambiguous(0b1001, z0));
        assert!(!ambiguous(0b0101, z0));
        let sizes = |d: u8| -> Vec<usize> { table.polygons(0b1001, d).map(|p| p.edges.len()).collect() };
        assert_eq!(sizes(0), vec![3, 3]);
        assert_eq!(sizes(1 << z0), vec![6]);
    }

    #[test]
    fn fans_put_no_diagonal_on_a_face() {
        let table = CaseTable::get();
        let mut centres = 0;
        for case in 0..=255u8 {
            for decisions in 0..64u8 {
                for p in table.polygons(case, decisions) {
                    let n = p.edges.len();
                    if p.centre {
                        centres += 1;
                        continue;
                    }
                    for k in 2..n - 1 {
                        assert!(!share_face(p.edges[0], p.edges[k]), "case {case}");
                    }
                }
            }
        }
        // Some loops (through both segments of an ambiguous face) need a centre vertex.
        assert!(centres > 0);
    }
}

//! The surface picture computed on the CPU, to test the GPU mesh renderer against.
//!
//! A plain z-buffer rasteriser with the GPU's conventions, sharing none of its code paths:
//! vertices go through [`OrbitCamera::view_projection`] to clip space; triangles are clipped
//! to `0 ≤ z ≤ w` (wgpu's depth range) in clip space; pixel `(x, y)` is covered when its
//! centre `(x + 0.5, y + 0.5)` lies inside the triangle (edges by the top-left rule); depth
//! (`z / w`) is interpolated linearly in screen space and tested with `<` against a buffer
//! cleared to 1; position, normal and colour are interpolated perspective-correctly and lit by
//! [`Lighting::shade`]; colours are rounded to 8 bits. No culling, instances drawn in order.

use cortexlens_data::camera::OrbitCamera;
use cortexlens_data::mesh::Mesh;
use glam::{Vec3, Vec4};

use crate::lighting::Lighting;
use crate::raymarch::{ClipPlane, FAR_DEPTH};

/// A mesh to draw: geometry, one RGBA8 colour per vertex, and the offset added to it.
pub type CpuMesh<'a> = (&'a Mesh, &'a [[u8; 4]], Vec3);

/// What the rasteriser produced, per pixel (row-major, top row first).
#[derive(Clone, Debug)]
pub struct Frame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Tightly packed RGBA8.
    pub rgba: Vec<u8>,
    /// Depth `z / w` of the visible surface, 1 where nothing is drawn.
    pub depth: Vec<f32>,
    /// View depth of the visible surface: mm along the camera's forward axis,
    /// [`crate::raymarch::FAR_DEPTH`] where nothing is drawn.
    pub view_depth: Vec<f32>,
    /// `(mesh, triangle)` of the visible surface, `None` where nothing is drawn. Triangles are
    /// numbered as in the mesh (before clipping).
    pub coverage: Vec<Option<(u32, u32)>>,
}

/// The picture of `meshes` through `camera` in a `width × height` image: tightly packed RGBA8,
/// top row first (see the module docs).
pub fn render(width: u32, height: u32, camera: &OrbitCamera, meshes: &[CpuMesh<'_>], lighting: &Lighting) -> Vec<u8> {
    rasterize(width, height, camera, meshes, lighting).rgba
}

/// A vertex after the vertex stage: clip position and the attributes the fragment stage uses.
#[derive(Clone, Copy, Debug)]
struct ClipVertex {
    clip: Vec4,
    world: Vec3,
    normal: Vec3,
    color: Vec3,
}

impl ClipVertex {
    fn lerp(self, other: ClipVertex, t: f32) -> ClipVertex {
        ClipVertex {
            clip: self.clip.lerp(other.clip, t),
            world: self.world.lerp(other.world, t),
            normal: self.normal.lerp(other.normal, t),
            color: self.color.lerp(other.color, t),
        }
    }
}

/// [`render`], with the depth and coverage buffers.
pub fn rasterize(width: u32, height: u32, camera: &OrbitCamera, meshes: &[CpuMesh<'_>], lighting: &Lighting) -> Frame {
    rasterize_clipped(width, height, camera, meshes, lighting, &[])
}

/// [`rasterize`] as the 3D view draws meshes: fragments on the removed side of a clip plane
/// (`dot(n, p) > offset`, the interpolated world position) are dropped before the depth test.
pub fn rasterize_clipped(
    width: u32,
    height: u32,
    camera: &OrbitCamera,
    meshes: &[CpuMesh<'_>],
    lighting: &Lighting,
    clip_planes: &[ClipPlane],
) -> Frame {
    let (width, height) = (width.max(1), height.max(1));
    let pixels = width as usize * height as usize;
    let mut frame = Frame {
        width,
        height,
        rgba: lighting.background.repeat(pixels),
        depth: vec![1.0; pixels],
        view_depth: vec![FAR_DEPTH; pixels],
        coverage: vec![None; pixels],
    };
    let fragments = Fragments {
        eye: camera.eye(),
        forward: -camera.backward(),
        light: lighting.world_direction(camera),
        lighting,
        clip_planes,
    };
    let view_projection = camera.view_projection(width as f32 / height as f32);
    for (m, &(mesh, colors, offset)) in (0u32..).zip(meshes) {
        let normals = mesh.vertex_normals();
        let vertices: Vec<ClipVertex> = mesh
            .vertices
            .iter()
            .zip(&normals)
            .enumerate()
            .map(|(i, (&p, &n))| {
                let world = Vec3::from_array(p) + offset;
                let c = colors.get(i).copied().unwrap_or([0, 0, 0, 255]);
                ClipVertex {
                    clip: view_projection * world.extend(1.0),
                    world,
                    normal: Vec3::from_array(n),
                    color: Vec3::new(c[0] as f32, c[1] as f32, c[2] as f32) / 255.0,
                }
            })
            .collect();
        for (t, tri) in (0u32..).zip(&mesh.triangles) {
            let Some(corners) = tri
                .iter()
                .map(|&i| vertices.get(i as usize).copied())
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            let polygon = clip_depth(&corners);
            for k in 1..polygon.len().saturating_sub(1) {
                let fan = [polygon[0], polygon[k], polygon[k + 1]];
                fill(&mut frame, fan, (m, t), &fragments);
            }
        }
    }
    frame
}

/// Sutherland–Hodgman against `z ≥ 0` and `z ≤ w` in clip space.
fn clip_depth(polygon: &[ClipVertex]) -> Vec<ClipVertex> {
    let near = |v: &ClipVertex| v.clip.z;
    let far = |v: &ClipVertex| v.clip.w - v.clip.z;
    let once = clip_plane(polygon, near);
    clip_plane(&once, far)
}

/// Keep the part of `polygon` where `distance ≥ 0`.
fn clip_plane(polygon: &[ClipVertex], distance: impl Fn(&ClipVertex) -> f32) -> Vec<ClipVertex> {
    let mut out = Vec::with_capacity(polygon.len() + 2);
    for (i, &a) in polygon.iter().enumerate() {
        let b = polygon[(i + 1) % polygon.len()];
        let (da, db) = (distance(&a), distance(&b));
        if da >= 0.0 {
            out.push(a);
        }
        if (da >= 0.0) != (db >= 0.0) {
            out.push(a.lerp(b, da / (da - db)));
        }
    }
    out
}

/// What every fragment of a picture is shaded and tested with.
struct Fragments<'a> {
    eye: Vec3,
    forward: Vec3,
    light: Vec3,
    lighting: &'a Lighting,
    clip_planes: &'a [ClipPlane],
}

/// Rasterise one clipped triangle into `frame`.
fn fill(frame: &mut Frame, tri: [ClipVertex; 3], id: (u32, u32), fragments: &Fragments<'_>) {
    let (w, h) = (frame.width as f32, frame.height as f32);
    // Screen position (x right, y down, pixels), depth z/w and 1/w of each corner.
    let screen = tri.map(|v| {
        let inv_w = 1.0 / v.clip.w;
        let ndc = v.clip.truncate() * inv_w;
        Vec4::new((ndc.x + 1.0) * 0.5 * w, (1.0 - ndc.y) * 0.5 * h, ndc.z, inv_w)
    });
    let edge = |a: Vec4, b: Vec4, px: f32, py: f32| (b.x - a.x) * (py - a.y) - (b.y - a.y) * (px - a.x);
    let area = edge(screen[0], screen[1], screen[2].x, screen[2].y);
    if area == 0.0 || !area.is_finite() {
        return;
    }
    // Orient so that the area is positive: then inside means every edge function ≥ 0.
    let order: [usize; 3] = if area > 0.0 { [0, 1, 2] } else { [0, 2, 1] };
    let s = order.map(|i| screen[i]);
    let v = order.map(|i| tri[i]);
    let area = area.abs();
    // Top-left rule (y down, this orientation): an edge owns its pixels when it is a top edge
    // (horizontal, going right) or a left edge (going up).
    let owns = |a: Vec4, b: Vec4| {
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        (dy == 0.0 && dx > 0.0) || dy < 0.0
    };
    let edges = [(1, 2), (2, 0), (0, 1)]; // edge opposite corner 0, 1, 2
    let min_x = s.iter().map(|p| p.x).fold(f32::INFINITY, f32::min);
    let max_x = s.iter().map(|p| p.x).fold(f32::NEG_INFINITY, f32::max);
    let min_y = s.iter().map(|p| p.y).fold(f32::INFINITY, f32::min);
    let max_y = s.iter().map(|p| p.y).fold(f32::NEG_INFINITY, f32::max);
    let x0 = (min_x - 0.5).ceil().max(0.0) as u32;
    let y0 = (min_y - 0.5).ceil().max(0.0) as u32;
    let x1 = ((max_x - 0.5).floor().min(w - 1.0)).max(-1.0);
    let y1 = ((max_y - 0.5).floor().min(h - 1.0)).max(-1.0);
    if x1 < 0.0 || y1 < 0.0 {
        return;
    }
    let (x1, y1) = (x1 as u32, y1 as u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let mut b = [0.0f32; 3];
            let mut inside = true;
            for (corner, &(i, j)) in edges.iter().enumerate() {
                let e = edge(s[i], s[j], px, py);
                if e < 0.0 || (e == 0.0 && !owns(s[i], s[j])) {
                    inside = false;
                    break;
                }
                b[corner] = e / area;
            }
            if !inside {
                continue;
            }
            let z = b[0] * s[0].z + b[1] * s[1].z + b[2] * s[2].z;
            let n = y as usize * frame.width as usize + x as usize;
            // `Less` depth test (a NaN depth fails it), within the depth range.
            let passes = z < frame.depth[n] && (0.0..=1.0).contains(&z);
            if !passes {
                continue;
            }
            // Perspective-correct weights.
            let pw = [b[0] * s[0].w, b[1] * s[1].w, b[2] * s[2].w];
            let sum = pw[0] + pw[1] + pw[2];
            let pw = pw.map(|p| p / sum);
            let mix = |f: fn(&ClipVertex) -> Vec3| f(&v[0]) * pw[0] + f(&v[1]) * pw[1] + f(&v[2]) * pw[2];
            let world = mix(|c| c.world);
            let removed = fragments
                .clip_planes
                .iter()
                .any(|c| Vec3::from_array(c.normal).dot(world) > c.offset);
            if removed {
                continue;
            }
            let Fragments { eye, light, .. } = *fragments;
            let lit = fragments
                .lighting
                .shade(mix(|c| c.color), mix(|c| c.normal), eye - world, light);
            let rgb = lit.to_array().map(|c| (c * 255.0).round().clamp(0.0, 255.0) as u8);
            frame.rgba[4 * n..4 * n + 4].copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
            frame.depth[n] = z;
            frame.view_depth[n] = (world - eye).dot(fragments.forward);
            frame.coverage[n] = Some(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cortexlens_data::camera::CameraPreset;

    /// A square of side 2 in the plane z = `z`, facing +z, two triangles.
    fn square(z: f32) -> Mesh {
        Mesh {
            vertices: vec![[-1.0, -1.0, z], [1.0, -1.0, z], [-1.0, 1.0, z], [1.0, 1.0, z]],
            triangles: vec![[0, 1, 2], [2, 1, 3]],
        }
    }

    fn dorsal() -> OrbitCamera {
        OrbitCamera::preset(CameraPreset::Dorsal, ([-1.0; 3], [1.0; 3]))
    }

    #[test]
    fn square_covers_the_middle_with_its_colour() {
        let mesh = square(0.0);
        let red = [[200, 0, 0, 255]; 4];
        let lighting = Lighting {
            direction: Vec3::Z,
            specular: 0.0,
            ..Lighting::default()
        };
        let f = rasterize(64, 48, &dorsal(), &[(&mesh, &red, Vec3::ZERO)], &lighting);
        let at = |x: usize, y: usize| &f.rgba[4 * (y * 64 + x)..][..4];
        // The centre faces the headlight squarely: close to the vertex colour.
        assert!(at(32, 24)[0] >= 198 && at(32, 24)[1] == 0, "{:?}", at(32, 24));
        assert_eq!(at(0, 0), [0, 0, 0, 255]);
        assert!(f.coverage[24 * 64 + 32].is_some());
        // No pixel is covered twice by the two triangles of the square: both cover some.
        let tris: std::collections::HashSet<_> = f.coverage.iter().flatten().collect();
        assert_eq!(tris.len(), 2);
    }

    #[test]
    fn nearer_square_wins_in_either_order() {
        let (near, far) = (square(0.5), square(-0.5));
        let (a, b) = ([[255, 0, 0, 255]; 4], [[0, 0, 255, 255]; 4]);
        let l = Lighting {
            specular: 0.0,
            ..Lighting::default()
        };
        for meshes in [
            [(&near, &a[..], Vec3::ZERO), (&far, &b[..], Vec3::ZERO)],
            [(&far, &b[..], Vec3::ZERO), (&near, &a[..], Vec3::ZERO)],
        ] {
            let f = rasterize(32, 32, &dorsal(), &meshes, &l);
            let centre = 4 * (16 * 32 + 16);
            assert!(f.rgba[centre] > 0 && f.rgba[centre + 2] == 0);
        }
    }

    #[test]
    fn near_plane_clips() {
        // A big triangle z = −1 reaching behind the eye and past the far plane: only the part in front is drawn, no panic.
        let mesh = Mesh {
            vertices: vec![[-1000.0, -1000.0, -1.0], [1000.0, -1000.0, -1.0], [0.0, 1000.0, -1.0]],
            triangles: vec![[0, 1, 2]],
        };
        let c = OrbitCamera::preset(CameraPreset::Anterior, ([-1.0; 3], [1.0; 3]));
        let colors = [[255, 255, 255, 255]; 3];
        let f = rasterize(16, 16, &c, &[(&mesh, &colors, Vec3::ZERO)], &Lighting::default());
        assert!(f.depth.iter().all(|d| (0.0..=1.0).contains(d)));
        // A floor below the eye: the bottom rows are covered, the top ones not.
        assert!(f.coverage[15 * 16 + 8].is_some() && f.coverage[0].is_none());
    }
}

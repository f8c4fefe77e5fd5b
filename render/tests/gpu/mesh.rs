//! The surface renderer against its CPU reference: icospheres and fsaverage5 hemispheres with
//! per-vertex maps, the depth test, geometry and colour updates, picking and compositing.
//!
//! How pictures are compared: a pixel is *interior* when the CPU reference covers it and its
//! eight neighbours with triangles of one mesh that all share a vertex with the centre pixel's
//! triangle, so that no silhouette, fold or mesh boundary passes within a pixel of its centre.
//! There the GPU must agree with the CPU within [`TOLERANCE`] on every channel, with no
//! exception (every test allows 0 interior pixels over it). Other pixels (edges) may differ:
//! the GPU snaps vertices to 1/256 px before its coverage test, so a pixel whose centre lies
//! within that distance of a silhouette can fall either way; each test bounds how many pixels
//! are covered in one picture only (20 at 160×120, 60 at 320×240).
//!
//! Measured on lavapipe (Mesa 22.3.6, LLVM 15): every interior pixel within 1 level (about
//! 2,400–19,800 interior pixels per picture), and at most 1 pixel covered in one picture only.

use std::path::Path;

use cortexlens_data::camera::{CameraPreset, OrbitCamera, pick};
use cortexlens_data::mesh::Mesh;
use cortexlens_data::vertex_colors::{HIGHLIGHT_RGBA, Shading, VertexLayer, vertex_colors};
use cortexlens_data::{ArrayData, Colormap, LayerStyle, Loaded, SurfaceFile, load_path};
use cortexlens_render::mesh_cpu_reference::{self, CpuMesh, Frame};
use cortexlens_render::test_meshes::icosphere;
use cortexlens_render::testing::shared_context;
use cortexlens_render::{
    Compositor, GpuMesh, Lighting, MeshFrame, MeshInstance, MeshRenderer, MeshTarget, OffscreenTarget, RenderError,
    Renderer, render_rgba,
};
use glam::Vec3;

use crate::common::pixel;
use crate::compositor::composite;

/// Largest per-channel difference allowed at interior pixels: the GPU interpolates from
/// vertex positions snapped to 1/256 px and rounds its float-to-unorm conversion its own way,
/// the CPU does both exactly in f32, so a channel can differ by a level or two.
const TOLERANCE: u8 = 2;

/// What a comparison found.
struct Compared {
    gpu: Vec<u8>,
    cpu: Frame,
    interior: usize,
    over: usize,
}

/// What a test allows.
#[derive(Clone, Copy)]
struct Allowed {
    /// Interior pixels that may differ by more than [`TOLERANCE`].
    over: usize,
    /// Interior pixels required at least (so that a test cannot pass on an empty picture).
    min_interior: usize,
    /// Pixels that may be covered in one picture and background in the other (edges).
    coverage: usize,
}

/// Render `meshes` on the GPU (one [`GpuMesh`] each) and on the CPU and compare them as the
/// module docs describe, within `allowed`.
fn check(name: &str, size: (u32, u32), camera: &OrbitCamera, meshes: &[CpuMesh<'_>], allowed: Allowed) -> Compared {
    let (width, height) = size;
    let ctx = shared_context();
    let gpu_meshes: Vec<GpuMesh> = meshes
        .iter()
        .map(|(mesh, colors, _)| GpuMesh::upload(&ctx.device, &ctx.queue, mesh, colors))
        .collect();
    let instances: Vec<MeshInstance<'_>> = gpu_meshes
        .iter()
        .zip(meshes)
        .map(|(mesh, &(_, _, offset))| MeshInstance { mesh, offset })
        .collect();
    let lighting = Lighting::default();
    let frame = MeshFrame {
        camera,
        instances: &instances,
        lighting: &lighting,
    };
    let gpu = render_rgba(
        &mut MeshRenderer::new(&ctx.device),
        &ctx.device,
        &ctx.queue,
        (width, height),
        &frame,
    )
    .expect("readback");
    compare(name, gpu, size, camera, meshes, &lighting, allowed)
}

/// The comparison of [`check`] for a `size` picture already rendered.
fn compare(
    name: &str,
    gpu: Vec<u8>,
    size: (u32, u32),
    camera: &OrbitCamera,
    meshes: &[CpuMesh<'_>],
    lighting: &Lighting,
    allowed: Allowed,
) -> Compared {
    let (width, height) = size;
    let cpu = mesh_cpu_reference::rasterize(width, height, camera, meshes, lighting);
    let mask = interior(&cpu, meshes);
    let background = lighting.background;
    let (mut interior_count, mut over, mut worst, mut coverage) = (0, 0, 0u8, 0);
    let mut examples = Vec::new();
    for (n, (g, c)) in gpu.chunks_exact(4).zip(cpu.rgba.chunks_exact(4)).enumerate() {
        let gpu_covered = g != background;
        if gpu_covered != cpu.coverage[n].is_some() {
            coverage += 1;
        }
        if !mask[n] {
            continue;
        }
        interior_count += 1;
        let d = g.iter().zip(c).map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
        worst = worst.max(d);
        if d > TOLERANCE {
            over += 1;
            if examples.len() < 8 {
                examples.push((n as u32 % width, n as u32 / width, g.to_vec(), c.to_vec()));
            }
        }
    }
    let covered = cpu.coverage.iter().filter(|c| c.is_some()).count();
    eprintln!(
        "{name}: {width}×{height} px, {covered} covered, {interior_count} interior, max interior \
         diff {worst}, {over} interior px over {TOLERANCE}, {coverage} px covered in one picture only"
    );
    assert!(
        interior_count >= allowed.min_interior,
        "{name}: only {interior_count} interior pixels (want ≥ {})",
        allowed.min_interior
    );
    assert!(
        over <= allowed.over,
        "{name}: {over} interior pixels differ by more than {TOLERANCE} (allowed {}); \
         examples (x, y, gpu, cpu): {examples:?}",
        allowed.over
    );
    assert!(
        coverage <= allowed.coverage,
        "{name}: {coverage} pixels covered in one picture only (allowed {})",
        allowed.coverage
    );
    Compared {
        gpu,
        cpu,
        interior: interior_count,
        over,
    }
}

/// Pixels whose 3×3 neighbourhood shows one mesh's triangles that all share a vertex with the
/// centre's triangle (image borders excluded).
fn interior(frame: &Frame, meshes: &[CpuMesh<'_>]) -> Vec<bool> {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let mut mask = vec![false; w * h];
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let Some((m, t)) = frame.coverage[y * w + x] else {
                continue;
            };
            let triangles = &meshes[m as usize].0.triangles;
            let centre = triangles[t as usize];
            mask[y * w + x] = (y - 1..=y + 1).all(|ny| {
                (x - 1..=x + 1).all(|nx| match frame.coverage[ny * w + nx] {
                    Some((nm, nt)) if nm == m => triangles[nt as usize].iter().any(|v| centre.contains(v)),
                    _ => false,
                })
            });
        }
    }
    mask
}

fn surface(name: &str) -> SurfaceFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/surfaces")
        .join(name);
    match load_path(&path, &mut |_| {}) {
        Ok(Loaded::Surface(s)) => s,
        Ok(_) => panic!("{}: not a surface", path.display()),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

fn mesh(name: &str) -> Mesh {
    let file = surface(name);
    Mesh::from_surface(&file).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The first data array of a per-vertex file, as f32.
fn values(name: &str) -> Vec<f32> {
    match &surface(name).arrays[0].data {
        ArrayData::F32(v) => v.clone(),
        other => other.to_f64().into_iter().map(|v| v as f32).collect(),
    }
}

/// Colours of an icosphere: gray with a viridis map of z over it.
fn z_colors(mesh: &Mesh) -> Vec<[u8; 4]> {
    let z: Vec<f32> = mesh.vertices.iter().map(|v| v[2]).collect();
    let (lo, hi) = mesh.bounds();
    let mut style = LayerStyle::base((lo[2], hi[2]));
    style.colormap = Colormap::Viridis;
    let layer = VertexLayer {
        values: &z,
        style: &style,
        labels: None,
    };
    vertex_colors(mesh.vertices.len(), None, Shading::None, &[layer], None)
}

#[test]
fn icosphere_matches_cpu_reference() {
    let sphere = icosphere(3, 40.0, Vec3::new(5.0, -3.0, 10.0));
    let colors = z_colors(&sphere);
    for preset in [CameraPreset::LateralLeft, CameraPreset::Dorsal] {
        let camera = OrbitCamera::preset(preset, sphere.bounds());
        let c = check(
            &format!("icosphere {}", preset.name()),
            (160, 120),
            &camera,
            &[(&sphere, &colors, Vec3::ZERO)],
            Allowed {
                over: 0,
                min_interior: 5000,
                coverage: 20,
            },
        );
        assert!(c.interior > 0 && c.over == 0);
    }
}

/// fsaverage5 left pial with graded sulcal-depth shading and a thresholded signed map (the
/// thickness minus 2.5 mm, threshold 0.5) over it.
fn fsaverage5_left() -> (Mesh, Vec<[u8; 4]>) {
    let pial = mesh("fsaverage5_pial_left.gii.gz");
    let sulc = values("fsaverage5_sulc_left.gii.gz");
    let thick: Vec<f32> = values("fsaverage5_thick_left.gii.gz")
        .into_iter()
        .map(|t| t - 2.5)
        .collect();
    assert_eq!((pial.vertices.len(), pial.triangles.len()), (10242, 20480));
    let style = LayerStyle::signed_overlay(0.5, 1.5);
    let layer = VertexLayer {
        values: &thick,
        style: &style,
        labels: None,
    };
    let colors = vertex_colors(10242, Some(&sulc), Shading::Graded, &[layer], None);
    (pial, colors)
}

#[test]
fn fsaverage5_hemisphere_matches_cpu_reference() {
    let (pial, colors) = fsaverage5_left();
    for preset in [CameraPreset::LateralLeft, CameraPreset::MedialLeft] {
        let camera = OrbitCamera::preset(preset, pial.bounds());
        let c = check(
            &format!("fsaverage5 pial left {}", preset.name()),
            (320, 240),
            &camera,
            &[(&pial, &colors, Vec3::ZERO)],
            Allowed {
                over: 0,
                min_interior: 10_000,
                coverage: 60,
            },
        );
        // Both sides of the map show: red-yellow and blue-lightblue pixels.
        let reddish = c.gpu.chunks_exact(4).filter(|p| p[0] > 200 && p[2] < 60).count();
        let bluish = c.gpu.chunks_exact(4).filter(|p| p[2] > 200 && p[0] < 60).count();
        assert!(reddish > 100 && bluish > 100, "{reddish} red, {bluish} blue");
    }
}

#[test]
fn both_hemispheres_dorsal() {
    let left = mesh("fsaverage5_pial_left.gii.gz");
    let right = mesh("fsaverage5_pial_right.gii.gz");
    let shade = |name: &str, n: usize| vertex_colors(n, Some(&values(name)), Shading::Binary, &[], None);
    let cl = shade("fsaverage5_curv_left.gii.gz", left.vertices.len());
    let cr = shade("fsaverage5_curv_right.gii.gz", right.vertices.len());
    let (ll, lh) = left.bounds();
    let (rl, rh) = right.bounds();
    let bounds = ([0, 1, 2].map(|a| ll[a].min(rl[a])), [0, 1, 2].map(|a| lh[a].max(rh[a])));
    let camera = OrbitCamera::preset(CameraPreset::Dorsal, bounds);
    let c = check(
        "fsaverage5 pial both dorsal",
        (320, 240),
        &camera,
        &[(&left, &cl, Vec3::ZERO), (&right, &cr, Vec3::ZERO)],
        Allowed {
            over: 0,
            min_interior: 10_000,
            coverage: 60,
        },
    );
    // Seen from above with anterior up: the left hemisphere fills the left half.
    let (w, h) = (320, 240);
    let side = |x0: u32, x1: u32, m: u32| {
        (0..h)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| c.cpu.coverage[(y * w + x) as usize].is_some_and(|(k, _)| k == m))
            .count()
    };
    assert!(side(0, w / 2, 0) > 10 * side(0, w / 2, 1));
    assert!(side(w / 2, w, 1) > 10 * side(w / 2, w, 0));
}

#[test]
fn near_mesh_hides_far_mesh_with_offsets() {
    // One mesh drawn twice through offsets: the copy nearer to the eye (lateral-left: −x) must
    // hide the other in either order; the nearer one is red, the farther blue.
    let ctx = shared_context();
    let sphere = icosphere(3, 20.0, Vec3::ZERO);
    let red = vec![[220, 30, 30, 255]; sphere.vertices.len()];
    let blue = vec![[30, 30, 220, 255]; sphere.vertices.len()];
    let camera = OrbitCamera::preset(CameraPreset::LateralLeft, ([-40.0; 3], [40.0; 3]));
    let (near, far) = (Vec3::new(-15.0, 12.0, 0.0), Vec3::new(15.0, -12.0, 0.0));
    let near_mesh = GpuMesh::upload(&ctx.device, &ctx.queue, &sphere, &red);
    let far_mesh = GpuMesh::upload(&ctx.device, &ctx.queue, &sphere, &blue);
    let mut renderer = MeshRenderer::new(&ctx.device);
    let lighting = Lighting::default();
    let a = MeshInstance {
        mesh: &near_mesh,
        offset: near,
    };
    let b = MeshInstance {
        mesh: &far_mesh,
        offset: far,
    };
    let cpu_meshes = [(&sphere, &red[..], near), (&sphere, &blue[..], far)];
    for (order, instances) in [("near first", [a, b]), ("far first", [b, a])] {
        let frame = MeshFrame {
            camera: &camera,
            instances: &instances,
            lighting: &lighting,
        };
        let gpu = render_rgba(&mut renderer, &ctx.device, &ctx.queue, (160, 120), &frame).unwrap();
        // The image centre looks at the origin, where the near sphere covers the far one.
        let centre = pixel(&gpu, 160, 80, 60);
        assert!(centre[0] > 150 && centre[2] < 60, "{order}: centre {centre:?}");
        // Both spheres show somewhere.
        let blues = gpu.chunks_exact(4).filter(|p| p[2] > 150 && p[0] < 60).count();
        assert!(blues > 500, "{order}: {blues} blue pixels");
        let ordered: Vec<CpuMesh<'_>> = match order {
            "near first" => cpu_meshes.to_vec(),
            _ => vec![cpu_meshes[1], cpu_meshes[0]],
        };
        compare(
            &format!("depth test, {order}"),
            gpu,
            (160, 120),
            &camera,
            &ordered,
            &lighting,
            Allowed {
                over: 0,
                min_interior: 2000,
                coverage: 20,
            },
        );
    }
}

#[test]
fn geometry_switch_to_flat_patch() {
    let ctx = shared_context();
    let (pial, colors) = fsaverage5_left();
    let flat = mesh("fsaverage5_flat_left.gii.gz");
    assert_eq!(flat.vertices.len(), pial.vertices.len());
    assert!(flat.triangles.len() < pial.triangles.len());
    let mut gpu_mesh = GpuMesh::upload(&ctx.device, &ctx.queue, &pial, &colors);
    assert_eq!(gpu_mesh.triangle_count(), 20480);
    let mut renderer = MeshRenderer::new(&ctx.device);
    let lighting = Lighting::default();
    // The flat patch lies in a plane of constant z: look at it from above.
    let camera = OrbitCamera::preset(CameraPreset::Dorsal, flat.bounds());
    let mut render = |m: &GpuMesh| {
        let instances = [MeshInstance {
            mesh: m,
            offset: Vec3::ZERO,
        }];
        let frame = MeshFrame {
            camera: &camera,
            instances: &instances,
            lighting: &lighting,
        };
        render_rgba(&mut renderer, &ctx.device, &ctx.queue, (320, 240), &frame).unwrap()
    };
    let before = render(&gpu_mesh);
    gpu_mesh
        .set_geometry(&ctx.device, &ctx.queue, &flat)
        .expect("same vertex count");
    assert_eq!(gpu_mesh.triangle_count(), flat.triangles.len());
    let after = render(&gpu_mesh);
    let changed = before
        .chunks_exact(4)
        .zip(after.chunks_exact(4))
        .filter(|(a, b)| a != b)
        .count();
    assert!(changed > 10_000, "only {changed} pixels changed");
    compare(
        "flat patch after set_geometry",
        after.clone(),
        (320, 240),
        &camera,
        &[(&flat, &colors, Vec3::ZERO)],
        &lighting,
        Allowed {
            over: 0,
            min_interior: 15_000,
            coverage: 60,
        },
    );
    // Back to the pial surface: the same picture as before the switch.
    gpu_mesh.set_geometry(&ctx.device, &ctx.queue, &pial).unwrap();
    assert_eq!(render(&gpu_mesh), before);
    // Uploaded flat, then switched to pial: the index buffer grows.
    let mut grown = GpuMesh::upload(&ctx.device, &ctx.queue, &flat, &colors);
    assert_eq!(render(&grown), after);
    grown.set_geometry(&ctx.device, &ctx.queue, &pial).unwrap();
    assert_eq!(grown.triangle_count(), 20480);
    assert_eq!(render(&grown), before);
    // Another vertex count is refused and changes nothing.
    let sphere = icosphere(2, 10.0, Vec3::ZERO);
    assert!(matches!(
        gpu_mesh.set_geometry(&ctx.device, &ctx.queue, &sphere),
        Err(RenderError::VertexCount {
            expected: 10242,
            got: 162
        })
    ));
    assert_eq!(render(&gpu_mesh), before);
}

#[test]
fn colours_update_and_highlight() {
    let ctx = shared_context();
    let sphere = icosphere(3, 40.0, Vec3::ZERO);
    let gray = vertex_colors(sphere.vertices.len(), None, Shading::None, &[], None);
    let gpu_mesh = GpuMesh::upload(&ctx.device, &ctx.queue, &sphere, &gray);
    let mut renderer = MeshRenderer::new(&ctx.device);
    let lighting = Lighting::default();
    let camera = OrbitCamera::preset(CameraPreset::Anterior, sphere.bounds());
    let instances = [MeshInstance {
        mesh: &gpu_mesh,
        offset: Vec3::ZERO,
    }];
    let frame = MeshFrame {
        camera: &camera,
        instances: &instances,
        lighting: &lighting,
    };
    let mut render = || render_rgba(&mut renderer, &ctx.device, &ctx.queue, (160, 120), &frame).unwrap();
    let plain = render();
    // Highlight the vertex nearest the image centre: picked through the centre ray.
    let hit = pick(
        camera.ray(80.0, 60.0, 160.0, 120.0),
        &[(&sphere.vertices, &sphere.triangles, Vec3::ZERO)],
    )
    .expect("the centre ray hits the sphere");
    let z: Vec<f32> = sphere.vertices.iter().map(|v| v[2]).collect();
    let mut style = LayerStyle::base((-40.0, 40.0));
    style.colormap = Colormap::Viridis;
    let layer = VertexLayer {
        values: &z,
        style: &style,
        labels: None,
    };
    let colors = vertex_colors(sphere.vertices.len(), None, Shading::None, &[layer], Some(hit.vertex));
    assert_eq!(colors[hit.vertex], HIGHLIGHT_RGBA);
    gpu_mesh.set_colors(&ctx.queue, &colors);
    let updated = render();
    assert_ne!(plain, updated);
    let c = compare(
        "colours updated",
        updated,
        (160, 120),
        &camera,
        &[(&sphere, &colors, Vec3::ZERO)],
        &lighting,
        Allowed {
            over: 0,
            min_interior: 5000,
            coverage: 20,
        },
    );
    // The highlighted vertex shows green where it projects.
    let p = camera
        .view_projection(160.0 / 120.0)
        .project_point3(Vec3::from_array(sphere.vertices[hit.vertex]));
    let (x, y) = (((p.x + 1.0) * 80.0) as u32, ((1.0 - p.y) * 60.0) as u32);
    let g = pixel(&c.gpu, 160, x, y);
    assert!(g[1] > 150 && g[0] < 100 && g[2] < 100, "({x}, {y}): {g:?}");
}

#[test]
fn picking_agrees_with_the_rasteriser() {
    // Every interior pixel's ray picks the triangle the CPU reference shows there, and the
    // GPU shows the same colour there (checked by `check`).
    let sphere = icosphere(3, 40.0, Vec3::new(5.0, -3.0, 10.0));
    let colors = z_colors(&sphere);
    let offset = Vec3::new(0.0, 0.0, 7.0);
    let mut camera = OrbitCamera::preset(CameraPreset::Posterior, sphere.bounds());
    camera.orbit(0.4, -0.3);
    camera.target += offset;
    let c = check(
        "picking scene",
        (160, 120),
        &camera,
        &[(&sphere, &colors, offset)],
        Allowed {
            over: 0,
            min_interior: 5000,
            coverage: 20,
        },
    );
    let mask = interior(&c.cpu, &[(&sphere, &colors, offset)]);
    let mut checked = 0;
    for (n, inside) in mask.iter().enumerate() {
        if !inside || n % 7 != 0 {
            continue;
        }
        let (x, y) = ((n % 160) as f32 + 0.5, (n / 160) as f32 + 0.5);
        let hit = pick(
            camera.ray(x, y, 160.0, 120.0),
            &[(&sphere.vertices, &sphere.triangles, offset)],
        )
        .expect("an interior pixel's ray hits");
        let (_, t) = c.cpu.coverage[n].unwrap();
        let shown = sphere.triangles[t as usize];
        assert!(
            hit.triangle == t as usize || sphere.triangles[hit.triangle].iter().any(|v| shown.contains(v)),
            "pixel ({x}, {y}): picked triangle {}, shown {t}",
            hit.triangle
        );
        checked += 1;
    }
    assert!(checked > 500, "{checked}");
}

#[test]
fn mesh_target_composites_through_bind_view() {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let sphere = icosphere(2, 30.0, Vec3::ZERO);
    let colors = z_colors(&sphere);
    let gpu_mesh = GpuMesh::upload(device, queue, &sphere, &colors);
    let camera = OrbitCamera::preset(CameraPreset::LateralRight, sphere.bounds());
    let mut target = MeshTarget::new(device, 20, 10);
    assert!(target.resize(device, 48, 36));
    assert!(!target.resize(device, 48, 36));
    assert_eq!(target.size(), (48, 36));
    let renderer = MeshRenderer::new(device);
    let instances = [MeshInstance {
        mesh: &gpu_mesh,
        offset: Vec3::ZERO,
    }];
    let frame = MeshFrame {
        camera: &camera,
        instances: &instances,
        lighting: &Lighting::default(),
    };
    queue.submit([renderer.draw(device, queue, &target, &frame)]);
    let picture = target.read_rgba(device, queue).unwrap();

    let compositor = Compositor::new(device, wgpu::TextureFormat::Rgba8Unorm);
    let bind = compositor.bind_view(device, target.view());
    let format = wgpu::TextureFormat::Rgba8Unorm;
    let screen = composite(&compositor, &bind, format, (48, 36), wgpu::Color::WHITE, None);
    assert_eq!(screen, picture);
    assert!(picture.chunks_exact(4).any(|p| p != [0, 0, 0, 255]));
}

//! Surface view frame rate at 1920×1080: fsaverage5 (2 × 10,242 vertices, 2 × 20,480
//! triangles) and two fsaverage-sized icospheres (2 × 163,842 vertices, 2 × 327,680 triangles).
//!
//! `WGPU_BACKEND=vulkan cargo bench -p cortexlens-render --bench mesh` — prints the adapter,
//! then per scene the frames per second of draw + submit + wait, and of the same plus reading
//! the 1920×1080 picture back, each with the median frame time. The camera turns a little
//! every frame. Set `MESH_BENCH_FRAMES` to change the number of frames (30).

use std::path::Path;
use std::time::Instant;

use cortexlens_data::camera::{CameraPreset, OrbitCamera};
use cortexlens_data::mesh::Mesh;
use cortexlens_data::vertex_colors::{Shading, vertex_colors};
use cortexlens_data::{ArrayData, Loaded, SurfaceFile, load_path};
use cortexlens_render::test_meshes::icosphere;
use cortexlens_render::{
    GpuContext, GpuMesh, Lighting, MeshFrame, MeshInstance, MeshRenderer, MeshTarget, OffscreenTarget, Renderer,
};
use glam::Vec3;

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;
const WARM_UP: usize = 3;

fn main() {
    let frames: usize = std::env::var("MESH_BENCH_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let ctx = GpuContext::headless().expect("a GPU adapter (WGPU_BACKEND=vulkan for lavapipe)");
    let info = ctx.adapter.get_info();
    println!(
        "adapter: {} ({:?}, {:?}, {} {})",
        info.name, info.backend, info.device_type, info.driver, info.driver_info
    );
    println!("{WIDTH}×{HEIGHT}, {frames} frames after {WARM_UP} warm-up frames");
    println!(
        "{:<34} {:>9} {:>10} {:>19} {:>19}",
        "scene", "vertices", "triangles", "fps draw (median)", "fps +readback (med)"
    );

    let fsaverage5 = [
        hemisphere("fsaverage5_pial_left.gii.gz", "fsaverage5_curv_left.gii.gz"),
        hemisphere("fsaverage5_pial_right.gii.gz", "fsaverage5_curv_right.gii.gz"),
    ];
    run(&ctx, "fsaverage5 pial, both, dorsal", &fsaverage5, frames);

    let spheres: Vec<(Mesh, Vec<[u8; 4]>)> = [-1.0f32, 1.0]
        .into_iter()
        .map(|side| {
            let mesh = icosphere(7, 70.0, Vec3::new(side * 40.0, 0.0, 0.0));
            let curv: Vec<f32> = mesh.vertices.iter().map(|v| (v[1] * 0.3).sin()).collect();
            let colors = vertex_colors(mesh.vertices.len(), Some(&curv), Shading::Binary, &[], None);
            (mesh, colors)
        })
        .collect();
    run(&ctx, "icosphere s=7 × 2, dorsal", &spheres, frames);
}

/// Upload the meshes, then time `frames` frames without and with readback.
fn run(ctx: &GpuContext, name: &str, meshes: &[(Mesh, Vec<[u8; 4]>)], frames: usize) {
    let (device, queue) = (&ctx.device, &ctx.queue);
    let gpu: Vec<GpuMesh> = meshes
        .iter()
        .map(|(m, c)| GpuMesh::upload(device, queue, m, c))
        .collect();
    let instances: Vec<MeshInstance<'_>> = gpu
        .iter()
        .map(|mesh| MeshInstance {
            mesh,
            offset: Vec3::ZERO,
        })
        .collect();
    let bounds = meshes
        .iter()
        .map(|(m, _)| m.bounds())
        .fold(([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]), |(lo, hi), (l, h)| {
            ([0, 1, 2].map(|a| lo[a].min(l[a])), [0, 1, 2].map(|a| hi[a].max(h[a])))
        });
    let mut camera = OrbitCamera::preset(CameraPreset::Dorsal, bounds);
    let renderer = MeshRenderer::new(device);
    let target = MeshTarget::new(device, WIDTH, HEIGHT);
    let lighting = Lighting::default();

    let frame = |readback: bool, camera: &mut OrbitCamera| {
        // Turn a little every frame, as an interactive orbit would.
        camera.orbit(0.01, 0.0);
        let frame = MeshFrame {
            camera,
            instances: &instances,
            lighting: &lighting,
        };
        let submission = queue.submit([renderer.draw(device, queue, &target, &frame)]);
        if readback {
            let pixels = target.read_rgba(device, queue).expect("readback");
            std::hint::black_box(pixels);
        } else {
            device
                .poll(wgpu::PollType::Wait {
                    submission_index: Some(submission),
                    timeout: None,
                })
                .expect("GPU wait");
        }
    };
    // (frames per second over the whole run, median frame time in ms)
    let mut fps = |readback: bool| {
        for _ in 0..WARM_UP {
            frame(readback, &mut camera);
        }
        let mut times: Vec<f64> = (0..frames)
            .map(|_| {
                let start = Instant::now();
                frame(readback, &mut camera);
                start.elapsed().as_secs_f64()
            })
            .collect();
        let total: f64 = times.iter().sum();
        times.sort_by(f64::total_cmp);
        (frames as f64 / total, times[times.len() / 2] * 1e3)
    };
    let (draw, draw_ms) = fps(false);
    let (with_readback, readback_ms) = fps(true);
    let vertices: usize = meshes.iter().map(|(m, _)| m.vertices.len()).sum();
    let triangles: usize = meshes.iter().map(|(m, _)| m.triangles.len()).sum();
    println!(
        "{name:<34} {vertices:>9} {triangles:>10} {draw:>8.1} ({draw_ms:>5.1} ms) {with_readback:>8.1} ({readback_ms:>5.1} ms)"
    );
}

/// A fsaverage5 hemisphere with binary curvature shading.
fn hemisphere(mesh_file: &str, curv_file: &str) -> (Mesh, Vec<[u8; 4]>) {
    let mesh = Mesh::from_surface(&surface(mesh_file)).expect("a mesh");
    let curv: Vec<f32> = match &surface(curv_file).arrays[0].data {
        ArrayData::F32(v) => v.clone(),
        other => other.to_f64().into_iter().map(|v| v as f32).collect(),
    };
    let colors = vertex_colors(mesh.vertices.len(), Some(&curv), Shading::Binary, &[], None);
    (mesh, colors)
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

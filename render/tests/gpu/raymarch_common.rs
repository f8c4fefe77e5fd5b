//! Picture comparison for the ray-marcher tests: GPU against the CPU reference, split into
//! interior and edge pixels.
//!
//! A pixel is *interior* when, in the CPU picture, none of its eight neighbours differs from it
//! by more than [`SMOOTH`] on any channel: no silhouette, box edge, ISO crease or overlay border
//! passes through it. There the GPU must agree with the CPU within [`TOLERANCE`] on every
//! channel, with no exception. Other pixels (edges) may differ by more, because a sample that
//! falls within f32 rounding of a decision (inside the box or not, above the level or not, the
//! overlay drawn or not) can go either way on the two; each test bounds how many edge pixels may
//! exceed the tolerance.

use cortexlens_data::camera::OrbitCamera;
use cortexlens_render::testing::{compare_rgba, shared_context};
use cortexlens_render::{RayFrame, RayMarchRenderer, RayMarchSettings, RaySource, render_rgba};

/// Largest per-channel difference allowed at interior pixels. Not 0: the GPU marches in f32
/// (ray, box, sample positions, trilinear weights, compositing) where the CPU uses f64, and
/// rounds to 8 bits its own way; over a few hundred composited samples this moves a channel by
/// a level or two.
pub const TOLERANCE: u8 = 3;

/// Neighbour difference (levels) below which a pixel counts as interior.
pub const SMOOTH: u8 = 24;

/// The GPU picture of `source` at `size` through `camera` with `settings`.
pub fn render_ray(
    renderer: &mut RayMarchRenderer,
    size: (u32, u32),
    camera: &OrbitCamera,
    settings: &RayMarchSettings,
    source: RaySource<'_>,
) -> Vec<u8> {
    let ctx = shared_context();
    let frame = RayFrame {
        meshes: false,
        camera,
        settings,
        source,
    };
    render_rgba(renderer, &ctx.device, &ctx.queue, size, &frame).expect("readback")
}

/// Meshes with one RGBA8 colour per vertex, drawn where they are.
pub type ColouredMeshes = [(cortexlens_data::mesh::Mesh, Vec<[u8; 4]>)];

/// The 3D view's meshes, then `source` ray-marched over them (each ray ending at the mesh in front
/// of it), on the GPU; and the meshes rasterised on the CPU as the 3D view draws them (for the
/// CPU reference's `View::meshes`).
pub fn render_ray_over_meshes(
    renderer: &mut RayMarchRenderer,
    size: (u32, u32),
    camera: &OrbitCamera,
    settings: &RayMarchSettings,
    source: RaySource<'_>,
    meshes: &ColouredMeshes,
) -> (Vec<u8>, cortexlens_render::mesh_cpu_reference::Frame) {
    use cortexlens_render::mesh_cpu_reference::rasterize_clipped;
    use cortexlens_render::{
        GpuMesh, Lighting, MeshDestination, MeshFrame, MeshInstance, MeshRenderer, OffscreenTarget, RayTarget, Renderer,
    };
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let uploaded: Vec<GpuMesh> = meshes
        .iter()
        .map(|(mesh, colours)| GpuMesh::upload(device, queue, mesh, colours))
        .collect();
    let instances: Vec<MeshInstance<'_>> = uploaded
        .iter()
        .map(|mesh| MeshInstance {
            mesh,
            offset: glam::Vec3::ZERO,
        })
        .collect();
    let lighting = Lighting::default();
    let clips = settings.active_clip_planes();
    let target = RayTarget::new(device, size.0, size.1);
    let frame = MeshFrame {
        camera,
        instances: &instances,
        lighting: &lighting,
    };
    let mut encoder = device.create_command_encoder(&Default::default());
    MeshRenderer::new(device).record_3d(
        device,
        &mut encoder,
        &target,
        &frame,
        &clips,
        MeshDestination::UnderRays,
    );
    queue.submit([encoder.finish()]);
    let ray_frame = RayFrame {
        meshes: true,
        camera,
        settings,
        source,
    };
    renderer.prepare(device, queue, &ray_frame);
    queue.submit([renderer.draw(device, queue, &target, &ray_frame)]);
    let gpu = target.read_rgba(device, queue).expect("readback");
    let cpu_meshes: Vec<_> = meshes
        .iter()
        .map(|(mesh, colours)| (mesh, colours.as_slice(), glam::Vec3::ZERO))
        .collect();
    let drawn = rasterize_clipped(size.0, size.1, camera, &cpu_meshes, &lighting, &clips);
    (gpu, drawn)
}

/// What a test allows.
#[derive(Clone, Copy, Debug)]
pub struct Allowed {
    /// Edge pixels over [`TOLERANCE`].
    pub edge: usize,
    /// Pixels that must differ from the background in the CPU picture.
    pub min_drawn: usize,
}

/// What a comparison found, for the log and further assertions.
#[derive(Debug)]
pub struct Compared {
    pub interior: usize,
    pub interior_max: u8,
    pub edge_over: usize,
    pub max: u8,
    pub drawn: usize,
}

/// Whether every neighbour of `(x, y)` is within [`SMOOTH`] of it in `picture`.
fn interior(picture: &[u8], width: usize, height: usize, x: usize, y: usize) -> bool {
    let at = |x: usize, y: usize| &picture[4 * (y * width + x)..4 * (y * width + x) + 4];
    let centre = at(x, y);
    for dy in -1i64..=1 {
        for dx in -1i64..=1 {
            let (nx, ny) = (x as i64 + dx, y as i64 + dy);
            if nx < 0 || ny < 0 || nx >= width as i64 || ny >= height as i64 {
                return false;
            }
            let n = at(nx as usize, ny as usize);
            if n.iter().zip(centre).any(|(a, b)| a.abs_diff(*b) > SMOOTH) {
                return false;
            }
        }
    }
    true
}

/// Compare a GPU picture with the CPU reference as the module docs describe; panics with
/// examples when the allowance is exceeded.
pub fn compare(
    name: &str,
    gpu: &[u8],
    cpu: &[u8],
    size: (u32, u32),
    background: [u8; 4],
    allowed: Allowed,
) -> Compared {
    let (width, height) = (size.0 as usize, size.1 as usize);
    assert_eq!(gpu.len(), cpu.len(), "{name}: sizes differ");
    let mut c = Compared {
        interior: 0,
        interior_max: 0,
        edge_over: 0,
        max: compare_rgba(gpu, cpu, size.0, TOLERANCE).max,
        drawn: cpu.chunks_exact(4).filter(|p| **p != background).count(),
    };
    let mut examples = Vec::new();
    for y in 0..height {
        for x in 0..width {
            let n = 4 * (y * width + x);
            let diff = (0..4).map(|i| gpu[n + i].abs_diff(cpu[n + i])).max().unwrap_or(0);
            if interior(cpu, width, height, x, y) {
                c.interior += 1;
                c.interior_max = c.interior_max.max(diff);
                if diff > TOLERANCE && examples.len() < 8 {
                    examples.push((x, y, &gpu[n..n + 4], &cpu[n..n + 4]));
                }
            } else if diff > TOLERANCE {
                c.edge_over += 1;
            }
        }
    }
    eprintln!(
        "{name}: {width}×{height}, {} drawn, {} interior (max diff {}), {} edge px over {TOLERANCE}, max diff {}",
        c.drawn, c.interior, c.interior_max, c.edge_over, c.max
    );
    assert!(c.drawn >= allowed.min_drawn, "{name}: only {} pixels drawn", c.drawn);
    assert!(
        c.interior_max <= TOLERANCE,
        "{name}: interior pixels differ by up to {}; examples (x, y, gpu, cpu): {examples:?}",
        c.interior_max
    );
    assert!(
        c.edge_over <= allowed.edge,
        "{name}: {} edge pixels over {TOLERANCE} (allowed {})",
        c.edge_over,
        allowed.edge
    );
    c
}

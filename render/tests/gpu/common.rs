//! Synthetic volumes and the GPU-against-CPU check shared by the tests.

use cortexlens_data::{LayerStyle, SliceGeometry, Volume};
use cortexlens_render::testing::{compare_rgba, shared_context};
use cortexlens_render::{SliceFrame, SliceRenderer, VolumeTexture, cpu_reference, render_rgba};
use glam::{DMat4, DVec3, DVec4};

/// Largest per-channel difference allowed between the GPU and the CPU picture.
///
/// Not 0: the GPU maps positions and interpolates in f32 where the CPU reference uses f64,
/// and it blends in the rasterizer's own fixed-point or float arithmetic. So a value that
/// falls within an f32 rounding error of a LUT step, a voxel edge or a threshold can land on
/// the neighbouring entry or side (a LUT step changes a channel by 1 in gray and the FSL
/// maps, up to 4 in `hot`: see `lut_steps`), and blending rounds by 1. Such pixels are rare;
/// each test states how many it allows beyond the tolerance (all allow 0 today).
pub const TOLERANCE: u8 = 2;

/// A volume of `shape` with `value(i, j, k)` and the given affine, one frame.
pub fn volume(name: &str, shape: [usize; 3], affine: DMat4, value: impl Fn(usize, usize, usize) -> f32) -> Volume {
    let mut data = Vec::with_capacity(shape.iter().product());
    for k in 0..shape[2] {
        for j in 0..shape[1] {
            for i in 0..shape[0] {
                data.push(value(i, j, k));
            }
        }
    }
    Volume::from_f32(name, [shape[0], shape[1], shape[2], 1], affine, data)
}

/// An affine from three voxel axes (columns, in world mm) and the world position of voxel 0.
pub fn affine(x: DVec3, y: DVec3, z: DVec3, origin: DVec3) -> DMat4 {
    DMat4::from_cols(
        x.extend(0.0),
        y.extend(0.0),
        z.extend(0.0),
        DVec4::new(origin.x, origin.y, origin.z, 1.0),
    )
}

/// What a comparison found, for the test's own assertions and its log.
pub struct Checked {
    /// The GPU picture.
    pub gpu: Vec<u8>,
    /// The CPU reference picture.
    pub cpu: Vec<u8>,
}

/// Render `layers` on the GPU and on the CPU and require them to agree: every channel of
/// every pixel within [`TOLERANCE`], except at most `boundary_pixels` pixels (f32-vs-f64
/// decisions at a threshold or voxel edge; each test states its count and why).
///
/// Also requires the reference to have at least `min_drawn` non-black pixels, so a test in
/// which nothing is drawn cannot pass by comparing black with black.
pub fn check(
    name: &str,
    geometry: &SliceGeometry,
    layers: &[(&Volume, usize, &LayerStyle)],
    boundary_pixels: usize,
    min_drawn: usize,
) -> Checked {
    let ctx = shared_context();
    let textures: Vec<VolumeTexture> = layers
        .iter()
        .map(|(v, frame, _)| VolumeTexture::upload(&ctx.device, &ctx.queue, v, *frame))
        .collect();
    for t in &textures {
        assert_eq!(
            t.downsample_notice(),
            None,
            "{name}: test volumes must not be downsampled"
        );
    }
    let gpu_layers: Vec<_> = textures.iter().zip(layers).map(|(t, (_, _, s))| (t, *s)).collect();
    let gpu = render_slice(&mut SliceRenderer::new(&ctx.device), geometry, &gpu_layers);
    let cpu = cpu_reference::reslice(geometry, layers);
    let diff = compare_rgba(&gpu, &cpu, geometry.width, TOLERANCE);
    let drawn = cpu.chunks_exact(4).filter(|p| p[..3] != [0, 0, 0]).count();
    eprintln!(
        "{name}: {}×{} px, {drawn} drawn, max channel diff {}, {} px over {TOLERANCE}",
        geometry.width, geometry.height, diff.max, diff.over
    );
    assert!(
        drawn >= min_drawn,
        "{name}: only {drawn} pixels drawn (want ≥ {min_drawn})"
    );
    assert!(
        diff.over <= boundary_pixels,
        "{name}: {} of {} pixels differ by more than {TOLERANCE} (allowed {boundary_pixels}); \
         examples (x, y, gpu, cpu): {:?}",
        diff.over,
        diff.pixels,
        diff.examples
    );
    Checked { gpu, cpu }
}

/// The GPU picture of `layers` in `geometry`, at the geometry's size.
pub fn render_slice(
    renderer: &mut SliceRenderer,
    geometry: &SliceGeometry,
    layers: &[(&VolumeTexture, &LayerStyle)],
) -> Vec<u8> {
    let ctx = shared_context();
    let frame = SliceFrame { geometry, layers };
    let size = (geometry.width, geometry.height);
    render_rgba(renderer, &ctx.device, &ctx.queue, size, &frame).expect("readback")
}

/// Number of pixels of an RGBA8 picture for which `pred(rgba)` holds.
pub fn count(pixels: &[u8], pred: impl Fn([u8; 4]) -> bool) -> usize {
    pixels
        .chunks_exact(4)
        .filter(|p| pred([p[0], p[1], p[2], p[3]]))
        .count()
}

/// The RGBA8 pixel at `(x, y)`.
pub fn pixel(pixels: &[u8], width: u32, x: u32, y: u32) -> [u8; 4] {
    let n = 4 * (y as usize * width as usize + x as usize);
    [pixels[n], pixels[n + 1], pixels[n + 2], pixels[n + 3]]
}

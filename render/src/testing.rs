//! Helpers for tests (here and in other crates): one shared headless GPU context and a
//! pixel-by-pixel picture comparison.

use std::sync::OnceLock;

use crate::context::GpuContext;

/// A headless context shared by every test of the process (adapter, device and queue are
/// thread-safe; creating one per test is slow on lavapipe).
///
/// # Panics
/// When no adapter can be had, with the reason (under `CI`: no Vulkan CPU adapter).
pub fn shared_context() -> &'static GpuContext {
    static CONTEXT: OnceLock<GpuContext> = OnceLock::new();
    CONTEXT.get_or_init(|| match GpuContext::headless() {
        Ok(context) => {
            let info = context.adapter.get_info();
            eprintln!(
                "test GPU: {} ({:?}, {:?}, {})",
                info.name, info.backend, info.device_type, info.driver_info
            );
            context
        }
        Err(e) => panic!("no headless GPU for tests: {e} (install mesa-vulkan-drivers and set WGPU_BACKEND=vulkan)"),
    })
}

/// How two RGBA8 pictures of the same size differ.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PixelDiff {
    /// Largest difference of any channel of any pixel.
    pub max: u8,
    /// Pixels with some channel differing by more than the tolerance.
    pub over: usize,
    /// Pixels in all.
    pub pixels: usize,
    /// Up to eight offending pixels: `(x, y, a, b)`.
    pub examples: Vec<(u32, u32, [u8; 4], [u8; 4])>,
}

/// Compare two tightly packed RGBA8 pictures `width` pixels wide, counting pixels whose
/// largest channel difference exceeds `tolerance`.
///
/// # Panics
/// When the two pictures differ in length or are not whole rows of RGBA pixels.
pub fn compare_rgba(a: &[u8], b: &[u8], width: u32, tolerance: u8) -> PixelDiff {
    assert_eq!(a.len(), b.len(), "pictures of different sizes");
    assert_eq!(a.len() % (4 * width as usize), 0, "not whole rows of RGBA pixels");
    let mut diff = PixelDiff {
        pixels: a.len() / 4,
        ..Default::default()
    };
    for (n, (pa, pb)) in a.chunks_exact(4).zip(b.chunks_exact(4)).enumerate() {
        let worst = pa.iter().zip(pb).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0);
        diff.max = diff.max.max(worst);
        if worst > tolerance {
            diff.over += 1;
            if diff.examples.len() < 8 {
                let (x, y) = (n as u32 % width, n as u32 / width);
                diff.examples.push((
                    x,
                    y,
                    pa.try_into().unwrap_or_default(),
                    pb.try_into().unwrap_or_default(),
                ));
            }
        }
    }
    diff
}

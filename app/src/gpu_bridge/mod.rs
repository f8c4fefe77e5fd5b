//! The one bridge from egui to `cortexlens-render` (rerun's pattern): the renderers and the
//! uploaded data live in egui-wgpu's callback resources; each view adds a paint callback whose
//! `prepare` renders offscreen and whose `paint` composites the result into egui's pass.

mod slice;
mod surface;

pub use slice::{SliceCallback, SliceResources};
pub use surface::{SurfaceCallback, SurfaceResources};

//! The one bridge from egui to `cortexlens-render` (rerun's pattern): the renderers and the
//! uploaded data live in egui-wgpu's callback resources; each view adds a paint callback whose
//! `prepare` renders offscreen and whose `paint` composites the result into egui's pass.

mod slice;
mod surface;
mod volume3d;

pub use slice::{SliceCallback, SliceResources};
pub use surface::{SurfaceCallback, SurfaceResources};
pub use volume3d::{Frame3d, Source3dRefs, Volume3dCallback};

//! The cortexlens desktop app and its headless command line.
//!
//! - [`viewer`]: what is open and how it is shown (layers, crosshair, layout) — no GPU, no egui.
//! - [`loader`]: the worker threads that read files, as a stream of [`loader::LoadEvent`]s.
//! - [`worker`]: one long task on its own thread (progress, cancel, result), under the jobs below.
//! - [`fitting`]: neural-field fits on a worker thread; [`baking`]: fields baked into grids.
//! - [`captioning`]: BrainSCUBA captions; [`encoder_fitting`]: voxel-wise encoder fits.
//! - [`picture`]: offscreen pictures of the slice views (screenshots and `cortexlens render`).
//! - [`gpu_bridge`]: the one bridge from egui to `cortexlens-render`, through paint callbacks.
//! - [`ui`]: the eframe application.
//! - [`cli`]: the command line (`info`, `render`, `project`, `fit`, `encoder`, `caption`, …).

pub mod baking;
pub mod captioning;
pub mod cli;
pub mod colorbar;
pub mod demo;
pub mod encoder_fitting;
pub mod fitting;
pub mod gpu_bridge;
pub mod loader;
pub mod model_download;
pub mod picture;
pub mod ui;
pub mod viewer;
pub mod worker;

pub use ui::{CortexApp, Startup};

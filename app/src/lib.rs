//! The cortexlens desktop app and its headless command line.
//!
//! - [`viewer`]: what is open and how it is shown (layers, crosshair, layout) — no GPU, no egui.
//! - [`loader`]: the worker threads that read files, as a stream of [`loader::LoadEvent`]s.
//! - [`fitting`]: neural-field fits on a worker thread.
//! - [`picture`]: offscreen pictures of the slice views (screenshots and `cortexlens render`).
//! - [`gpu_bridge`]: the one bridge from egui to `cortexlens-render`, through paint callbacks.
//! - [`ui`]: the eframe application.
//! - [`cli`]: the command line (`info`, `render`, opening files).

pub mod baking;
pub mod captioning;
pub mod cli;
pub mod colorbar;
pub mod demo;
pub mod fitting;
pub mod gpu_bridge;
pub mod loader;
pub mod picture;
pub mod ui;
pub mod viewer;
pub mod worker;

pub use ui::{CortexApp, Startup};

//! The cortexlens desktop app and its headless command line. One way from file to screen, shared
//! by the window and the CLI (see `docs/architecture.md`):
//!
//! file → [`loader`] (reads) → [`open`] (layers, surfaces, fields of a [`viewer::Viewer`]) →
//! [`gpu_scene`] (`sync`, then each view drawn through one paint callback, or offscreen for
//! pictures) → the window's views or a PNG.
//!
//! - [`viewer`]: what is open and how it is shown (layers, crosshair, layout, cameras) — no GPU, no egui.
//! - [`loader`]: reading a file into [`loader::FileContents`], nothing else.
//! - [`open`]: the one open step: contents → viewer, with the style a user expects.
//! - [`gpu_scene`]: the one bridge to `cortexlens-render`: uploads keyed by id, one `sync`, one
//!   paint-callback type, offscreen pictures (screenshots and `cortexlens render`).
//! - [`jobs`]: the one job stream: every background task sends typed progress and outcomes into
//!   one channel that the window drains once per frame.
//! - [`regions`]: which encoder voxels a request means (captions and synthesis share them).
//! - [`captioning`], [`encoder_fitting`], [`synthesis`]: the model use cases the window (as jobs) and the CLI (directly) share.
//! - [`panels`]: the side panel's sections, each owning its state ([`panels::Panel`]); [`widgets`]:
//!   controls several panels use.
//! - [`file_dialog`]: dialogs that always appear (the desktop's, else an in-window browser).
//! - [`ui`]: the eframe application around them; [`messages`]: what the window tells the user;
//!   [`platform`]: what the machine lacks (display, GPU driver), in words a user can act on.
//! - [`cli`]: the command line (`info`, `render`, `project`, `isosurface`, `fit`, `encoder`, `caption`).

pub mod captioning;
pub mod cli;
pub mod colorbar;
pub mod demo;
pub mod encoder_fitting;
pub mod file_dialog;
pub mod gpu_scene;
pub mod jobs;
pub mod loader;
pub mod messages;
pub mod model_download;
pub mod open;
pub mod panels;
pub mod platform;
pub mod regions;
pub mod session;
pub mod synthesis;
pub mod ui;
pub mod viewer;
pub mod widgets;

pub use ui::{CortexApp, Startup};

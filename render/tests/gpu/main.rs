//! GPU tests of the renderer on a headless device (lavapipe in CI: `WGPU_BACKEND=vulkan`).
//! One test binary, so the device and the link are shared.

mod common;
mod compositor;
mod downsample;
mod field;
mod field_fixtures;
mod mesh;
mod orientation;
mod raymarch;
mod raymarch_common;
mod real_data;
mod splats;
mod synthetic;

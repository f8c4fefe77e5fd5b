//! The one shape of every renderer: prepare a frame, draw it into an offscreen target; and the
//! one way to read a picture back.

use crate::error::RenderError;
use crate::target::OffscreenTarget;

/// A pipeline that draws one kind of picture ([`crate::SliceRenderer`], [`crate::MeshRenderer`],
/// [`crate::RayMarchRenderer`]). Create once per device; per frame, [`Renderer::prepare`] then
/// [`Renderer::draw`].
pub trait Renderer {
    /// The offscreen target kind it draws into ([`crate::SliceTarget`], [`crate::MeshTarget`],
    /// [`crate::RayTarget`]).
    type Target: OffscreenTarget;
    /// What one picture shows.
    type Frame<'a>;

    /// Work a frame needs before drawing (e.g. the ray marcher's occupancy grids); submitted
    /// here. Default: nothing.
    fn prepare(&mut self, _device: &wgpu::Device, _queue: &wgpu::Queue, _frame: &Self::Frame<'_>) {}

    /// Record the frame into `target`; returns the commands to submit (not submitted).
    fn draw(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        target: &Self::Target,
        frame: &Self::Frame<'_>,
    ) -> wgpu::CommandBuffer;
}

/// The one readback: prepare, draw into a new `width × height` target, submit, read back
/// tightly packed RGBA8, top row first (for the CLI, screenshots and tests).
pub fn render_rgba<R: Renderer>(
    renderer: &mut R,
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    (width, height): (u32, u32),
    frame: &R::Frame<'_>,
) -> Result<Vec<u8>, RenderError> {
    renderer.prepare(device, queue, frame);
    let target = R::Target::create(device, width, height);
    queue.submit([renderer.draw(device, queue, &target, frame)]);
    target.read_rgba(device, queue)
}

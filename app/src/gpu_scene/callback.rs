//! The one paint callback type: every view of the window asks the [`GpuScene`] in egui-wgpu's
//! callback resources to draw its [`ViewRequest`] offscreen (`prepare`) and composites the result
//! into egui's pass (`paint`).

use egui_wgpu::{CallbackResources, CallbackTrait, ScreenDescriptor};

use super::{GpuScene, ViewRequest};

/// A view's paint callback: what it draws this frame.
pub struct ViewCallback(pub ViewRequest);

impl CallbackTrait for ViewCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        resources
            .get_mut::<GpuScene>()
            .map_or_else(Vec::new, |scene| scene.prepare_view(device, queue, &self.0))
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &CallbackResources,
    ) {
        if let Some(scene) = resources.get::<GpuScene>() {
            scene.paint_view(pass, self.0.slot());
        }
    }
}

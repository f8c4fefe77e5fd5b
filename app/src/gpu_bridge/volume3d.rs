//! The 3D view: ray-marches the base volume (with an overlay) or a neural field offscreen, and
//! re-renders only when what it shows changed.

use cortexlens_data::LayerStyle;
use cortexlens_data::camera::OrbitCamera;
use cortexlens_render::composite::Sampling;
use cortexlens_render::{RayMarchSettings, RayTarget, RenderError};
use egui_wgpu::{CallbackResources, CallbackTrait, ScreenDescriptor};

use super::SliceResources;
use crate::viewer::{FieldId, LayerId, Source3d, Viewer};

/// What one 3D frame draws, decided by the UI.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame3d {
    /// The camera.
    pub camera: OrbitCamera,
    /// Mode, transfer function, clip planes…
    pub settings: RayMarchSettings,
    /// The data.
    pub source: Source3dRefs,
    /// Which frame each layer shows (a 4D frame change re-uploads a texture under the same id).
    pub frames: Vec<(LayerId, usize)>,
}

/// The data a 3D frame draws, by id.
#[derive(Clone, Debug, PartialEq)]
pub enum Source3dRefs {
    /// A volume layer and the overlay composited into it.
    Volume {
        /// The base layer.
        base: LayerId,
        /// The top visible overlay with its style.
        overlay: Option<(LayerId, LayerStyle)>,
    },
    /// A neural field, evaluated at every sample.
    Field(FieldId),
    /// A neural field's baked grid, ray-marched as a volume.
    Baked(FieldId),
}

impl Frame3d {
    /// The frame the viewer's 3D view shows, or `None` when there is nothing to draw.
    pub fn of(viewer: &Viewer) -> Option<Frame3d> {
        let v3 = &viewer.volume3d;
        let source = match v3.source {
            // A field waiting for its baked grid shows nothing rather than the minutes-long exact path.
            Source3d::Field(id) if v3.draws_baked() => {
                v3.shown_field()?.baked.as_ref().map(|_| Source3dRefs::Baked(id))?
            }
            Source3d::Field(id) => Source3dRefs::Field(id),
            Source3d::Volume => {
                let base = viewer.layers.first()?;
                let overlay = viewer
                    .layers
                    .iter()
                    .skip(1)
                    .rev()
                    .find(|l| l.style.visible)
                    .map(|l| (l.id, l.style));
                Source3dRefs::Volume { base: base.id, overlay }
            }
        };
        let frames = viewer.layers.iter().map(|l| (l.id, l.frame)).collect();
        Some(Frame3d {
            camera: v3.camera,
            settings: v3.effective_settings(viewer.crosshair),
            source,
            frames,
        })
    }

    /// A fingerprint of the frame at a size (the target is re-rendered only when it changes).
    fn key(&self, size: (u32, u32)) -> u64 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut hasher = DefaultHasher::new();
        format!("{self:?}{size:?}").hash(&mut hasher);
        hasher.finish()
    }

    /// Record the frame into `target`.
    pub fn draw(
        &self,
        res: &SliceResources,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        target: &RayTarget,
    ) -> Option<wgpu::CommandBuffer> {
        match &self.source {
            Source3dRefs::Volume { base, overlay } => {
                let volume = res.textures.get(base)?;
                let overlay = overlay
                    .as_ref()
                    .and_then(|(id, style)| Some((res.textures.get(id)?, style)));
                Some(
                    res.ray
                        .draw_volume(device, queue, target, &self.camera, volume, overlay, &self.settings),
                )
            }
            Source3dRefs::Baked(id) => {
                let grid = res.baked.get(id)?;
                Some(
                    res.ray
                        .draw_volume(device, queue, target, &self.camera, grid, None, &self.settings),
                )
            }
            Source3dRefs::Field(id) => {
                let field = res.fields.get(id)?;
                Some(
                    res.ray
                        .draw_field(device, queue, target, &self.camera, field, &self.settings),
                )
            }
        }
    }

    /// Render offscreen at `width × height` and read the pixels back (screenshots, the CLI).
    pub fn render_rgba(
        &self,
        res: &SliceResources,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        width: u32,
        height: u32,
    ) -> Result<Vec<u8>, RenderError> {
        let target = RayTarget::new(device, width, height);
        if let Some(commands) = self.draw(res, device, queue, &target) {
            queue.submit([commands]);
        }
        target.try_read_rgba(device, queue)
    }
}

/// The 3D view's paint callback.
pub struct Volume3dCallback {
    /// Size of the offscreen target in pixels (smaller while the camera moves).
    pub size: (u32, u32),
    /// What to draw.
    pub frame: Frame3d,
}

impl CallbackTrait for Volume3dCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(res) = resources.get_mut::<SliceResources>() else {
            return Vec::new();
        };
        let size = (self.size.0.max(1), self.size.1.max(1));
        let key = self.frame.key(size);
        if res.ray_target.is_some() && res.ray_shown == key {
            return Vec::new();
        }
        res.compositor
            .keep_size(device, &mut res.ray_target, size, Sampling::Linear);
        let res_ref: &SliceResources = res;
        let Some(shown) = &res_ref.ray_target else {
            return Vec::new();
        };
        let commands = self.frame.draw(res_ref, device, queue, shown.target());
        res.ray_shown = key;
        commands.into_iter().collect()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &CallbackResources,
    ) {
        if let Some(res) = resources.get::<SliceResources>()
            && let Some(shown) = &res.ray_target
        {
            res.compositor.paint_target(pass, shown);
        }
    }
}

//! Uploaded volumes and neural fields with the renderers that read them: the slice renderer (one
//! offscreen target per plane) and the 3D ray marcher.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use cortexlens_data::{LayerStyle, Plane, SliceGeometry, Volume};
use cortexlens_render::composite::{Composited, Sampling};
use cortexlens_render::{Compositor, GpuField, RayMarchRenderer, RayTarget, SliceRenderer, SliceTarget, VolumeTexture};
use egui_wgpu::{CallbackResources, CallbackTrait, RenderState, ScreenDescriptor};

use crate::viewer::{FieldId, Layer, LayerId, Volume3d};

/// GPU state of the volume views: the renderers, one texture per layer, the fields, the targets.
pub struct SliceResources {
    /// Draws slices offscreen.
    pub renderer: SliceRenderer,
    /// Ray-marches volumes and neural fields for the 3D view.
    pub ray: RayMarchRenderer,
    pub(super) compositor: Compositor,
    /// Uploaded volumes (the current frame of each layer).
    pub textures: HashMap<LayerId, VolumeTexture>,
    /// Uploaded neural fields.
    pub fields: HashMap<FieldId, GpuField>,
    /// Uploaded baked grids of neural fields.
    pub baked: HashMap<FieldId, VolumeTexture>,
    targets: HashMap<Plane, Option<Composited<SliceTarget>>>,
    /// The 3D view's target.
    pub(super) ray_target: Option<Composited<RayTarget>>,
    /// What the 3D view's target last showed ([`super::Frame3d::key`]).
    pub(super) ray_shown: u64,
}

impl SliceResources {
    /// The renderer for a device whose views are composited into passes of `format`.
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> SliceResources {
        SliceResources {
            renderer: SliceRenderer::new(device),
            ray: RayMarchRenderer::new(device),
            compositor: Compositor::new(device, format),
            textures: HashMap::new(),
            fields: HashMap::new(),
            baked: HashMap::new(),
            targets: HashMap::new(),
            ray_target: None,
            ray_shown: 0,
        }
    }

    /// Create the renderer and store it in the render state's callback resources.
    pub fn install(render_state: &RenderState) {
        let resources = SliceResources::new(&render_state.device, render_state.target_format);
        render_state.renderer.write().callback_resources.insert(resources);
    }

    /// Run `f` on the resources stored in `render_state`.
    pub fn with<R>(render_state: &RenderState, f: impl FnOnce(&mut SliceResources) -> R) -> Option<R> {
        let mut renderer = render_state.renderer.write();
        renderer.callback_resources.get_mut::<SliceResources>().map(f)
    }

    /// Upload a layer's current frame; returns the downsampling notice, if any.
    pub fn upload(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, layer: &Layer) -> Option<String> {
        let texture = VolumeTexture::upload(device, queue, &layer.volume, layer.frame);
        let notice = texture.downsample_notice().map(str::to_owned);
        self.textures.insert(layer.id, texture);
        notice
    }

    /// Show another frame of an uploaded layer.
    pub fn set_frame(&mut self, queue: &wgpu::Queue, id: LayerId, volume: &Volume, frame: usize) {
        if let Some(texture) = self.textures.get_mut(&id) {
            texture.set_frame(queue, volume, frame);
        }
    }

    /// Upload the open neural fields (and their baked grids) not uploaded yet and forget closed ones;
    /// returns upload errors.
    pub fn sync_fields(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, volume3d: &Volume3d) -> Vec<String> {
        let mut errors = Vec::new();
        for open in &volume3d.fields {
            if let Entry::Vacant(slot) = self.fields.entry(open.id) {
                match GpuField::upload(device, queue, &open.field) {
                    Ok(gpu) => {
                        slot.insert(gpu);
                    }
                    Err(error) => errors.push(format!("{}: {error}", open.name)),
                }
            }
            if let Some(grid) = &open.baked {
                self.baked
                    .entry(open.id)
                    .or_insert_with(|| VolumeTexture::upload(device, queue, grid, 0));
            }
        }
        self.fields.retain(|id, _| volume3d.fields.iter().any(|f| f.id == *id));
        self.baked
            .retain(|id, _| volume3d.fields.iter().any(|f| f.id == *id && f.baked.is_some()));
        errors
    }

    /// Forget a removed layer's texture.
    pub fn remove(&mut self, id: LayerId) {
        self.textures.remove(&id);
    }

    /// The uploaded layers among `layers`, paired with their styles, bottom first.
    pub fn layer_refs<'a>(&'a self, layers: &'a [(LayerId, LayerStyle)]) -> Vec<(&'a VolumeTexture, &'a LayerStyle)> {
        layers
            .iter()
            .filter_map(|(id, style)| Some((self.textures.get(id)?, style)))
            .collect()
    }
}

/// One slice view's paint callback: what to draw, decided by the UI this frame.
pub struct SliceCallback {
    /// The view (one target per plane).
    pub plane: Plane,
    /// Which world point each pixel shows.
    pub geometry: SliceGeometry,
    /// Layers bottom first with their styles.
    pub layers: Vec<(LayerId, LayerStyle)>,
}

impl CallbackTrait for SliceCallback {
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
        let size = (self.geometry.width.max(1), self.geometry.height.max(1));
        let slot = res.targets.entry(self.plane).or_default();
        res.compositor.keep_size(device, slot, size, Sampling::Nearest);
        let res: &SliceResources = res;
        let Some(Some(shown)) = res.targets.get(&self.plane) else {
            return Vec::new();
        };
        let layers = res.layer_refs(&self.layers);
        vec![
            res.renderer
                .draw(device, queue, shown.target(), &self.geometry, &layers),
        ]
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &CallbackResources,
    ) {
        if let Some(res) = resources.get::<SliceResources>()
            && let Some(Some(shown)) = res.targets.get(&self.plane)
        {
            res.compositor.paint_target(pass, shown);
        }
    }
}

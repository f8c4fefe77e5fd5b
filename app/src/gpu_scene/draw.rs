//! Drawing a [`ViewRequest`] from what the scene holds: into the view's own target for the window,
//! or into a new target that is read back for pictures. Both record through [`GpuScene::record`].

use cortexlens_data::LayerStyle;
use cortexlens_render::composite::Sampling;
use cortexlens_render::target::OffscreenTarget;
use cortexlens_render::{
    Lighting, MeshFrame, MeshInstance, MeshTarget, RayFrame, RaySource, RayTarget, RenderError, Renderer, SliceFrame,
    SliceTarget, VolumeTexture,
};

use super::views::Source3dRefs;
use super::{GpuScene, ViewRequest, ViewSlot};

/// The target one request is recorded into.
enum TargetRef<'a> {
    Slice(&'a SliceTarget),
    Surface(&'a MeshTarget),
    Volume3d(&'a RayTarget),
}

impl GpuScene {
    /// Draw `request` into its view's target (made, or remade at a new size, as needed) and return
    /// the commands to submit. The 3D view is drawn again only when its request or an upload
    /// changed.
    pub fn prepare_view(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        request: &ViewRequest,
    ) -> Vec<wgpu::CommandBuffer> {
        let slot = request.slot();
        let size = request.size();
        self.keep_target(device, slot, size);
        if slot == ViewSlot::Volume3d {
            let drawn = (request.clone(), self.generation);
            if self.drawn_3d.as_ref() == Some(&drawn) {
                return Vec::new();
            }
            self.drawn_3d = Some(drawn);
        }
        let targets = std::mem::take(&mut self.targets);
        let target = match slot {
            ViewSlot::Slice(_) | ViewSlot::Tile(_) => targets
                .slices
                .get(&slot)
                .and_then(Option::as_ref)
                .map(|t| TargetRef::Slice(t.target())),
            ViewSlot::Surface => targets.surface.as_ref().map(|t| TargetRef::Surface(t.target())),
            ViewSlot::Volume3d => targets.volume3d.as_ref().map(|t| TargetRef::Volume3d(t.target())),
        };
        let commands = target.and_then(|target| self.record(device, queue, request, target));
        self.targets = targets;
        commands.into_iter().collect()
    }

    /// Composite the view's target over the pass's current viewport (nothing before its first
    /// [`GpuScene::prepare_view`]).
    pub fn paint_view(&self, pass: &mut wgpu::RenderPass<'static>, slot: ViewSlot) {
        let targets = &self.targets;
        match slot {
            ViewSlot::Slice(_) | ViewSlot::Tile(_) => {
                if let Some(Some(t)) = targets.slices.get(&slot) {
                    self.compositor.paint_target(pass, t);
                }
            }
            ViewSlot::Surface => {
                if let Some(t) = &targets.surface {
                    self.compositor.paint_target(pass, t);
                }
            }
            ViewSlot::Volume3d => {
                if let Some(t) = &targets.volume3d {
                    self.compositor.paint_target(pass, t);
                }
            }
        }
    }

    /// Draw `request` offscreen at its size and read the pixels back: tightly packed RGBA8, top row
    /// first (screenshots and `cortexlens render`).
    pub fn render_view_rgba(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        request: &ViewRequest,
    ) -> Result<Vec<u8>, RenderError> {
        match request.slot() {
            ViewSlot::Slice(_) | ViewSlot::Tile(_) => self.offscreen(device, queue, request, |t| TargetRef::Slice(t)),
            ViewSlot::Surface => self.offscreen(device, queue, request, |t| TargetRef::Surface(t)),
            ViewSlot::Volume3d => self.offscreen(device, queue, request, |t| TargetRef::Volume3d(t)),
        }
    }

    /// Record `request` into a new target of kind `T`, submit, read back.
    fn offscreen<T: OffscreenTarget>(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        request: &ViewRequest,
        target_ref: impl for<'t> Fn(&'t T) -> TargetRef<'t>,
    ) -> Result<Vec<u8>, RenderError> {
        let (width, height) = request.size();
        let target = T::create(device, width, height);
        if let Some(commands) = self.record(device, queue, request, target_ref(&target)) {
            queue.submit([commands]);
        }
        target.read_rgba(device, queue)
    }

    /// Make the slot's target when it is missing or of another size.
    fn keep_target(&mut self, device: &wgpu::Device, slot: ViewSlot, size: (u32, u32)) {
        let (compositor, targets) = (&self.compositor, &mut self.targets);
        match slot {
            ViewSlot::Slice(_) | ViewSlot::Tile(_) => {
                let target = targets.slices.entry(slot).or_default();
                compositor.keep_size(device, target, size, Sampling::Nearest);
            }
            ViewSlot::Surface => compositor.keep_size(device, &mut targets.surface, size, Sampling::Nearest),
            // Drawn at half size while the camera moves: sampled bilinearly.
            ViewSlot::Volume3d => compositor.keep_size(device, &mut targets.volume3d, size, Sampling::Linear),
        }
    }

    /// Record `request` into `target` with what is uploaded (layers, meshes or fields not uploaded
    /// are left out). `None` when the request and the target are of different views.
    fn record(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        request: &ViewRequest,
        target: TargetRef<'_>,
    ) -> Option<wgpu::CommandBuffer> {
        match (request, target) {
            (ViewRequest::Slice { geometry, layers, .. }, TargetRef::Slice(target)) => {
                let layers: Vec<(&VolumeTexture, &LayerStyle)> = layers
                    .iter()
                    .filter_map(|(id, style)| Some((&self.volumes.get(id)?.texture, style)))
                    .collect();
                let frame = SliceFrame {
                    geometry,
                    layers: &layers,
                };
                Some(record_with(&mut self.slices, device, queue, target, &frame))
            }
            (ViewRequest::Surface { camera, instances, .. }, TargetRef::Surface(target)) => {
                let instances: Vec<MeshInstance<'_>> = instances
                    .iter()
                    .filter_map(|(id, offset)| {
                        Some(MeshInstance {
                            mesh: &self.surfaces.get(id)?.mesh,
                            offset: *offset,
                        })
                    })
                    .collect();
                let frame = MeshFrame {
                    camera,
                    instances: &instances,
                    lighting: &Lighting::default(),
                };
                Some(record_with(&mut self.meshes, device, queue, target, &frame))
            }
            (ViewRequest::Volume3d { frame, .. }, TargetRef::Volume3d(target)) => {
                let texture = |id| self.volumes.get(id).map(|up| &up.texture);
                let source = match &frame.source {
                    Source3dRefs::Volume { base, overlay } => RaySource::Volume {
                        volume: texture(base)?,
                        overlay: overlay.as_ref().and_then(|(id, style)| Some((texture(id)?, style))),
                    },
                    Source3dRefs::Baked(id) => RaySource::Volume {
                        volume: self.baked.get(id)?,
                        overlay: None,
                    },
                    Source3dRefs::Field(id) => RaySource::Field(self.fields.get(id)?),
                };
                let ray_frame = RayFrame {
                    camera: &frame.camera,
                    settings: &frame.settings,
                    source,
                };
                Some(record_with(&mut self.ray, device, queue, target, &ray_frame))
            }
            _ => None,
        }
    }
}

/// The one renderer shape: prepare, then record into the target.
fn record_with<R: Renderer>(
    renderer: &mut R,
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    target: &R::Target,
    frame: &R::Frame<'_>,
) -> wgpu::CommandBuffer {
    renderer.prepare(device, queue, frame);
    renderer.draw(device, queue, target, frame)
}

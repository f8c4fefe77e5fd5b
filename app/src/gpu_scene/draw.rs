//! Drawing a [`ViewRequest`] from what the scene holds: into the view's own target for the window,
//! or into a new target that is read back for pictures. Both record through [`GpuScene::record`].

use cortexlens_data::LayerStyle;
use cortexlens_render::composite::Sampling;
use cortexlens_render::target::OffscreenTarget;
use cortexlens_render::{
    Lighting, MeshDestination, MeshFrame, MeshInstance, MeshTarget, RayFrame, RaySource, RayTarget, RenderError,
    Renderer, SLICE_FORMAT, SliceFrame, SliceTarget, SplatFrame, SplatRenderer, VolumeTexture,
};

use super::views::{Frame3d, Source3dRefs};
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
        let commands = target
            .map(|target| self.record(device, queue, request, target))
            .unwrap_or_default();
        self.targets = targets;
        commands
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
        queue.submit(self.record(device, queue, request, target_ref(&target)));
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
    /// are left out). Nothing when the request and the target are of different views.
    fn record(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        request: &ViewRequest,
        target: TargetRef<'_>,
    ) -> Vec<wgpu::CommandBuffer> {
        if let (ViewRequest::Volume3d { frame, size }, TargetRef::Volume3d(target)) = (request, &target) {
            return self.record_3d(device, queue, frame, *size, target);
        }
        self.record_2d(device, queue, request, target).into_iter().collect()
    }

    /// A slice or surface view.
    fn record_2d(
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
            _ => None,
        }
    }

    /// The 3D view: the surfaces, what is ray-marched over them (or the background), then the
    /// splat scenes over it all.
    fn record_3d(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        frame: &Frame3d,
        size: (u32, u32),
        target: &RayTarget,
    ) -> Vec<wgpu::CommandBuffer> {
        let mut commands = Vec::new();
        let texture = |id| self.volumes.get(id).map(|up| &up.texture);
        let source = frame.source.as_ref().and_then(|source| match source {
            Source3dRefs::Volume { base, overlay } => Some(RaySource::Volume {
                volume: texture(base)?,
                overlay: overlay.as_ref().and_then(|(id, style)| Some((texture(id)?, style))),
            }),
            Source3dRefs::Baked(id) => Some(RaySource::Volume {
                volume: self.baked.get(id)?,
                overlay: None,
            }),
            Source3dRefs::Field(id) => Some(RaySource::Field(self.fields.get(id)?)),
        });
        // A volume with a singular affine draws nothing: the meshes are then drawn alone.
        let source = source.filter(RaySource::is_drawable);
        let instances: Vec<MeshInstance<'_>> = frame
            .meshes
            .iter()
            .filter_map(|id| {
                Some(MeshInstance {
                    mesh: &self.surfaces.get(id)?.mesh,
                    offset: glam::Vec3::ZERO,
                })
            })
            .collect();
        let meshes = !instances.is_empty();
        if meshes {
            let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("3D meshes"),
            });
            let mesh_frame = MeshFrame {
                camera: &frame.camera,
                instances: &instances,
                lighting: &Lighting::default(),
            };
            let destination = match source {
                Some(_) => MeshDestination::UnderRays,
                None => MeshDestination::Alone {
                    background: frame.settings.background_clamped(),
                },
            };
            let clips = frame.settings.active_clip_planes();
            self.meshes
                .record_3d(device, &mut encoder, target, &mesh_frame, &clips, destination);
            commands.push(encoder.finish());
        }
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("3D view") });
        // The ray marcher (or the meshes alone) write the depth that hides splats behind them;
        // the bare background has none.
        let scene_depth = (source.is_some() || meshes).then(|| target.depth_view());
        match source {
            Some(source) => {
                let ray_frame = RayFrame {
                    camera: &frame.camera,
                    settings: &frame.settings,
                    source,
                    meshes,
                };
                commands.push(record_with(&mut self.ray, device, queue, target, &ray_frame));
            }
            None if meshes => {}
            None => {
                let [r, g, b, a] = frame.settings.background.map(f64::from);
                let clear = wgpu::Color { r, g, b, a };
                let attachment = wgpu::RenderPassColorAttachment {
                    view: target.view(),
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(clear),
                        store: wgpu::StoreOp::Store,
                    },
                };
                encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("3D background"),
                    color_attachments: &[Some(attachment)],
                    ..Default::default()
                });
            }
        }
        let renderer = self
            .splat_renderer
            .get_or_insert_with(|| SplatRenderer::new(device, SLICE_FORMAT));
        for (id, opacity_scale, size_scale) in &frame.splats {
            let Some(uploaded) = self.splats.get(id) else {
                continue;
            };
            let splat_frame = SplatFrame {
                camera: &frame.camera,
                splats: &uploaded.gpu,
                opacity_scale: *opacity_scale,
                size_scale: *size_scale,
                clip_planes: &frame.settings.clip_planes,
            };
            renderer.record(device, &mut encoder, target.view(), scene_depth, size, &splat_frame);
        }
        commands.push(encoder.finish());
        commands
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

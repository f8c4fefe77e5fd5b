//! The surface view: uploaded meshes with their per-vertex colours, the mesh renderer and its target.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use cortexlens_data::camera::OrbitCamera;
use cortexlens_data::mesh::Mesh;
use cortexlens_data::vertex_colors::{VertexLayer, vertex_colors};
use cortexlens_render::composite::{Composited, Sampling};
use cortexlens_render::{Compositor, GpuMesh, Lighting, MeshInstance, MeshRenderer, MeshTarget};
use egui_wgpu::{CallbackResources, CallbackTrait, RenderState, ScreenDescriptor};
use glam::Vec3;

use crate::viewer::{HemisphereSurfaces, SurfaceId, SurfaceScene};

/// Per-vertex colours of a hemisphere: shading under its visible maps, bottom first, and the
/// highlighted vertex.
pub fn surface_colors(scene: &SurfaceScene, group: &HemisphereSurfaces) -> Vec<[u8; 4]> {
    let layers: Vec<VertexLayer<'_>> = scene
        .maps_of(group.id)
        .filter(|m| m.style.visible)
        .map(|m| VertexLayer {
            values: m.values(),
            style: &m.style,
            labels: (!m.labels.is_empty()).then_some(m.labels.as_slice()),
        })
        .collect();
    let highlight = scene.highlight.filter(|h| h.surface == group.id).map(|h| h.vertex);
    let shading = group.shading.as_ref().map(|(_, values)| values.as_slice());
    vertex_colors(group.vertex_count(), shading, scene.shading, &layers, highlight)
}

/// A fingerprint of everything [`surface_colors`] reads.
fn colour_key(scene: &SurfaceScene, group: &HemisphereSurfaces) -> u64 {
    let mut hasher = DefaultHasher::new();
    format!(
        "{:?}{:?}",
        scene.shading,
        scene.highlight.filter(|h| h.surface == group.id).map(|h| h.vertex)
    )
    .hash(&mut hasher);
    group.shading.as_ref().map(|(name, _)| name).hash(&mut hasher);
    for map in scene.maps_of(group.id) {
        (map.id, map.frame, format!("{:?}", map.style)).hash(&mut hasher);
    }
    hasher.finish()
}

/// One hemisphere's GPU buffers and what they currently hold.
struct UploadedMesh {
    mesh: GpuMesh,
    /// Identity of the geometry uploaded (its `Arc` address), to switch geometry without re-uploading colours.
    geometry_key: usize,
}

/// GPU state of the surface view.
pub struct SurfaceResources {
    /// Draws meshes offscreen.
    pub renderer: MeshRenderer,
    compositor: Compositor,
    meshes: HashMap<SurfaceId, UploadedMesh>,
    /// What each hemisphere's uploaded colours were computed from.
    colour_keys: HashMap<SurfaceId, u64>,
    target: Option<Composited<MeshTarget>>,
}

impl SurfaceResources {
    /// The renderer for a device whose views are composited into passes of `format`.
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> SurfaceResources {
        SurfaceResources {
            renderer: MeshRenderer::new(device),
            compositor: Compositor::new(device, format),
            meshes: HashMap::new(),
            colour_keys: HashMap::new(),
            target: None,
        }
    }

    /// Create the renderer and store it in the render state's callback resources.
    pub fn install(render_state: &RenderState) {
        let resources = SurfaceResources::new(&render_state.device, render_state.target_format);
        render_state.renderer.write().callback_resources.insert(resources);
    }

    /// Upload what the scene shows: each hemisphere's current geometry and, when the maps, styles,
    /// frames, shading or highlight changed, its per-vertex colours.
    pub fn sync_scene(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, scene: &SurfaceScene) {
        for group in &scene.hemispheres {
            let Some((_, _, mesh)) = group.mesh(scene.geometry) else {
                continue;
            };
            let key = colour_key(scene, group);
            let changed = self.colour_keys.get(&group.id) != Some(&key) || !self.meshes.contains_key(&group.id);
            let colors = changed.then(|| surface_colors(scene, group));
            self.sync(device, queue, group.id, mesh, colors.as_deref());
            self.colour_keys.insert(group.id, key);
        }
        let open: Vec<SurfaceId> = scene.hemispheres.iter().map(|h| h.id).collect();
        self.meshes.retain(|id, _| open.contains(id));
        self.colour_keys.retain(|id, _| open.contains(id));
    }

    /// Run `f` on the resources stored in `render_state`.
    pub fn with<R>(render_state: &RenderState, f: impl FnOnce(&mut SurfaceResources) -> R) -> Option<R> {
        let mut renderer = render_state.renderer.write();
        renderer.callback_resources.get_mut::<SurfaceResources>().map(f)
    }

    /// Make hemisphere `id` show `mesh` with `colors`, uploading only what changed.
    fn sync(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        id: SurfaceId,
        mesh: &std::sync::Arc<Mesh>,
        colors: Option<&[[u8; 4]]>,
    ) {
        let key = std::sync::Arc::as_ptr(mesh) as usize;
        match self.meshes.get_mut(&id) {
            Some(uploaded) => {
                if uploaded.geometry_key != key {
                    // The scene only groups meshes of equal vertex count, so this cannot fail here.
                    if let Err(error) = uploaded.mesh.set_geometry(device, queue, mesh) {
                        tracing::warn!("switching geometry: {error}");
                    }
                    uploaded.geometry_key = key;
                }
                if let Some(colors) = colors {
                    uploaded.mesh.set_colors(queue, colors);
                }
            }
            None => {
                let fallback;
                let colors = match colors {
                    Some(c) => c,
                    None => {
                        fallback = vec![[200, 200, 200, 255]; mesh.vertices.len()];
                        &fallback
                    }
                };
                let gpu = GpuMesh::upload(device, queue, mesh, colors);
                self.meshes.insert(
                    id,
                    UploadedMesh {
                        mesh: gpu,
                        geometry_key: key,
                    },
                );
            }
        }
    }

    /// The uploaded meshes of `instances`, with their draw offsets.
    pub fn instances<'a>(&'a self, instances: &[(SurfaceId, Vec3)]) -> Vec<MeshInstance<'a>> {
        instances
            .iter()
            .filter_map(|(id, offset)| {
                Some(MeshInstance {
                    mesh: &self.meshes.get(id)?.mesh,
                    offset: *offset,
                })
            })
            .collect()
    }
}

/// The surface view's paint callback.
pub struct SurfaceCallback {
    /// Size in physical pixels.
    pub size: (u32, u32),
    /// The camera.
    pub camera: OrbitCamera,
    /// Hemispheres to draw with their offsets.
    pub instances: Vec<(SurfaceId, Vec3)>,
}

impl CallbackTrait for SurfaceCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(res) = resources.get_mut::<SurfaceResources>() else {
            return Vec::new();
        };
        let size = (self.size.0.max(1), self.size.1.max(1));
        res.compositor
            .keep_size(device, &mut res.target, size, Sampling::Nearest);
        let res: &SurfaceResources = res;
        let Some(shown) = &res.target else {
            return Vec::new();
        };
        let target = shown.target();
        let instances = res.instances(&self.instances);
        vec![
            res.renderer
                .draw(device, queue, target, &self.camera, &instances, &Lighting::default()),
        ]
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &CallbackResources,
    ) {
        if let Some(res) = resources.get::<SurfaceResources>()
            && let Some(shown) = &res.target
        {
            res.compositor.paint_target(pass, shown);
        }
    }
}

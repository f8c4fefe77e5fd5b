//! The one bridge from the app to `cortexlens-render` (rerun's pattern): a [`GpuScene`] holds the
//! renderers and every uploaded texture, mesh and field, keyed by the viewer's ids, and is brought
//! up to date with the [`Viewer`] by one [`GpuScene::sync`] per frame. The window keeps it in
//! egui-wgpu's callback resources and draws each view through one paint callback type
//! ([`ViewCallback`]); screenshots and `cortexlens render` draw the same views offscreen
//! ([`picture::render_picture`]).

mod callback;
mod colours;
mod draw;
pub mod health;
pub mod picture;
mod views;

pub use callback::ViewCallback;
pub use colours::surface_colors;
pub use views::{Frame3d, Source3dRefs, ViewRequest, ViewSlot};

use std::collections::HashMap;
use std::sync::Arc;

use cortexlens_data::Volume;
use cortexlens_data::mesh::Mesh;
use cortexlens_render::composite::Composited;
use cortexlens_render::{
    Compositor, GpuField, GpuMesh, MeshRenderer, MeshTarget, RayMarchRenderer, RayTarget, SliceRenderer, SliceTarget,
    VolumeTexture,
};
use egui_wgpu::RenderState;

use crate::viewer::{FieldDrawing, FieldId, LayerId, Layout, SurfaceId, Viewer};
use colours::ColourKey;

/// How a neural field is drawn by default on an adapter: exactly on a hardware GPU, from a baked
/// grid on a software one (lavapipe, llvmpipe), where the exact path takes minutes per frame. The
/// window and `cortexlens render` both choose with this.
pub fn field_drawing_for(adapter: &wgpu::AdapterInfo) -> FieldDrawing {
    if adapter.device_type == wgpu::DeviceType::Cpu {
        FieldDrawing::Baked
    } else {
        FieldDrawing::Exact
    }
}

/// Something the user should know after a sync.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncNotice {
    /// A layer's volume was downsampled to fit the GPU.
    Downsampled {
        /// The layer.
        layer: LayerId,
        /// What was done.
        notice: String,
    },
    /// The GPU refused a neural field (e.g. larger than a buffer may be); it is not drawn.
    FieldRefused {
        /// The field.
        field: FieldId,
        /// Why, with its name.
        error: String,
    },
    /// A hemisphere's mesh is larger than the GPU's buffers allow; it is not drawn.
    MeshRefused {
        /// Why, with the mesh's name.
        error: String,
    },
    /// A splat scene is drawn with fewer SH bands than it has, or not at all, to fit the GPU.
    SplatsReduced {
        /// What was done, with the scene's name.
        notice: String,
    },
}

/// A splat scene on the GPU and what it was uploaded from.
struct UploadedSplats {
    gpu: cortexlens_render::GpuSplats,
    source: Arc<cortexlens_data::splats::Splats>,
    transform: glam::DMat4,
}

/// A layer's volume on the GPU and what it was uploaded from.
struct UploadedVolume {
    texture: VolumeTexture,
    volume: Arc<Volume>,
    frame: usize,
}

/// A hemisphere's mesh on the GPU and what it shows.
struct UploadedMesh {
    mesh: GpuMesh,
    geometry: Arc<Mesh>,
    colours: ColourKey,
}

/// Each view's offscreen target, shown through the compositor.
#[derive(Default)]
struct ViewTargets {
    /// Slice views and mosaic tiles.
    slices: HashMap<ViewSlot, Option<Composited<SliceTarget>>>,
    surface: Option<Composited<MeshTarget>>,
    volume3d: Option<Composited<RayTarget>>,
}

/// How many GPU resources the scene holds, by kind (what a soak test watches return to its
/// starting level).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resident {
    /// Volume textures of layers.
    pub volumes: usize,
    /// Hemisphere meshes.
    pub meshes: usize,
    /// Neural fields.
    pub fields: usize,
    /// Splat scenes.
    pub splats: usize,
    /// Baked grids of fields.
    pub baked: usize,
    /// Render targets of slice views and mosaic tiles, the surface view and the 3D view.
    pub targets: usize,
}

/// The renderers, everything uploaded, and each view's target.
pub struct GpuScene {
    slices: SliceRenderer,
    meshes: MeshRenderer,
    ray: RayMarchRenderer,
    compositor: Compositor,
    volumes: HashMap<LayerId, UploadedVolume>,
    surfaces: HashMap<SurfaceId, UploadedMesh>,
    fields: HashMap<FieldId, GpuField>,
    /// Fields the GPU refused (not retried).
    refused: Vec<FieldId>,
    /// Meshes the GPU refused (not retried while they are shown).
    refused_meshes: Vec<Arc<cortexlens_data::mesh::Mesh>>,
    /// Splat scenes, and the renderer (made when the first scene is drawn).
    splats: HashMap<crate::viewer::SplatsId, UploadedSplats>,
    splat_renderer: Option<cortexlens_render::SplatRenderer>,
    baked: HashMap<FieldId, VolumeTexture>,
    targets: ViewTargets,
    /// Bumped whenever an upload changes what an id refers to on the GPU.
    generation: u64,
    /// The 3D view's last drawing, to draw it again only when something changed.
    drawn_3d: Option<(ViewRequest, u64)>,
}

impl GpuScene {
    /// The renderers for a device whose views are composited into passes of `format`.
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> GpuScene {
        GpuScene {
            slices: SliceRenderer::new(device),
            meshes: MeshRenderer::new(device),
            ray: RayMarchRenderer::new(device),
            compositor: Compositor::new(device, format),
            volumes: HashMap::new(),
            surfaces: HashMap::new(),
            fields: HashMap::new(),
            refused: Vec::new(),
            refused_meshes: Vec::new(),
            splats: HashMap::new(),
            splat_renderer: None,
            baked: HashMap::new(),
            targets: ViewTargets::default(),
            generation: 0,
            drawn_3d: None,
        }
    }

    /// Create the scene and keep it in the render state's callback resources.
    pub fn install(render_state: &RenderState) {
        let scene = GpuScene::new(&render_state.device, render_state.target_format);
        render_state.renderer.write().callback_resources.insert(scene);
    }

    /// Run `f` on the scene kept in `render_state`.
    pub fn with<R>(render_state: &RenderState, f: impl FnOnce(&mut GpuScene) -> R) -> Option<R> {
        let mut renderer = render_state.renderer.write();
        renderer.callback_resources.get_mut::<GpuScene>().map(f)
    }

    /// What the scene holds on the GPU now.
    pub fn resident(&self) -> Resident {
        let targets = &self.targets;
        Resident {
            volumes: self.volumes.len(),
            meshes: self.surfaces.len(),
            fields: self.fields.len(),
            splats: self.splats.len(),
            baked: self.baked.len(),
            targets: targets.slices.values().flatten().count()
                + usize::from(targets.surface.is_some())
                + usize::from(targets.volume3d.is_some()),
        }
    }

    /// Bring the GPU up to date with `viewer`: upload new layers and frames, hemispheres'
    /// geometry and colours where they changed, new fields and baked grids; forget what was
    /// closed. Only what changed is uploaded (by id, the data's identity and the frame shown).
    pub fn sync(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, viewer: &Viewer) -> Vec<SyncNotice> {
        let mut notices = self.sync_volumes(device, queue, viewer);
        notices.extend(self.sync_surfaces(device, queue, viewer));
        notices.extend(self.sync_fields(device, queue, viewer));
        notices.extend(self.sync_splats(device, viewer));
        // Tiles of a larger mosaic than the one shown are dropped.
        let tiles = match viewer.layout {
            Layout::Mosaic(mosaic) => mosaic.slices().map_or(0, |s| s.len()),
            _ => 0,
        };
        self.targets
            .slices
            .retain(|slot, _| !matches!(slot, ViewSlot::Tile(i) if *i >= tiles));
        notices
    }

    fn sync_volumes(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, viewer: &Viewer) -> Vec<SyncNotice> {
        let mut notices = Vec::new();
        for layer in &viewer.layers {
            match self.volumes.get_mut(&layer.id) {
                Some(up) if Arc::ptr_eq(&up.volume, &layer.volume) => {
                    if up.frame != layer.frame {
                        up.texture.set_frame(queue, &layer.volume, layer.frame);
                        up.frame = layer.frame;
                        self.generation += 1;
                    }
                }
                _ => {
                    let texture = VolumeTexture::upload(device, queue, &layer.volume, layer.frame);
                    if let Some(notice) = texture.downsample_notice() {
                        notices.push(SyncNotice::Downsampled {
                            layer: layer.id,
                            notice: notice.to_owned(),
                        });
                    }
                    let uploaded = UploadedVolume {
                        texture,
                        volume: layer.volume.clone(),
                        frame: layer.frame,
                    };
                    self.volumes.insert(layer.id, uploaded);
                    self.generation += 1;
                }
            }
        }
        self.volumes.retain(|id, _| viewer.layer(*id).is_some());
        notices
    }

    fn sync_surfaces(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, viewer: &Viewer) -> Vec<SyncNotice> {
        let mut notices = Vec::new();
        let scene = &viewer.surfaces;
        for group in &scene.hemispheres {
            let Some((_, name, mesh)) = group.mesh(scene.geometry) else {
                continue;
            };
            if self.refused_meshes.iter().any(|m| Arc::ptr_eq(m, mesh)) {
                continue;
            }
            if let Err(error) = cortexlens_render::limits::check_mesh(device, mesh, name) {
                self.refused_meshes.push(mesh.clone());
                self.surfaces.remove(&group.id);
                notices.push(SyncNotice::MeshRefused {
                    error: format!("{error}: it is not drawn"),
                });
                continue;
            }
            let key = ColourKey::of(scene, group);
            match self.surfaces.get_mut(&group.id) {
                Some(up) => {
                    if !Arc::ptr_eq(&up.geometry, mesh) {
                        // The scene only groups meshes of equal vertex count, so this cannot fail here.
                        if let Err(error) = up.mesh.set_geometry(device, queue, mesh) {
                            tracing::warn!("switching geometry: {error}");
                        }
                        up.geometry = mesh.clone();
                        self.generation += 1;
                    }
                    if up.colours != key {
                        up.mesh.set_colors(queue, &surface_colors(scene, group));
                        up.colours = key;
                        self.generation += 1;
                    }
                }
                None => {
                    let mesh_gpu = GpuMesh::upload(device, queue, mesh, &surface_colors(scene, group));
                    let uploaded = UploadedMesh {
                        mesh: mesh_gpu,
                        geometry: mesh.clone(),
                        colours: key,
                    };
                    self.surfaces.insert(group.id, uploaded);
                    self.generation += 1;
                }
            }
        }
        self.surfaces.retain(|id, _| scene.hemisphere(*id).is_some());
        let shown: Vec<&Arc<cortexlens_data::mesh::Mesh>> = scene
            .hemispheres
            .iter()
            .flat_map(|g| g.meshes.iter().map(|(_, _, m)| m))
            .collect();
        self.refused_meshes.retain(|m| shown.iter().any(|s| Arc::ptr_eq(s, m)));
        notices
    }

    /// Upload splat scenes that are new or were moved (the GPU holds them in world coordinates).
    fn sync_splats(&mut self, device: &wgpu::Device, viewer: &Viewer) -> Vec<SyncNotice> {
        let mut notices = Vec::new();
        for open in &viewer.volume3d.splats {
            let current = self.splats.get(&open.id);
            if current.is_some_and(|up| Arc::ptr_eq(&up.source, &open.splats) && up.transform == open.transform) {
                continue;
            }
            let degree =
                match cortexlens_render::splats::fitting_sh_degree(device, open.splats.len(), open.splats.sh_degree) {
                    Ok(degree) => degree,
                    Err(error) => {
                        if current.is_none() {
                            notices.push(SyncNotice::SplatsReduced {
                                notice: format!("{}: {error}; it is not drawn", open.name),
                            });
                        }
                        self.splats.remove(&open.id);
                        continue;
                    }
                };
            if degree < open.splats.sh_degree && current.is_none() {
                notices.push(SyncNotice::SplatsReduced {
                    notice: format!(
                        "{}: drawn with SH degree {degree} of {} to fit the GPU's buffers",
                        open.name, open.splats.sh_degree
                    ),
                });
            }
            let data = cortexlens_render::SplatData::new(&open.splats, open.transform, degree);
            let uploaded = UploadedSplats {
                gpu: cortexlens_render::GpuSplats::upload(device, &data),
                source: open.splats.clone(),
                transform: open.transform,
            };
            self.splats.insert(open.id, uploaded);
            self.generation += 1;
        }
        let open: Vec<_> = viewer.volume3d.splats.iter().map(|s| s.id).collect();
        self.splats.retain(|id, _| open.contains(id));
        notices
    }

    fn sync_fields(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, viewer: &Viewer) -> Vec<SyncNotice> {
        let mut notices = Vec::new();
        let fields = &viewer.volume3d.fields;
        for open in fields {
            if !self.fields.contains_key(&open.id) && !self.refused.contains(&open.id) {
                match GpuField::upload(device, queue, &open.field) {
                    Ok(gpu) => {
                        self.fields.insert(open.id, gpu);
                    }
                    Err(error) => {
                        self.refused.push(open.id);
                        notices.push(SyncNotice::FieldRefused {
                            field: open.id,
                            error: format!("{}: {error}", open.name),
                        });
                    }
                }
            }
            if let Some(grid) = &open.baked
                && !self.baked.contains_key(&open.id)
            {
                self.baked
                    .insert(open.id, VolumeTexture::upload(device, queue, grid, 0));
                self.generation += 1;
            }
        }
        self.fields.retain(|id, _| fields.iter().any(|f| f.id == *id));
        self.baked
            .retain(|id, _| fields.iter().any(|f| f.id == *id && f.baked.is_some()));
        notices
    }
}

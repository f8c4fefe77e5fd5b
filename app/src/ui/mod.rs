//! The eframe application: panels around the slice views, loading, screenshots.

mod caption_panel;
mod encoder_panel;
mod layers_panel;
mod menu;
mod readout;
mod screenshot;
mod slice_view;
mod surface_panel;
mod surface_view;
mod volume3d_panel;
mod volume3d_view;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cortexlens_data::field::BakeError;
use cortexlens_data::projection::ProjectionMethod;
use cortexlens_data::{LoadError, Loaded};
use egui_wgpu::RenderState;

use crate::baking::BakeJob;
use crate::captioning::{CaptionJob, CaptionModels, CaptionOutcome, ModelPaths};
use crate::demo;
use crate::encoder_fitting::EncoderFitJob;
use crate::fitting::FitJob;
use crate::gpu_bridge::{SliceResources, SurfaceResources};
use crate::loader::{JobId, LoadEvent, Loader, Opened};
use crate::model_download::ModelDownloadJob;
use crate::viewer::{FieldDrawing, Layer, LayerId, Viewer, default_style, label_style};
use cortexlens_inference::hub::Hub;

pub use encoder_panel::EncoderFitForm;
pub use screenshot::ScreenshotSettings;

/// The cortexlens window.
pub struct CortexApp {
    /// What is open and how it is shown.
    pub viewer: Viewer,
    /// Messages for the user (load errors, saved screenshots); errors stay until dismissed.
    pub messages: Vec<UserMessage>,
    /// The layer whose settings the layers panel shows.
    pub selected: Option<LayerId>,
    /// The surface map whose settings the panel shows.
    pub selected_map: Option<crate::viewer::SurfaceId>,
    /// The neural-field fit running, if any.
    pub fit: Option<FitJob>,
    /// Whether the next fit uses coordinate-aware modulation.
    pub fit_with_cam: bool,
    /// Whether the next fit uses a dense grid instead of a hash grid.
    pub fit_dense: bool,
    /// The shown field being baked into a grid, if any.
    pub bake: Option<BakeJob>,
    /// Where the caption models are.
    pub caption_paths: ModelPaths,
    /// The caption models, once loaded (held by the running job meanwhile).
    pub caption_models: Option<CaptionModels>,
    /// The caption request running, if any.
    pub caption_job: Option<CaptionJob>,
    /// The last captions.
    pub caption_result: Option<CaptionOutcome>,
    /// Textures of the last single-voxel caption's top pool images.
    pub caption_thumbnails: Vec<(PathBuf, egui::TextureHandle)>,
    /// Whether the crosshair's voxel is captioned whenever the crosshair moves.
    pub caption_follow: bool,
    /// The crosshair position last captioned in follow mode.
    caption_followed: Option<glam::DVec3>,
    /// Why the followed crosshair has no caption (e.g. no encoder voxel there).
    pub caption_status: Option<String>,
    /// The choices of the next encoder fit.
    pub encoder_fit_form: EncoderFitForm,
    /// The encoder fit running, if any.
    pub encoder_fit: Option<EncoderFitJob>,
    /// Where models named by repository id are looked up and downloaded from (none without a home
    /// folder or `HF_HOME`).
    pub hub: Option<Hub>,
    /// The model download running, if any.
    pub model_download: Option<ModelDownloadJob>,
    loader: Loader,
    /// Finished loads waiting for earlier requests, so layers stack in request order.
    finished: BTreeMap<JobId, (PathBuf, Result<Opened, LoadError>)>,
    demo_jobs: HashSet<JobId>,
    /// The demo's motor map waits to be projected onto the demo's surfaces.
    demo_projection_pending: bool,
    render_state: Option<RenderState>,
    screenshot: ScreenshotSettings,
    /// The egui context (to wake the UI from workers).
    ctx: egui::Context,
    /// Size in physical pixels of the view area in the last frame (screenshots' "window resolution").
    view_area_px: (u32, u32),
    /// The view area in points in the last frame.
    view_area: egui::Rect,
}

/// What the window opens with.
#[derive(Clone, Debug, PartialEq)]
pub enum Startup {
    /// The bundled demo scene.
    Demo,
    /// These files, in this order (none: an empty window).
    Files(Vec<PathBuf>),
}

/// A message shown in the window.
#[derive(Clone, Debug, PartialEq)]
pub enum UserMessage {
    /// Something failed; shown until dismissed.
    Error(String),
    /// Something worked.
    Info(String),
}

impl CortexApp {
    /// Create the app and start loading what `startup` asks for.
    pub fn new(cc: &eframe::CreationContext<'_>, startup: Startup) -> CortexApp {
        let ctx = cc.egui_ctx.clone();
        let render_state = cc.wgpu_render_state.clone();
        if let Some(rs) = &render_state {
            SliceResources::install(rs);
            SurfaceResources::install(rs);
        }
        let mut app = CortexApp {
            viewer: Viewer::default(),
            messages: Vec::new(),
            selected: None,
            selected_map: None,
            fit: None,
            fit_with_cam: true,
            fit_dense: false,
            bake: None,
            caption_paths: caption_panel::default_model_paths(),
            caption_models: None,
            caption_job: None,
            caption_result: None,
            caption_thumbnails: Vec::new(),
            caption_follow: false,
            caption_followed: None,
            caption_status: None,
            encoder_fit_form: EncoderFitForm::default(),
            encoder_fit: None,
            hub: Hub::from_env().ok(),
            model_download: None,
            loader: Loader::new(Arc::new(move || ctx.request_repaint())),
            ctx: cc.egui_ctx.clone(),
            finished: BTreeMap::new(),
            demo_jobs: HashSet::new(),
            demo_projection_pending: false,
            render_state,
            screenshot: ScreenshotSettings::default(),
            view_area_px: (0, 0),
            view_area: egui::Rect::NOTHING,
        };
        if let Some(rs) = &app.render_state
            && rs.adapter.get_info().device_type == wgpu::DeviceType::Cpu
        {
            // Exact field evaluation takes minutes per frame on a software GPU.
            app.viewer.volume3d.field_drawing = FieldDrawing::Baked;
        }
        if app.render_state.is_none() {
            app.messages
                .push(UserMessage::Error("No wgpu device: slices cannot be drawn.".into()));
        }
        match startup {
            Startup::Demo => {
                app.demo_projection_pending = true;
                for path in demo::demo_files() {
                    let job = app.loader.request(&path);
                    app.demo_jobs.insert(job);
                }
            }
            Startup::Files(files) => files.iter().for_each(|path| app.open(path)),
        }
        app
    }

    /// Start loading a file in the background.
    pub fn open(&mut self, path: &Path) {
        self.loader.request(path);
    }

    /// Where the slice views were drawn in the last frame, in points.
    pub fn view_area_rect(&self) -> egui::Rect {
        self.view_area
    }

    /// Whether files are still loading (or waiting to be added in request order).
    pub fn is_loading(&self) -> bool {
        self.loader.is_busy() || !self.finished.is_empty()
    }

    /// Apply what the loading workers sent since the last frame, in request order: a load that
    /// finishes early waits for the requests before it, so the first requested volume is the base.
    fn receive_loads(&mut self) {
        for event in self.loader.drain() {
            if let LoadEvent::Finished { job, path, result } = event {
                self.finished.insert(job, (path, *result));
            }
        }
        let first_pending = self.loader.pending().next().map_or(JobId::MAX, |(job, _)| *job);
        while let Some(entry) = self.finished.first_entry() {
            if *entry.key() > first_pending {
                break;
            }
            let (job, (path, result)) = entry.remove_entry();
            let is_demo = self.demo_jobs.remove(&job);
            match result {
                Ok(Opened::Data(Loaded::Volume(volume))) => self.add_volume(job, volume, is_demo, None),
                Ok(Opened::Labelled(volume, names)) => {
                    let names = names
                        .map_err(|error| {
                            let text = format!("{} opens without label names: {error}", volume.name);
                            self.messages.push(UserMessage::Error(text));
                        })
                        .ok();
                    self.add_volume(job, volume, is_demo, names);
                }
                Ok(Opened::Field(field)) => {
                    let name = path
                        .file_name()
                        .map_or("field".into(), |n| n.to_string_lossy().into_owned());
                    self.viewer.volume3d.add_field(name, field);
                    self.viewer.layout = crate::viewer::Layout::Volume3d;
                }
                Ok(Opened::Data(Loaded::Surface(surface))) => {
                    if let Err(error) = self.viewer.surfaces.add_file(&surface) {
                        self.messages.push(UserMessage::Error(error.to_string()));
                    }
                    let crosshair = self.viewer.crosshair;
                    self.viewer.set_crosshair(crosshair);
                }
                Err(error) => {
                    tracing::warn!("loading {} failed: {error}", path.display());
                    self.messages.push(UserMessage::Error(error.to_string()));
                }
            }
        }
    }

    /// Once every demo file is in, project the demo's motor map onto its surfaces.
    fn finish_demo(&mut self) {
        if !self.demo_projection_pending || !self.demo_jobs.is_empty() {
            return;
        }
        self.demo_projection_pending = false;
        if let Some(overlay) = self.viewer.layers.get(1).cloned() {
            self.viewer.surfaces.add_projection(&overlay, ProjectionMethod::Nilearn);
        }
    }

    /// Project a volume layer onto the open surfaces (a new map per hemisphere).
    pub fn project_layer(&mut self, id: LayerId, method: ProjectionMethod) {
        let Some(layer) = self.viewer.layer(id).cloned() else {
            return;
        };
        if self.viewer.surfaces.add_projection(&layer, method) == 0 {
            self.messages
                .push(UserMessage::Error("Open a surface mesh to project onto first.".into()));
        }
    }

    /// Extract an isosurface of a volume layer at `level` and show it in the surface view.
    pub fn extract_isosurface(&mut self, id: LayerId, level: f32) {
        let Some(layer) = self.viewer.layer(id) else {
            return;
        };
        let mesh = cortexlens_data::isosurface::isosurface(&layer.volume, layer.frame, level);
        if mesh.triangles.is_empty() {
            self.messages.push(UserMessage::Error(format!(
                "{}: no surface at level {level}",
                layer.name()
            )));
            return;
        }
        let name = format!("{} @ {level}", layer.name());
        let added = self
            .viewer
            .surfaces
            .add_mesh(None, cortexlens_data::mesh::GeometryKind::Other, name, mesh);
        if let Err(error) = added {
            self.messages.push(UserMessage::Error(error.to_string()));
        }
    }

    /// Upload what the surface view shows (geometry switches, colour changes).
    /// Upload newly opened neural fields; a field the GPU refuses is closed with an error.
    fn sync_fields(&mut self) {
        let Some(rs) = &self.render_state else {
            return;
        };
        let errors = SliceResources::with(rs, |res| res.sync_fields(&rs.device, &rs.queue, &self.viewer.volume3d));
        for error in errors.unwrap_or_default() {
            self.messages.push(UserMessage::Error(error));
        }
    }

    /// Start fitting a neural field to a volume layer with the panel's choices (one fit at a time).
    pub fn start_fit(&mut self, id: LayerId) {
        let config = if self.fit_dense {
            cortexlens_inference::FitConfig::default_dense(self.fit_with_cam)
        } else {
            cortexlens_inference::FitConfig::default_hash(self.fit_with_cam)
        };
        self.start_fit_with(id, config);
    }

    /// Start fitting a neural field to a volume layer with `config` (one fit at a time).
    pub fn start_fit_with(&mut self, id: LayerId, config: cortexlens_inference::FitConfig) {
        if self.fit.is_some() {
            return;
        }
        let Some(layer) = self.viewer.layer(id) else {
            return;
        };
        let ctx = self.ctx.clone();
        self.fit = Some(FitJob::start(
            layer.name().to_owned(),
            layer.volume.clone(),
            layer.frame,
            config,
            Arc::new(move || ctx.request_repaint()),
        ));
    }

    /// Take a finished fit's field into the 3D view.
    fn receive_fit(&mut self) {
        let Some(outcome) = self.fit.as_ref().and_then(FitJob::poll) else {
            return;
        };
        let Some(job) = self.fit.take() else {
            return;
        };
        match outcome {
            Ok(field) => {
                let psnr = job
                    .progress()
                    .map_or(String::new(), |p| format!(", PSNR {:.1} dB", p.psnr));
                self.messages.push(UserMessage::Info(format!(
                    "Fitted a neural field to {}{psnr}",
                    job.name
                )));
                self.viewer.volume3d.add_field(format!("{} (field)", job.name), field);
                self.viewer.layout = crate::viewer::Layout::Volume3d;
            }
            Err(cortexlens_inference::FitError::Cancelled) => {
                self.messages
                    .push(UserMessage::Info(format!("Fitting {} cancelled", job.name)));
            }
            Err(error) => self
                .messages
                .push(UserMessage::Error(format!("Fitting {} failed: {error}", job.name))),
        }
    }

    /// Bake the shown field when the 3D view needs its grid; take finished bakes; drop bakes of
    /// fields that are no longer shown.
    fn drive_bake(&mut self) {
        if let Some(job) = &self.bake {
            match job.poll() {
                Some(Ok(volume)) => {
                    self.viewer.volume3d.set_baked(job.field, volume);
                    self.bake = None;
                }
                Some(Err(error)) => {
                    if error != BakeError::Cancelled {
                        self.messages
                            .push(UserMessage::Error(format!("Baking the field failed: {error}")));
                    }
                    self.bake = None;
                }
                None if self
                    .viewer
                    .volume3d
                    .needs_bake()
                    .is_none_or(|open| open.id != job.field) =>
                {
                    job.cancel();
                    self.bake = None;
                }
                None => return,
            }
        }
        if let Some(open) = self.viewer.volume3d.needs_bake() {
            let ctx = self.ctx.clone();
            self.bake = Some(BakeJob::start(
                open.id,
                open.field.clone(),
                Arc::new(move || ctx.request_repaint()),
            ));
        }
    }

    fn sync_surfaces(&self) {
        if let Some(rs) = &self.render_state {
            SurfaceResources::with(rs, |res| res.sync_scene(&rs.device, &rs.queue, &self.viewer.surfaces));
        }
    }

    /// Add a loaded volume as the top layer; with label names it is shown as labels.
    fn add_volume(
        &mut self,
        job: JobId,
        volume: cortexlens_data::Volume,
        is_demo: bool,
        label_names: Option<cortexlens_data::formats::LabelNames>,
    ) {
        let id = LayerId(job);
        let is_base = self.viewer.layers.is_empty();
        let style = if label_names.is_some() {
            label_style(is_base)
        } else if is_demo && !is_base {
            demo::demo_overlay_style(&volume)
        } else {
            default_style(&volume, is_base)
        };
        let mut layer = Layer::new(id, volume, style);
        layer.label_names = label_names.map(Arc::new);
        if let Some(rs) = &self.render_state {
            layer.notice = SliceResources::with(rs, |res| res.upload(&rs.device, &rs.queue, &layer)).flatten();
        }
        if !is_base || self.selected.is_none() {
            self.selected = Some(id);
        }
        self.viewer.push_layer(layer);
    }

    /// Remove a layer and its GPU texture.
    pub fn remove_layer(&mut self, id: LayerId) {
        self.viewer.remove_layer(id);
        if let Some(rs) = &self.render_state {
            SliceResources::with(rs, |res| res.remove(id));
        }
        if self.selected == Some(id) {
            self.selected = self.viewer.layers.last().map(|l| l.id);
        }
    }

    /// Show another frame of a 4D layer.
    pub fn set_frame(&mut self, id: LayerId, frame: usize) {
        let Some(layer) = self.viewer.layer_mut(id) else {
            return;
        };
        layer.frame = frame.min(layer.volume.frames() - 1);
        let (volume, frame) = (layer.volume.clone(), layer.frame);
        if let Some(rs) = &self.render_state {
            SliceResources::with(rs, |res| res.set_frame(&rs.queue, id, &volume, frame));
        }
    }

    /// Save the views as a PNG, re-rendered offscreen at `scale` × the window's resolution.
    /// Returns the picture's size.
    pub fn save_screenshot(&self, path: &Path, settings: &ScreenshotSettings) -> anyhow::Result<(u32, u32)> {
        let rs = self
            .render_state
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no wgpu device"))?;
        screenshot::save(rs, &self.viewer, self.view_area_px, path, settings)
    }

    fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        for file in dropped {
            self.open(file.path());
        }
    }
}

impl eframe::App for CortexApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.handle_dropped_files(&ctx);
        self.receive_loads();
        self.finish_demo();
        self.receive_fit();
        self.drive_bake();
        self.receive_caption();
        self.receive_encoder_fit();
        self.receive_model_download();
        self.follow_crosshair();
        menu::shortcuts(self, &ctx);
        egui::Panel::top("menu").show(ui, |ui| menu::menu_bar(self, ui));
        egui::Panel::bottom("readout").show(ui, |ui| readout::show(self, ui));
        egui::Panel::left("layers").default_size(260.0).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| layers_panel::show(self, ui));
        });
        egui::CentralPanel::default().show(ui, |ui| {
            let area = ui.available_rect_before_wrap();
            let ppp = ctx.pixels_per_point();
            self.view_area = area;
            self.view_area_px = (
                (area.width() * ppp).round() as u32,
                (area.height() * ppp).round() as u32,
            );
            slice_view::show_layout(self, ui, area);
            show_drop_hint(ui, area);
        });
        screenshot::dialog(self, &ctx);
        self.sync_surfaces();
        self.sync_fields();
    }
}

/// A file's name (the whole path on hover), or a dash when none is chosen.
fn path_label(ui: &mut egui::Ui, path: &Option<PathBuf>) {
    let name = path
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or("—".into(), |n| n.to_string_lossy().into_owned());
    ui.label(name)
        .on_hover_text(path.as_ref().map_or(String::new(), |p| p.display().to_string()));
}

fn show_drop_hint(ui: &egui::Ui, area: egui::Rect) {
    if ui.ctx().input(|i| !i.raw.hovered_files.is_empty()) {
        ui.painter()
            .rect_filled(area, 0.0, egui::Color32::from_black_alpha(160));
        ui.painter().text(
            area.center(),
            egui::Align2::CENTER_CENTER,
            "Drop to open",
            egui::FontId::proportional(24.0),
            egui::Color32::WHITE,
        );
    }
}

/// Open the window on `files` (the demo scene when empty) and run until it closes.
pub fn run_window(files: Vec<PathBuf>) -> Result<(), eframe::Error> {
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Wgpu,
        viewport: egui::ViewportBuilder::default()
            .with_title("cortexlens")
            .with_inner_size([1400.0, 820.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let startup = if files.is_empty() {
        Startup::Demo
    } else {
        Startup::Files(files)
    };
    eframe::run_native(
        "cortexlens",
        options,
        Box::new(move |cc| Ok(Box::new(CortexApp::new(cc, startup)))),
    )
}

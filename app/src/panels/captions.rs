//! The captions section: which model files, caption the crosshair's voxel (once, or whenever the
//! crosshair moves), the region a layer shows or a surface region (a FreeSurfer label), the result
//! with the top pool images, and saving a region's table. A fitted encoder becomes the captions'
//! encoder.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cortexlens_inference::brainscuba::{Stage, captions_tsv};
use cortexlens_inference::{device, device_name};
use glam::DVec3;

use super::{Panel, PanelContext};
use crate::captioning::{CaptionModels, CaptionOutcome, CaptionSettings, ModelPaths, caption, models_dir};
use crate::file_dialog::{Choose, DialogId, FileDialogs, FileRequest};
use crate::jobs::{Finished, JobError, JobId, Outcome, Progress};
use crate::regions::Region;
use crate::widgets::{job_progress, path_label};

/// Rows of a region's table shown in the panel (all are saved).
const SHOWN_ROWS: usize = 12;

/// Pool images listed for a single voxel's caption.
const TOP_IMAGES: usize = 8;

/// Caption controls and the last result.
pub struct CaptionsPanel {
    /// Where the models are.
    paths: ModelPaths,
    /// The models, loaded by the first request and kept for the next ones.
    models: Arc<Mutex<Option<CaptionModels>>>,
    /// The request running.
    job: Option<JobId>,
    /// The last captions.
    result: Option<Arc<CaptionOutcome>>,
    /// Textures of the last single-voxel caption's top pool images.
    thumbnails: Vec<(PathBuf, egui::TextureHandle)>,
    /// Whether the crosshair's voxel is captioned whenever the crosshair moves.
    follow: bool,
    /// The crosshair position last captioned in follow mode.
    followed: Option<DVec3>,
    /// Why the followed crosshair has no caption (e.g. no encoder voxel there).
    status: Option<String>,
    /// Where the models run ("CPU", "CUDA 0").
    device_name: String,
    /// A file dialog asked for, and what for.
    dialog: Option<(DialogId, Asked)>,
}

/// What a file dialog of the captions panel chooses.
#[derive(Clone, Copy, Debug)]
enum Asked {
    /// The model file or folder of a row.
    Model(usize),
    /// Where to save the captions table.
    Table,
}

impl Default for CaptionsPanel {
    /// The model files found in the models folder.
    fn default() -> Self {
        CaptionsPanel {
            paths: ModelPaths::in_folder(&models_dir()),
            models: Arc::default(),
            job: None,
            result: None,
            thumbnails: Vec::new(),
            follow: false,
            followed: None,
            status: None,
            device_name: device_name(&device()),
            dialog: None,
        }
    }
}

impl CaptionsPanel {
    /// Where the models are.
    pub fn model_paths(&self) -> &ModelPaths {
        &self.paths
    }

    /// Use the models at `paths` from the next request on.
    pub fn set_model_paths(&mut self, paths: ModelPaths) {
        self.paths = paths;
    }

    /// The last captions.
    pub fn result(&self) -> Option<&CaptionOutcome> {
        self.result.as_deref()
    }

    /// Textures of the last single-voxel caption's top pool images, as shown.
    pub fn thumbnail_count(&self) -> usize {
        self.thumbnails.len()
    }

    /// Why the followed crosshair has no caption.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// Whether a request is running.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Caption `target` (one request at a time).
    fn start(&mut self, ctx: &mut PanelContext<'_>, target: Region) {
        if self.job.is_some() {
            return;
        }
        let settings = CaptionSettings {
            projection: cortexlens_inference::projection::ProjectionConfig {
                top_k: if matches!(target, Region::At(_)) { TOP_IMAGES } else { 0 },
                ..Default::default()
            },
            ..CaptionSettings::default()
        };
        let (paths, models) = (self.paths.clone(), self.models.clone());
        self.job = Some(ctx.jobs.start("Captioning", move |reporter| {
            let mut models = models
                .lock()
                .map_err(|_| JobError::message("the caption models were lost"))?;
            if models.as_ref().is_none_or(|m| m.paths != paths) {
                *models = Some(CaptionModels::load(&paths).map_err(JobError::failed)?);
            }
            let Some(models) = models.as_ref() else {
                return Err(JobError::message("no caption models"));
            };
            let outcome = caption(
                models,
                target,
                &settings,
                reporter.cancel_flag(),
                &mut |stage, done, total| reporter.report(Progress::Caption(stage, done, total)),
            )
            .map_err(JobError::failed)?;
            Ok(Outcome::Captioned(Arc::new(outcome)))
        }));
    }

    /// In follow mode, caption the crosshair's voxel once the crosshair has moved and no request runs.
    fn follow_crosshair(&mut self, ctx: &mut PanelContext<'_>) {
        let crosshair = ctx.viewer.crosshair;
        if !self.follow
            || self.job.is_some()
            || self.followed == Some(crosshair)
            || !self.paths.missing(&models_dir()).is_empty()
        {
            return;
        }
        self.followed = Some(crosshair);
        self.start(ctx, Region::At(crosshair));
    }

    /// The model paths of the rows, in order, with their labels and whether each is a folder.
    fn model_path(&mut self, row: usize) -> Option<&mut Option<PathBuf>> {
        let paths = &mut self.paths;
        [
            &mut paths.encoder,
            &mut paths.pool,
            &mut paths.decoder,
            &mut paths.images,
        ]
        .into_iter()
        .nth(row)
    }

    fn model_rows(&mut self, ui: &mut egui::Ui, dialogs: &mut FileDialogs) {
        const ROWS: [(&str, bool); 4] = [
            ("Encoder", false),
            ("Image pool", false),
            ("Decoder", true),
            ("Images (optional)", true),
        ];
        let mut chosen = None;
        egui::Grid::new("caption-models").num_columns(3).show(ui, |ui| {
            for (row, (label, folder)) in ROWS.into_iter().enumerate() {
                ui.label(label);
                path_label(ui, self.model_path(row).map_or(&None, |p| p));
                if ui.small_button("Choose…").clicked() {
                    chosen = Some((row, label, folder));
                }
                ui.end_row();
            }
        });
        if let Some((row, label, folder)) = chosen {
            let title = format!("Choose the {}", label.to_lowercase());
            let request = if folder {
                FileRequest::new(title, Choose::Folder)
            } else {
                FileRequest::new(title, Choose::File).filter("safetensors", &["safetensors"])
            };
            self.dialog = Some((dialogs.ask(request), Asked::Model(row)));
        }
    }

    /// Take what a file dialog of this panel chose.
    fn receive_dialog(&mut self, ctx: &mut PanelContext<'_>) {
        let Some(answer) = self.dialog.as_ref().and_then(|(id, _)| ctx.dialogs.take_one(*id)) else {
            return;
        };
        let (Some((_, asked)), Some(path)) = (self.dialog.take(), answer) else {
            return;
        };
        match asked {
            Asked::Model(row) => {
                if let Some(slot) = self.model_path(row) {
                    *slot = Some(path);
                }
            }
            Asked::Table => {
                let Some(outcome) = &self.result else {
                    return;
                };
                match std::fs::write(&path, captions_tsv(&outcome.captions, false)) {
                    Ok(()) => ctx.messages.info(format!("Saved {}", path.display())),
                    Err(error) => ctx.messages.error(format!("Saving {} failed: {error}", path.display())),
                }
            }
        }
    }

    fn request_buttons(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        ui.checkbox(&mut self.follow, "Follow the crosshair")
            .on_hover_text("Caption the encoder voxel under the crosshair whenever the crosshair moves");
        if let Some(status) = &self.status {
            ui.small(status);
        }
        let mut target = None;
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Caption crosshair voxel")
                .on_hover_text("Project the encoder voxel's weights onto the image pool and decode a sentence")
                .clicked()
            {
                target = Some(Region::At(ctx.viewer.crosshair));
            }
            if let Some(layer) = ctx.viewer.selected_layer() {
                let name = layer.name().to_owned();
                if ui
                    .button(format!("Caption region of {name}"))
                    .on_hover_text("Every encoder voxel where this layer is shown (its threshold and range)")
                    .clicked()
                {
                    target = Some(Region::Shown {
                        volume: layer.volume.clone(),
                        frame: layer.frame,
                        style: layer.style,
                        name,
                    });
                }
            }
            let surfaces = &ctx.viewer.surfaces;
            for region in &surfaces.regions {
                if ui
                    .button(format!("Caption the region of {}", region.name))
                    .on_hover_text("Every encoder voxel at a vertex of this region (its pial positions)")
                    .clicked()
                    && let Some(points) = surfaces.region_points(region.id)
                {
                    target = Some(Region::Surface {
                        name: region.name.clone(),
                        points,
                    });
                }
            }
        });
        if let Some(target) = target {
            self.start(ctx, target);
        }
    }

    fn result_ui(&mut self, ui: &mut egui::Ui, dialogs: &mut FileDialogs) {
        let Some(outcome) = &self.result else {
            return;
        };
        if let (Region::At(_), Some(c)) = (&outcome.target, outcome.captions.first()) {
            let [x, y, z] = c.world_mm;
            ui.label(format!(
                "Voxel {},{},{} ({x:.1}, {y:.1}, {z:.1} mm):",
                c.ijk[0], c.ijk[1], c.ijk[2]
            ));
            ui.strong(c.caption.trim());
            if !outcome.top_images.is_empty() {
                ui.label("Most similar pool images:");
                if self.thumbnails.is_empty() {
                    self.thumbnails = outcome
                        .thumbnails
                        .iter()
                        .map(|(path, image)| {
                            let size = [image.width() as usize, image.height() as usize];
                            let pixels = egui::ColorImage::from_rgba_unmultiplied(size, image.as_raw());
                            let name = format!("caption-thumbnail-{}", path.display());
                            (path.clone(), ui.ctx().load_texture(name, pixels, Default::default()))
                        })
                        .collect();
                }
                ui.horizontal_wrapped(|ui| {
                    for (path, texture) in &self.thumbnails {
                        ui.image((texture.id(), texture.size_vec2()))
                            .on_hover_text(path.display().to_string());
                    }
                });
                for image in &outcome.top_images {
                    ui.small(
                        image
                            .file_name()
                            .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
                    )
                    .on_hover_text(image.display().to_string());
                }
            }
            return;
        }
        match &outcome.target {
            Region::Surface { name, points } => ui.label(format!(
                "{} voxels captioned at the {} vertices of {name}",
                outcome.captions.len(),
                points.len()
            )),
            _ => ui.label(format!("{} voxels captioned", outcome.captions.len())),
        };
        egui::Grid::new("caption-table").striped(true).show(ui, |ui| {
            for c in outcome.captions.iter().take(SHOWN_ROWS) {
                ui.label(format!("{},{},{}", c.ijk[0], c.ijk[1], c.ijk[2]));
                ui.label(c.caption.trim());
                ui.end_row();
            }
        });
        if ui.button("Save table…").clicked() {
            let request = FileRequest::new("Save the captions", Choose::Save("captions.tsv".into()))
                .filter("Tab-separated values", &["tsv"]);
            self.dialog = Some((dialogs.ask(request), Asked::Table));
        }
    }
}

impl Panel for CaptionsPanel {
    fn title(&self) -> &'static str {
        "Captions"
    }

    fn update(&mut self, ctx: &mut PanelContext<'_>) {
        self.follow_crosshair(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        self.receive_dialog(ctx);
        self.model_rows(ui, ctx.dialogs);
        let missing = self.paths.missing(&models_dir());
        if !missing.is_empty() {
            ui.label(
                "To caption voxels in words (BrainSCUBA), choose the files above or put them in the models folder:",
            );
            for line in &missing {
                ui.small(line);
            }
        }
        if let Some(job) = self.job {
            let progress = match ctx.jobs.progress(job) {
                Some(Progress::Caption(stage, done, total)) => {
                    let what = match stage {
                        Stage::Projecting => "projecting",
                        Stage::Captioning => "captioning",
                    };
                    (format!("{what} {done}/{total}"), *done as f32 / (*total).max(1) as f32)
                }
                _ => ("loading the models…".to_owned(), 0.0),
            };
            job_progress(ui, ctx.jobs, job, progress);
            ui.label(format!("Running on {}", self.device_name));
        } else if missing.is_empty() {
            self.request_buttons(ui, ctx);
        }
        self.result_ui(ui, ctx.dialogs);
    }

    fn on_event(&mut self, finished: &Finished, ctx: &mut PanelContext<'_>) {
        if let Ok(Outcome::EncoderFitted(fit)) = &finished.result {
            self.paths.encoder = Some(fit.encoder.clone());
        }
        if self.job.take_if(|job| *job == finished.id).is_none() {
            return;
        }
        self.status = None;
        match &finished.result {
            Ok(Outcome::Captioned(outcome)) => {
                self.thumbnails.clear();
                self.result = Some(outcome.clone());
            }
            Ok(_) => {}
            // Following the crosshair, a voxel without a caption is a status, not an error to dismiss.
            Err(JobError::Failed(error)) if self.follow => self.status = Some(error.to_string()),
            Err(error) => ctx.messages.job_ended(&finished.label, error),
        }
    }
}

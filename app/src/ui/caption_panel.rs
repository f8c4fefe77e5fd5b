//! The captions section of the side panel: which model files, caption the crosshair's voxel or the
//! region a layer shows, the result, and saving a region's table.

use std::path::PathBuf;
use std::sync::Arc;

use cortexlens_inference::brainscuba::{Stage, captions_tsv};

use super::{CortexApp, UserMessage};
use crate::captioning::{CaptionJob, CaptionTarget, ModelPaths, models_dir};

/// Rows of a region's table shown in the panel (all are saved).
const SHOWN_ROWS: usize = 12;

/// Captions controls and the last result.
pub fn show(app: &mut CortexApp, ui: &mut egui::Ui) {
    ui.separator();
    ui.heading("Captions");
    model_rows(app, ui);
    let missing = app.caption_paths.missing(&models_dir());
    if !missing.is_empty() {
        ui.label("To caption voxels in words (BrainSCUBA), choose the files above or put them in the models folder:");
        for line in &missing {
            ui.small(line);
        }
    }
    if let Some(job) = &app.caption_job {
        ui.horizontal(|ui| {
            let (text, fraction) = match job.progress() {
                Some((stage, done, total)) => {
                    let what = match stage {
                        Stage::Projecting => "projecting",
                        Stage::Captioning => "captioning",
                    };
                    (format!("{what} {done}/{total}"), done as f32 / total.max(1) as f32)
                }
                None => ("loading the models…".to_owned(), 0.0),
            };
            ui.add(egui::ProgressBar::new(fraction).text(text).desired_width(200.0));
            if ui.button("Cancel").clicked() {
                job.cancel();
            }
        });
        ui.label(format!("Running on {}", job.device_name()));
    } else if missing.is_empty() {
        request_buttons(app, ui);
    }
    result(app, ui);
}

fn model_rows(app: &mut CortexApp, ui: &mut egui::Ui) {
    let paths = &mut app.caption_paths;
    let rows: [(&str, &mut Option<PathBuf>, bool); 4] = [
        ("Encoder", &mut paths.encoder, false),
        ("Image pool", &mut paths.pool, false),
        ("Decoder", &mut paths.decoder, true),
        ("Images (optional)", &mut paths.images, true),
    ];
    egui::Grid::new("caption-models").num_columns(3).show(ui, |ui| {
        for (label, path, folder) in rows {
            ui.label(label);
            super::path_label(ui, path);
            if ui.small_button("Choose…").clicked() {
                let dialog = rfd::FileDialog::new();
                let picked = if folder {
                    dialog.pick_folder()
                } else {
                    dialog.add_filter("safetensors", &["safetensors"]).pick_file()
                };
                if picked.is_some() {
                    *path = picked;
                }
            }
            ui.end_row();
        }
    });
}

fn request_buttons(app: &mut CortexApp, ui: &mut egui::Ui) {
    ui.checkbox(&mut app.caption_follow, "Follow the crosshair")
        .on_hover_text("Caption the encoder voxel under the crosshair whenever the crosshair moves");
    if let Some(status) = &app.caption_status {
        ui.small(status);
    }
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Caption crosshair voxel")
            .on_hover_text("Project the encoder voxel's weights onto the image pool and decode a sentence")
            .clicked()
        {
            let target = CaptionTarget::At(app.viewer.crosshair);
            app.start_caption(target);
        }
        let layer = app.selected.and_then(|id| app.viewer.layer(id));
        if let Some(layer) = layer {
            let name = layer.name().to_owned();
            if ui
                .button(format!("Caption region of {name}"))
                .on_hover_text("Every encoder voxel where this layer is shown (its threshold and range)")
                .clicked()
            {
                let target = CaptionTarget::Region {
                    volume: layer.volume.clone(),
                    frame: layer.frame,
                    style: layer.style,
                    name,
                };
                app.start_caption(target);
            }
        }
    });
}

fn result(app: &mut CortexApp, ui: &mut egui::Ui) {
    let Some(outcome) = &app.caption_result else {
        return;
    };
    if let (CaptionTarget::At(_), Some(c)) = (&outcome.target, outcome.captions.first()) {
        let [x, y, z] = c.world_mm;
        ui.label(format!(
            "Voxel {},{},{} ({x:.1}, {y:.1}, {z:.1} mm):",
            c.ijk[0], c.ijk[1], c.ijk[2]
        ));
        ui.strong(c.caption.trim());
        if !outcome.top_images.is_empty() {
            ui.label("Most similar pool images:");
            ui.horizontal_wrapped(|ui| {
                for (path, texture) in &app.caption_thumbnails {
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
    ui.label(format!("{} voxels captioned", outcome.captions.len()));
    egui::Grid::new("caption-table").striped(true).show(ui, |ui| {
        for c in outcome.captions.iter().take(SHOWN_ROWS) {
            ui.label(format!("{},{},{}", c.ijk[0], c.ijk[1], c.ijk[2]));
            ui.label(c.caption.trim());
            ui.end_row();
        }
    });
    if ui.button("Save table…").clicked()
        && let Some(path) = rfd::FileDialog::new()
            .add_filter("Tab-separated values", &["tsv"])
            .set_file_name("captions.tsv")
            .save_file()
    {
        let message = match std::fs::write(&path, captions_tsv(&outcome.captions, false)) {
            Ok(()) => UserMessage::Info(format!("Saved {}", path.display())),
            Err(error) => UserMessage::Error(format!("Saving {} failed: {error}", path.display())),
        };
        app.messages.push(message);
    }
}

impl CortexApp {
    /// Start captioning `target` (one request at a time), reusing the loaded models.
    pub fn start_caption(&mut self, target: CaptionTarget) {
        if self.caption_job.is_some() {
            return;
        }
        let ctx = self.ctx.clone();
        self.caption_job = Some(CaptionJob::start(
            self.caption_models.take(),
            self.caption_paths.clone(),
            target,
            Arc::new(move || ctx.request_repaint()),
        ));
    }

    /// In follow mode, caption the crosshair's voxel once the crosshair has moved and no request runs.
    pub(super) fn follow_crosshair(&mut self) {
        let crosshair = self.viewer.crosshair;
        if !self.caption_follow
            || self.caption_job.is_some()
            || self.caption_followed == Some(crosshair)
            || !self.caption_paths.missing(&models_dir()).is_empty()
        {
            return;
        }
        self.caption_followed = Some(crosshair);
        self.start_caption(CaptionTarget::At(crosshair));
    }

    /// Take a finished caption request.
    pub(super) fn receive_caption(&mut self) {
        let Some((models, outcome)) = self.caption_job.as_ref().and_then(CaptionJob::poll) else {
            return;
        };
        self.caption_job = None;
        self.caption_models = models;
        self.caption_status = None;
        match outcome {
            Ok(outcome) => {
                self.caption_thumbnails = outcome
                    .thumbnails
                    .iter()
                    .map(|(path, image)| {
                        let name = format!("caption-thumbnail-{}", path.display());
                        (
                            path.clone(),
                            self.ctx.load_texture(name, image.clone(), Default::default()),
                        )
                    })
                    .collect();
                self.caption_result = Some(outcome);
            }
            // Following the crosshair, a voxel without a caption is a status, not an error to dismiss.
            Err(error) if self.caption_follow => self.caption_status = Some(error),
            Err(error) => self.messages.push(UserMessage::Error(format!("Captioning: {error}"))),
        }
    }
}

/// The model files found in the models folder at start-up.
pub fn default_model_paths() -> ModelPaths {
    ModelPaths::in_folder(&models_dir())
}

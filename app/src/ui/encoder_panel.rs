//! The "Fit an encoder" section of the side panel: responses from the selected 4D layer, an
//! optional mask layer, the stimulus list, the CLIP model and the output file; progress and cancel
//! while it runs. The fitted encoder becomes the captions' encoder and its held-out maps open as
//! overlays.

use std::path::PathBuf;
use std::sync::Arc;

use cortexlens_inference::clip::HF_FILES;
use cortexlens_inference::encoder::import::BRAINSCUBA_BACKBONE;
use cortexlens_inference::hub::{Hub, HubError};

use super::{CortexApp, UserMessage};
use crate::captioning::models_dir;
use crate::encoder_fitting::{EncoderFitFailure, EncoderFitJob, EncoderFitRequest};
use crate::model_download::{ModelDownloadJob, describe};
use crate::viewer::LayerId;

/// The choices of the next encoder fit.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderFitForm {
    /// The stimulus list (one image path per line, in frame order).
    pub stimuli: Option<PathBuf>,
    /// CLIP: a model folder or a Hugging Face repository id.
    pub clip: String,
    /// Where to write the encoder.
    pub out: Option<PathBuf>,
    /// The mask layer (none: every voxel whose responses vary).
    pub mask: Option<LayerId>,
    /// Cross-validation folds.
    pub folds: usize,
}

impl Default for EncoderFitForm {
    /// CLIP from the models folder's `clip/` when there is one, else BrainSCUBA's backbone
    /// (`openai/clip-vit-base-patch32`) from the Hugging Face cache.
    fn default() -> Self {
        let folder = models_dir().join("clip");
        EncoderFitForm {
            stimuli: None,
            clip: if folder.is_dir() {
                folder.display().to_string()
            } else {
                BRAINSCUBA_BACKBONE.to_owned()
            },
            out: None,
            mask: None,
            folds: 5,
        }
    }
}

/// Fit-an-encoder controls, or the running fit's progress.
pub fn show(app: &mut CortexApp, ui: &mut egui::Ui) {
    ui.separator();
    ui.heading("Fit an encoder");
    if let Some(job) = &app.encoder_fit {
        ui.horizontal(|ui| {
            let (text, fraction) = match job.progress() {
                Some((done, total)) if done < total => {
                    (format!("CLIP embeddings {done}/{total}"), done as f32 / total as f32)
                }
                Some(_) => ("ridge regression, cross-validated…".to_owned(), 1.0),
                None => ("loading CLIP and the stimuli…".to_owned(), 0.0),
            };
            ui.add(egui::ProgressBar::new(fraction).text(text).desired_width(200.0));
            if ui.button("Cancel").clicked() {
                job.cancel();
            }
        });
        ui.label(format!("Fitting {} on {}", job.name, job.device_name()));
        return;
    }
    let responses = app
        .selected
        .and_then(|id| app.viewer.layer(id))
        .filter(|layer| layer.volume.frames() > 1);
    let Some(responses) = responses else {
        ui.small("Select a 4D layer with one frame per stimulus to fit a CLIP encoder to it.");
        return;
    };
    let (responses_id, name, frames) = (responses.id, responses.name().to_owned(), responses.volume.frames());
    let grid = responses.volume.shape;
    let masks: Vec<(LayerId, String)> = app
        .viewer
        .layers
        .iter()
        .filter(|l| l.id != responses_id && l.volume.shape[..3] == grid[..3])
        .map(|l| (l.id, l.name().to_owned()))
        .collect();
    let clip_missing = clip_missing(app.hub.as_ref(), app.encoder_fit_form.clip.trim());
    let mut download = false;
    let form = &mut app.encoder_fit_form;
    if form.mask.is_some_and(|id| masks.iter().all(|(m, _)| *m != id)) {
        form.mask = None;
    }
    egui::Grid::new("encoder-fit").num_columns(3).show(ui, |ui| {
        ui.label("Responses");
        ui.label(format!("{name} ({frames} frames)"));
        ui.end_row();

        let label = ui.label("Mask");
        let shown = form
            .mask
            .and_then(|id| masks.iter().find(|(m, _)| *m == id))
            .map_or("varying voxels", |(_, n)| n.as_str());
        egui::ComboBox::from_id_salt("encoder-mask")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut form.mask, None, "varying voxels");
                for (id, mask_name) in &masks {
                    ui.selectable_value(&mut form.mask, Some(*id), mask_name);
                }
            })
            .response
            .labelled_by(label.id);
        ui.end_row();

        ui.label("Stimuli");
        super::path_label(ui, &form.stimuli);
        if ui.small_button("Choose…").clicked()
            && let Some(path) = rfd::FileDialog::new()
                .add_filter("Stimulus list", &["tsv", "txt", "csv"])
                .pick_file()
        {
            form.stimuli = Some(path);
        }
        ui.end_row();

        let label = ui.label("CLIP");
        ui.text_edit_singleline(&mut form.clip)
            .on_hover_text(
                "A Hugging Face CLIP folder (config.json, model.safetensors) or a repository id in the cache",
            )
            .labelled_by(label.id);
        if ui.small_button("Choose…").clicked()
            && let Some(path) = rfd::FileDialog::new().pick_folder()
        {
            form.clip = path.display().to_string();
        }
        ui.end_row();

        match (&app.model_download, &clip_missing) {
            (Some(job), _) => {
                ui.label("");
                let (text, fraction) = job
                    .progress_and_rate()
                    .map_or(("connecting…".to_owned(), 0.0), |(p, rate)| describe(&p, rate));
                ui.add(egui::ProgressBar::new(fraction).text(text).desired_width(200.0));
                if ui.small_button("Cancel").clicked() {
                    job.cancel();
                }
                ui.end_row();
            }
            (None, Ok(missing)) if !missing.is_empty() => {
                ui.label("");
                ui.small(format!("not in the Hugging Face cache: {}", missing.join(", ")));
                let hub = app.hub.as_ref();
                download = ui
                    .small_button("Download")
                    .on_hover_text(hub.map_or(String::new(), |hub| {
                        format!("from {} into {}", hub.endpoint, hub.cache_dir.display())
                    }))
                    .clicked();
                ui.end_row();
            }
            (None, Err(error)) => {
                ui.label("");
                ui.small(egui::RichText::new(error).color(ui.visuals().error_fg_color));
                ui.end_row();
            }
            (None, Ok(_)) => {}
        }

        ui.label("Save as");
        super::path_label(ui, &form.out);
        if ui.small_button("Choose…").clicked()
            && let Some(path) = rfd::FileDialog::new()
                .add_filter("safetensors", &["safetensors"])
                .set_directory(models_dir())
                .set_file_name("encoder.safetensors")
                .save_file()
        {
            form.out = Some(path);
        }
        ui.end_row();

        let label = ui.label("CV folds");
        ui.add(egui::DragValue::new(&mut form.folds).range(2..=20))
            .labelled_by(label.id);
        ui.end_row();
    });
    let clip_ready = clip_missing.as_ref().is_ok_and(Vec::is_empty) && app.model_download.is_none();
    let ready = form.stimuli.is_some() && form.out.is_some() && clip_ready;
    if download && let (Some(hub), Ok(missing)) = (app.hub.clone(), clip_missing) {
        let ctx = app.ctx.clone();
        let repo = form.clip.trim().to_owned();
        app.model_download = Some(ModelDownloadJob::start(
            hub,
            repo,
            missing,
            Arc::new(move || ctx.request_repaint()),
        ));
    }
    if ui
        .add_enabled(ready, egui::Button::new(format!("Fit encoder to {name}")))
        .on_hover_text("CLIP image embeddings of the stimuli, ridge regression with a cross-validated penalty per voxel; the held-out R² and r maps open as overlays")
        .on_disabled_hover_text("Choose the stimulus list, a CLIP model on disk and where to save the encoder")
        .clicked()
    {
        app.start_encoder_fit(responses_id);
    }
}

/// CLIP's files missing from disk: none for a folder (its contents are checked when it loads), the
/// ones not in the Hugging Face cache for a repository id; an error for anything else.
fn clip_missing(hub: Option<&Hub>, spec: &str) -> Result<Vec<String>, String> {
    if std::path::Path::new(spec).is_dir() {
        return Ok(Vec::new());
    }
    let hub = hub.ok_or_else(|| HubError::NoCache.to_string())?;
    hub.missing(spec, &HF_FILES).map_err(|e| e.to_string())
}

impl CortexApp {
    /// Fit an encoder to layer `id` with the form's choices (one fit at a time; a form without a
    /// stimulus list or output file does nothing).
    pub fn start_encoder_fit(&mut self, id: LayerId) {
        if self.encoder_fit.is_some() {
            return;
        }
        let form = &self.encoder_fit_form;
        let (Some(stimuli), Some(out)) = (form.stimuli.clone(), form.out.clone()) else {
            return;
        };
        let Some(layer) = self.viewer.layer(id) else {
            return;
        };
        let clip = match clip_folder(self.hub.as_ref(), form.clip.trim()) {
            Ok(folder) => folder,
            Err(error) => {
                self.messages
                    .push(UserMessage::Error(format!("Fitting an encoder: CLIP {error}")));
                return;
            }
        };
        let mask = form.mask.and_then(|m| self.viewer.layer(m)).map(|m| m.volume.clone());
        let request = EncoderFitRequest {
            responses: layer.volume.clone(),
            mask,
            stimuli,
            clip,
            out,
            folds: form.folds,
        };
        let ctx = self.ctx.clone();
        self.encoder_fit = Some(EncoderFitJob::start(request, Arc::new(move || ctx.request_repaint())));
    }

    /// Take a finished model download and say how it went.
    pub(super) fn receive_model_download(&mut self) {
        let Some(outcome) = self.model_download.as_ref().and_then(ModelDownloadJob::poll) else {
            return;
        };
        let Some(job) = self.model_download.take() else {
            return;
        };
        self.messages.push(match outcome {
            Ok(folder) => UserMessage::Info(format!("Downloaded {} into {}", job.repo, folder.display())),
            Err(HubError::Cancelled) => UserMessage::Info(format!(
                "Downloading {} cancelled; the next download resumes it",
                job.repo
            )),
            Err(error) => UserMessage::Error(format!("Downloading {} failed: {error}", job.repo)),
        });
    }

    /// Take a finished encoder fit: its encoder becomes the captions' encoder, its maps open.
    pub(super) fn receive_encoder_fit(&mut self) {
        let Some(outcome) = self.encoder_fit.as_ref().and_then(EncoderFitJob::poll) else {
            return;
        };
        let Some(job) = self.encoder_fit.take() else {
            return;
        };
        match outcome {
            Ok(fit) => {
                self.messages.push(UserMessage::Info(format!(
                    "Fitted an encoder to {} voxels of {} (median held-out R² {:.3}); saved {}",
                    fit.voxels,
                    job.name,
                    fit.median_r2,
                    fit.encoder.display()
                )));
                self.open(&fit.r2);
                self.open(&fit.pearson);
                self.caption_paths.encoder = Some(fit.encoder);
            }
            Err(EncoderFitFailure::Cancelled) => self.messages.push(UserMessage::Info(format!(
                "Fitting an encoder to {} cancelled",
                job.name
            ))),
            Err(error) => self.messages.push(UserMessage::Error(format!(
                "Fitting an encoder to {} failed: {error}",
                job.name
            ))),
        }
    }
}

/// CLIP's folder on disk: `spec` itself, or a repository's snapshot folder in the cache.
fn clip_folder(hub: Option<&Hub>, spec: &str) -> Result<PathBuf, HubError> {
    let folder = std::path::Path::new(spec);
    if folder.is_dir() {
        return Ok(folder.to_owned());
    }
    hub.ok_or(HubError::NoCache)?.locate(spec, &HF_FILES)
}

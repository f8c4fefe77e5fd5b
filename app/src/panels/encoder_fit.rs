//! The "Fit an encoder" section: responses from the selected 4D layer, an optional mask layer, the
//! stimulus list, the CLIP model (downloaded into the Hugging Face cache when missing) and the
//! output file; progress and Cancel while it runs. The fitted encoder's held-out maps open as
//! overlays (and the captions panel takes the encoder).

use std::path::PathBuf;

use cortexlens_inference::encoder::fit::EncoderFitConfig;
use cortexlens_inference::encoder::import::BRAINSCUBA_BACKBONE;
use cortexlens_inference::hub::Hub;
use cortexlens_inference::{device, device_name};

use super::{Panel, PanelContext};
use crate::captioning::models_dir;
use crate::encoder_fitting::{EncoderFitRequest, ResponsesSource, clip_folder, clip_missing, fit_and_save, map_paths};
use crate::file_dialog::{Choose, DialogId, FileRequest};
use crate::jobs::{Finished, JobError, JobId, Outcome, Progress};
use crate::model_download::{RateMeter, describe};
use crate::viewer::{LayerId, Viewer};
use crate::widgets::{job_progress, path_label};

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

/// Fit-an-encoder controls, the running fit or download.
pub struct EncoderFitPanel {
    form: EncoderFitForm,
    /// Where models named by repository id are looked up and downloaded from (none without a home
    /// folder or `HF_HOME`).
    hub: Option<Hub>,
    /// The fit running, with the responses' name.
    fit: Option<(JobId, String)>,
    /// The model download running, with the repository.
    download: Option<(JobId, String)>,
    rate: RateMeter,
    /// Where CLIP runs ("CPU", "CUDA 0").
    device_name: String,
    /// A file dialog asked for, and which field it fills.
    dialog: Option<(DialogId, Asked)>,
}

/// Which field of the form a file dialog fills.
#[derive(Clone, Copy, Debug)]
enum Asked {
    Stimuli,
    Clip,
    Out,
}

impl Default for EncoderFitPanel {
    fn default() -> Self {
        EncoderFitPanel {
            form: EncoderFitForm::default(),
            hub: Hub::from_env().ok(),
            fit: None,
            download: None,
            rate: RateMeter::default(),
            device_name: device_name(&device()),
            dialog: None,
        }
    }
}

impl EncoderFitPanel {
    /// Fill the form's field with what a file dialog chose.
    fn receive_dialog(&mut self, ctx: &mut PanelContext<'_>) {
        let Some(answer) = self.dialog.as_ref().and_then(|(id, _)| ctx.dialogs.take_one(*id)) else {
            return;
        };
        let (Some((_, what)), Some(path)) = (self.dialog.take(), answer) else {
            return;
        };
        match what {
            Asked::Stimuli => self.form.stimuli = Some(path),
            Asked::Clip => self.form.clip = path.display().to_string(),
            Asked::Out => self.form.out = Some(path),
        }
    }

    /// The choices of the next fit.
    pub fn form_mut(&mut self) -> &mut EncoderFitForm {
        &mut self.form
    }

    /// Look models up in and download them into `hub`.
    pub fn set_hub(&mut self, hub: Hub) {
        self.hub = Some(hub);
    }

    /// The hub models are looked up in.
    pub fn hub(&self) -> Option<&Hub> {
        self.hub.as_ref()
    }

    /// Whether a fit is running.
    pub fn is_fitting(&self) -> bool {
        self.fit.is_some()
    }

    /// The running download, if any.
    pub fn download(&self) -> Option<JobId> {
        self.download.as_ref().map(|(job, _)| *job)
    }

    /// Fit an encoder to layer `id` with the form's choices (one fit at a time; a form without a
    /// stimulus list or output file does nothing).
    fn start_fit(&mut self, ctx: &mut PanelContext<'_>, id: LayerId) {
        let form = &self.form;
        let (Some(stimuli), Some(out), Some(layer)) = (form.stimuli.clone(), form.out.clone(), ctx.viewer.layer(id))
        else {
            return;
        };
        let name = layer.name().to_owned();
        let label = format!("Fitting an encoder to {name}");
        let clip = match clip_folder(self.hub.as_ref(), form.clip.trim()) {
            Ok(folder) => folder,
            Err(error) => {
                ctx.messages.error(format!("{label}: CLIP {error}"));
                return;
            }
        };
        let (r2, pearson) = map_paths(&out);
        let mut config = EncoderFitConfig::default();
        config.ridge.folds = form.folds;
        let request = EncoderFitRequest {
            responses: ResponsesSource::Volume(layer.volume.clone()),
            mask: form.mask.and_then(|m| ctx.viewer.layer(m)).map(|m| m.volume.clone()),
            stimuli,
            clip,
            config,
            out,
            r2: Some(r2),
            pearson: Some(pearson),
        };
        let job = ctx.jobs.start(label, move |reporter| {
            let fit = fit_and_save(&request, reporter.cancel_flag(), &mut |done, total| {
                reporter.report(Progress::Embedding(done, total))
            })
            .map_err(JobError::failed)?;
            Ok(Outcome::EncoderFitted(fit))
        });
        self.fit = Some((job, name));
    }

    /// Fetch CLIP's `missing` files into the hub's cache.
    fn start_download(&mut self, ctx: &mut PanelContext<'_>, missing: Vec<String>) {
        let Some(hub) = self.hub.clone() else {
            return;
        };
        let repo = self.form.clip.trim().to_owned();
        let job = ctx.jobs.start_download(hub, repo.clone(), missing);
        self.download = Some((job, repo));
        self.rate = RateMeter::default();
    }

    fn form_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>, responses: LayerId) {
        let Some(layer) = ctx.viewer.layer(responses) else {
            return;
        };
        let (name, frames, grid) = (layer.name().to_owned(), layer.volume.frames(), layer.volume.shape);
        let masks: Vec<(LayerId, String)> = ctx
            .viewer
            .layers
            .iter()
            .filter(|l| l.id != responses && l.volume.shape[..3] == grid[..3])
            .map(|l| (l.id, l.name().to_owned()))
            .collect();
        let missing = clip_missing(self.hub.as_ref(), self.form.clip.trim()).map_err(|e| e.to_string());
        let mut download = false;
        let mut asked = None;
        let form = &mut self.form;
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
            path_label(ui, &form.stimuli);
            if ui.small_button("Choose…").clicked() {
                let request = FileRequest::new("Choose the stimulus list", Choose::File)
                    .filter("Stimulus list", &["tsv", "txt", "csv"]);
                asked = Some((request, Asked::Stimuli));
            }
            ui.end_row();

            let label = ui.label("CLIP");
            ui.text_edit_singleline(&mut form.clip)
                .on_hover_text(
                    "A Hugging Face CLIP folder (config.json, model.safetensors) or a repository id in the cache",
                )
                .labelled_by(label.id);
            if ui.small_button("Choose…").clicked() {
                asked = Some((FileRequest::new("Choose the CLIP folder", Choose::Folder), Asked::Clip));
            }
            ui.end_row();

            match (&self.download, &missing) {
                (Some((job, _)), _) => {
                    ui.label("");
                    let progress = match ctx.jobs.progress(*job) {
                        Some(Progress::Download(p)) => describe(p, self.rate.rate(p)),
                        _ => ("connecting…".to_owned(), 0.0),
                    };
                    ui.add(egui::ProgressBar::new(progress.1).text(progress.0).desired_width(200.0));
                    if ui.small_button("Cancel").clicked() {
                        ctx.jobs.cancel(*job);
                    }
                    ui.end_row();
                }
                (None, Ok(missing)) if !missing.is_empty() => {
                    ui.label("");
                    ui.small(format!("not in the Hugging Face cache: {}", missing.join(", ")));
                    download = ui
                        .small_button("Download")
                        .on_hover_text(self.hub.as_ref().map_or(String::new(), |hub| {
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
            path_label(ui, &form.out);
            if ui.small_button("Choose…").clicked() {
                let request = FileRequest::new("Save the encoder", Choose::Save("encoder.safetensors".into()))
                    .filter("safetensors", &["safetensors"]);
                asked = Some((request, Asked::Out));
            }
            ui.end_row();

            let label = ui.label("CV folds");
            ui.add(egui::DragValue::new(&mut form.folds).range(2..=20))
                .labelled_by(label.id);
            ui.end_row();
        });
        if let Some((request, what)) = asked {
            self.dialog = Some((ctx.dialogs.ask(request), what));
        }
        let clip_ready = missing.as_ref().is_ok_and(Vec::is_empty) && self.download.is_none();
        let ready = self.form.stimuli.is_some() && self.form.out.is_some() && clip_ready;
        if download && let Ok(missing) = missing {
            self.start_download(ctx, missing);
        }
        if ui
            .add_enabled(ready, egui::Button::new(format!("Fit encoder to {name}")))
            .on_hover_text("CLIP image embeddings of the stimuli, ridge regression with a cross-validated penalty per voxel; the held-out R² and r maps open as overlays")
            .on_disabled_hover_text("Choose the stimulus list, a CLIP model on disk and where to save the encoder")
            .clicked()
        {
            self.start_fit(ctx, responses);
        }
    }
}

impl Panel for EncoderFitPanel {
    fn title(&self) -> &'static str {
        "Fit an encoder"
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        self.receive_dialog(ctx);
        if let Some((job, name)) = &self.fit {
            let progress = match ctx.jobs.progress(*job) {
                Some(Progress::Embedding(done, total)) if done < total => {
                    (format!("CLIP embeddings {done}/{total}"), *done as f32 / *total as f32)
                }
                Some(_) => ("ridge regression, cross-validated…".to_owned(), 1.0),
                None => ("loading CLIP and the stimuli…".to_owned(), 0.0),
            };
            job_progress(ui, ctx.jobs, *job, progress);
            ui.label(format!("Fitting {name} on {}", self.device_name));
            return;
        }
        match responses_layer(ctx.viewer) {
            Some(id) => self.form_ui(ui, ctx, id),
            None => {
                ui.small("Select a 4D layer with one frame per stimulus to fit a CLIP encoder to it.");
            }
        }
    }

    fn on_event(&mut self, finished: &Finished, ctx: &mut PanelContext<'_>) {
        if let Some((_, repo)) = self.download.take_if(|(job, _)| *job == finished.id) {
            match &finished.result {
                Ok(Outcome::Downloaded { folder, .. }) => ctx
                    .messages
                    .info(format!("Downloaded {repo} into {}", folder.display())),
                Ok(_) => {}
                // What arrived stays in the cache as a partial file that the next download resumes.
                Err(JobError::Cancelled) => ctx
                    .messages
                    .info(format!("{} cancelled; the next download resumes it", finished.label)),
                Err(error) => ctx.messages.job_ended(&finished.label, error),
            }
            return;
        }
        let Some((_, name)) = self.fit.take_if(|(job, _)| *job == finished.id) else {
            return;
        };
        match &finished.result {
            Ok(Outcome::EncoderFitted(fit)) => {
                ctx.messages.info(format!(
                    "Fitted an encoder to {} voxels of {name} (median held-out R² {:.3}); saved {}",
                    fit.voxels,
                    fit.median_r2,
                    fit.encoder.display()
                ));
                ctx.to_open.extend(fit.r2.iter().chain(&fit.pearson).cloned());
            }
            Ok(_) => {}
            Err(error) => ctx.messages.job_ended(&finished.label, error),
        }
    }
}

/// The selected layer when it has one frame per stimulus (more than one frame).
fn responses_layer(viewer: &Viewer) -> Option<LayerId> {
    viewer
        .selected_layer()
        .filter(|layer| layer.volume.frames() > 1)
        .map(|layer| layer.id)
}

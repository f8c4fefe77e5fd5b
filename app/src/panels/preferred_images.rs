//! The preferred-images section (BrainDiVE): a region (the selected layer as shown, or a surface
//! region), the models (encoder, Stable Diffusion, the encoder's CLIP; repositories missing from
//! the Hugging Face cache are named, with Download), mode, number of images, steps, scale and first
//! seed. Generate runs on a job; each image joins the gallery as soon as it is done, with the
//! encoder's predicted region response (and, if asked, the unguided image of the same seed
//! beside it); a preview of the clean-latent estimate shows while it denoises. Click to enlarge;
//! save all as PNG + TSV.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cortexlens_inference::clip::HF_FILES;
use cortexlens_inference::encoder::Encoder;
use cortexlens_inference::encoder::file::{load_encoder, read_backbone};
use cortexlens_inference::encoder::import::BRAINSCUBA_BACKBONE;
use cortexlens_inference::encoder::select::MaskRule;
use cortexlens_inference::hub::Hub;
use cortexlens_inference::synthesis::{SynthesisConfig, SynthesisMode, SynthesisModels};
use cortexlens_inference::{device, device_name};
use image::RgbImage;

use super::{Panel, PanelContext};
use crate::captioning::models_dir;
use crate::file_dialog::{Choose, DialogId, FileRequest};
use crate::jobs::{Finished, JobError, JobId, Outcome, Progress};
use crate::regions::Region;
use crate::synthesis::{
    DIFFUSION_FILES, ImageRow, Run, RunEvent, image_file_name, model_folder, model_missing, write_images_tsv,
};
use crate::viewer::{Layer, SurfaceId, Viewer};
use crate::widgets::{job_progress, path_label};

/// Side of a gallery thumbnail, in points.
const THUMBNAIL: f32 = 96.0;

/// One finished image of the gallery.
#[derive(Clone, Debug)]
pub struct GalleryImage {
    /// Its row of the table (seed, file name, predicted response).
    pub row: ImageRow,
    /// The image.
    pub image: RgbImage,
    /// The unguided image of the same seed, when asked for.
    pub unguided: Option<RgbImage>,
}

/// Which region the images are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RegionChoice {
    /// The selected layer where it is shown (its threshold and range).
    SelectedLayer,
    /// One label of the selected layer (an atlas or segmentation): the one under the crosshair.
    LabelAtCrosshair,
    /// A surface region (a FreeSurfer label).
    Surface(SurfaceId),
}

/// What a file dialog of this panel chooses.
#[derive(Clone, Copy, Debug)]
enum Asked {
    Encoder,
    Diffusion,
    Clip,
    SaveAll,
}

/// The models a run loaded, kept for the next run with the same files.
struct LoadedModels {
    key: (PathBuf, PathBuf, PathBuf),
    models: SynthesisModels,
    encoder: Encoder,
}

/// Preferred-image controls, the running job and the gallery.
pub struct PreferredImagesPanel {
    encoder: Option<PathBuf>,
    /// The CLIP the encoder was fitted on (its `backbone` metadata), when it names one.
    backbone: Option<String>,
    diffusion: String,
    clip: String,
    hub: Option<Hub>,
    region: RegionChoice,
    mode: SynthesisMode,
    config: SynthesisConfig,
    count: usize,
    first_seed: u64,
    unguided: bool,
    job: Option<JobId>,
    download: Option<JobId>,
    models: Arc<Mutex<Option<LoadedModels>>>,
    /// Images the job has finished, shared with it.
    gallery: Arc<Mutex<Vec<GalleryImage>>>,
    /// Textures of the gallery's images (and their unguided twins), in gallery order.
    textures: Vec<(egui::TextureHandle, Option<egui::TextureHandle>)>,
    preview: Option<egui::TextureHandle>,
    enlarged: Option<usize>,
    dialog: Option<(DialogId, Asked)>,
    device_name: String,
}

impl Default for PreferredImagesPanel {
    /// Models from the models folder (`encoder.safetensors`, `diffusion/`, `clip/`) where they
    /// are, else SD 2.1-base and BrainSCUBA's CLIP by repository id.
    fn default() -> Self {
        let dir = models_dir();
        let folder_or = |name: &str, repo: &str| {
            let folder = dir.join(name);
            if folder.is_dir() {
                folder.display().to_string()
            } else {
                repo.to_owned()
            }
        };
        let mode = SynthesisMode::BrainDive;
        // Size 0: the diffusion model's native size.
        let config = SynthesisConfig {
            size: 0,
            ..SynthesisConfig::new(mode)
        };
        let encoder = Some(dir.join("encoder.safetensors")).filter(|p| p.is_file());
        let backbone = encoder.as_deref().and_then(backbone_of);
        PreferredImagesPanel {
            clip: folder_or("clip", backbone.as_deref().unwrap_or(BRAINSCUBA_BACKBONE)),
            encoder,
            backbone,
            diffusion: folder_or("diffusion", "stabilityai/stable-diffusion-2-1-base"),
            hub: Hub::from_env().ok(),
            region: RegionChoice::SelectedLayer,
            mode,
            config,
            count: 4,
            first_seed: 0,
            unguided: false,
            job: None,
            download: None,
            models: Arc::default(),
            gallery: Arc::default(),
            textures: Vec::new(),
            preview: None,
            enlarged: None,
            dialog: None,
            device_name: device_name(&device()),
        }
    }
}

impl PreferredImagesPanel {
    /// Use these models: the encoder file, and the diffusion and CLIP folders or repository ids.
    pub fn set_models(&mut self, encoder: PathBuf, diffusion: String, clip: String) {
        self.set_encoder(encoder);
        self.diffusion = diffusion;
        self.clip = clip;
    }

    /// Uses this encoder, and guides with the CLIP it was fitted on when its file names one.
    fn set_encoder(&mut self, encoder: PathBuf) {
        self.backbone = backbone_of(&encoder);
        if let Some(backbone) = &self.backbone {
            self.clip = backbone.clone();
        }
        self.encoder = Some(encoder);
    }

    /// Settings of the next run (mode, steps, scale, size…).
    pub fn config_mut(&mut self) -> &mut SynthesisConfig {
        &mut self.config
    }

    /// How many images the next run makes, from which seed, and whether with unguided twins.
    pub fn set_run(&mut self, count: usize, first_seed: u64, unguided: bool) {
        (self.count, self.first_seed, self.unguided) = (count, first_seed, unguided);
    }

    /// The images made so far.
    pub fn gallery(&self) -> Vec<GalleryImage> {
        self.gallery.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Whether a run is going.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// The region the controls name.
    fn region(&self, viewer: &Viewer) -> Option<Region> {
        match self.region {
            RegionChoice::SelectedLayer => viewer.selected_layer().map(|layer| Region::Shown {
                volume: layer.volume.clone(),
                frame: layer.frame,
                style: layer.style,
                name: layer.name().to_owned(),
            }),
            RegionChoice::LabelAtCrosshair => {
                let (layer, label) = label_at_crosshair(viewer)?;
                let named = layer
                    .label_names
                    .as_ref()
                    .and_then(|names| names.name(label))
                    .map_or(String::new(), |n| format!(" ({n})"));
                Some(Region::Roi {
                    volume: layer.volume.clone(),
                    rule: MaskRule::Label(label),
                    name: format!("label {label}{named} of {}", layer.name()),
                })
            }
            RegionChoice::Surface(id) => Some(Region::Surface {
                name: viewer.surfaces.region(id)?.name.clone(),
                points: viewer.surfaces.region_points(id)?,
            }),
        }
    }

    fn start(&mut self, ctx: &mut PanelContext<'_>) {
        let (Some(encoder_path), Some(region)) = (self.encoder.clone(), self.region(ctx.viewer)) else {
            return;
        };
        let folders = (
            model_folder(self.hub.as_ref(), self.diffusion.trim(), &DIFFUSION_FILES),
            model_folder(self.hub.as_ref(), self.clip.trim(), &HF_FILES),
        );
        let (diffusion, clip) = match folders {
            (Ok(d), Ok(c)) => (d, c),
            (Err(e), _) | (_, Err(e)) => {
                ctx.messages.error(format!("Preferred images: {e}"));
                return;
            }
        };
        if let Ok(mut gallery) = self.gallery.lock() {
            gallery.clear();
        }
        self.textures.clear();
        self.preview = None;
        self.enlarged = None;
        let (config, unguided) = (
            SynthesisConfig {
                mode: self.mode,
                ..self.config.clone()
            },
            self.unguided,
        );
        let seeds: Vec<u64> = (0..self.count as u64).map(|i| self.first_seed + i).collect();
        let (models, gallery) = (self.models.clone(), self.gallery.clone());
        let label = format!("Preferred images of {}", region.describe());
        self.job = Some(ctx.jobs.start(label, move |reporter| {
            let mut cache = models
                .lock()
                .map_err(|_| JobError::message("the synthesis models were lost"))?;
            let key = (encoder_path.clone(), diffusion.clone(), clip.clone());
            if cache.as_ref().is_none_or(|m| m.key != key) {
                *cache = None;
                let encoder = load_encoder(&encoder_path).map_err(JobError::failed)?;
                let models = SynthesisModels::load(&diffusion, &clip, &device()).map_err(JobError::failed)?;
                *cache = Some(LoadedModels { key, models, encoder });
            }
            let Some(loaded) = cache.as_ref() else {
                return Err(JobError::message("no synthesis models"));
            };
            let voxels = region.encoder_voxels(&loaded.encoder).map_err(JobError::failed)?;
            let config = SynthesisConfig {
                size: if config.size == 0 {
                    loaded.models.native_size()
                } else {
                    config.size
                },
                ..config
            };
            let run = Run {
                models: &loaded.models,
                encoder: &loaded.encoder,
                voxels: &voxels,
                config: &config,
                unguided,
            };
            let rows = run
                .images(&seeds, None, reporter.cancel_flag(), &mut |event| match event {
                    RunEvent::Step {
                        seed,
                        index,
                        count,
                        progress,
                    } => reporter.report(Progress::Synthesis {
                        seed,
                        index,
                        count,
                        step: progress.step,
                        steps: progress.steps,
                        preview: progress.preview.clone().map(Arc::new),
                    }),
                    RunEvent::Image { row, image, unguided } => {
                        if let Ok(mut gallery) = gallery.lock() {
                            gallery.push(GalleryImage {
                                row: row.clone(),
                                image: image.clone(),
                                unguided: unguided.cloned(),
                            });
                        }
                        reporter.wake();
                    }
                })
                .map_err(JobError::failed)?;
            Ok(Outcome::Synthesized { images: rows.len() })
        }));
    }

    fn start_download(&mut self, ctx: &mut PanelContext<'_>, repo: String, files: &[&str]) {
        let Some(hub) = self.hub.clone() else {
            return;
        };
        let files = files.iter().map(|f| f.to_string()).collect();
        self.download = Some(ctx.jobs.start_download(hub, repo, files));
    }

    /// Models: the encoder file, and the diffusion and CLIP folders or repository ids, with what
    /// the cache lacks of them.
    fn models_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        let mut asked = None;
        let mut download = None;
        egui::Grid::new("synthesis-models").num_columns(3).show(ui, |ui| {
            ui.label("Encoder");
            path_label(ui, &self.encoder);
            if ui.small_button("Choose…").clicked() {
                asked = Some(Asked::Encoder);
            }
            ui.end_row();
            if let Some(backbone) = &self.backbone {
                ui.label("");
                ui.small(format!("fitted on {backbone}"))
                    .on_hover_text("Guide with this CLIP: the encoder reads its features");
                ui.end_row();
            }
            for (name, what, files, spec) in [
                ("Diffusion", Asked::Diffusion, &DIFFUSION_FILES[..], &mut self.diffusion),
                ("CLIP", Asked::Clip, &HF_FILES[..], &mut self.clip),
            ] {
                let label = ui.label(name);
                ui.text_edit_singleline(spec)
                    .on_hover_text("A folder, or a Hugging Face repository id in the cache")
                    .labelled_by(label.id);
                if ui.small_button("Choose…").clicked() {
                    asked = Some(what);
                }
                ui.end_row();
                match model_missing(self.hub.as_ref(), spec.trim(), files) {
                    Ok(missing) if !missing.is_empty() => {
                        ui.label("");
                        ui.small(format!("{} files not in the Hugging Face cache", missing.len()));
                        if self.download.is_none() && ui.small_button(format!("Download {name}")).clicked() {
                            download = Some((spec.trim().to_owned(), files));
                        }
                        ui.end_row();
                    }
                    Ok(_) => {}
                    Err(error) => {
                        ui.label("");
                        ui.small(egui::RichText::new(error.to_string()).color(ui.visuals().error_fg_color));
                        ui.end_row();
                    }
                }
            }
        });
        if let Some(job) = self.download {
            let text = match ctx.jobs.progress(job) {
                Some(Progress::Download(p)) => crate::model_download::describe(p, None),
                _ => ("connecting…".to_owned(), 0.0),
            };
            job_progress(ui, ctx.jobs, job, text);
        }
        if let Some((repo, files)) = download {
            self.start_download(ctx, repo, files);
        }
        if let Some(what) = asked {
            let request = match what {
                Asked::Encoder => {
                    FileRequest::new("Choose the encoder", Choose::File).filter("safetensors", &["safetensors"])
                }
                Asked::Diffusion => FileRequest::new("Choose a Stable Diffusion folder", Choose::Folder),
                Asked::Clip => FileRequest::new("Choose the encoder's CLIP folder", Choose::Folder),
                Asked::SaveAll => return,
            };
            self.dialog = Some((ctx.dialogs.ask(request), what));
        }
    }

    /// Region, mode and run settings, and Generate.
    fn run_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        let viewer = &*ctx.viewer;
        let regions: Vec<(SurfaceId, String)> =
            viewer.surfaces.regions.iter().map(|r| (r.id, r.name.clone())).collect();
        if let RegionChoice::Surface(id) = self.region
            && regions.iter().all(|(r, _)| *r != id)
        {
            self.region = RegionChoice::SelectedLayer;
        }
        let layer = viewer.selected_layer().map(|l| l.name().to_owned());
        let label_here = label_at_crosshair(viewer).map(|(layer, label)| {
            let named = layer.label_names.as_ref().and_then(|names| names.name(label));
            format!(
                "label {label}{} under the crosshair",
                named.map_or(String::new(), |n| format!(" ({n})"))
            )
        });
        egui::Grid::new("synthesis-run").num_columns(2).show(ui, |ui| {
            let label = ui.label("Region");
            let shown = match self.region {
                RegionChoice::SelectedLayer => layer.clone().unwrap_or_else(|| "the selected layer".into()),
                RegionChoice::LabelAtCrosshair => label_here
                    .clone()
                    .unwrap_or_else(|| "no label under the crosshair".into()),
                RegionChoice::Surface(id) => regions
                    .iter()
                    .find(|(r, _)| *r == id)
                    .map_or(String::new(), |(_, n)| n.clone()),
            };
            egui::ComboBox::from_id_salt("synthesis-region")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    let name = layer
                        .clone()
                        .map_or("the selected layer".into(), |n| format!("{n} as shown"));
                    ui.selectable_value(&mut self.region, RegionChoice::SelectedLayer, name);
                    if let Some(here) = &label_here {
                        ui.selectable_value(&mut self.region, RegionChoice::LabelAtCrosshair, here);
                    }
                    for (id, name) in &regions {
                        ui.selectable_value(&mut self.region, RegionChoice::Surface(*id), name);
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();

            ui.label("Mode");
            ui.horizontal(|ui| {
                let mut mode = self.mode;
                ui.radio_value(&mut mode, SynthesisMode::BrainDive, "braindive")
                    .on_hover_text("BrainDiVE: gradient through the UNet at each of 50 steps (SD 2.1-base)");
                ui.radio_value(&mut mode, SynthesisMode::Fast, "fast")
                    .on_hover_text("SD-Turbo in 1–4 steps, guidance on the clean-image estimate");
                ui.radio_value(&mut mode, SynthesisMode::Rerank, "rerank")
                    .on_hover_text("No gradients: the encoder's favourite of several unguided samples");
                if mode != self.mode {
                    self.mode = mode;
                    let size = self.config.size;
                    self.config = SynthesisConfig {
                        size,
                        ..SynthesisConfig::new(mode)
                    };
                }
            });
            ui.end_row();
            for (name, value, range) in [
                ("Images", &mut self.count, 1..=1000),
                ("Steps", &mut self.config.steps, 1..=200),
            ] {
                let label = ui.label(name);
                ui.add(egui::DragValue::new(value).range(range)).labelled_by(label.id);
                ui.end_row();
            }
            let label = ui.label("Scale");
            ui.add(egui::DragValue::new(&mut self.config.scale).speed(0.5))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("First seed");
            ui.add(egui::DragValue::new(&mut self.first_seed)).labelled_by(label.id);
            ui.end_row();
        });
        ui.checkbox(&mut self.unguided, "Unguided image beside each")
            .on_hover_text("The same seed without guidance, to compare");
        let ready = self.encoder.is_some() && self.download.is_none() && self.region(ctx.viewer).is_some();
        if ui
            .add_enabled(ready, egui::Button::new("Generate"))
            .on_hover_text("Images the encoder predicts will drive the region most")
            .on_disabled_hover_text("Choose the encoder and a region (select a layer, or open a surface label)")
            .clicked()
        {
            self.start(ctx);
        }
    }

    /// The gallery: thumbnails with the predicted response, click to enlarge; save all.
    fn gallery_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        let gallery = self.gallery();
        let texture = |ui: &egui::Ui, name: String, image: &RgbImage| {
            let size = [image.width() as usize, image.height() as usize];
            ui.ctx().load_texture(
                name,
                egui::ColorImage::from_rgb(size, image.as_raw()),
                Default::default(),
            )
        };
        for item in gallery.iter().skip(self.textures.len()) {
            let seed = item.row.seed;
            let guided = texture(ui, format!("preferred-{seed}"), &item.image);
            let plain = item
                .unguided
                .as_ref()
                .map(|u| texture(ui, format!("preferred-{seed}-unguided"), u));
            self.textures.push((guided, plain));
        }
        if gallery.is_empty() {
            return;
        }
        ui.horizontal_wrapped(|ui| {
            for (i, (item, (guided, plain))) in gallery.iter().zip(&self.textures).enumerate() {
                ui.vertical(|ui| {
                    let image =
                        egui::Image::new((guided.id(), egui::vec2(THUMBNAIL, THUMBNAIL))).sense(egui::Sense::click());
                    if ui
                        .add(image)
                        .on_hover_text(format!("seed {}: click to enlarge", item.row.seed))
                        .clicked()
                    {
                        self.enlarged = Some(i);
                    }
                    if let Some(plain) = plain {
                        ui.add(egui::Image::new((plain.id(), egui::vec2(THUMBNAIL, THUMBNAIL))));
                    }
                    let unguided = item
                        .row
                        .unguided_roi_mean
                        .map_or(String::new(), |u| format!(" (unguided {u:.3})"));
                    ui.small(format!("seed {}: {:.3}{unguided}", item.row.seed, item.row.roi_mean));
                });
            }
        });
        if ui.button("Save all…").clicked() {
            let request = FileRequest::new("Save the images into a folder", Choose::Folder);
            self.dialog = Some((ctx.dialogs.ask(request), Asked::SaveAll));
        }
        if let Some(i) = self.enlarged
            && let (Some(item), Some((guided, _))) = (gallery.get(i), self.textures.get(i))
        {
            let mut open = true;
            egui::Window::new(format!("seed {}", item.row.seed))
                .open(&mut open)
                .show(ui.ctx(), |ui| {
                    ui.image((guided.id(), guided.size_vec2()));
                    ui.label(format!("predicted region response {:.4}", item.row.roi_mean));
                });
            if !open {
                self.enlarged = None;
            }
        }
    }

    /// Take what a file dialog chose.
    fn receive_dialog(&mut self, ctx: &mut PanelContext<'_>) {
        let Some(answer) = self.dialog.as_ref().and_then(|(id, _)| ctx.dialogs.take_one(*id)) else {
            return;
        };
        let (Some((_, what)), Some(path)) = (self.dialog.take(), answer) else {
            return;
        };
        match what {
            Asked::Encoder => self.set_encoder(path),
            Asked::Diffusion => self.diffusion = path.display().to_string(),
            Asked::Clip => self.clip = path.display().to_string(),
            Asked::SaveAll => match save_gallery(&path, &self.gallery()) {
                Ok(count) => ctx
                    .messages
                    .info(format!("Saved {count} images and images.tsv into {}", path.display())),
                Err(error) => ctx
                    .messages
                    .error(format!("Saving into {} failed: {error}", path.display())),
            },
        }
    }
}

/// Every image as `seed_00042.png` (unguided twins as `seed_00042_unguided.png`) and `images.tsv`
/// into `dir`; returns how many images.
pub fn save_gallery(dir: &Path, gallery: &[GalleryImage]) -> std::io::Result<usize> {
    for item in gallery {
        let seed = item.row.seed;
        item.image
            .save(dir.join(image_file_name(seed)))
            .map_err(std::io::Error::other)?;
        if let Some(plain) = &item.unguided {
            plain
                .save(dir.join(format!("seed_{seed:05}_unguided.png")))
                .map_err(std::io::Error::other)?;
        }
    }
    let rows: Vec<ImageRow> = gallery.iter().map(|g| g.row.clone()).collect();
    write_images_tsv(dir, &rows)?;
    Ok(gallery.len())
}

impl Panel for PreferredImagesPanel {
    fn title(&self) -> &'static str {
        "Preferred images"
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        self.receive_dialog(ctx);
        self.models_ui(ui, ctx);
        match self.job {
            Some(job) => {
                let (text, fraction, preview) = match ctx.jobs.progress(job) {
                    Some(Progress::Synthesis {
                        seed,
                        index,
                        count,
                        step,
                        steps,
                        preview,
                    }) => (
                        format!("image {}/{count} (seed {seed}): step {step}/{steps}", index + 1),
                        (*index as f32 + *step as f32 / (*steps).max(1) as f32) / (*count).max(1) as f32,
                        preview.clone(),
                    ),
                    _ => ("loading the models…".to_owned(), 0.0, None),
                };
                if let Some(image) = preview {
                    let size = [image.width() as usize, image.height() as usize];
                    let pixels = egui::ColorImage::from_rgb(size, image.as_raw());
                    self.preview = Some(ui.ctx().load_texture("preferred-preview", pixels, Default::default()));
                }
                job_progress(ui, ctx.jobs, job, (text, fraction));
                ui.label(format!("Running on {}", self.device_name));
                if let Some(preview) = &self.preview {
                    ui.image((preview.id(), egui::vec2(THUMBNAIL, THUMBNAIL)))
                        .on_hover_text("The clean image the model sees now");
                }
            }
            None => self.run_ui(ui, ctx),
        }
        self.gallery_ui(ui, ctx);
    }

    fn on_event(&mut self, finished: &Finished, ctx: &mut PanelContext<'_>) {
        if self.download.take_if(|job| *job == finished.id).is_some() {
            match &finished.result {
                Ok(Outcome::Downloaded { repo, folder }) => ctx
                    .messages
                    .info(format!("Downloaded {repo} into {}", folder.display())),
                Ok(_) => {}
                Err(error) => ctx.messages.job_ended(&finished.label, error),
            }
            return;
        }
        if self.job.take_if(|job| *job == finished.id).is_none() {
            return;
        }
        self.preview = None;
        match &finished.result {
            Ok(Outcome::Synthesized { images }) => ctx.messages.info(format!("{}: {images} images", finished.label)),
            Ok(_) => {}
            Err(error) => ctx.messages.job_ended(&finished.label, error),
        }
    }
}

/// The selected layer when it is drawn as labels, and its non-zero label under the crosshair.
fn label_at_crosshair(viewer: &Viewer) -> Option<(&Layer, f32)> {
    let layer = viewer.selected_layer().filter(|l| l.style.colormap.is_categorical())?;
    let value = layer
        .volume
        .value_at(layer.volume.nearest_voxel(viewer.crosshair), layer.frame)?;
    (value.is_finite() && value != 0.0).then_some((layer, value))
}

/// The CLIP an encoder file names as its backbone, if any (read from its header only).
fn backbone_of(encoder: &Path) -> Option<String> {
    read_backbone(encoder).ok().filter(|b| !b.is_empty())
}

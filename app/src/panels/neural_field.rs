//! The neural-field section: fit a field to the selected volume (hash or dense grid, with or
//! without coordinate-aware modulation) on a job, with progress, PSNR and Cancel; the fitted field
//! opens in the 3D view.

use cortexlens_inference::{EncodingConfig, FitConfig, device, device_name, fit};

use super::{Panel, PanelContext};
use crate::jobs::{Finished, JobError, JobId, Outcome, Progress};
use crate::viewer::{LayerId, Layout, Viewer};
use crate::widgets::job_progress;

/// Fit controls, or the running fit.
pub struct NeuralFieldPanel {
    /// The configuration of the next fit; the controls set its encoding and CAM.
    config: FitConfig,
    /// The fit running, with the fitted volume's name.
    fit: Option<(JobId, String)>,
    /// Where fits run ("CPU", "CUDA 0").
    device_name: String,
}

impl Default for NeuralFieldPanel {
    fn default() -> Self {
        NeuralFieldPanel {
            // CAM off: it lost to the plain fit on MNI152 on every seed (BENCHMARKS.md).
            config: FitConfig::default_hash(false),
            fit: None,
            device_name: device_name(&device()),
        }
    }
}

impl NeuralFieldPanel {
    /// The configuration the next fit uses.
    pub fn config(&self) -> &FitConfig {
        &self.config
    }

    /// Use `config` for the next fit (steps, batch, sizes the controls do not offer).
    pub fn set_config(&mut self, config: FitConfig) {
        self.config = config;
    }

    /// Whether a fit is running.
    pub fn is_fitting(&self) -> bool {
        self.fit.is_some()
    }

    fn start(&mut self, ctx: &mut PanelContext<'_>, id: LayerId) {
        let Some(layer) = ctx.viewer.layer(id) else {
            return;
        };
        let (volume, frame, config) = (layer.volume.clone(), layer.frame, self.config.clone());
        let name = layer.name().to_owned();
        let job = ctx.jobs.start(format!("Fitting {name}"), move |reporter| {
            let mut psnr = None;
            let field = fit(&volume, frame, &config, &device(), reporter.cancel_flag(), &mut |p| {
                psnr = Some(p.psnr);
                reporter.report(Progress::FieldFit(p.clone()));
            })
            .map_err(JobError::failed)?;
            Ok(Outcome::FieldFitted {
                field: field.into(),
                psnr,
            })
        });
        self.fit = Some((job, name));
    }

    fn controls(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        let Some(id) = ctx.viewer.selected else {
            return;
        };
        let dense = matches!(self.config.encoding, EncodingConfig::Dense { .. });
        ui.horizontal(|ui| {
            if ui
                .button("Fit neural field")
                .on_hover_text("Fit a neural field to the selected volume (candle)")
                .clicked()
            {
                self.start(ctx, id);
            }
            let mut cam = self.config.cam;
            ui.checkbox(&mut cam, "CAM").on_hover_text(
                "Coordinate-aware modulation: a scale and shift grid per hidden layer. Off by default: fitted to MNI152 with the hash grid it lost 1.5 dB to the plain fit on every seed (BENCHMARKS.md, cam_experiment)",
            );
            if self.config.cam {
                ui.checkbox(&mut self.config.cam_normalize, "normalise").on_hover_text(
                    "Normalise each layer's outputs before the scale and shift (CAM's image variant); off: scale and shift them as they are (its NeRF variant)",
                );
            }
            let mut choice = dense;
            egui::ComboBox::from_label("encoding")
                .selected_text(if choice { "dense grid" } else { "hash grid" })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut choice, false, "hash grid");
                    ui.selectable_value(&mut choice, true, "dense grid");
                });
            if (cam, choice) != (self.config.cam, dense) {
                self.config = if choice {
                    FitConfig::default_dense(cam)
                } else {
                    FitConfig::default_hash(cam)
                };
            }
        });
    }
}

impl Panel for NeuralFieldPanel {
    fn title(&self) -> &'static str {
        "Neural field"
    }

    fn visible(&self, viewer: &Viewer) -> bool {
        self.fit.is_some() || viewer.selected_layer().is_some()
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        let Some((job, _)) = &self.fit else {
            self.controls(ui, ctx);
            return;
        };
        let progress = match ctx.jobs.progress(*job) {
            Some(Progress::FieldFit(p)) => (
                format!("step {} / {}  PSNR {:.1} dB", p.step, p.steps, p.psnr),
                p.step as f32 / p.steps.max(1) as f32,
            ),
            _ => ("starting…".to_owned(), 0.0),
        };
        job_progress(ui, ctx.jobs, *job, progress);
        ui.label(format!("Fitting on {}", self.device_name));
    }

    fn on_event(&mut self, finished: &Finished, ctx: &mut PanelContext<'_>) {
        let Some((_, name)) = self.fit.take_if(|(job, _)| *job == finished.id) else {
            return;
        };
        match &finished.result {
            Ok(Outcome::FieldFitted { field, psnr }) => {
                let psnr = psnr.map_or(String::new(), |p| format!(", PSNR {p:.1} dB"));
                ctx.messages.info(format!("Fitted a neural field to {name}{psnr}"));
                ctx.viewer.volume3d.add_field(format!("{name} (field)"), field.clone());
                ctx.viewer.layout = Layout::Volume3d;
            }
            Ok(_) => {}
            Err(error) => ctx.messages.job_ended(&finished.label, error),
        }
    }
}

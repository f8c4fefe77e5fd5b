//! The 3D section: what is ray-marched (the base volume or a neural field, exact or baked), whether
//! the surfaces are drawn with it, mode, transfer function, iso level, clip planes, camera presets,
//! saving a field. It also bakes the
//! shown field when the 3D view draws fields from grids.

use cortexlens_data::camera::{CameraPreset, OrbitCamera};
use std::sync::Arc;

use cortexlens_data::field::{BAKE_VOXELS, NeuralField, bake};
use cortexlens_render::RenderMode;

use super::{Panel, PanelContext};
use crate::file_dialog::{Choose, DialogId, FileDialogs, FileRequest};
use crate::jobs::{Finished, JobError, JobId, Jobs, Outcome, Progress};
use crate::viewer::{FieldDrawing, FieldId, Layout, Source3d, Viewer};

/// 3D controls, shown in the 3D layout or when fields are open.
#[derive(Default)]
pub struct Volume3dPanel {
    /// The bake running, and its field.
    bake: Option<(JobId, FieldId)>,
    /// Where to save a field, asked for.
    save_field: Option<(DialogId, Arc<NeuralField>)>,
}

impl Volume3dPanel {
    /// Write the field where the dialog says, once it has answered.
    fn receive_save_field(&mut self, ctx: &mut PanelContext<'_>) {
        let Some(answer) = self.save_field.as_ref().and_then(|(id, _)| ctx.dialogs.take_one(*id)) else {
            return;
        };
        let Some((_, field)) = self.save_field.take() else {
            return;
        };
        if let Some(path) = answer {
            match cortexlens_data::field::save_field(&path, &field) {
                Ok(()) => ctx.messages.info(format!("Saved {}", path.display())),
                Err(error) => ctx.messages.error(format!("Saving {} failed: {error}", path.display())),
            }
        }
    }

    /// Whether a field is being baked.
    pub fn is_baking(&self) -> bool {
        self.bake.is_some()
    }
}

impl Panel for Volume3dPanel {
    fn title(&self) -> &'static str {
        "3D"
    }

    fn visible(&self, viewer: &Viewer) -> bool {
        viewer.layout == Layout::Volume3d || !viewer.volume3d.fields.is_empty()
    }

    /// Bake the shown field when the 3D view needs its grid; drop a bake whose field is no longer
    /// the one waiting.
    fn update(&mut self, ctx: &mut PanelContext<'_>) {
        let waiting = ctx.viewer.volume3d.needs_bake().map(|open| open.id);
        match self.bake {
            Some((job, field)) if waiting != Some(field) => ctx.jobs.cancel(job),
            Some(_) => {}
            None => {
                if let Some(open) = ctx.viewer.volume3d.needs_bake() {
                    let (id, field) = (open.id, open.field.clone());
                    let job = ctx.jobs.start(format!("Baking {}", open.name), move |reporter| {
                        let grid = bake(&field, BAKE_VOXELS, reporter.cancel_flag(), &mut |p| {
                            reporter.report(Progress::Fraction(p))
                        })
                        .map_err(JobError::failed)?;
                        Ok(Outcome::Baked {
                            field: id,
                            grid: grid.into(),
                        })
                    });
                    self.bake = Some((job, id));
                }
            }
        }
    }

    fn on_event(&mut self, finished: &Finished, ctx: &mut PanelContext<'_>) {
        if self.bake.is_none_or(|(job, _)| job != finished.id) {
            return;
        }
        self.bake = None;
        match &finished.result {
            Ok(Outcome::Baked { field, grid }) => ctx.viewer.volume3d.set_baked(*field, grid.clone()),
            Ok(_) => {}
            // A bake of a field no longer shown was cancelled on purpose: nothing to say.
            Err(JobError::Cancelled) => {}
            Err(error) => ctx.messages.job_ended(&finished.label, error),
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        source_choice(ui, ctx.viewer);
        if ctx.viewer.volume3d.shown_field().is_some_and(|open| open.bakeable()) {
            field_drawing(ui, ctx.viewer, ctx.jobs, self.bake.map(|(job, _)| job));
        }
        settings(ui, ctx.viewer);
        if let Some(asked) = save_field_button(ui, ctx.viewer, ctx.dialogs) {
            self.save_field = Some(asked);
        }
        self.receive_save_field(ctx);
    }
}

fn source_choice(ui: &mut egui::Ui, viewer: &mut Viewer) {
    if !viewer.surfaces.is_empty() {
        let in_world = viewer.surfaces.in_world_space().next().is_some();
        ui.add_enabled_ui(in_world, |ui| {
            ui.checkbox(&mut viewer.volume3d.surfaces, "Surfaces in the 3D view")
                .on_hover_text("The open surfaces, where they are, with their colours: rays stop at them and splats behind them are hidden")
                .on_disabled_hover_text("Inflated, spherical and flat surfaces are not where the brain is: choose pial or white");
        });
    }
    let v3 = &mut viewer.volume3d;
    ui.horizontal_wrapped(|ui| {
        ui.label("Show");
        if ui
            .selectable_label(v3.source == Source3d::Volume, "base volume")
            .clicked()
        {
            v3.source = Source3d::Volume;
            v3.camera_placed = false;
        }
        for open in &v3.fields {
            if ui
                .selectable_label(v3.source == Source3d::Field(open.id), open.name.as_str())
                .clicked()
            {
                v3.source = Source3d::Field(open.id);
                v3.camera_placed = false;
            }
        }
    });
}

fn field_drawing(ui: &mut egui::Ui, viewer: &mut Viewer, jobs: &Jobs, bake: Option<JobId>) {
    let v3 = &mut viewer.volume3d;
    ui.horizontal(|ui| {
        ui.label("Field drawn");
        ui.radio_value(&mut v3.field_drawing, FieldDrawing::Exact, "exact")
            .on_hover_text("The network evaluated at every ray sample: needs a hardware GPU to be interactive");
        ui.radio_value(&mut v3.field_drawing, FieldDrawing::Baked, "baked grid")
            .on_hover_text(
                "The field sampled once into a voxel grid (about 4 M voxels) on the CPU, then drawn as a volume",
            );
    });
    if let Some(Progress::Fraction(progress)) = bake.and_then(|job| jobs.progress(job)) {
        ui.add(
            egui::ProgressBar::new(*progress)
                .text(format!("baking the field into a grid… {:.0} %", progress * 100.0))
                .desired_width(220.0),
        );
    }
}

fn settings(ui: &mut egui::Ui, viewer: &mut Viewer) {
    let v3 = &mut viewer.volume3d;
    let s = &mut v3.settings;
    ui.horizontal(|ui| {
        ui.label("Mode");
        for mode in RenderMode::ALL {
            ui.radio_value(&mut s.mode, mode, mode.name());
        }
    });
    let (lo, hi) = s.transfer.range;
    let speed = ((hi - lo).abs() / 200.0).max(1e-3);
    let label = ui.label("Range");
    ui.horizontal(|ui| {
        ui.add(egui::DragValue::new(&mut s.transfer.range.0).speed(speed))
            .labelled_by(label.id);
        ui.add(egui::DragValue::new(&mut s.transfer.range.1).speed(speed))
            .labelled_by(label.id);
    });
    if s.mode == RenderMode::Dvr && s.transfer.opacity.len() == 3 {
        let label = ui.label("Opacity ramp");
        ui.horizontal(|ui| {
            ui.add(egui::Slider::new(&mut s.transfer.opacity[1][0], 0.0..=1.0).text("from"))
                .labelled_by(label.id);
            ui.add(egui::Slider::new(&mut s.transfer.opacity[2][1], 0.0..=1.0).text("max"))
                .labelled_by(label.id);
        });
    }
    if s.mode == RenderMode::Iso {
        let label = ui.label("Iso level");
        ui.add(egui::DragValue::new(&mut s.iso_level).speed(speed))
            .labelled_by(label.id);
    }
    ui.checkbox(&mut s.lighting, "Gradient lighting");
    ui.horizontal(|ui| {
        ui.label("Clip at crosshair");
        ui.checkbox(&mut v3.clips.x, "x");
        ui.checkbox(&mut v3.clips.y, "y");
        ui.checkbox(&mut v3.clips.z, "z");
    });
    let mut chosen = None;
    ui.horizontal_wrapped(|ui| {
        ui.label("View");
        for preset in CameraPreset::ALL {
            if ui.small_button(preset.name()).clicked() {
                chosen = Some(preset);
            }
        }
    });
    if let Some(preset) = chosen
        && let Some(bounds) = viewer.bounds_3d()
    {
        viewer.volume3d.camera = OrbitCamera::preset(preset, bounds);
    }
}

/// "Save field…": asks where to write the shown field.
fn save_field_button(
    ui: &mut egui::Ui,
    viewer: &Viewer,
    dialogs: &mut FileDialogs,
) -> Option<(DialogId, Arc<NeuralField>)> {
    let open = viewer.volume3d.shown_field()?;
    if !ui.button("Save field…").clicked() {
        return None;
    }
    let name = format!("{}.nfield", open.name.split('.').next().unwrap_or("field"));
    let request = FileRequest::new("Save field", Choose::Save(name)).filter("Neural field", &["nfield"]);
    Some((dialogs.ask(request), open.field.clone()))
}

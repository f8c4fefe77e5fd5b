//! The 3D section of the side panel: source, mode, transfer function, iso level, clip planes,
//! neural fields (open, fit, save).

use cortexlens_data::camera::CameraPreset;
use cortexlens_render::RenderMode;

use super::{CortexApp, UserMessage};
use crate::viewer::{FieldDrawing, Layout, Source3d};

/// 3D controls, shown in the 3D layout or when fields are open.
pub fn show(app: &mut CortexApp, ui: &mut egui::Ui) {
    let v3_visible = app.viewer.layout == Layout::Volume3d || !app.viewer.volume3d.fields.is_empty();
    if !v3_visible {
        fit_controls(app, ui);
        return;
    }
    ui.separator();
    ui.heading("3D");
    let bake_progress = app.bake.as_ref().map(|job| job.progress());
    let v3 = &mut app.viewer.volume3d;
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
    if v3.shown_field().is_some_and(|open| open.bakeable()) {
        ui.horizontal(|ui| {
            ui.label("Field drawn");
            ui.radio_value(&mut v3.field_drawing, FieldDrawing::Exact, "exact")
                .on_hover_text("The network evaluated at every ray sample: needs a hardware GPU to be interactive");
            ui.radio_value(&mut v3.field_drawing, FieldDrawing::Baked, "baked grid")
                .on_hover_text(
                    "The field sampled once into a voxel grid (about 4 M voxels) on the CPU, then drawn as a volume",
                );
        });
        if let Some(progress) = bake_progress {
            ui.add(
                egui::ProgressBar::new(progress)
                    .text(format!("baking the field into a grid… {:.0} %", progress * 100.0))
                    .desired_width(220.0),
            );
        }
    }
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
        && let Some(bounds) = app.viewer.bounds_3d()
    {
        app.viewer.volume3d.camera = cortexlens_data::camera::OrbitCamera::preset(preset, bounds);
    }
    save_field_button(app, ui);
    fit_controls(app, ui);
}

fn save_field_button(app: &mut CortexApp, ui: &mut egui::Ui) {
    let Some(open) = app.viewer.volume3d.shown_field().cloned() else {
        return;
    };
    if !ui.button("Save field…").clicked() {
        return;
    }
    let Some(path) = rfd::FileDialog::new()
        .add_filter("Neural field", &["nfield"])
        .set_file_name(format!("{}.nfield", open.name.split('.').next().unwrap_or("field")))
        .save_file()
    else {
        return;
    };
    let message = match cortexlens_data::field::save_field(&path, &open.field) {
        Ok(()) => UserMessage::Info(format!("Saved {}", path.display())),
        Err(error) => UserMessage::Error(format!("Saving {} failed: {error}", path.display())),
    };
    app.messages.push(message);
}

/// Fit a neural field to the selected volume, or show the running fit with a cancel button.
fn fit_controls(app: &mut CortexApp, ui: &mut egui::Ui) {
    if let Some(fit) = &app.fit {
        ui.horizontal(|ui| {
            let p = fit.progress();
            ui.add(
                egui::ProgressBar::new(p.as_ref().map_or(0.0, |p| p.step as f32 / p.steps.max(1) as f32))
                    .text(p.map_or("starting…".to_owned(), |p| {
                        format!("step {} / {}  PSNR {:.1} dB", p.step, p.steps, p.psnr)
                    }))
                    .desired_width(220.0),
            );
            if ui.button("Cancel").clicked() {
                fit.cancel();
            }
        });
        ui.label(format!("Fitting on {}", fit.device_name()));
        return;
    }
    let Some(id) = app.selected else {
        return;
    };
    ui.horizontal(|ui| {
        let mut cam = app.fit_with_cam;
        if ui
            .button("Fit neural field")
            .on_hover_text("Fit a neural field to the selected volume (candle)")
            .clicked()
        {
            app.start_fit(id);
        }
        ui.checkbox(&mut cam, "CAM");
        app.fit_with_cam = cam;
        egui::ComboBox::from_label("encoding")
            .selected_text(if app.fit_dense { "dense grid" } else { "hash grid" })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut app.fit_dense, false, "hash grid");
                ui.selectable_value(&mut app.fit_dense, true, "dense grid");
            });
    });
}

//! Widgets more than one panel uses: the layer style editor, a chosen file's name, a job's
//! progress bar with its Cancel button.

use std::path::PathBuf;

use cortexlens_data::{Colormap, Interpolation, LayerStyle};

use crate::jobs::{JobId, Jobs};

/// A file's name (the whole path on hover), or a dash when none is chosen.
pub fn path_label(ui: &mut egui::Ui, path: &Option<PathBuf>) {
    let name = path
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or("—".into(), |n| n.to_string_lossy().into_owned());
    ui.label(name)
        .on_hover_text(path.as_ref().map_or(String::new(), |p| p.display().to_string()));
}

/// A running job's progress bar (`text` and `fraction` of its latest report) and a Cancel button.
pub fn job_progress(ui: &mut egui::Ui, jobs: &Jobs, job: JobId, (text, fraction): (String, f32)) {
    ui.horizontal(|ui| {
        ui.add(egui::ProgressBar::new(fraction).text(text).desired_width(220.0));
        if ui.button("Cancel").clicked() {
            jobs.cancel(job);
        }
    });
}

/// Editors for colormap, signed side, range, threshold, opacity and interpolation; every control is
/// labelled for screen readers by its row's label.
pub fn style_editor(ui: &mut egui::Ui, style: &mut LayerStyle, (data_min, data_max): (f32, f32)) {
    let speed = ((data_max - data_min).abs() / 200.0).max(1e-3);
    egui::Grid::new("style").num_columns(2).show(ui, |ui| {
        let label = ui.label("Colormap");
        let mut colormap = style.colormap;
        colormap_combo(ui, "colormap", &mut colormap, &Colormap::ALL).labelled_by(label.id);
        if colormap != style.colormap {
            style.set_colormap(colormap);
        }
        ui.end_row();

        let label = ui.label("Negative side");
        ui.horizontal(|ui| {
            let mut signed = style.negative.is_some();
            ui.checkbox(&mut signed, "").labelled_by(label.id);
            if signed {
                let mut negative = style.negative.unwrap_or(Colormap::BlueLightblue);
                // The negative side maps |value| onto the range: continuous colormaps only.
                let continuous: Vec<Colormap> = Colormap::ALL.into_iter().filter(|c| !c.is_categorical()).collect();
                colormap_combo(ui, "negative", &mut negative, &continuous).labelled_by(label.id);
                style.negative = Some(negative);
            } else {
                style.negative = None;
            }
        });
        ui.end_row();

        let label = ui.label("Range");
        ui.horizontal(|ui| {
            ui.add(egui::DragValue::new(&mut style.range.0).speed(speed))
                .labelled_by(label.id);
            ui.add(egui::DragValue::new(&mut style.range.1).speed(speed))
                .labelled_by(label.id);
        });
        ui.end_row();

        let label = ui.label("Threshold");
        ui.horizontal(|ui| {
            let mut enabled = style.threshold.is_some();
            ui.checkbox(&mut enabled, "").labelled_by(label.id);
            let mut value = style.threshold.unwrap_or(style.range.0);
            if enabled {
                ui.add(egui::DragValue::new(&mut value).speed(speed))
                    .labelled_by(label.id);
            }
            style.threshold = enabled.then_some(value);
        });
        ui.end_row();

        let label = ui.label("Opacity");
        ui.add(egui::Slider::new(&mut style.opacity, 0.0..=1.0))
            .labelled_by(label.id);
        ui.end_row();

        ui.label("Interpolation");
        ui.horizontal(|ui| {
            ui.radio_value(&mut style.interpolation, Interpolation::Nearest, "nearest");
            ui.radio_value(&mut style.interpolation, Interpolation::Linear, "linear");
        });
        ui.end_row();
    });
    ui.label(format!(
        "data {} … {}",
        crate::colorbar::format_value(data_min),
        crate::colorbar::format_value(data_max)
    ));
}

/// A chooser among `choices`.
fn colormap_combo(ui: &mut egui::Ui, id: &str, colormap: &mut Colormap, choices: &[Colormap]) -> egui::Response {
    egui::ComboBox::from_id_salt(id)
        .selected_text(colormap.name())
        .show_ui(ui, |ui| {
            for &c in choices {
                ui.selectable_value(colormap, c, c.name());
            }
        })
        .response
}

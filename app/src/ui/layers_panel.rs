//! The layers panel: the stack of volumes and the selected layer's display settings.

use cortexlens_data::formats::load_label_names;
use cortexlens_data::{Colormap, Interpolation, LayerStyle};

use super::{CortexApp, UserMessage};
use crate::viewer::LayerId;

/// What a click in the layer list asked for.
enum ListAction {
    Select(LayerId),
    Move(LayerId, bool),
    Remove(LayerId),
}

/// Layer list (top of the stack first), then the selected layer's settings, then the surfaces.
pub fn show(app: &mut CortexApp, ui: &mut egui::Ui) {
    ui.heading("Layers");
    let mut action = None;
    for layer in app.viewer.layers.iter_mut().rev() {
        ui.horizontal(|ui| {
            ui.checkbox(&mut layer.style.visible, "").on_hover_text("Visible");
            if ui.small_button("up").on_hover_text("Move up").clicked() {
                action = Some(ListAction::Move(layer.id, true));
            }
            if ui.small_button("down").on_hover_text("Move down").clicked() {
                action = Some(ListAction::Move(layer.id, false));
            }
            if ui.small_button("×").on_hover_text("Remove").clicked() {
                action = Some(ListAction::Remove(layer.id));
            }
            let selected = app.selected == Some(layer.id);
            let name = egui::Button::selectable(selected, layer.volume.name.as_str()).truncate();
            if ui.add(name).on_hover_text(layer.volume.name.as_str()).clicked() {
                action = Some(ListAction::Select(layer.id));
            }
        });
    }
    match action {
        Some(ListAction::Select(id)) => app.selected = Some(id),
        Some(ListAction::Move(id, up)) => app.viewer.move_layer(id, up),
        Some(ListAction::Remove(id)) => app.remove_layer(id),
        None => {}
    }
    ui.separator();
    if let Some(id) = app.selected {
        layer_settings(app, ui, id);
    }
    super::surface_panel::show(app, ui);
    super::volume3d_panel::show(app, ui);
    super::caption_panel::show(app, ui);
    super::encoder_panel::show(app, ui);
}

fn layer_settings(app: &mut CortexApp, ui: &mut egui::Ui, id: LayerId) {
    let Some(layer) = app.viewer.layer_mut(id) else {
        return;
    };
    let frames = layer.volume.frames();
    let mut frame = layer.frame;
    let (data_min, data_max) = layer.value_range;
    if let Some(notice) = &layer.notice {
        ui.colored_label(egui::Color32::YELLOW, notice);
    }
    style_editor(ui, &mut layer.style, (data_min, data_max));
    if layer.style.colormap.is_categorical() {
        label_names_row(ui, layer, &mut app.messages);
    }
    if frames > 1 {
        let label = ui.label("Frame");
        ui.add(egui::Slider::new(&mut frame, 0..=frames - 1))
            .labelled_by(label.id);
        if frame != layer.frame {
            app.set_frame(id, frame);
        }
    }
}

/// How many labels are named, and a chooser for a label table (BIDS `dseg.tsv`, FreeSurfer colour
/// table, ITK-SNAP label file); an unreadable table is a message and leaves the names as they were.
fn label_names_row(ui: &mut egui::Ui, layer: &mut crate::viewer::Layer, messages: &mut Vec<UserMessage>) {
    ui.horizontal(|ui| {
        let count = layer.label_names.as_ref().map_or(0, |names| names.len());
        ui.label(format!("Label names: {count}"));
        if ui.small_button("Choose…").clicked()
            && let Some(path) = rfd::FileDialog::new()
                .add_filter("Label table", &["tsv", "txt", "lut", "label"])
                .pick_file()
        {
            match load_label_names(&path) {
                Ok(names) => layer.label_names = Some(std::sync::Arc::new(names)),
                Err(error) => messages.push(UserMessage::Error(error.to_string())),
            }
        }
    });
}

/// Editors for colormap, signed side, range, threshold, opacity and interpolation; every control is
/// labelled for screen readers by its row's label.
pub(super) fn style_editor(ui: &mut egui::Ui, style: &mut LayerStyle, (data_min, data_max): (f32, f32)) {
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

//! The layers section: the stack of volumes and the selected layer's display settings.

use cortexlens_data::formats::load_label_names;

use std::sync::Arc;

use super::{Panel, PanelContext};
use crate::file_dialog::{Choose, DialogId, FileRequest};
use crate::viewer::{Layer, LayerId, Viewer};
use crate::widgets::style_editor;

/// The stack of volumes, top first, and the selected layer's settings.
#[derive(Default)]
pub struct LayersPanel {
    /// The label table asked for, and for which layer.
    label_table: Option<(DialogId, LayerId)>,
}

/// What a click in the layer list asked for.
enum ListAction {
    Select(LayerId),
    Move(LayerId, bool),
    Remove(LayerId),
}

impl Panel for LayersPanel {
    fn title(&self) -> &'static str {
        "Layers"
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        self.receive_label_table(ctx);
        let viewer = &mut *ctx.viewer;
        if let Some(action) = layer_list(ui, viewer) {
            match action {
                ListAction::Select(id) => viewer.selected = Some(id),
                ListAction::Move(id, up) => viewer.move_layer(id, up),
                ListAction::Remove(id) => {
                    viewer.remove_layer(id);
                }
            }
        }
        ui.separator();
        if let Some(layer) = viewer.selected.and_then(|id| viewer.layer_mut(id))
            && layer_settings(ui, layer)
        {
            let request = FileRequest::new("Choose a label table", Choose::File)
                .filter("Label table", &["tsv", "txt", "lut", "label"]);
            self.label_table = Some((ctx.dialogs.ask(request), layer.id));
        }
    }
}

impl LayersPanel {
    /// Read the label table chosen for a layer; an unreadable one is a message and leaves the
    /// names as they were.
    fn receive_label_table(&mut self, ctx: &mut PanelContext<'_>) {
        let Some((dialog, id)) = self.label_table else {
            return;
        };
        let Some(answer) = ctx.dialogs.take_one(dialog) else {
            return;
        };
        self.label_table = None;
        let (Some(path), Some(layer)) = (answer, ctx.viewer.layer_mut(id)) else {
            return;
        };
        match load_label_names(&path) {
            Ok(names) => layer.set_label_names(Arc::new(names)),
            Err(error) => ctx.messages.error(error.to_string()),
        }
    }
}

fn layer_list(ui: &mut egui::Ui, viewer: &mut Viewer) -> Option<ListAction> {
    let mut action = None;
    let selected = viewer.selected;
    for layer in viewer.layers.iter_mut().rev() {
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
            let name = egui::Button::selectable(selected == Some(layer.id), layer.volume.name.as_str()).truncate();
            if ui.add(name).on_hover_text(layer.volume.name.as_str()).clicked() {
                action = Some(ListAction::Select(layer.id));
            }
        });
    }
    action
}

/// The layer's settings; returns whether a label table was asked for.
fn layer_settings(ui: &mut egui::Ui, layer: &mut Layer) -> bool {
    if let Some(notice) = &layer.notice {
        ui.colored_label(egui::Color32::YELLOW, notice);
    }
    style_editor(ui, &mut layer.style, layer.value_range);
    let choose_table = layer.style.colormap.is_categorical() && label_names_row(ui, layer);
    let frames = layer.volume.frames();
    if frames > 1 {
        let label = ui.label("Frame");
        let mut frame = layer.frame;
        ui.add(egui::Slider::new(&mut frame, 0..=frames - 1))
            .labelled_by(label.id);
        layer.frame = frame.min(frames - 1);
    }
    choose_table
}

/// How many labels are named, and a button to choose a label table (BIDS `dseg.tsv`, FreeSurfer
/// colour table, ITK-SNAP label file); returns whether it was clicked.
fn label_names_row(ui: &mut egui::Ui, layer: &Layer) -> bool {
    ui.horizontal(|ui| {
        let count = layer.label_names.as_ref().map_or(0, |names| names.len());
        ui.label(format!("Label names: {count}"));
        ui.small_button("Choose…").clicked()
    })
    .inner
}

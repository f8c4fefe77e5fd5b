//! The region-drawing section: start a label layer on a layer's grid (or draw into an open mask),
//! pick pen, eraser or fill with a brush size, 2D or 3D brush and label, fill between slices,
//! undo and redo, save the layer as NIfTI, and read each label's statistics (saved as TSV).

use cortexlens_data::Colormap;
use cortexlens_data::colormap::label_index;

use super::{Panel, PanelContext};
use crate::file_dialog::{Choose, DialogId, FileRequest};
use crate::viewer::{DrawTool, LabelStats, Layer, LayerId, Viewer, stats_tsv};

/// Largest brush, in voxels across.
const MAX_BRUSH: u32 = 64;

/// What a save dialog of this section is for.
#[derive(Clone, Copy, Debug)]
enum Saving {
    Region(LayerId),
    Statistics(LayerId),
}

/// What region statistics were computed from.
#[derive(Clone, Debug, PartialEq)]
struct StatsOf {
    layer: LayerId,
    revision: Option<u64>,
    open: Vec<(LayerId, usize)>,
}

/// The drawing controls; the drawing itself lives in the viewer.
#[derive(Default)]
pub struct DrawRegionsPanel {
    /// The layer whose grid a new region layer takes (the base when unset).
    grid_of: Option<LayerId>,
    /// Statistics of a drawn layer, and what they are of (the layer, its drawing's revision and
    /// the layers open).
    stats: Option<(StatsOf, Vec<LabelStats>)>,
    dialog: Option<(DialogId, Saving)>,
}

impl DrawRegionsPanel {
    /// Statistics of every label of drawn layer `id`, recomputed when the drawing changed.
    pub fn stats(&mut self, viewer: &Viewer, id: LayerId) -> &[LabelStats] {
        let of = StatsOf {
            layer: id,
            revision: viewer.drawings.get(id).map(|d| d.drawing.revision()),
            open: viewer.layers.iter().map(|l| (l.id, l.frame)).collect(),
        };
        if self.stats.as_ref().is_none_or(|(known, _)| *known != of) {
            self.stats = Some((of, viewer.drawn_stats(id)));
        }
        self.stats.as_ref().map_or(&[], |(_, s)| s.as_slice())
    }

    fn start_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        let viewer = &mut *ctx.viewer;
        let grid_of = self
            .grid_of
            .filter(|id| viewer.layer(*id).is_some())
            .or_else(|| viewer.layers.first().map(|l| l.id));
        ui.horizontal(|ui| {
            let Some(grid_of) = grid_of else {
                ui.label("Open a volume to draw on its grid.");
                return;
            };
            if ui
                .button("New region layer")
                .on_hover_text("An empty label layer on the grid of the layer chosen beside")
                .clicked()
            {
                match viewer.new_drawn_layer(grid_of) {
                    Ok(_) => viewer.drawings.settings.enabled = true,
                    Err(error) => ctx.messages.error(format!("Drawing: {error}")),
                }
            }
            let name = |id: LayerId| viewer.layer(id).map_or(String::new(), |l| l.name().to_owned());
            let label = ui.label("on the grid of");
            egui::ComboBox::from_id_salt("draw-grid")
                .selected_text(name(grid_of))
                .show_ui(ui, |ui| {
                    for layer in &viewer.layers {
                        ui.selectable_value(&mut self.grid_of, Some(layer.id), layer.name());
                    }
                })
                .response
                .labelled_by(label.id);
        });
        let selected = viewer.selected_layer().filter(|l| viewer.drawings.get(l.id).is_none());
        if let Some(layer) = selected.filter(|l| holds_labels(l)) {
            let (id, name) = (layer.id, layer.name().to_owned());
            if ui
                .button(format!("Draw into {name}"))
                .on_hover_text("Edit this label volume (a mask or segmentation)")
                .clicked()
            {
                match viewer.draw_into(id) {
                    Ok(_) => viewer.drawings.settings.enabled = true,
                    Err(error) => ctx.messages.error(format!("Drawing: {error}")),
                }
            }
        }
    }

    fn tool_ui(ui: &mut egui::Ui, viewer: &mut Viewer) {
        let base_range = viewer.layers.first().map_or((0.0, 1.0), |l| l.style.range);
        let settings = &mut viewer.drawings.settings;
        ui.checkbox(&mut settings.enabled, "Draw")
            .on_hover_text("Clicks and drags in slice views draw instead of moving the crosshair");
        ui.horizontal(|ui| {
            for (tool, name) in [
                (DrawTool::Pen, "Pen"),
                (DrawTool::Eraser, "Eraser"),
                (DrawTool::Fill, "Fill"),
            ] {
                ui.radio_value(&mut settings.tool, tool, name);
            }
        });
        egui::Grid::new("draw-tool").num_columns(2).show(ui, |ui| {
            let label = ui.label("Brush (voxels)");
            ui.horizontal(|ui| {
                ui.add(egui::DragValue::new(&mut settings.size).range(1..=MAX_BRUSH))
                    .labelled_by(label.id);
                ui.checkbox(&mut settings.ball, "3D");
            });
            ui.end_row();
            let label = ui.label("Label");
            ui.horizontal(|ui| {
                ui.add(egui::DragValue::new(&mut settings.label).range(1..=i16::MAX))
                    .labelled_by(label.id);
                let [r, g, b, _] = Colormap::Labels.lut()[label_index(f32::from(settings.label))];
                let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, egui::Color32::from_rgb(r, g, b));
            });
            ui.end_row();
            let label = ui.label("Fill within");
            ui.horizontal(|ui| {
                let mut bounded = settings.fill_range.is_some();
                ui.checkbox(&mut bounded, "")
                    .labelled_by(label.id)
                    .on_hover_text("Fill only voxels whose base-image value lies in this range");
                settings.fill_range = bounded.then(|| settings.fill_range.unwrap_or(base_range));
                if let Some((lo, hi)) = &mut settings.fill_range {
                    ui.add(egui::DragValue::new(lo).speed(0.1));
                    ui.add(egui::DragValue::new(hi).speed(0.1));
                }
            });
            ui.end_row();
        });
    }

    fn edit_ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>, target: LayerId) {
        let viewer = &mut *ctx.viewer;
        let Some(drawn) = viewer.drawings.get(target) else {
            return;
        };
        let (can_undo, can_redo) = (drawn.drawing.can_undo(), drawn.drawing.can_redo());
        ui.horizontal(|ui| {
            if ui.add_enabled(can_undo, egui::Button::new("Undo")).clicked() {
                viewer.undo_drawing();
            }
            if ui.add_enabled(can_redo, egui::Button::new("Redo")).clicked() {
                viewer.redo_drawing();
            }
            if ui
                .button("Fill between slices")
                .on_hover_text(
                    "Fill the label into the slices between those that hold it, along the view drawn in last",
                )
                .clicked()
            {
                let filled = viewer.fill_between_slices();
                ctx.messages.info(format!("Filled {filled} voxels between slices"));
            }
        });
        ui.horizontal(|ui| {
            let name = viewer
                .layer(target)
                .map_or("region".to_owned(), |l| l.name().to_owned());
            if ui.button("Save region…").clicked() {
                let request = FileRequest::new("Save the region", Choose::Save(format!("{}.nii.gz", stem(&name))))
                    .filter("NIfTI", &["nii.gz", "nii"]);
                self.dialog = Some((ctx.dialogs.ask(request), Saving::Region(target)));
            }
            if ui.button("Save statistics…").clicked() {
                let request = FileRequest::new(
                    "Save the region statistics",
                    Choose::Save(format!("{}_stats.tsv", stem(&name))),
                )
                .filter("Tab-separated values", &["tsv"]);
                self.dialog = Some((ctx.dialogs.ask(request), Saving::Statistics(target)));
            }
        });
        let stats = self.stats(ctx.viewer, target).to_vec();
        stats_grid(ui, &stats);
    }

    fn receive(&mut self, ctx: &mut PanelContext<'_>) {
        let Some((id, saving)) = self.dialog else {
            return;
        };
        let Some(answer) = ctx.dialogs.take_one(id) else {
            return;
        };
        self.dialog = None;
        let Some(path) = answer else {
            return;
        };
        let result = match saving {
            Saving::Region(layer) => ctx.viewer.save_drawn(layer, &path).map_err(|e| e.to_string()),
            Saving::Statistics(layer) => {
                let stats = self.stats(ctx.viewer, layer).to_vec();
                std::fs::write(&path, stats_tsv(&stats)).map_err(|e| e.to_string())
            }
        };
        match result {
            Ok(()) => ctx.messages.info(format!("Saved {}", path.display())),
            Err(error) => ctx.messages.error(format!("Saving {} failed: {error}", path.display())),
        }
    }
}

/// Whether a layer looks like labels one can draw into: 3D, and drawn as labels or stored as
/// unscaled integers (a mask or segmentation from a file).
fn holds_labels(layer: &Layer) -> bool {
    let v = &layer.volume;
    let integers = v.datatype.starts_with("int") || v.datatype.starts_with("uint");
    v.shape[3] == 1 && (layer.style.colormap.is_categorical() || (integers && v.scl_slope == 1.0 && v.scl_inter == 0.0))
}

/// A file name without its NIfTI or other extension.
fn stem(name: &str) -> &str {
    name.strip_suffix(".nii.gz")
        .or_else(|| name.rsplit_once('.').map(|(stem, _)| stem))
        .unwrap_or(name)
}

/// One block per label: its size, then every other layer's values inside it.
fn stats_grid(ui: &mut egui::Ui, stats: &[LabelStats]) {
    for s in stats {
        ui.label(format!(
            "label {}: {} voxels, {:.1} mm³",
            s.label, s.size.voxels, s.size.volume_mm3
        ));
        egui::Grid::new(("draw-stats", s.label)).striped(true).show(ui, |ui| {
            for heading in ["layer", "mean", "sd", "min", "max"] {
                ui.strong(heading);
            }
            ui.end_row();
            for (name, values) in &s.layers {
                ui.label(name);
                match values {
                    Some(v) => {
                        for x in [v.mean, v.sd, v.min, v.max] {
                            ui.label(format!("{x:.4}"));
                        }
                    }
                    None => {
                        ui.label("outside");
                    }
                }
                ui.end_row();
            }
        });
    }
}

impl Panel for DrawRegionsPanel {
    fn title(&self) -> &'static str {
        "Draw regions"
    }

    fn visible(&self, viewer: &Viewer) -> bool {
        !viewer.layers.is_empty()
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        self.receive(ctx);
        self.start_ui(ui, ctx);
        let drawn: Vec<(LayerId, String)> = ctx
            .viewer
            .drawings
            .layers
            .iter()
            .filter_map(|d| ctx.viewer.layer(d.layer).map(|l| (d.layer, l.name().to_owned())))
            .collect();
        let Some(target) = ctx.viewer.drawings.target else {
            return;
        };
        if drawn.len() > 1 {
            let name = drawn
                .iter()
                .find(|(id, _)| *id == target)
                .map_or("", |(_, n)| n.as_str());
            let mut chosen = target;
            egui::ComboBox::from_label("Drawing into")
                .selected_text(name)
                .show_ui(ui, |ui| {
                    for (id, name) in &drawn {
                        ui.selectable_value(&mut chosen, *id, name);
                    }
                });
            ctx.viewer.drawings.target = Some(chosen);
        }
        Self::tool_ui(ui, ctx.viewer);
        self.edit_ui(ui, ctx, target);
    }
}

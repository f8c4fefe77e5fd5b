//! The atlases section, after FSLeyes' atlas panel: the open atlases (FSL atlases, labelled
//! volumes with their names, 4D probabilistic volumes named per frame), each drawn or not, and a
//! search of their regions by name; a click on a region moves the crosshair to its centre
//! ([`cortexlens_data::atlas::Atlas::centre`]). What lies under the crosshair is in the readout.

use super::{Panel, PanelContext};
use crate::viewer::{LayerId, Viewer};

/// The search text.
#[derive(Default)]
pub struct AtlasesPanel {
    query: String,
}

/// Regions listed for a search (the count of the rest is shown).
const SHOWN_RESULTS: usize = 40;

impl Panel for AtlasesPanel {
    fn title(&self) -> &'static str {
        "Atlases"
    }

    fn visible(&self, viewer: &Viewer) -> bool {
        viewer.atlases().next().is_some()
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        atlas_list(ui, ctx.viewer);
        ui.horizontal(|ui| {
            let label = ui.label("Search regions");
            ui.add(egui::TextEdit::singleline(&mut self.query).hint_text("name"))
                .labelled_by(label.id);
        });
        if self.query.trim().is_empty() {
            return;
        }
        let Some((id, region)) = search_results(ui, ctx.viewer, &self.query) else {
            return;
        };
        let Some(atlas) = ctx.viewer.layer(id).and_then(|l| l.atlas.clone()) else {
            return;
        };
        match atlas.centre(region) {
            Some(centre) => ctx.viewer.set_crosshair(centre),
            None => ctx.messages.error(format!(
                "{}: {} has no voxels to go to",
                atlas.name, atlas.regions[region].name
            )),
        }
    }
}

/// Each atlas, top first: whether its layer is drawn, its name, kind and size.
fn atlas_list(ui: &mut egui::Ui, viewer: &mut Viewer) {
    for layer in viewer.layers.iter_mut().rev() {
        let Some(atlas) = layer.atlas.clone() else {
            continue;
        };
        ui.horizontal(|ui| {
            ui.checkbox(&mut layer.style.visible, "")
                .on_hover_text(format!("Draw {}", layer.volume.name));
            ui.label(&atlas.name);
            ui.weak(format!("{}, {} regions", atlas.kind.name(), atlas.regions.len()));
        });
    }
}

/// The regions whose name holds `query`, atlas by atlas (top first), each a link; returns the
/// one clicked.
fn search_results(ui: &mut egui::Ui, viewer: &Viewer, query: &str) -> Option<(LayerId, usize)> {
    let mut clicked = None;
    let mut found = 0;
    for (layer, atlas) in viewer.atlases().rev() {
        for region in atlas.search(query) {
            found += 1;
            if found > SHOWN_RESULTS {
                continue;
            }
            ui.horizontal(|ui| {
                let name = &atlas.regions[region].name;
                if ui.link(name).on_hover_text("Go to its centre").clicked() {
                    clicked = Some((layer.id, region));
                }
                ui.weak(&atlas.name);
            });
        }
    }
    match found {
        0 => {
            ui.weak("No region matches");
        }
        n if n > SHOWN_RESULTS => {
            ui.weak(format!("{} more", n - SHOWN_RESULTS));
        }
        _ => {}
    }
    clicked
}

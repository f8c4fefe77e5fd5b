//! The clusters section: the cluster table of the selected layer at a threshold (both signs,
//! minimum size, connectivity; nilearn's rules, see `cortexlens_data::clusters`), with the atlas
//! label at each peak; a click on a row moves the crosshair to its peak; the table saves as TSV.

use cortexlens_data::clusters::{Cluster, ClusterOptions, Connectivity, clusters, clusters_tsv};

use super::{Panel, PanelContext};
use crate::file_dialog::{Choose, DialogId, FileRequest};
use crate::viewer::{LayerId, Viewer};

/// Cluster controls and the last table.
#[derive(Default)]
pub struct ClustersPanel {
    /// The options of the next table (the threshold starts at the layer's).
    options: Option<ClusterOptions>,
    /// The last table and the layer it is of.
    table: Option<(LayerId, Vec<Cluster>)>,
    /// Where to save the table, asked for.
    save: Option<DialogId>,
}

/// Rows shown in the panel (all are saved).
const SHOWN_ROWS: usize = 30;

impl ClustersPanel {
    /// The last table, if it is of the layer `id`.
    pub fn table(&self, id: LayerId) -> Option<&[Cluster]> {
        self.table
            .as_ref()
            .filter(|(layer, _)| *layer == id)
            .map(|(_, table)| table.as_slice())
    }

    /// Make the table of layer `id` with the panel's options.
    pub fn find(&mut self, viewer: &Viewer, id: LayerId) {
        let Some(layer) = viewer.layer(id) else {
            return;
        };
        let options = *self.options.get_or_insert_with(|| defaults(viewer, id));
        self.table = Some((id, clusters(&layer.volume, layer.frame, &options)));
    }

    fn options_ui(&mut self, ui: &mut egui::Ui, viewer: &Viewer, id: LayerId) {
        let options = self.options.get_or_insert_with(|| defaults(viewer, id));
        egui::Grid::new("cluster-options").num_columns(2).show(ui, |ui| {
            let label = ui.label("Threshold");
            ui.add(egui::DragValue::new(&mut options.threshold).speed(0.05))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Both signs");
            ui.checkbox(&mut options.two_sided, "").labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Minimum voxels");
            ui.add(egui::DragValue::new(&mut options.min_size).range(0..=1_000_000))
                .labelled_by(label.id);
            ui.end_row();
            ui.label("Connected by");
            ui.horizontal(|ui| {
                for c in Connectivity::ALL {
                    ui.radio_value(&mut options.connectivity, c, c.name());
                }
            });
            ui.end_row();
        });
    }
}

/// The layer's threshold (3 without one), two-sided for a signed map, nilearn's other defaults.
fn defaults(viewer: &Viewer, id: LayerId) -> ClusterOptions {
    let style = viewer.layer(id).map(|l| l.style);
    ClusterOptions {
        two_sided: style.is_some_and(|s| s.negative.is_some()),
        ..ClusterOptions::at(style.and_then(|s| s.threshold).unwrap_or(3.0))
    }
}

impl Panel for ClustersPanel {
    fn title(&self) -> &'static str {
        "Clusters"
    }

    /// For a statistical map: an overlay, or a signed base, that is not drawn as labels.
    fn visible(&self, viewer: &Viewer) -> bool {
        let base = viewer.layers.first().map(|l| l.id);
        viewer
            .selected_layer()
            .is_some_and(|l| !l.style.colormap.is_categorical() && (Some(l.id) != base || l.style.negative.is_some()))
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        if let Some(answer) = self.save.and_then(|id| ctx.dialogs.take_one(id)) {
            self.save = None;
            if let (Some(path), Some((_, table))) = (answer, &self.table) {
                let viewer = &*ctx.viewer;
                match std::fs::write(&path, clusters_tsv(table, &|mm| viewer.label_at(mm))) {
                    Ok(()) => ctx.messages.info(format!("Saved {}", path.display())),
                    Err(error) => ctx.messages.error(format!("Saving {} failed: {error}", path.display())),
                }
            }
        }
        let Some(id) = ctx.viewer.selected else {
            return;
        };
        self.options_ui(ui, ctx.viewer, id);
        if ui
            .button("Find clusters")
            .on_hover_text("Connected voxels beyond the threshold, ordered by peak (nilearn's get_clusters_table)")
            .clicked()
        {
            self.find(ctx.viewer, id);
        }
        let Some(table) = self.table(id) else {
            return;
        };
        ui.label(format!("{} clusters", table.len()));
        let mut go_to = None;
        egui::Grid::new("cluster-table").striped(true).show(ui, |ui| {
            for heading in ["#", "peak (mm)", "value", "voxels", "mm³", "label"] {
                ui.strong(heading);
            }
            ui.end_row();
            for cluster in table.iter().take(SHOWN_ROWS) {
                let p = cluster.peak.mm;
                ui.label(cluster.id.to_string());
                if ui.link(format!("{:.0}, {:.0}, {:.0}", p.x, p.y, p.z)).clicked() {
                    go_to = Some(p);
                }
                ui.label(format!("{:.2}", cluster.peak.value));
                ui.label(cluster.voxels.to_string());
                ui.label(format!("{:.0}", cluster.volume_mm3));
                ui.label(ctx.viewer.label_at(p).unwrap_or_default());
                ui.end_row();
            }
        });
        if let Some(world) = go_to {
            ctx.viewer.set_crosshair(world);
        }
        if ui.button("Save table…").clicked() {
            let request = FileRequest::new("Save the cluster table", Choose::Save("clusters.tsv".into()))
                .filter("Tab-separated values", &["tsv"]);
            self.save = Some(ctx.dialogs.ask(request));
        }
    }
}

//! The bottom panel: loading progress, messages, the crosshair readout and the time series.

use egui_plot::{Line, Plot, PlotPoints, VLine};

use super::CortexApp;
use crate::jobs::Progress;
use crate::messages::UserMessage;

/// Progress, messages, readout and (for a 4D layer) the time-series plot at the crosshair.
pub fn show(app: &mut CortexApp, ui: &mut egui::Ui) {
    for (job, path) in app.reads.running() {
        ui.horizontal(|ui| {
            let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
            ui.label(format!("Loading {name}"));
            let fraction = match app.jobs.progress(job) {
                Some(Progress::Fraction(f)) => *f,
                _ => 0.0,
            };
            ui.add(egui::ProgressBar::new(fraction).show_percentage().desired_width(200.0));
        });
    }
    let mut dismissed = None;
    for (i, message) in app.messages.all().iter().enumerate() {
        ui.horizontal(|ui| {
            match message {
                UserMessage::Error(text) => ui.colored_label(ui.visuals().error_fg_color, format!("Error: {text}")),
                UserMessage::Info(text) => ui.label(text),
            };
            if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                dismissed = Some(i);
            }
        });
    }
    if let Some(i) = dismissed {
        app.messages.dismiss(i);
    }
    crosshair_readout(app, ui);
    vertex_readout(app, ui);
    time_series(app, ui);
}

/// The surface vertex nearest the crosshair and every map's value there.
fn vertex_readout(app: &CortexApp, ui: &mut egui::Ui) {
    let scene = &app.viewer.surfaces;
    let Some(pick) = scene.highlight else {
        return;
    };
    let side = scene
        .hemisphere(pick.surface)
        .and_then(|h| h.hemisphere)
        .map_or("", |h| h.name());
    let w = pick.world;
    ui.label(format!(
        "Vertex {} {side}  x {:.1}  y {:.1}  z {:.1} mm  ({:.1} mm from the crosshair)",
        pick.vertex, w.x, w.y, w.z, pick.distance
    ));
    for map in scene.maps_of(pick.surface) {
        let Some(&value) = map.values().get(pick.vertex) else {
            continue;
        };
        let text = match map.label_name(value) {
            Some(label) => format!("{}  {label} ({value})", map.name),
            None => format!("{}  {value}", map.name),
        };
        ui.label(text);
    }
    for region in scene.regions_of(pick.surface).filter(|r| r.contains(pick.vertex)) {
        ui.label(format!("in {}", region.name));
    }
}

/// World millimetres, then each layer's voxel index and value at the crosshair (with the regions
/// of an atlas there, or a label's name); the millimetres and the voxel indices can be dragged or
/// typed to move the crosshair.
fn crosshair_readout(app: &mut CortexApp, ui: &mut egui::Ui) {
    let mut moved = None;
    ui.horizontal(|ui| {
        ui.label("Crosshair");
        let mut c = app.viewer.crosshair.to_array();
        let mut edited = false;
        for (axis, value) in ["x", "y", "z"].into_iter().zip(c.iter_mut()) {
            let label = ui.label(axis);
            let edit = egui::DragValue::new(value).speed(0.5).fixed_decimals(1).suffix(" mm");
            edited |= ui.add(edit).labelled_by(label.id).changed();
        }
        if edited {
            moved = Some(glam::DVec3::from_array(c));
        }
    });
    for layer in app.viewer.layers.iter().rev() {
        let c = app.viewer.crosshair;
        let mut ijk = layer.volume.nearest_voxel(c);
        let value = match layer.volume.value_at(ijk, layer.frame) {
            None => "outside".to_owned(),
            Some(v) => {
                // An atlas names every region there (with probabilities), other labels their name.
                let named = match &layer.atlas {
                    Some(atlas) => atlas.describe(c),
                    None => layer
                        .label_names
                        .as_ref()
                        .and_then(|names| names.name(v))
                        .map(str::to_owned),
                };
                match named {
                    Some(name) => format!("{v}  {name}"),
                    None => format!("{v}"),
                }
            }
        };
        ui.horizontal(|ui| {
            let name = ui.label(layer.name());
            let mut edited = false;
            for (axis, index) in ijk.iter_mut().enumerate() {
                let last = layer.volume.shape[axis].saturating_sub(1) as i64;
                // Not clamped while only shown: a crosshair outside this layer's grid stays there.
                let edit = egui::DragValue::new(index)
                    .speed(0.2)
                    .range(0..=last)
                    .clamp_existing_to_range(false);
                edited |= ui
                    .add(edit)
                    .labelled_by(name.id)
                    .on_hover_text(format!("voxel index {}", ["i", "j", "k"][axis]))
                    .changed();
            }
            ui.label(value);
            if edited {
                let voxel = glam::DVec3::new(ijk[0] as f64, ijk[1] as f64, ijk[2] as f64);
                moved = Some(layer.volume.affine.transform_point3(voxel));
            }
        });
    }
    if let Some(world) = moved {
        app.viewer.set_crosshair(world);
    }
}

/// The selected layer's time series at the crosshair, when it has several frames.
fn time_series(app: &CortexApp, ui: &mut egui::Ui) {
    let layer = app
        .viewer
        .selected_layer()
        .filter(|l| l.volume.frames() > 1)
        .or_else(|| app.viewer.layers.iter().find(|l| l.volume.frames() > 1));
    let Some(layer) = layer else {
        return;
    };
    let Some(series) = layer
        .volume
        .time_series(layer.volume.nearest_voxel(app.viewer.crosshair))
    else {
        return;
    };
    let points: PlotPoints = series.iter().enumerate().map(|(t, &v)| [t as f64, v as f64]).collect();
    Plot::new("time-series")
        .height(120.0)
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(Line::new(layer.name(), points));
            plot.vline(VLine::new("frame", layer.frame as f64));
        });
}

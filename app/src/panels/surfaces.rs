//! The surfaces section: projecting the selected volume onto the surfaces or extracting its
//! isosurface; geometry, shading, camera presets, per-vertex maps, regions (FreeSurfer labels:
//! visibility, colour, outline or fill, removal) and saving meshes.

use std::sync::Arc;

use cortexlens_data::camera::CameraPreset;
use cortexlens_data::mesh::{GeometryKind, Mesh};
use cortexlens_data::projection::ProjectionMethod;
use cortexlens_data::vertex_colors::Shading;

use super::{Panel, PanelContext};
use crate::file_dialog::{Choose, DialogId, FileDialogs, FileRequest};
use crate::messages::Messages;
use crate::viewer::{LayerId, RegionDraw, SurfaceId, Viewer};
use crate::widgets::style_editor;

const GEOMETRIES: [GeometryKind; 5] = [
    GeometryKind::Pial,
    GeometryKind::White,
    GeometryKind::Inflated,
    GeometryKind::Sphere,
    GeometryKind::Flat,
];

/// Surface controls, and the projection and isosurface actions for the selected volume.
#[derive(Default)]
pub struct SurfacesPanel {
    /// The map whose settings are shown.
    selected_map: Option<SurfaceId>,
    /// Where to save a mesh, asked for.
    save_mesh: Option<(DialogId, Arc<Mesh>)>,
}

impl Panel for SurfacesPanel {
    fn title(&self) -> &'static str {
        "Surfaces"
    }

    fn visible(&self, viewer: &Viewer) -> bool {
        !viewer.surfaces.is_empty() || viewer.selected_layer().is_some()
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        receive_save_mesh(&mut self.save_mesh, ctx.dialogs, ctx.messages);
        if let Some(id) = ctx.viewer.selected {
            volume_to_surface_actions(ui, ctx.viewer, ctx.messages, id);
        }
        if ctx.viewer.surfaces.is_empty() {
            return;
        }
        scene_controls(ui, ctx.viewer);
        if let Some(asked) = save_mesh_button(ui, ctx.viewer, ctx.dialogs) {
            self.save_mesh = Some(asked);
        }
        self.maps_list(ui, ctx.viewer);
        regions_list(ui, ctx.viewer);
    }
}

/// Each region: visible, remove, colour, outline or fill, opacity.
fn regions_list(ui: &mut egui::Ui, viewer: &mut Viewer) {
    let scene = &mut viewer.surfaces;
    if scene.regions.is_empty() {
        return;
    }
    ui.label("Regions");
    let mut remove = None;
    for region in scene.regions.iter_mut().rev() {
        ui.push_id(region.id, |ui| {
            ui.horizontal(|ui| {
                let style = &mut region.style;
                ui.checkbox(&mut style.visible, "")
                    .on_hover_text(format!("Show {}", region.name));
                if ui
                    .small_button("×")
                    .on_hover_text(format!("Remove {}", region.name))
                    .clicked()
                {
                    remove = Some(region.id);
                }
                egui::color_picker::color_edit_button_srgb(ui, &mut style.colour)
                    .on_hover_text(format!("Colour of {}", region.name));
                ui.selectable_value(&mut style.draw, RegionDraw::Outline, "outline");
                ui.selectable_value(&mut style.draw, RegionDraw::Fill, "fill");
                ui.add(egui::Slider::new(&mut style.opacity, 0.0..=1.0).show_value(false))
                    .on_hover_text("Opacity");
                ui.label(format!("{} ({} vertices)", region.name, region.vertices.len()));
            });
        });
    }
    if let Some(id) = remove {
        scene.regions.retain(|r| r.id != id);
    }
}

fn scene_controls(ui: &mut egui::Ui, viewer: &mut Viewer) {
    let scene = &mut viewer.surfaces;
    let available: Vec<GeometryKind> = GEOMETRIES
        .into_iter()
        .filter(|g| {
            scene
                .hemispheres
                .iter()
                .any(|h| h.meshes.iter().any(|(k, _, _)| k == g))
        })
        .collect();
    ui.horizontal_wrapped(|ui| {
        ui.label("Geometry");
        for geometry in available {
            if ui
                .selectable_label(scene.geometry == geometry, geometry.name())
                .clicked()
                && scene.geometry != geometry
            {
                scene.geometry = geometry;
                let preset = CameraPreset::LateralLeft;
                scene.look_from(preset);
            }
        }
    });
    ui.horizontal(|ui| {
        ui.label("Shading");
        ui.radio_value(&mut scene.shading, Shading::None, "none");
        ui.radio_value(&mut scene.shading, Shading::Binary, "curvature");
        ui.radio_value(&mut scene.shading, Shading::Graded, "depth");
    });
    ui.horizontal_wrapped(|ui| {
        ui.label("View");
        for preset in CameraPreset::ALL {
            if ui.small_button(preset.name()).clicked() {
                scene.look_from(preset);
            }
        }
    });
    let mut close = None;
    for group in &scene.hemispheres {
        let side = group.hemisphere.map_or("mesh", |h| h.name());
        let names: Vec<&str> = group.meshes.iter().map(|(_, name, _)| name.as_str()).collect();
        ui.horizontal_wrapped(|ui| {
            if ui
                .small_button("×")
                .on_hover_text("Close these meshes and the maps and regions on them")
                .clicked()
            {
                close = Some(group.id);
            }
            ui.label(format!(
                "{side}: {} vertices — {}",
                group.vertex_count(),
                names.join(", ")
            ))
            .on_hover_text(
                group
                    .shading
                    .as_ref()
                    .map_or("no shading file".to_owned(), |(n, _)| format!("shading from {n}")),
            );
        });
    }
    if let Some(id) = close {
        scene.remove_hemisphere(id);
    }
}

impl SurfacesPanel {
    fn maps_list(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) {
        let scene = &mut viewer.surfaces;
        if scene.maps.is_empty() {
            return;
        }
        ui.label("Maps");
        let mut remove = None;
        for map in scene.maps.iter_mut().rev() {
            ui.horizontal(|ui| {
                ui.checkbox(&mut map.style.visible, "").on_hover_text("Visible");
                if ui.small_button("×").on_hover_text("Remove").clicked() {
                    remove = Some(map.id);
                }
                let selected = self.selected_map == Some(map.id);
                if ui
                    .add(egui::Button::selectable(selected, map.name.as_str()).truncate())
                    .clicked()
                {
                    self.selected_map = Some(map.id);
                }
            });
        }
        if let Some(id) = remove {
            scene.maps.retain(|m| m.id != id);
        }
        let Some(map) = self
            .selected_map
            .and_then(|id| scene.maps.iter_mut().find(|m| m.id == id))
        else {
            return;
        };
        if map.labels.is_empty() {
            let range = map
                .frames
                .iter()
                .flatten()
                .filter(|v| v.is_finite())
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
            ui.push_id(map.id, |ui| style_editor(ui, &mut map.style, range));
        } else {
            ui.label(format!("{} labels", map.labels.len()));
            let label = ui.label("Opacity");
            ui.add(egui::Slider::new(&mut map.style.opacity, 0.0..=1.0))
                .labelled_by(label.id);
        }
        if map.frames.len() > 1 {
            let label = ui.label("Frame");
            ui.add(egui::Slider::new(&mut map.frame, 0..=map.frames.len() - 1))
                .labelled_by(label.id);
        }
    }
}

/// Project the selected volume onto the surfaces, or extract its isosurface.
fn volume_to_surface_actions(ui: &mut egui::Ui, viewer: &mut Viewer, messages: &mut Messages, id: LayerId) {
    let Some(layer) = viewer.layer(id) else {
        return;
    };
    let default_level = (layer.style.range.0 + layer.style.range.1) * 0.5;
    let speed = ((layer.value_range.1 - layer.value_range.0) / 200.0).max(1e-3);
    let level_id = ui.make_persistent_id(("iso-level", id.0));
    let mut level = ui.data(|d| d.get_temp::<f32>(level_id)).unwrap_or(default_level);
    if !viewer.surfaces.is_empty() && ui.button("Project onto surfaces").clicked() {
        let layer = layer.clone();
        viewer.surfaces.add_projection(&layer, ProjectionMethod::Nilearn);
    }
    ui.horizontal(|ui| {
        let button = ui.button("Isosurface at");
        ui.add(egui::DragValue::new(&mut level).speed(speed))
            .labelled_by(button.id);
        if button.clicked()
            && let Err(error) = viewer.add_isosurface(id, level)
        {
            messages.error(error.to_string());
        }
    });
    ui.data_mut(|d| d.insert_temp(level_id, level));
}

/// "Save mesh…": asks where to write the shown geometry of the first mesh.
fn save_mesh_button(ui: &mut egui::Ui, viewer: &Viewer, dialogs: &mut FileDialogs) -> Option<(DialogId, Arc<Mesh>)> {
    let clicked = ui
        .button("Save mesh…")
        .on_hover_text("The shown geometry of the first mesh, as GIFTI, OBJ or PLY")
        .clicked();
    let scene = &viewer.surfaces;
    let (_, name, mesh) = scene.hemispheres.first().and_then(|h| h.mesh(scene.geometry))?;
    if !clicked {
        return None;
    }
    let stem = name.split('.').next().unwrap_or("mesh");
    let request = FileRequest::new("Save mesh", Choose::Save(format!("{stem}.gii")))
        .filter("GIFTI, OBJ or PLY", &["gii", "obj", "ply"]);
    Some((dialogs.ask(request), mesh.clone()))
}

/// Write the mesh where the dialog says, once it has answered.
fn receive_save_mesh(pending: &mut Option<(DialogId, Arc<Mesh>)>, dialogs: &mut FileDialogs, messages: &mut Messages) {
    let Some(answer) = pending.as_ref().and_then(|(id, _)| dialogs.take_one(*id)) else {
        return;
    };
    let Some((_, mesh)) = pending.take() else {
        return;
    };
    if let Some(path) = answer {
        match cortexlens_data::formats::save_mesh(&path, &mesh) {
            Ok(()) => messages.info(format!("Saved {}", path.display())),
            Err(error) => messages.error(format!("Saving {} failed: {error}", path.display())),
        }
    }
}

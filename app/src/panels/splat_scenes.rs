//! The splat-scenes section: each Gaussian-splat scene's visibility, opacity and splat size, and
//! its placement in the brain's world space — scale, rotation and translation typed or nudged,
//! the picked-splat and crosshair point pairs a placement is fitted to, the fit's residual, and
//! the placement saved beside the scene.

use glam::{DQuat, DVec3, EulerRot};

use super::{Panel, PanelContext};
use crate::viewer::{SplatsId, Viewer};

/// The controls; the scenes themselves live in the viewer.
#[derive(Default)]
pub struct SplatScenesPanel;

impl SplatScenesPanel {
    fn scene_ui(ui: &mut egui::Ui, viewer: &mut Viewer, index: usize) -> Option<SplatsId> {
        let open = &mut viewer.volume3d.splats[index];
        let mut close = None;
        ui.horizontal(|ui| {
            ui.checkbox(&mut open.visible, "");
            ui.label(format!(
                "{} ({} splats, SH {})",
                open.name,
                open.splats.len(),
                open.splats.sh_degree
            ));
            if ui.small_button("×").on_hover_text("Close this scene").clicked() {
                close = Some(open.id);
            }
        });
        egui::Grid::new(("splat-scene", open.id)).num_columns(2).show(ui, |ui| {
            let label = ui.label("Opacity");
            ui.add(egui::Slider::new(&mut open.opacity, 0.0..=1.0))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Splat size");
            ui.add(egui::Slider::new(&mut open.size, 0.1..=4.0).logarithmic(true))
                .labelled_by(label.id);
            ui.end_row();
            // The placement as scale, rotation (degrees about x, y, z) and translation (mm).
            let (scale, rotation, translation) = open.transform.to_scale_rotation_translation();
            let mut uniform = (scale.x + scale.y + scale.z) / 3.0;
            let (rx, ry, rz) = rotation.to_euler(EulerRot::XYZ);
            let mut degrees = [rx, ry, rz].map(f64::to_degrees);
            let mut shift = translation.to_array();
            let mut changed = false;
            let label = ui.label("Scale");
            changed |= ui
                .add(egui::DragValue::new(&mut uniform).speed(0.001).range(1e-6..=1e6))
                .labelled_by(label.id)
                .changed();
            ui.end_row();
            ui.label("Rotation (°)");
            ui.horizontal(|ui| {
                for (axis, value) in ["x", "y", "z"].into_iter().zip(&mut degrees) {
                    changed |= ui
                        .add(egui::DragValue::new(value).speed(0.5).prefix(format!("{axis} ")))
                        .changed();
                }
            });
            ui.end_row();
            ui.label("Translation (mm)");
            ui.horizontal(|ui| {
                for (axis, value) in ["x", "y", "z"].into_iter().zip(&mut shift) {
                    changed |= ui
                        .add(egui::DragValue::new(value).speed(0.5).prefix(format!("{axis} ")))
                        .changed();
                }
            });
            ui.end_row();
            if changed {
                let [x, y, z] = degrees.map(f64::to_radians);
                open.transform = glam::DMat4::from_scale_rotation_translation(
                    DVec3::splat(uniform),
                    DQuat::from_euler(EulerRot::XYZ, x, y, z),
                    DVec3::from_array(shift),
                );
            }
        });
        close
    }
}

impl Panel for SplatScenesPanel {
    fn title(&self) -> &'static str {
        "Splat scenes"
    }

    fn visible(&self, viewer: &Viewer) -> bool {
        !viewer.volume3d.splats.is_empty()
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>) {
        let mut close = None;
        for index in 0..ctx.viewer.volume3d.splats.len() {
            if index > 0 {
                ui.separator();
            }
            close = close.or(Self::scene_ui(ui, ctx.viewer, index));
        }
        if let Some(id) = close {
            ctx.viewer.volume3d.close_splats(id);
        }
    }
}

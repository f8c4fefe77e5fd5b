//! The splat-scenes section: each Gaussian-splat scene's visibility, opacity and splat size, and
//! its placement in the brain's world space — scale, rotation and translation typed or nudged,
//! the picked-splat and crosshair point pairs a placement is fitted to, the fit's residual, and
//! the placement saved beside the scene.

use cortexlens_data::splats::placement::{sidecar_path, write_transform};
use glam::{DQuat, DVec3, EulerRot};

use super::{Panel, PanelContext};
use crate::messages::Messages;
use crate::open::Added;
use crate::viewer::{SplatsId, Viewer};

/// The controls; the scenes themselves live in the viewer.
#[derive(Default)]
pub struct SplatScenesPanel;

impl SplatScenesPanel {
    fn scene_ui(ui: &mut egui::Ui, viewer: &mut Viewer, index: usize, messages: &mut Messages) -> Option<SplatsId> {
        let crosshair = viewer.crosshair;
        let id = viewer.volume3d.splats[index].id;
        let path = viewer
            .files
            .iter()
            .find(|(_, added)| *added == Added::Splats(id))
            .map(|(path, _)| path.clone());
        let open = &mut viewer.volume3d.splats[index];
        let mut close = None;
        ui.horizontal(|ui| {
            let title = format!(
                "{} ({} splats, SH {})",
                open.name,
                open.splats.len(),
                open.splats.sh_degree
            );
            ui.checkbox(&mut open.visible, title).on_hover_text("Show this scene");
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
        ui.collapsing("Register by point pairs", |ui| {
            Self::registration_ui(ui, open, crosshair);
        });
        if let Some(path) = path {
            let sidecar = sidecar_path(&path);
            let name = sidecar
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if ui
                .button("Save placement")
                .on_hover_text(format!(
                    "Write {name} beside the scene; it is read when the scene opens"
                ))
                .clicked()
            {
                match write_transform(&sidecar, &open.transform) {
                    Ok(()) => messages.info(format!("Saved the placement of {} to {}", open.name, sidecar.display())),
                    Err(error) => messages.error(error.to_string()),
                }
            }
        }
        close
    }

    /// Pick a splat, pair it with the crosshair, repeat, fit: the residual shows how well the
    /// pairs agree.
    fn registration_ui(ui: &mut egui::Ui, open: &mut crate::viewer::OpenSplats, crosshair: DVec3) {
        let registration = &mut open.registration;
        ui.label("Pick a point on the scene, put the crosshair where it belongs in the brain, pair them; three or more pairs fit the placement.");
        ui.horizontal(|ui| {
            let text = if registration.picking {
                "Click a splat in the 3D view…"
            } else {
                "Pick scene point"
            };
            if ui.selectable_label(registration.picking, text).clicked() {
                registration.picking = !registration.picking;
            }
            if let Some(p) = registration.pending {
                ui.label(format!("scene ({:.1}, {:.1}, {:.1})", p.x, p.y, p.z));
            }
        });
        let can_pair = registration.pending.is_some();
        if ui
            .add_enabled(can_pair, egui::Button::new("Pair with crosshair"))
            .on_hover_text(format!(
                "Pair the picked scene point with the crosshair at ({:.1}, {:.1}, {:.1}) mm",
                crosshair.x, crosshair.y, crosshair.z
            ))
            .clicked()
        {
            open.pair_with(crosshair);
        }
        let registration = &mut open.registration;
        let residuals = match &registration.fit {
            Some(Ok(fit)) => Some(fit.residuals_mm.clone()),
            _ => None,
        };
        let mut remove = None;
        egui::Grid::new(("splat-pairs", open.id)).num_columns(4).show(ui, |ui| {
            for (i, pair) in registration.pairs.iter().enumerate() {
                ui.label(format!("{}", i + 1));
                ui.label(format!(
                    "scene ({:.1}, {:.1}, {:.1})",
                    pair.scene.x, pair.scene.y, pair.scene.z
                ));
                ui.label(format!(
                    "to ({:.1}, {:.1}, {:.1}) mm",
                    pair.world.x, pair.world.y, pair.world.z
                ));
                match residuals.as_ref().and_then(|r| r.get(i)) {
                    Some(r) => ui.label(format!("{r:.2} mm")),
                    None => ui.label(""),
                };
                if ui.small_button("×").on_hover_text("Remove this pair").clicked() {
                    remove = Some(i);
                }
                ui.end_row();
            }
        });
        if let Some(i) = remove {
            registration.pairs.remove(i);
            registration.fit = None;
        }
        let pairs = registration.pairs.len();
        if ui
            .add_enabled(pairs >= 3, egui::Button::new("Fit placement"))
            .on_hover_text("Least-squares similarity (rotation, uniform scale, translation) taking the scene points to their pairs")
            .clicked()
        {
            let _ = open.fit_placement();
        }
        match &open.registration.fit {
            Some(Ok(fit)) => {
                ui.label(format!("RMS residual {:.2} mm (scale {:.4})", fit.rms_mm, fit.scale));
            }
            Some(Err(error)) => {
                ui.colored_label(ui.visuals().error_fg_color, error.to_string());
            }
            None if pairs < 3 => {
                ui.label(format!("{pairs} of at least 3 pairs"));
            }
            None => {}
        }
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
            close = close.or(Self::scene_ui(ui, ctx.viewer, index, ctx.messages));
        }
        if let Some(id) = close {
            ctx.viewer.volume3d.close_splats(id);
        }
    }
}

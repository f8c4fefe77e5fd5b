//! The surface view: orbit, zoom and pan the camera; click a vertex to move the crosshair there.

use cortexlens_data::camera::{PickMesh, pick};
use egui::{PointerButton, Rect, Sense};
use glam::DVec3;

use crate::gpu_scene::{ViewCallback, ViewRequest};
use crate::viewer::{View, Viewer};

/// Radians of orbit per point dragged.
const ORBIT_PER_POINT: f32 = 0.01;

/// Draw the surface view into `rect` and handle its mouse input.
pub fn show(viewer: &mut Viewer, ui: &mut egui::Ui, rect: Rect) {
    let scene = &mut viewer.surfaces;
    if scene.is_empty() {
        return;
    }
    if !scene.camera_placed {
        scene.look_from(cortexlens_data::camera::CameraPreset::LateralLeft);
    }
    let id = ui.scope_id().with("surface-view");
    let response = ui.interact(rect, id, Sense::click_and_drag());
    let ppp = ui.ctx().pixels_per_point();
    let size = (
        (rect.width() * ppp).round().max(1.0) as u32,
        (rect.height() * ppp).round().max(1.0) as u32,
    );

    if response.dragged_by(PointerButton::Primary) {
        let d = response.drag_delta();
        scene.camera.orbit(-d.x * ORBIT_PER_POINT, d.y * ORBIT_PER_POINT);
    }
    if response.dragged_by(PointerButton::Secondary) || response.dragged_by(PointerButton::Middle) {
        let d = response.drag_delta() * ppp;
        scene.camera.pan(d.x, d.y, size.1 as f32);
    }
    if response.hovered() {
        let (zoom, scroll) = ui.input(|i| (i.zoom_delta(), i.smooth_scroll_delta.y));
        let factor = if zoom != 1.0 { zoom } else { (scroll * 0.002).exp() };
        if factor != 1.0 {
            scene.camera.zoom(factor);
        }
    }
    if response.clicked()
        && let Some(pos) = response.interact_pointer_pos()
    {
        let px = (pos.x - rect.min.x) * ppp;
        let py = (pos.y - rect.min.y) * ppp;
        if let Some(world) = pick_world(viewer, px, py, size) {
            viewer.set_crosshair(world);
        }
    }
    if let Some(request) = ViewRequest::of(viewer, View::Surface, size) {
        ui.painter()
            .add(egui_wgpu::Callback::new_paint_callback(rect, ViewCallback(request)));
    }
}

/// The anatomical world position of the vertex under pixel `(px, py)`, if a mesh is hit.
pub fn pick_world(viewer: &Viewer, px: f32, py: f32, size: (u32, u32)) -> Option<DVec3> {
    let scene = &viewer.surfaces;
    let ray = scene.camera.ray(px, py, size.0 as f32, size.1 as f32);
    let shown: Vec<_> = scene
        .hemispheres
        .iter()
        .filter_map(|g| Some((g, g.mesh(scene.geometry)?.2.clone(), scene.draw_offset(g))))
        .collect();
    let meshes: Vec<PickMesh<'_>> = shown
        .iter()
        .map(|(_, mesh, offset)| (mesh.vertices.as_slice(), mesh.triangles.as_slice(), *offset))
        .collect();
    let hit = pick(ray, &meshes)?;
    let group = shown[hit.mesh].0;
    let anatomical = group.anatomical()?;
    let v = anatomical.vertices.get(hit.vertex)?;
    Some(DVec3::new(v[0] as f64, v[1] as f64, v[2] as f64))
}

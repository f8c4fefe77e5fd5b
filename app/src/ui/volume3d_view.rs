//! The 3D view: orbit, zoom and pan; while the camera moves it renders at half resolution.

use cortexlens_data::camera::CameraPreset;
use egui::{PointerButton, Rect, Sense};

use crate::gpu_scene::{ViewCallback, ViewRequest};
use crate::viewer::{View, Viewer};

/// Radians of orbit per point dragged.
const ORBIT_PER_POINT: f32 = 0.01;

/// How far from the pointer's ray a splat's centre may lie to be picked, mm.
const PICK_MM: f64 = 3.0;

/// Draw the 3D view into `rect` and handle its mouse input.
pub fn show(viewer: &mut Viewer, ui: &mut egui::Ui, rect: Rect) {
    place_camera(viewer);
    let v3 = &mut viewer.volume3d;
    let response = ui.interact(rect, ui.scope_id().with("volume3d-view"), Sense::click_and_drag());
    let ppp = ui.ctx().pixels_per_point();
    let full = (
        (rect.width() * ppp).round().max(1.0) as u32,
        (rect.height() * ppp).round().max(1.0) as u32,
    );
    let mut moving = false;
    if response.dragged_by(PointerButton::Primary) {
        let d = response.drag_delta();
        v3.camera.orbit(-d.x * ORBIT_PER_POINT, d.y * ORBIT_PER_POINT);
        moving = true;
    }
    if response.dragged_by(PointerButton::Secondary) || response.dragged_by(PointerButton::Middle) {
        let d = response.drag_delta() * ppp;
        v3.camera.pan(d.x, d.y, full.1 as f32);
        moving = true;
    }
    // A click (not a drag) on a splat moves the crosshair to its centre, or, while a scene is
    // being registered, picks the scene point of the next pair.
    if response.clicked()
        && let Some(pos) = response.interact_pointer_pos()
    {
        let (px, py) = ((pos.x - rect.min.x) * ppp, (pos.y - rect.min.y) * ppp);
        let (eye, dir) = v3.camera.ray(px, py, full.0 as f32, full.1 as f32);
        viewer.click_splat(eye.as_dvec3(), dir.as_dvec3(), PICK_MM);
    }
    let v3 = &mut viewer.volume3d;
    if response.hovered() {
        let (zoom, scroll) = ui.input(|i| (i.zoom_delta(), i.smooth_scroll_delta.y));
        let factor = if zoom != 1.0 { zoom } else { (scroll * 0.002).exp() };
        if factor != 1.0 {
            v3.camera.zoom(factor);
            moving = true;
        }
    }
    let size = if moving {
        ((full.0 / 2).max(1), (full.1 / 2).max(1))
    } else {
        full
    };
    if moving {
        // Refine to full resolution on the next frame after the camera stops.
        ui.ctx().request_repaint();
    }
    if let Some(request) = ViewRequest::of(viewer, View::Volume3d, size) {
        ui.painter()
            .add(egui_wgpu::Callback::new_paint_callback(rect, ViewCallback(request)));
    }
}

/// Frame the data shown when it changed.
fn place_camera(viewer: &mut Viewer) {
    if viewer.volume3d.camera_placed {
        return;
    }
    if let Some(bounds) = viewer.bounds_3d() {
        viewer.volume3d.camera = cortexlens_data::camera::OrbitCamera::preset(CameraPreset::LateralLeft, bounds);
        viewer.volume3d.camera_placed = true;
    }
}

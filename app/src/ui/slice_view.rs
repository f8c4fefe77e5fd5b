//! A slice view: mouse and keys move the crosshair, step slices, zoom and pan; the picture comes
//! from the GPU scene through a paint callback; the crosshair and orientation letters are drawn over it.

use cortexlens_data::{Plane, SliceGeometry};
use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};
use glam::{DVec2, DVec3};

use crate::gpu_scene::picture::CROSSHAIR_RGBA;
use crate::gpu_scene::{ViewCallback, ViewRequest};
use crate::viewer::{DrawTool, View, Viewer};

/// Scroll distance in points that steps one slice.
const POINTS_PER_SLICE: f32 = 40.0;

/// Physical-pixel geometry of a slice view or mosaic tile occupying `rect` (in points).
fn view_geometry(viewer: &Viewer, view: View, rect: Rect, ppp: f32) -> Option<SliceGeometry> {
    let w = (rect.width() * ppp).round().max(1.0) as u32;
    let h = (rect.height() * ppp).round().max(1.0) as u32;
    match view {
        View::Slice(plane) => Some(viewer.geometry(plane, w, h)),
        View::Tile { plane, at, .. } => Some(viewer.geometry_at(plane, at, w, h)),
        View::Surface | View::Volume3d => None,
    }
}

fn to_px(pos: Pos2, rect: Rect, ppp: f32) -> DVec2 {
    DVec2::new(((pos.x - rect.min.x) * ppp) as f64, ((pos.y - rect.min.y) * ppp) as f64)
}

/// Draw a slice view (`View::Slice`) or a mosaic tile (`View::Tile`) into `rect` and handle its
/// input: in a tile, a click moves the crosshair to the tile's slice too.
pub fn show(viewer: &mut Viewer, ui: &mut egui::Ui, view: View, rect: Rect) {
    let (plane, tile) = match view {
        View::Slice(plane) => (plane, None),
        View::Tile { plane, index, at } => (plane, Some((index, at))),
        View::Surface | View::Volume3d => return,
    };
    if viewer.layers.is_empty() {
        return;
    }
    let id = ui.scope_id().with(("slice-view", plane.name(), tile.map(|(i, _)| i)));
    let response = ui
        .interact(rect, id, Sense::click_and_drag())
        .on_hover_cursor(egui::CursorIcon::Crosshair);
    let ppp = ui.ctx().pixels_per_point();
    handle_input(viewer, ui, &response, view, rect, ppp, id);

    let Some(geometry) = view_geometry(viewer, view, rect, ppp) else {
        return;
    };
    let size = (geometry.width, geometry.height);
    if let Some(request) = ViewRequest::of(viewer, view, size) {
        ui.painter()
            .add(egui_wgpu::Callback::new_paint_callback(rect, ViewCallback(request)));
    }
    match tile {
        None => paint_overlay(ui, viewer, &geometry, rect, ppp),
        Some((_, at)) => paint_tile_label(ui, plane, at, rect),
    }
}

/// The slice position of a mosaic tile, in its top left corner (a label screen readers find).
fn paint_tile_label(ui: &mut egui::Ui, plane: Plane, at: f64, rect: Rect) {
    let axis = ["x", "y", "z"][plane.normal_axis()];
    let text = egui::RichText::new(format!("{axis} = {at:.0}"))
        .size(12.0)
        .color(Color32::from_gray(220));
    let place = Rect::from_min_size(rect.min + Vec2::splat(4.0), Vec2::new(80.0, 16.0)).intersect(rect);
    ui.put(place, egui::Label::new(text).selectable(false));
}

fn handle_input(
    viewer: &mut Viewer,
    ui: &egui::Ui,
    response: &egui::Response,
    view: View,
    rect: Rect,
    ppp: f32,
    id: egui::Id,
) {
    let Some(geometry) = view_geometry(viewer, view, rect, ppp) else {
        return;
    };
    let plane = geometry.plane;
    if viewer.drawings.active() && matches!(view, View::Slice(_)) {
        draw(viewer, ui, response, &geometry, rect, ppp);
    } else if (response.clicked() || response.dragged_by(egui::PointerButton::Primary))
        && let Some(pos) = response.interact_pointer_pos()
    {
        viewer.set_crosshair(geometry.pixel_to_world(to_px(pos, rect, ppp)));
    }
    if response.dragged_by(egui::PointerButton::Secondary) || response.dragged_by(egui::PointerButton::Middle) {
        let delta = response.drag_delta() * ppp;
        let sign = if geometry.radiological && plane != Plane::Sagittal {
            -1.0
        } else {
            1.0
        };
        let camera = viewer.camera_mut(plane);
        camera.pan_mm.x -= delta.x as f64 * geometry.mm_per_px * sign;
        camera.pan_mm.y += delta.y as f64 * geometry.mm_per_px;
    }
    // A mosaic's slices stay where they are: keys and the wheel step the single views only.
    if !response.hovered() || matches!(view, View::Tile { .. }) {
        return;
    }
    // Up / Page Up and Down / Page Down step the hovered view's slice, unless a widget has the keys.
    if ui.memory(|m| m.focused().is_none()) {
        let keys = ui.input_mut(|i| {
            let mut count = |key| i.count_and_consume_key(egui::Modifiers::NONE, key) as f64;
            count(egui::Key::ArrowUp) + count(egui::Key::PageUp)
                - count(egui::Key::ArrowDown)
                - count(egui::Key::PageDown)
        });
        if keys != 0.0 {
            viewer.step_slice(plane, keys);
        }
    }
    let (zoom, scroll) = ui.input(|i| (i.zoom_delta(), i.smooth_scroll_delta.y));
    if zoom != 1.0 {
        viewer.camera_mut(plane).zoom_by(zoom as f64);
    } else if scroll != 0.0 {
        let accumulated = ui.data_mut(|d| {
            let acc = d.get_temp_mut_or_default::<f32>(id);
            *acc += scroll;
            let steps = (*acc / POINTS_PER_SLICE).trunc();
            *acc -= steps * POINTS_PER_SLICE;
            steps
        });
        if accumulated != 0.0 {
            viewer.step_slice(plane, accumulated as f64);
        }
    }
}

/// Drawing mode: the primary button paints (pen, eraser) while held, one stroke per press, or
/// fills the clicked area; the crosshair stays where it is.
fn draw(viewer: &mut Viewer, ui: &egui::Ui, response: &egui::Response, geometry: &SliceGeometry, rect: Rect, ppp: f32) {
    let world = |pos: Pos2| geometry.pixel_to_world(to_px(pos, rect, ppp));
    match viewer.drawings.settings.tool {
        DrawTool::Fill => {
            if response.clicked()
                && let Some(pos) = response.interact_pointer_pos()
            {
                viewer.fill_at(world(pos), geometry.plane);
            }
        }
        DrawTool::Pen | DrawTool::Eraser => {
            // One stroke per press: it ends when the button is released, wherever that is.
            let down = ui.input(|i| i.pointer.primary_down());
            let held = down && response.is_pointer_button_down_on();
            let pos = response.interact_pointer_pos();
            if let Some(pos) = pos.filter(|_| held || response.clicked()) {
                viewer.draw_at(world(pos), geometry.plane);
            }
            if !down {
                viewer.end_stroke();
            }
        }
    }
}

/// Crosshair lines and orientation letters over a view.
fn paint_overlay(ui: &egui::Ui, viewer: &Viewer, geometry: &SliceGeometry, rect: Rect, ppp: f32) {
    let painter = ui.painter_at(rect);
    let at = geometry.world_to_pixel(viewer.crosshair);
    let pos = rect.min + Vec2::new(at.x as f32 / ppp, at.y as f32 / ppp);
    let [r, g, b, _] = CROSSHAIR_RGBA;
    let stroke = Stroke::new(1.0, Color32::from_rgb(r, g, b));
    painter.line_segment([Pos2::new(rect.left(), pos.y), Pos2::new(rect.right(), pos.y)], stroke);
    painter.line_segment([Pos2::new(pos.x, rect.top()), Pos2::new(pos.x, rect.bottom())], stroke);

    let font = egui::FontId::proportional(14.0);
    let color = Color32::from_gray(220);
    let (left, right) = screen_letters(geometry, true);
    let (bottom, top) = screen_letters(geometry, false);
    let pad = 4.0;
    painter.text(
        Pos2::new(rect.left() + pad, rect.center().y),
        egui::Align2::LEFT_CENTER,
        left,
        font.clone(),
        color,
    );
    painter.text(
        Pos2::new(rect.right() - pad, rect.center().y),
        egui::Align2::RIGHT_CENTER,
        right,
        font.clone(),
        color,
    );
    painter.text(
        Pos2::new(rect.center().x, rect.top() + pad),
        egui::Align2::CENTER_TOP,
        top,
        font.clone(),
        color,
    );
    painter.text(
        Pos2::new(rect.center().x, rect.bottom() - pad),
        egui::Align2::CENTER_BOTTOM,
        bottom,
        font,
        color,
    );
}

/// Anatomical letters at the (low, high) ends of the screen's horizontal or vertical axis.
fn screen_letters(geometry: &SliceGeometry, horizontal: bool) -> (&'static str, &'static str) {
    let (w, h) = (geometry.width as f64, geometry.height as f64);
    let (a, b) = if horizontal {
        (DVec2::new(0.0, h / 2.0), DVec2::new(w, h / 2.0))
    } else {
        (DVec2::new(w / 2.0, h), DVec2::new(w / 2.0, 0.0))
    };
    let direction: DVec3 = geometry.pixel_to_world(b) - geometry.pixel_to_world(a);
    let axis = direction.abs().max_position();
    let letters = [("L", "R"), ("P", "A"), ("I", "S")][axis];
    if direction[axis] > 0.0 {
        letters
    } else {
        (letters.1, letters.0)
    }
}

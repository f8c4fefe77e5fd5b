//! The menu bar and keyboard shortcuts.

use cortexlens_data::Plane;
use cortexlens_data::atlas::ATLAS_EXTENSIONS;
use cortexlens_data::field::FIELD_EXTENSIONS;
use cortexlens_data::formats::EXTENSIONS;
use egui::{Key, KeyboardShortcut, Modifiers};

use super::CortexApp;
use crate::file_dialog::{Choose, FileRequest};
use crate::viewer::{Layout, Mosaic, ViewCamera};

/// Ctrl+S (Cmd+S): save a screenshot.
pub const SCREENSHOT_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
/// Ctrl+O (Cmd+O): open files.
pub const OPEN_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);

/// Ctrl+Z (Cmd+Z): undo the last drawing edit, while drawing.
pub const UNDO_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
/// Ctrl+Shift+Z (Cmd+Shift+Z): redo it.
pub const REDO_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);

/// Keyboard shortcuts that work anywhere in the window.
pub fn shortcuts(app: &mut CortexApp, ctx: &egui::Context) {
    if app.viewer.drawings.active() && ctx.memory(|m| m.focused().is_none()) {
        // The longer shortcut first: Ctrl+Z would also match Ctrl+Shift+Z.
        if ctx.input_mut(|i| i.consume_shortcut(&REDO_SHORTCUT)) {
            app.viewer.redo_drawing();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&UNDO_SHORTCUT)) {
            app.viewer.undo_drawing();
        }
    }
    if ctx.input_mut(|i| i.consume_shortcut(&SCREENSHOT_SHORTCUT)) {
        app.screenshot.open = true;
    }
    if ctx.input_mut(|i| i.consume_shortcut(&OPEN_SHORTCUT)) {
        open_dialog(app);
    }
}

/// Ask for files to open: every format the loader reads.
fn open_dialog(app: &mut CortexApp) {
    let endings: Vec<&str> = EXTENSIONS
        .iter()
        .chain(FIELD_EXTENSIONS)
        .chain(&["json"])
        .chain(ATLAS_EXTENSIONS)
        .copied()
        .collect();
    let request = FileRequest::new("Open files", Choose::Files).filter("Brain data", &endings);
    app.open_dialog = Some(app.dialogs.ask(request));
}

/// Open what File › Open chose, once chosen.
pub fn receive_open(app: &mut CortexApp) {
    let Some(paths) = app.open_dialog.and_then(|id| app.dialogs.take(id)) else {
        return;
    };
    app.open_dialog = None;
    for path in paths {
        app.open(&path);
    }
}

/// Open or save the session File › Open session or Save session chose, once chosen.
pub fn receive_session(app: &mut CortexApp) {
    let Some((id, saving)) = app.session_dialog else {
        return;
    };
    let Some(answer) = app.dialogs.take_one(id) else {
        return;
    };
    app.session_dialog = None;
    match (answer, saving) {
        (Some(path), true) => app.save_session(&path),
        (Some(path), false) => app.open_session(&path),
        (None, _) => {}
    }
}

/// File and View menus.
pub fn menu_bar(app: &mut CortexApp, ui: &mut egui::Ui) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui
                .add(egui::Button::new("Open…").shortcut_text(ui.ctx().format_shortcut(&OPEN_SHORTCUT)))
                .clicked()
            {
                open_dialog(app);
            }
            if ui.button("Open session…").clicked() {
                let request = FileRequest::new("Open a session", Choose::File).filter("cortexlens session", &["json"]);
                app.session_dialog = Some((app.dialogs.ask(request), false));
            }
            if ui.button("Save session…").clicked() {
                let request = FileRequest::new("Save the session", Choose::Save("session.json".into()))
                    .filter("cortexlens session", &["json"]);
                app.session_dialog = Some((app.dialogs.ask(request), true));
            }
            if ui
                .add(
                    egui::Button::new("Save screenshot…").shortcut_text(ui.ctx().format_shortcut(&SCREENSHOT_SHORTCUT)),
                )
                .clicked()
            {
                app.screenshot.open = true;
            }
            ui.separator();
            if ui.button("Quit").clicked() {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
        ui.menu_button("View", |ui| {
            let bounds = app.viewer.world_bounds();
            let layout = &mut app.viewer.layout;
            ui.radio_value(layout, Layout::Ortho, "3-up (ortho)");
            for plane in [Plane::Axial, Plane::Coronal, Plane::Sagittal] {
                ui.radio_value(layout, Layout::Single(plane), plane.name());
            }
            ui.radio_value(layout, Layout::Surface, "surface");
            ui.radio_value(layout, Layout::Volume3d, "3D");
            let is_mosaic = matches!(layout, Layout::Mosaic(_));
            if ui.radio(is_mosaic, "mosaic").clicked() && !is_mosaic {
                *layout = Layout::Mosaic(Mosaic::across(Plane::Axial, bounds));
            }
            mosaic_settings(ui, &mut app.viewer.layout);
            ui.separator();
            ui.checkbox(&mut app.viewer.radiological, "Radiological (left on right)");
            if ui.button("Reset zoom and pan").clicked() {
                app.viewer.cameras = [ViewCamera::default(); 3];
            }
        });
    });
}

/// The mosaic's plane, range, step and columns, when the layout is a mosaic.
fn mosaic_settings(ui: &mut egui::Ui, layout: &mut Layout) {
    let Layout::Mosaic(mosaic) = layout else {
        return;
    };
    let mut edited = *mosaic;
    ui.horizontal(|ui| {
        for plane in Plane::ALL {
            ui.radio_value(&mut edited.plane, plane, plane.name());
        }
    });
    egui::Grid::new("mosaic").num_columns(2).show(ui, |ui| {
        for (name, value) in [
            ("from (mm)", &mut edited.from),
            ("to (mm)", &mut edited.to),
            ("step (mm)", &mut edited.step),
        ] {
            let label = ui.label(name);
            ui.add(egui::DragValue::new(value).speed(1.0)).labelled_by(label.id);
            ui.end_row();
        }
        let label = ui.label("columns (0: auto)");
        ui.add(egui::DragValue::new(&mut edited.columns).range(0..=20))
            .labelled_by(label.id);
        ui.end_row();
    });
    match edited.slices() {
        Ok(slices) => ui.small(format!("{} slices", slices.len())),
        Err(error) => ui.small(egui::RichText::new(error).color(ui.visuals().error_fg_color)),
    };
    *mosaic = edited;
}

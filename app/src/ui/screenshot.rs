//! Screenshots: a small dialog, then an offscreen re-render at a multiple of the window's resolution.

use std::path::Path;

use anyhow::Context as _;
use egui_wgpu::RenderState;

use super::CortexApp;
use crate::file_dialog::{Choose, FileRequest};
use crate::gpu_scene::GpuScene;
use crate::gpu_scene::picture::{PictureOptions, render_picture};
use crate::viewer::Viewer;

/// The screenshot dialog's choices.
#[derive(Clone, Debug, PartialEq)]
pub struct ScreenshotSettings {
    /// Whether the dialog is open.
    pub open: bool,
    /// Multiple of the window's resolution (1 = as on screen).
    pub scale: u32,
    /// Colour bar and crosshair.
    pub options: PictureOptions,
}

impl Default for ScreenshotSettings {
    fn default() -> Self {
        ScreenshotSettings {
            open: false,
            scale: 1,
            options: PictureOptions::default(),
        }
    }
}

/// Render the views at `scale` × `view_area_px` and write a PNG; returns the picture's size.
pub fn save(
    render_state: &RenderState,
    viewer: &Viewer,
    view_area_px: (u32, u32),
    path: &Path,
    settings: &ScreenshotSettings,
) -> anyhow::Result<(u32, u32)> {
    let (w, h) = (
        view_area_px.0.max(1) * settings.scale,
        view_area_px.1.max(1) * settings.scale,
    );
    let (device, queue) = (&render_state.device, &render_state.queue);
    let picture = GpuScene::with(render_state, |scene| {
        scene.sync(device, queue, viewer);
        render_picture(scene, device, queue, viewer, (w, h), settings.options)
    })
    .ok_or_else(|| anyhow::anyhow!("the GPU scene is not installed"))??;
    picture
        .save(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(picture.dimensions())
}

/// The "Save screenshot" window; its Save asks where, and the picture is written once chosen.
pub fn dialog(app: &mut CortexApp, ctx: &egui::Context) {
    if let Some(answer) = app.screenshot_dialog.and_then(|id| app.dialogs.take_one(id)) {
        app.screenshot_dialog = None;
        if let Some(path) = answer {
            app.screenshot.open = false;
            match app.save_screenshot(&path, &app.screenshot) {
                Ok((w, h)) => app.messages.info(format!("Saved {} ({w}×{h})", path.display())),
                Err(error) => app.messages.error(format!("Screenshot failed: {error:#}")),
            }
        }
    }
    if !app.screenshot.open {
        return;
    }
    let mut open = true;
    let mut save_clicked = false;
    egui::Window::new("Save screenshot")
        .open(&mut open)
        .collapsible(false)
        .show(ctx, |ui| {
            let (w, h) = app.view_area.1;
            ui.horizontal(|ui| {
                ui.label("Resolution");
                for scale in 1..=4 {
                    ui.radio_value(&mut app.screenshot.scale, scale, format!("{}×{}", w * scale, h * scale));
                }
            });
            ui.checkbox(&mut app.screenshot.options.colorbar, "Colour bar");
            ui.checkbox(&mut app.screenshot.options.crosshair, "Crosshair");
            save_clicked = ui.button("Save…").clicked();
        });
    app.screenshot.open = open;
    if save_clicked {
        let request =
            FileRequest::new("Save screenshot", Choose::Save("cortexlens.png".into())).filter("PNG", &["png"]);
        app.screenshot_dialog = Some(app.dialogs.ask(request));
    }
}

//! The eframe application: the menu, the side panel's sections ([`crate::panels`]), the views, the
//! readout. [`CortexApp`] keeps only what every part shares — the viewer, the job stream, the
//! messages and the GPU scene — and runs one frame as: take finished jobs, open what was read in
//! request order, let the panels work and draw, draw the views, sync the GPU scene.

mod menu;
mod readout;
mod reads;
mod screenshot;
mod slice_view;
mod surface_view;
mod volume3d_view;

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui_wgpu::RenderState;

use crate::demo::{self, DemoOpening};
use crate::file_dialog::{DialogId, FileDialogs};
use crate::gpu_scene::health::GpuHealth;
use crate::gpu_scene::{GpuScene, SyncNotice, field_drawing_for};
use crate::jobs::Jobs;
use crate::messages::{Messages, UserMessage};
use crate::open::open;
use crate::panels::{self, Panel, PanelContext};
use crate::session::{SessionOpening, is_session_path, save_session};
use crate::viewer::{View, Viewer};
use reads::Reads;

pub use screenshot::ScreenshotSettings;

/// The cortexlens window.
pub struct CortexApp {
    viewer: Viewer,
    panels: Vec<Box<dyn Panel>>,
    jobs: Jobs,
    messages: Messages,
    reads: Reads,
    /// The demo scene while it opens.
    demo: Option<DemoOpening>,
    /// A session while its files open.
    session: Option<SessionOpening>,
    /// What the GPU reported (errors, loss), and whether its loss was told.
    gpu_health: Option<(GpuHealth, bool)>,
    /// File › Open session and Save session, asked for.
    session_dialog: Option<(DialogId, bool)>,
    render_state: Option<RenderState>,
    /// File dialogs, and the ones File › Open and Save screenshot asked for.
    dialogs: FileDialogs,
    open_dialog: Option<DialogId>,
    screenshot_dialog: Option<DialogId>,
    screenshot: ScreenshotSettings,
    /// The view area in the last frame, in points and in physical pixels (screenshots' "window
    /// resolution").
    view_area: (egui::Rect, (u32, u32)),
}

/// What the window opens with.
#[derive(Clone, Debug, PartialEq)]
pub enum Startup {
    /// The bundled demo scene.
    Demo,
    /// These files, in this order (none: an empty window).
    Files(Vec<PathBuf>),
}

impl CortexApp {
    /// Create the app and start reading what `startup` asks for.
    pub fn new(cc: &eframe::CreationContext<'_>, startup: Startup) -> CortexApp {
        let ctx = cc.egui_ctx.clone();
        let render_state = cc.wgpu_render_state.clone();
        let mut app = CortexApp {
            viewer: Viewer::default(),
            panels: panels::all(),
            jobs: Jobs::new(Arc::new(move || ctx.request_repaint())),
            messages: Messages::default(),
            reads: Reads::default(),
            demo: None,
            session: None,
            session_dialog: None,
            gpu_health: None,
            render_state,
            dialogs: FileDialogs::default(),
            open_dialog: None,
            screenshot_dialog: None,
            screenshot: ScreenshotSettings::default(),
            view_area: (egui::Rect::NOTHING, (0, 0)),
        };
        match &app.render_state {
            Some(rs) => {
                GpuScene::install(rs);
                app.gpu_health = Some((GpuHealth::watch(&rs.device), false));
                app.viewer.volume3d.field_drawing = field_drawing_for(&rs.adapter.get_info());
            }
            None => app.messages.error("No wgpu device: slices cannot be drawn."),
        }
        match startup {
            Startup::Demo => {
                let reads: Vec<_> = demo::demo_files()
                    .iter()
                    .map(|path| app.reads.request(&mut app.jobs, path))
                    .collect();
                app.demo = Some(DemoOpening::new(reads));
            }
            Startup::Files(files) => files.iter().for_each(|path| app.open(path)),
        }
        app
    }

    /// Start reading a file; it opens when read (after the files asked for before it). A session
    /// file (`.json`) opens its files and replaces what is shown once they have all opened.
    pub fn open(&mut self, path: &Path) {
        if is_session_path(path) {
            self.open_session(path);
        } else {
            self.reads.request(&mut self.jobs, path);
        }
    }

    /// Start opening a session; a session that cannot be read is an error and changes nothing.
    pub fn open_session(&mut self, path: &Path) {
        let (reads, jobs) = (&mut self.reads, &mut self.jobs);
        match SessionOpening::start(path, |file| reads.request(jobs, file)) {
            Ok((mut opening, problems)) => {
                problems.into_iter().for_each(|p| self.messages.error(p));
                opening.viewer.volume3d.field_drawing = self.viewer.volume3d.field_drawing;
                self.session = Some(opening);
                self.finish_session();
            }
            Err(error) => self.messages.error(error.to_string()),
        }
    }

    /// Save what is shown as a session at `path` (drawn regions beside it).
    pub fn save_session(&mut self, path: &Path) {
        let size = self.view_area.1;
        let size = (size.0 > 0 && size.1 > 0).then_some([size.0, size.1]);
        match save_session(&self.viewer, size, path) {
            Ok(skipped) => {
                self.messages.info(format!("Saved the session {}", path.display()));
                for what in skipped {
                    self.messages.info(format!("Not in the session: {what}"));
                }
            }
            Err(error) => self.messages.error(format!("Saving the session failed: {error}")),
        }
    }

    /// Whether a session is still opening.
    pub fn is_opening_session(&self) -> bool {
        self.session.is_some()
    }

    /// Show the session being opened once all its files have opened.
    fn finish_session(&mut self) {
        let Some((viewer, problems)) = self.session.as_mut().and_then(SessionOpening::finish) else {
            return;
        };
        let path = self.session.take().map(|s| s.path).unwrap_or_default();
        self.viewer = viewer;
        problems.into_iter().for_each(|p| self.messages.error(p));
        self.messages.info(format!("Opened the session {}", path.display()));
    }

    /// What is open and how it is shown.
    pub fn viewer(&self) -> &Viewer {
        &self.viewer
    }

    /// What is open and how it is shown, to change it.
    pub fn viewer_mut(&mut self) -> &mut Viewer {
        &mut self.viewer
    }

    /// The messages shown, oldest first.
    pub fn messages(&self) -> &[UserMessage] {
        self.messages.all()
    }

    /// Remove every message.
    pub fn clear_messages(&mut self) {
        self.messages.clear();
    }

    /// The side panel's section of type `P`.
    pub fn panel<P: Panel>(&self) -> Option<&P> {
        self.panels
            .iter()
            .find_map(|p| (p.as_ref() as &dyn Any).downcast_ref::<P>())
    }

    /// The side panel's section of type `P`, to change it.
    pub fn panel_mut<P: Panel>(&mut self) -> Option<&mut P> {
        self.panels
            .iter_mut()
            .find_map(|p| (p.as_mut() as &mut dyn Any).downcast_mut::<P>())
    }

    /// Choose files with the in-window browser, starting in `folder`, as where no desktop dialog
    /// can be shown.
    pub fn use_builtin_file_dialogs(&mut self, folder: Option<PathBuf>) {
        self.dialogs = FileDialogs::builtin(folder);
    }

    /// The GPU adapter the window draws with.
    pub fn adapter_info(&self) -> Option<wgpu::AdapterInfo> {
        self.render_state.as_ref().map(|rs| rs.adapter.get_info())
    }

    /// The job stream (progress of running jobs).
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// Where the views were drawn in the last frame, in points.
    pub fn view_area_rect(&self) -> egui::Rect {
        self.view_area.0
    }

    /// Whether files are still being read (or waiting to be opened in request order).
    pub fn is_loading(&self) -> bool {
        self.reads.is_busy()
    }

    /// Save the views as a PNG, re-rendered offscreen at `scale` × the window's resolution.
    /// Returns the picture's size.
    pub fn save_screenshot(&self, path: &Path, settings: &ScreenshotSettings) -> anyhow::Result<(u32, u32)> {
        let rs = self
            .render_state
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no wgpu device"))?;
        screenshot::save(rs, &self.viewer, self.view_area.1, path, settings)
    }

    /// Take what the jobs finished: reads are opened in request order, everything else goes to
    /// every panel.
    fn receive_jobs(&mut self) {
        let finished: Vec<_> = self
            .jobs
            .drain()
            .into_iter()
            .filter_map(|finished| self.reads.take(finished))
            .collect();
        let mut to_open = Vec::new();
        let (panels, mut ctx) = self.panels_and_context(&mut to_open);
        for finished in &finished {
            for panel in panels.iter_mut() {
                panel.on_event(finished, &mut ctx);
            }
        }
        to_open.iter().for_each(|path| self.open(path));
        for (read, path, result) in self.reads.ready() {
            let session = self.session.as_mut().filter(|s| s.owns(read));
            let in_session = session.is_some();
            let viewer = match session {
                Some(opening) => &mut opening.viewer,
                None => &mut self.viewer,
            };
            let added = match result {
                Ok(contents) => match open(viewer, &path, *contents) {
                    Ok(opened) => {
                        opened.warnings.into_iter().for_each(|w| self.messages.error(w));
                        opened.notes.into_iter().for_each(|n| self.messages.info(n));
                        Some(opened.added)
                    }
                    Err(error) => {
                        self.messages.error(error.to_string());
                        None
                    }
                },
                Err(error) => {
                    let name = path
                        .file_name()
                        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
                    self.messages.job_ended(&format!("Opening {name}"), &error);
                    None
                }
            };
            if in_session {
                if let Some(opening) = &mut self.session {
                    opening.opened(read, added);
                }
                self.finish_session();
                continue;
            }
            if let Some(demo) = &mut self.demo
                && demo.opened(read, added.as_ref(), &mut self.viewer)
            {
                self.demo = None;
            }
        }
    }

    /// The panels, and the context they share, borrowed from the app together.
    fn panels_and_context<'a>(
        &'a mut self,
        to_open: &'a mut Vec<PathBuf>,
    ) -> (&'a mut [Box<dyn Panel>], PanelContext<'a>) {
        let ctx = PanelContext {
            viewer: &mut self.viewer,
            jobs: &mut self.jobs,
            messages: &mut self.messages,
            to_open,
            dialogs: &mut self.dialogs,
        };
        (&mut self.panels, ctx)
    }

    /// Let every panel do its per-frame work, then draw the side panel.
    fn side_panel(&mut self, ui: &mut egui::Ui) {
        let mut to_open = Vec::new();
        let (panels, mut ctx) = self.panels_and_context(&mut to_open);
        for panel in panels.iter_mut() {
            panel.update(&mut ctx);
        }
        egui::Panel::left("panels").default_size(260.0).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                for (i, panel) in panels.iter_mut().enumerate() {
                    if !panel.visible(ctx.viewer) {
                        continue;
                    }
                    if i > 0 {
                        ui.separator();
                    }
                    ui.heading(panel.title());
                    ui.push_id(panel.title(), |ui| panel.ui(ui, &mut ctx));
                }
            });
        });
        to_open.iter().for_each(|path| self.open(path));
    }

    /// Bring the GPU scene up to date with the viewer; a field the GPU refuses is closed with an error.
    fn sync_scene(&mut self) {
        let Some(rs) = &self.render_state else {
            return;
        };
        // Let wgpu free what was dropped (closed layers, mosaic tiles, per-frame buffers) once the
        // GPU is done with it; it does so only when the device is polled.
        let _ = rs.device.poll(wgpu::PollType::Poll);
        let notices = GpuScene::with(rs, |scene| scene.sync(&rs.device, &rs.queue, &self.viewer));
        for notice in notices.unwrap_or_default() {
            match notice {
                SyncNotice::Downsampled { layer, notice } => {
                    if let Some(layer) = self.viewer.layer_mut(layer) {
                        layer.notice = Some(notice);
                    }
                }
                SyncNotice::FieldRefused { field, error } => {
                    self.viewer.volume3d.close_field(field);
                    self.messages.error(error);
                }
                SyncNotice::MeshRefused { error } => self.messages.error(error),
                SyncNotice::SplatsReduced { notice } => self.messages.info(notice),
            }
        }
    }

    fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        for file in dropped {
            self.open(file.path());
        }
    }

    fn central_panel(&mut self, ui: &mut egui::Ui) {
        egui::CentralPanel::default().show(ui, |ui| {
            let area = ui.available_rect_before_wrap();
            let ppp = ui.ctx().pixels_per_point();
            let px = (
                (area.width() * ppp).round() as u32,
                (area.height() * ppp).round() as u32,
            );
            self.view_area = (area, px);
            self.views(ui, area);
            show_drop_hint(ui, area);
        });
    }

    /// Tell the user what the GPU reported since the last frame; after a lost device, say so once.
    fn report_gpu_trouble(&mut self) {
        let Some((health, told)) = &mut self.gpu_health else {
            return;
        };
        for error in health.take_errors() {
            self.messages.error(format!(
                "The GPU reported an error; what could be drawn is drawn: {error}"
            ));
        }
        if let Some(reason) = health.lost().filter(|_| !*told) {
            *told = true;
            self.messages.error(format!(
                "The GPU device was lost ({reason}). Views are no longer drawn; save the session \
                 (File › Save session) and restart cortexlens to go on."
            ));
        }
    }

    /// What the window's GPU scene holds now.
    pub fn gpu_resident(&self) -> Option<crate::gpu_scene::Resident> {
        GpuScene::with(self.render_state.as_ref()?, |scene| scene.resident())
    }

    /// Whether the GPU device was lost.
    pub fn gpu_lost(&self) -> bool {
        self.gpu_health.as_ref().is_some_and(|(h, _)| h.lost().is_some())
    }

    /// Draw the layout's views into `area`.
    fn views(&mut self, ui: &mut egui::Ui, area: egui::Rect) {
        if self.gpu_lost() {
            ui.centered_and_justified(|ui| ui.label("The GPU device was lost: views are not drawn."));
            return;
        }
        let viewer = &mut self.viewer;
        if viewer.layers.is_empty() && viewer.surfaces.is_empty() && viewer.volume3d.fields.is_empty() {
            let hint = if self.reads.is_busy() {
                "Loading…"
            } else {
                "Drop NIfTI, MGH, GIFTI, FreeSurfer, mesh (OBJ, STL, glTF) or neural-field files here, or use File › Open."
            };
            ui.centered_and_justified(|ui| ui.label(hint));
            return;
        }
        let width = area.width().max(1.0).round() as u32;
        let height = area.height().max(1.0).round() as u32;
        for pane in viewer.panes(width, height) {
            let [x, y, w, h] = pane.rect;
            let rect = egui::Rect::from_min_size(
                area.min + egui::vec2(x as f32, y as f32),
                egui::vec2(w as f32, h as f32),
            );
            match pane.view {
                view @ (View::Slice(_) | View::Tile { .. }) => slice_view::show(viewer, ui, view, rect),
                View::Surface => surface_view::show(viewer, ui, rect),
                View::Volume3d => volume3d_view::show(viewer, ui, rect),
            }
        }
    }
}

impl eframe::App for CortexApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.handle_dropped_files(&ctx);
        self.receive_jobs();
        menu::shortcuts(self, &ctx);
        egui::Panel::top("menu").show(ui, |ui| menu::menu_bar(self, ui));
        egui::Panel::bottom("readout").show(ui, |ui| readout::show(self, ui));
        self.side_panel(ui);
        self.central_panel(ui);
        screenshot::dialog(self, &ctx);
        self.dialogs.show(&ctx);
        menu::receive_open(self);
        menu::receive_session(self);
        if !self.gpu_lost() {
            self.sync_scene();
        }
        self.report_gpu_trouble();
    }
}

fn show_drop_hint(ui: &egui::Ui, area: egui::Rect) {
    if ui.ctx().input(|i| !i.raw.hovered_files.is_empty()) {
        ui.painter()
            .rect_filled(area, 0.0, egui::Color32::from_black_alpha(160));
        ui.painter().text(
            area.center(),
            egui::Align2::CENTER_CENTER,
            "Drop to open",
            egui::FontId::proportional(24.0),
            egui::Color32::WHITE,
        );
    }
}

/// Open the window on `files` (the demo scene when empty) and run until it closes.
pub fn run_window(files: Vec<PathBuf>) -> Result<(), eframe::Error> {
    // The device the renderers need, with the adapter's texture and buffer sizes.
    let setup = egui_wgpu::WgpuSetupCreateNew {
        device_descriptor: std::sync::Arc::new(|adapter| wgpu::DeviceDescriptor {
            label: Some("cortexlens window"),
            required_features: cortexlens_render::device_requirements().0,
            required_limits: cortexlens_render::device_limits(&adapter.limits()),
            ..Default::default()
        }),
        ..egui_wgpu::WgpuSetupCreateNew::without_display_handle()
    };
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Wgpu,
        wgpu_options: egui_wgpu::WgpuConfiguration {
            wgpu_setup: egui_wgpu::WgpuSetup::CreateNew(setup),
            ..Default::default()
        },
        viewport: egui::ViewportBuilder::default()
            .with_title("cortexlens")
            .with_inner_size([1400.0, 820.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let startup = if files.is_empty() {
        Startup::Demo
    } else {
        Startup::Files(files)
    };
    eframe::run_native(
        "cortexlens",
        options,
        Box::new(move |cc| Ok(Box::new(CortexApp::new(cc, startup)))),
    )
}

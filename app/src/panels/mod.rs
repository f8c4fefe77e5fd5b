//! The side panel's sections (brush's `AppPanel` pattern): each [`Panel`] owns its state, draws
//! itself, and hears every finished job. They share only what [`PanelContext`] lends them: the
//! viewer, the job stream, the messages, a list of files to open and the file dialogs.
//!
//! A new section is one file here implementing [`Panel`], registered in [`all`].

mod atlases;
mod captions;
mod clusters;
mod draw_regions;
mod encoder_fit;
mod layers;
mod neural_field;
mod preferred_images;
mod splat_scenes;
mod surfaces;
mod volume3d;

pub use atlases::AtlasesPanel;
pub use captions::CaptionsPanel;
pub use clusters::ClustersPanel;
pub use draw_regions::DrawRegionsPanel;
pub use encoder_fit::{EncoderFitForm, EncoderFitPanel};
pub use layers::LayersPanel;
pub use neural_field::NeuralFieldPanel;
pub use preferred_images::{GalleryImage, PreferredImagesPanel, save_gallery};
pub use splat_scenes::SplatScenesPanel;
pub use surfaces::SurfacesPanel;
pub use volume3d::Volume3dPanel;

use std::any::Any;
use std::path::PathBuf;

use crate::file_dialog::FileDialogs;
use crate::jobs::{Finished, Jobs};
use crate::messages::Messages;
use crate::viewer::Viewer;

/// What the panels share.
pub struct PanelContext<'a> {
    /// What is open and how it is shown.
    pub viewer: &'a mut Viewer,
    /// The job stream, to start, follow and cancel background work.
    pub jobs: &'a mut Jobs,
    /// Messages for the user.
    pub messages: &'a mut Messages,
    /// Files to open once the panels are drawn (e.g. an encoder fit's maps).
    pub to_open: &'a mut Vec<PathBuf>,
    /// File dialogs (answered in a later frame).
    pub dialogs: &'a mut FileDialogs,
}

/// One section of the side panel.
pub trait Panel: Any {
    /// Its heading.
    fn title(&self) -> &'static str;

    /// Whether it shows now (e.g. surfaces only with a mesh open).
    fn visible(&self, _viewer: &Viewer) -> bool {
        true
    }

    /// Work to do every frame, shown or not (e.g. bake the field the 3D view needs).
    fn update(&mut self, _ctx: &mut PanelContext<'_>) {}

    /// Draw its controls.
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelContext<'_>);

    /// A job finished (every panel hears every job; each takes its own).
    fn on_event(&mut self, _finished: &Finished, _ctx: &mut PanelContext<'_>) {}
}

/// The side panel's sections, top to bottom.
pub fn all() -> Vec<Box<dyn Panel>> {
    vec![
        Box::new(LayersPanel::default()),
        Box::new(AtlasesPanel::default()),
        Box::new(ClustersPanel::default()),
        Box::new(DrawRegionsPanel::default()),
        Box::new(SurfacesPanel::default()),
        Box::new(Volume3dPanel::default()),
        Box::new(SplatScenesPanel),
        Box::new(NeuralFieldPanel::default()),
        Box::new(CaptionsPanel::default()),
        Box::new(PreferredImagesPanel::default()),
        Box::new(EncoderFitPanel::default()),
    ]
}

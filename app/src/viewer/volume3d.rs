//! What the 3D view shows: the base volume (with the top overlay) or a neural field, ray-marched.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use cortexlens_data::Volume;
use cortexlens_data::camera::{CameraPreset, OrbitCamera};
use cortexlens_data::field::{BAKE_VOXELS, BakeError, FieldOutput, NeuralField, bake};
use cortexlens_data::transfer::TransferFunction;
use cortexlens_render::{ClipPlane, RayMarchSettings};
use glam::DVec3;

/// Identifies a neural field for the renderer's cache.
pub type FieldId = u64;

/// A neural field open in the app.
#[derive(Clone, Debug)]
pub struct OpenField {
    /// Stable id.
    pub id: FieldId,
    /// Display name.
    pub name: String,
    /// The field.
    pub field: Arc<NeuralField>,
    /// The field baked into a voxel grid, once baked ([`FieldDrawing::Baked`]).
    pub baked: Option<Arc<Volume>>,
}

impl OpenField {
    /// Whether the field can be baked into a grid (intensity fields; radiance fields are drawn exactly).
    pub fn bakeable(&self) -> bool {
        matches!(self.field.output, FieldOutput::Intensity { .. })
    }
}

/// How the 3D view draws a neural field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldDrawing {
    /// The network evaluated in WGSL at every ray sample (exact; needs a hardware GPU to be interactive).
    #[default]
    Exact,
    /// The field baked once into a voxel grid on the CPU, then ray-marched like a volume: the
    /// default on software GPUs, where the exact path takes minutes per frame. Radiance fields are
    /// always drawn exactly.
    Baked,
}

/// What the 3D view ray-marches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Source3d {
    /// The base volume, with the top visible overlay composited.
    #[default]
    Volume,
    /// A neural field.
    Field(FieldId),
}

/// Axis-aligned clip planes through the crosshair, as the panel offers them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CrosshairClips {
    /// Remove x > crosshair.x (the right side).
    pub x: bool,
    /// Remove y > crosshair.y (the front).
    pub y: bool,
    /// Remove z > crosshair.z (the top).
    pub z: bool,
}

impl CrosshairClips {
    /// The clip planes for `crosshair`.
    pub fn planes(self, crosshair: DVec3) -> Vec<ClipPlane> {
        let c = crosshair.as_vec3().to_array();
        [
            (self.x, [1.0, 0.0, 0.0]),
            (self.y, [0.0, 1.0, 0.0]),
            (self.z, [0.0, 0.0, 1.0]),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, normal)| ClipPlane::through(c, normal))
        .collect()
    }
}

/// The 3D view's state.
#[derive(Clone, Debug)]
pub struct Volume3d {
    /// Mode, transfer function, step, lighting… (clip planes come from `clips`).
    pub settings: RayMarchSettings,
    /// Clip planes through the crosshair.
    pub clips: CrosshairClips,
    /// The camera.
    pub camera: OrbitCamera,
    /// Whether the camera was placed for the current data.
    pub camera_placed: bool,
    /// What is drawn.
    pub source: Source3d,
    /// Neural fields open (loaded `.nfield`/`.ingp` files and fitted fields).
    pub fields: Vec<OpenField>,
    /// How fields are drawn.
    pub field_drawing: FieldDrawing,
    /// Gaussian-splat scenes, drawn over what is ray-marched.
    pub splats: Vec<super::OpenSplats>,
    /// Whether the open surfaces (cortex meshes, mesh files) are drawn in the 3D view too, where
    /// they are, with their colours: rays stop at them and splats behind them are hidden.
    pub surfaces: bool,
    /// The last id given to a field or a splat scene.
    pub(super) next_id: u64,
}

impl Default for Volume3d {
    fn default() -> Self {
        Volume3d {
            settings: RayMarchSettings::default(),
            clips: CrosshairClips::default(),
            camera: OrbitCamera::preset(CameraPreset::LateralLeft, ([-90.0, -120.0, -70.0], [90.0, 90.0, 100.0])),
            camera_placed: false,
            source: Source3d::Volume,
            fields: Vec::new(),
            field_drawing: FieldDrawing::Exact,
            splats: Vec::new(),
            surfaces: true,
            next_id: 0,
        }
    }
}

impl Volume3d {
    /// Open a field and show it; an intensity field's value range sets the transfer function.
    pub fn add_field(&mut self, name: String, field: impl Into<Arc<NeuralField>>) -> FieldId {
        let field = field.into();
        if let FieldOutput::Intensity { scale, offset } = field.output
            && scale.is_finite()
            && offset.is_finite()
            && scale != 0.0
        {
            let range = (offset.min(offset + scale), offset.max(offset + scale));
            self.settings.transfer = TransferFunction::default_for(range);
            self.settings.iso_level = range.0 + 0.3 * (range.1 - range.0);
        }
        self.next_id += 1;
        let id = self.next_id;
        self.fields.push(OpenField {
            id,
            name,
            field,
            baked: None,
        });
        self.source = Source3d::Field(id);
        self.camera_placed = false;
        id
    }

    /// The field shown, if the source is a field.
    pub fn shown_field(&self) -> Option<&OpenField> {
        match self.source {
            Source3d::Field(id) => self.fields.iter().find(|f| f.id == id),
            Source3d::Volume => None,
        }
    }

    /// The shown field when it should be drawn baked but is not baked yet.
    pub fn needs_bake(&self) -> Option<&OpenField> {
        let open = self.shown_field()?;
        (self.field_drawing == FieldDrawing::Baked && open.bakeable() && open.baked.is_none()).then_some(open)
    }

    /// Whether the shown source is a field drawn from its baked grid.
    pub fn draws_baked(&self) -> bool {
        self.field_drawing == FieldDrawing::Baked && self.shown_field().is_some_and(OpenField::bakeable)
    }

    /// Keep the baked grid of field `id` (ignored when the field was closed meanwhile).
    pub fn set_baked(&mut self, id: FieldId, grid: impl Into<Arc<Volume>>) {
        if let Some(open) = self.fields.iter_mut().find(|f| f.id == id) {
            open.baked = Some(grid.into());
        }
    }

    /// Bake the field waiting for its grid ([`Volume3d::needs_bake`]) here and now, on this thread
    /// (`cortexlens render`; the window bakes in a job).
    pub fn bake_now(&mut self) -> Result<(), BakeError> {
        if let Some(open) = self.needs_bake() {
            let (id, field) = (open.id, open.field.clone());
            let grid = bake(&field, BAKE_VOXELS, &AtomicBool::new(false), &mut |_| {})?;
            self.set_baked(id, grid);
        }
        Ok(())
    }

    /// Close field `id`; the 3D view falls back to the base volume when it was shown.
    pub fn close_field(&mut self, id: FieldId) {
        self.fields.retain(|f| f.id != id);
        if self.source == Source3d::Field(id) {
            self.source = Source3d::Volume;
            self.camera_placed = false;
        }
    }

    /// Settings with the crosshair's clip planes filled in.
    pub fn effective_settings(&self, crosshair: DVec3) -> RayMarchSettings {
        let mut settings = self.settings.clone();
        settings.clip_planes = self.clips.planes(crosshair);
        settings
    }

    /// Transfer function, iso level and step fitted to a volume's values and voxel size.
    pub fn fit_to(&mut self, range: (f32, f32), voxel_mm: f64) {
        self.settings.transfer = TransferFunction::default_for(range);
        self.settings.iso_level = range.0 + 0.3 * (range.1 - range.0);
        self.settings.step_mm = (voxel_mm * 0.5) as f32;
    }
}

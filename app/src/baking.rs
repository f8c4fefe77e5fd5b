//! Baking a neural field into a voxel grid on a worker thread, for the 3D view on software GPUs
//! (see [`cortexlens_data::field::bake`]).

use std::sync::Arc;

use cortexlens_data::Volume;
use cortexlens_data::field::{BAKE_VOXELS, BakeError, NeuralField, bake};

use crate::viewer::FieldId;
use crate::worker::Worker;

/// A bake running in the background.
pub struct BakeJob {
    /// The field being baked.
    pub field: FieldId,
    worker: Worker<f32, Result<Volume, BakeError>>,
}

impl BakeJob {
    /// Start baking `field` into a grid of at most [`BAKE_VOXELS`] voxels; `notify` wakes the UI.
    pub fn start(id: FieldId, field: Arc<NeuralField>, notify: Arc<dyn Fn() + Send + Sync>) -> BakeJob {
        let worker = Worker::spawn("bake", notify, move |report, cancel| {
            bake(&field, BAKE_VOXELS, cancel, &mut |p| report(p))
        });
        BakeJob { field: id, worker }
    }

    /// Fraction done.
    pub fn progress(&self) -> f32 {
        self.worker.progress().unwrap_or(0.0)
    }

    /// Ask the bake to stop before its next slab.
    pub fn cancel(&self) {
        self.worker.cancel();
    }

    /// The outcome, once the bake has finished.
    pub fn poll(&self) -> Option<Result<Volume, BakeError>> {
        self.worker.poll()
    }
}

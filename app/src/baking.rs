//! Baking a neural field into a voxel grid on a worker thread, for the 3D view on software GPUs
//! (see [`cortexlens_data::field::bake`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};

use cortexlens_data::Volume;
use cortexlens_data::field::{BAKE_VOXELS, BakeError, NeuralField, bake};

use crate::viewer::FieldId;

/// A bake running in the background.
pub struct BakeJob {
    /// The field being baked.
    pub field: FieldId,
    progress: Arc<Mutex<f32>>,
    cancel: Arc<AtomicBool>,
    result: Receiver<Result<Volume, BakeError>>,
}

impl BakeJob {
    /// Start baking `field` into a grid of at most [`BAKE_VOXELS`] voxels; `notify` wakes the UI.
    pub fn start(id: FieldId, field: Arc<NeuralField>, notify: Arc<dyn Fn() + Send + Sync>) -> BakeJob {
        let progress = Arc::new(Mutex::new(0.0));
        let cancel = Arc::new(AtomicBool::new(false));
        let (sender, result) = channel();
        let (progress_w, cancel_w) = (progress.clone(), cancel.clone());
        std::thread::Builder::new()
            .name("bake".into())
            .spawn(move || {
                let outcome = bake(&field, BAKE_VOXELS, &cancel_w, &mut |p| {
                    if let Ok(mut slot) = progress_w.lock() {
                        *slot = p;
                    }
                    notify();
                });
                let _ = sender.send(outcome);
                notify();
            })
            .expect("spawning the baking thread");
        BakeJob {
            field: id,
            progress,
            cancel,
            result,
        }
    }

    /// Fraction done.
    pub fn progress(&self) -> f32 {
        self.progress.lock().map_or(0.0, |p| *p)
    }

    /// Ask the bake to stop before its next slab.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The outcome, once the bake has finished.
    pub fn poll(&self) -> Option<Result<Volume, BakeError>> {
        self.result.try_recv().ok()
    }
}

//! Fitting a neural field on a worker thread: progress and PSNR for the UI, cancel, the result.

use std::sync::Arc;

use cortexlens_data::Volume;
use cortexlens_data::field::NeuralField;
use cortexlens_inference::{FitConfig, FitError, FitProgress, device, device_name, fit};

use crate::worker::Worker;

/// A fit running in the background.
pub struct FitJob {
    /// Name of the volume being fitted.
    pub name: String,
    worker: Worker<FitProgress, Result<NeuralField, FitError>>,
    device_name: String,
}

impl FitJob {
    /// Start fitting frame `frame` of `volume`; `notify` wakes the UI after each progress report.
    pub fn start(
        name: String,
        volume: Arc<Volume>,
        frame: usize,
        config: FitConfig,
        notify: Arc<dyn Fn() + Send + Sync>,
    ) -> FitJob {
        let device = device();
        let device_name = device_name(&device);
        let worker = Worker::spawn("fit", notify, move |report, cancel| {
            fit(&volume, frame, &config, &device, cancel, &mut |p| report(p.clone()))
        });
        FitJob {
            name,
            worker,
            device_name,
        }
    }

    /// The latest progress report.
    pub fn progress(&self) -> Option<FitProgress> {
        self.worker.progress()
    }

    /// Ask the fit to stop before its next step.
    pub fn cancel(&self) {
        self.worker.cancel();
    }

    /// The outcome, once the fit has finished.
    pub fn poll(&self) -> Option<Result<NeuralField, FitError>> {
        self.worker.poll()
    }

    /// Where the fit runs ("CPU", "CUDA 0").
    pub fn device_name(&self) -> &str {
        &self.device_name
    }
}

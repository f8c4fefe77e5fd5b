//! Fitting a neural field on a worker thread: progress and PSNR for the UI, cancel, the result.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};

use cortexlens_data::Volume;
use cortexlens_data::field::NeuralField;
use cortexlens_inference::{FitConfig, FitError, FitProgress, device, device_name, fit};

/// A fit running in the background.
pub struct FitJob {
    /// Name of the volume being fitted.
    pub name: String,
    progress: Arc<Mutex<Option<FitProgress>>>,
    cancel: Arc<AtomicBool>,
    result: Receiver<Result<NeuralField, FitError>>,
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
        let progress = Arc::new(Mutex::new(None));
        let cancel = Arc::new(AtomicBool::new(false));
        let (sender, result) = channel();
        let (progress_w, cancel_w) = (progress.clone(), cancel.clone());
        std::thread::Builder::new()
            .name("fit".into())
            .spawn(move || {
                let outcome = fit(&volume, frame, &config, &device, &cancel_w, &mut |p| {
                    if let Ok(mut slot) = progress_w.lock() {
                        *slot = Some(p.clone());
                    }
                    notify();
                });
                let _ = sender.send(outcome);
                notify();
            })
            .expect("spawning the fitting thread");
        FitJob {
            name,
            progress,
            cancel,
            result,
            device_name,
        }
    }

    /// The latest progress report.
    pub fn progress(&self) -> Option<FitProgress> {
        self.progress.lock().ok().and_then(|p| p.clone())
    }

    /// Ask the fit to stop before its next step.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The outcome, once the fit has finished.
    pub fn poll(&self) -> Option<Result<NeuralField, FitError>> {
        self.result.try_recv().ok()
    }

    /// Where the fit runs ("CPU", "CUDA 0").
    pub fn device_name(&self) -> &str {
        &self.device_name
    }
}

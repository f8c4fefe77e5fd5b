//! GPU trouble as messages, not crashes: wgpu's errors that no error scope caught (a validation
//! error, an out-of-memory) and the loss of the device are recorded here instead of aborting, and
//! the window shows them; after a loss the views are no longer drawn and the rest keeps working.

use std::sync::{Arc, Mutex};

/// What the device reported, shared with its callbacks.
#[derive(Clone, Default)]
pub struct GpuHealth {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    errors: Vec<String>,
    lost: Option<String>,
}

impl GpuHealth {
    /// Records `device`'s uncaptured errors and its loss from now on.
    pub fn watch(device: &wgpu::Device) -> GpuHealth {
        let health = GpuHealth::default();
        let errors = health.clone();
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            tracing::error!("GPU error: {error}");
            errors.with(|s| s.errors.push(error.to_string()));
        }));
        let lost = health.clone();
        device.set_device_lost_callback(move |reason, message| {
            tracing::error!("GPU device lost ({reason:?}): {message}");
            lost.with(|s| s.lost = Some(format!("{reason:?}: {message}")));
        });
        health
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut state)
    }

    /// The errors reported since the last call, each once.
    pub fn take_errors(&self) -> Vec<String> {
        let mut errors = self.with(|s| std::mem::take(&mut s.errors));
        errors.dedup();
        errors
    }

    /// Why the device was lost, once it was.
    pub fn lost(&self) -> Option<String> {
        self.with(|s| s.lost.clone())
    }
}

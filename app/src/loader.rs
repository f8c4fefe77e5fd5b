//! Loading files off the UI thread, as a stream of messages (brush's pattern).
//!
//! Each request runs on its own worker thread, which sends [`LoadEvent`]s and wakes the UI
//! through a notifier after every message, so the UI never blocks and never polls in a loop.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use cortexlens_data::field::{NeuralField, is_field_path, load_field_with_progress};
use cortexlens_data::formats::{LabelNames, sidecar_label_names};
use cortexlens_data::{LoadError, Loaded, Volume, load_path};

/// What a file held: volume or surface data, or a neural-field scene.
#[derive(Debug)]
// One value per loaded file: the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Opened {
    /// A volume or a surface file.
    Data(Loaded),
    /// A `.nfield` scene or an instant-ngp snapshot.
    Field(NeuralField),
    /// A segmentation with the label names of its BIDS sidecar (`NAME.tsv`), or why they could
    /// not be read.
    Labelled(Volume, Result<LabelNames, LoadError>),
}

/// Identifies one load request; ids increase in request order.
pub type JobId = u64;

/// A message from a loading worker.
#[derive(Debug)]
pub enum LoadEvent {
    /// Fraction read so far, 0..=1.
    Progress {
        /// The request.
        job: JobId,
        /// Fraction done.
        fraction: f32,
    },
    /// The file was read, or could not be.
    Finished {
        /// The request.
        job: JobId,
        /// The file.
        path: PathBuf,
        /// Its contents, or why not (boxed: a volume header is large next to a progress tick).
        result: Box<Result<Opened, LoadError>>,
    },
}

/// A request still running.
#[derive(Clone, Debug)]
pub struct PendingLoad {
    /// The file.
    pub path: PathBuf,
    /// Fraction done, 0..=1.
    pub fraction: f32,
}

/// Starts loads and collects their messages.
pub struct Loader {
    sender: Sender<LoadEvent>,
    receiver: Receiver<LoadEvent>,
    notify: Arc<dyn Fn() + Send + Sync>,
    next_job: JobId,
    pending: BTreeMap<JobId, PendingLoad>,
}

impl Loader {
    /// A loader that calls `notify` (e.g. `egui::Context::request_repaint`) after each message.
    pub fn new(notify: Arc<dyn Fn() + Send + Sync>) -> Loader {
        let (sender, receiver) = channel();
        Loader {
            sender,
            receiver,
            notify,
            next_job: 1,
            pending: BTreeMap::new(),
        }
    }

    /// Start loading `path` on a worker thread.
    pub fn request(&mut self, path: &Path) -> JobId {
        let job = self.next_job;
        self.next_job += 1;
        self.pending.insert(
            job,
            PendingLoad {
                path: path.to_path_buf(),
                fraction: 0.0,
            },
        );
        let sender = self.sender.clone();
        let notify = self.notify.clone();
        let path = path.to_path_buf();
        std::thread::Builder::new()
            .name(format!("load-{job}"))
            .spawn(move || {
                let mut last = 0.0f32;
                let mut report = |fraction: f32| {
                    if fraction - last >= 0.01 {
                        last = fraction;
                        let _ = sender.send(LoadEvent::Progress { job, fraction });
                        notify();
                    }
                };
                let result = if is_field_path(&path) {
                    load_field_with_progress(&path, &mut report)
                        .map(Opened::Field)
                        .map_err(LoadError::from)
                } else {
                    load_path(&path, &mut report).map(|loaded| match loaded {
                        Loaded::Volume(volume) => match sidecar_label_names(&path) {
                            Some(names) => Opened::Labelled(volume, names),
                            None => Opened::Data(Loaded::Volume(volume)),
                        },
                        surface => Opened::Data(surface),
                    })
                };
                let _ = sender.send(LoadEvent::Finished {
                    job,
                    path,
                    result: Box::new(result),
                });
                notify();
            })
            .expect("spawning a loader thread");
        job
    }

    /// Messages received since the last call; updates [`Loader::pending`].
    pub fn drain(&mut self) -> Vec<LoadEvent> {
        let events: Vec<LoadEvent> = self.receiver.try_iter().collect();
        for event in &events {
            match event {
                LoadEvent::Progress { job, fraction } => {
                    if let Some(p) = self.pending.get_mut(job) {
                        p.fraction = *fraction;
                    }
                }
                LoadEvent::Finished { job, .. } => {
                    self.pending.remove(job);
                }
            }
        }
        events
    }

    /// Loads still running, in request order.
    pub fn pending(&self) -> impl Iterator<Item = (&JobId, &PendingLoad)> {
        self.pending.iter()
    }

    /// Whether any load is still running.
    pub fn is_busy(&self) -> bool {
        !self.pending.is_empty()
    }
}

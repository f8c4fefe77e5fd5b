//! One job stream (brush's message stream): every background task — reading a file, fitting a
//! neural field, baking one, captioning, fitting an encoder, downloading a model — runs on its own
//! thread and sends typed [`Progress`] reports and one [`Finished`] outcome into one channel,
//! which the window drains once per frame ([`Jobs::drain`]). A finished job is
//! `Result<Outcome, JobError>`, with one [`JobError::Cancelled`] case for every kind of job.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

use cortexlens_data::Volume;
use cortexlens_data::field::NeuralField;
use cortexlens_inference::FitProgress;
use cortexlens_inference::brainscuba::Stage;
use cortexlens_inference::hub::DownloadProgress;

use crate::captioning::CaptionOutcome;
use crate::encoder_fitting::EncoderFitOutcome;
use crate::loader::FileContents;
use crate::viewer::FieldId;

/// Identifies a job; ids increase in the order jobs were started.
pub type JobId = u64;

/// A job's latest progress report.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// Fraction done, 0..=1 (reading a file, baking a field).
    Fraction(f32),
    /// A neural-field fit's step and PSNR.
    FieldFit(FitProgress),
    /// Captioning: the stage, and `done` of `total` in it.
    Caption(Stage, usize, usize),
    /// An encoder fit: images embedded so far, out of all (the ridge fit follows the last).
    Embedding(usize, usize),
    /// A model download's file and bytes.
    Download(DownloadProgress),
    /// Preferred images: the `index`-th of `count` (seed `seed`) at step `step` of `steps`, with a
    /// preview of the clean image now and then.
    Synthesis {
        /// The image's seed.
        seed: u64,
        /// Its place in the run.
        index: usize,
        /// Images in the run.
        count: usize,
        /// Steps done.
        step: usize,
        /// Steps in all.
        steps: usize,
        /// The decoded clean-latent estimate, when this step has one.
        preview: Option<Arc<image::RgbImage>>,
    },
}

/// What a job produced.
#[derive(Debug)]
pub enum Outcome {
    /// A file was read (the window opens it in request order).
    Read {
        /// The file.
        path: PathBuf,
        /// Its contents.
        contents: Box<FileContents>,
    },
    /// A neural field was fitted to a layer.
    FieldFitted {
        /// The fitted field.
        field: Arc<NeuralField>,
        /// The PSNR of the last validation, in dB.
        psnr: Option<f32>,
    },
    /// A neural field was baked into a voxel grid.
    Baked {
        /// The field.
        field: FieldId,
        /// Its grid.
        grid: Arc<Volume>,
    },
    /// Captions of a voxel or a region.
    Captioned(Arc<CaptionOutcome>),
    /// An encoder was fitted and saved with its maps.
    EncoderFitted(EncoderFitOutcome),
    /// Preferred images were made (the panel that started the run has them).
    Synthesized {
        /// How many.
        images: usize,
    },
    /// A model's files are in the cache.
    Downloaded {
        /// The repository.
        repo: String,
        /// Its snapshot folder.
        folder: PathBuf,
    },
}

/// Why a job ended without an outcome.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The user cancelled it.
    #[error("cancelled")]
    Cancelled,
    /// It failed; the error names what.
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

impl JobError {
    /// A failure with a typed error. (A job that fails after its cancel flag was set finishes as
    /// [`JobError::Cancelled`], whatever its error: see [`Jobs::start`].)
    pub fn failed(error: impl std::error::Error + Send + Sync + 'static) -> JobError {
        JobError::Failed(Box::new(error))
    }

    /// A failure described by a message.
    pub fn message(text: impl Into<String>) -> JobError {
        JobError::Failed(Box::new(MessageError(text.into())))
    }
}

/// A failure that only has a message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct MessageError(String);

/// A job that has finished.
#[derive(Debug)]
pub struct Finished {
    /// The job.
    pub id: JobId,
    /// What it was doing, for messages ("Fitting an encoder to bold.nii.gz").
    pub label: String,
    /// What it produced, or why not.
    pub result: Result<Outcome, JobError>,
}

/// What a job thread sends.
enum Event {
    Progress(JobId, Progress),
    Finished(JobId, Result<Outcome, JobError>),
}

/// A running job's state as the UI sees it.
struct Running {
    label: String,
    cancel: Arc<AtomicBool>,
    progress: Option<Progress>,
}

/// A job's side of the stream: report progress, read the cancel flag.
pub struct Reporter {
    id: JobId,
    sender: Sender<Event>,
    wake: Arc<dyn Fn() + Send + Sync>,
    cancel: Arc<AtomicBool>,
}

impl Reporter {
    /// Send a progress report and wake the UI.
    pub fn report(&self, progress: Progress) {
        let _ = self.sender.send(Event::Progress(self.id, progress));
        (self.wake)();
    }

    /// Wake the UI (after handing it something through shared state).
    pub fn wake(&self) {
        (self.wake)();
    }

    /// The cancel flag, for tasks that read it at their own pace.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }
}

/// The job stream: starts jobs, keeps their latest progress, hands out finished ones.
pub struct Jobs {
    sender: Sender<Event>,
    receiver: Receiver<Event>,
    wake: Arc<dyn Fn() + Send + Sync>,
    next: JobId,
    running: BTreeMap<JobId, Running>,
}

impl Jobs {
    /// A stream whose jobs call `wake` (e.g. `egui::Context::request_repaint`) after each message.
    pub fn new(wake: Arc<dyn Fn() + Send + Sync>) -> Jobs {
        let (sender, receiver) = channel();
        Jobs {
            sender,
            receiver,
            wake,
            next: 1,
            running: BTreeMap::new(),
        }
    }

    /// Download `files` of the Hugging Face repository `repo` into `hub`'s cache:
    /// [`Progress::Download`] while it runs, [`Outcome::Downloaded`] with its folder at the end.
    pub fn start_download(&mut self, hub: cortexlens_inference::hub::Hub, repo: String, files: Vec<String>) -> JobId {
        self.start(format!("Downloading {repo}"), move |reporter| {
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            let folder = hub
                .download(
                    &repo,
                    &files,
                    &mut |p| reporter.report(Progress::Download(p.clone())),
                    reporter.cancel_flag(),
                )
                .map_err(JobError::failed)?;
            Ok(Outcome::Downloaded { repo, folder })
        })
    }

    /// Run `task` on its own thread; `label` says what it does in progress bars and messages.
    /// A task that returns an error after [`Jobs::cancel`] finishes as [`JobError::Cancelled`]
    /// (each domain's own "cancelled" error included), so every kind of job reads the same.
    pub fn start(
        &mut self,
        label: impl Into<String>,
        task: impl FnOnce(&Reporter) -> Result<Outcome, JobError> + Send + 'static,
    ) -> JobId {
        let id = self.next;
        self.next += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        let reporter = Reporter {
            id,
            sender: self.sender.clone(),
            wake: self.wake.clone(),
            cancel: cancel.clone(),
        };
        let label = label.into();
        std::thread::Builder::new()
            .name(format!("job-{id}"))
            .spawn(move || {
                let result = task(&reporter).map_err(|error| {
                    if reporter.cancel.load(Ordering::Relaxed) {
                        JobError::Cancelled
                    } else {
                        error
                    }
                });
                let _ = reporter.sender.send(Event::Finished(id, result));
                (reporter.wake)();
            })
            .expect("spawning a job thread");
        self.running.insert(
            id,
            Running {
                label,
                cancel,
                progress: None,
            },
        );
        id
    }

    /// Ask a job to stop (it reads the flag at its own pace and finishes with [`JobError::Cancelled`]).
    pub fn cancel(&self, id: JobId) {
        if let Some(job) = self.running.get(&id) {
            job.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// Whether a job is still running.
    pub fn is_running(&self, id: JobId) -> bool {
        self.running.contains_key(&id)
    }

    /// Whether any job is running.
    pub fn is_busy(&self) -> bool {
        !self.running.is_empty()
    }

    /// A running job's latest progress.
    pub fn progress(&self, id: JobId) -> Option<&Progress> {
        self.running.get(&id)?.progress.as_ref()
    }

    /// A running job's label.
    pub fn label(&self, id: JobId) -> Option<&str> {
        self.running.get(&id).map(|job| job.label.as_str())
    }

    /// What arrived since the last call: progress is kept for [`Jobs::progress`]; finished jobs are
    /// returned in the order they finished.
    pub fn drain(&mut self) -> Vec<Finished> {
        let mut finished = Vec::new();
        for event in self.receiver.try_iter() {
            match event {
                Event::Progress(id, progress) => {
                    if let Some(job) = self.running.get_mut(&id) {
                        job.progress = Some(progress);
                    }
                }
                Event::Finished(id, result) => {
                    let label = self.running.remove(&id).map(|job| job.label).unwrap_or_default();
                    finished.push(Finished { id, label, result });
                }
            }
        }
        finished
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    fn wait(jobs: &mut Jobs) -> Vec<Finished> {
        let start = Instant::now();
        let mut done = Vec::new();
        while jobs.is_busy() {
            assert!(start.elapsed() < Duration::from_secs(60), "the job did not finish");
            std::thread::sleep(Duration::from_millis(1));
            done.extend(jobs.drain());
        }
        done
    }

    #[test]
    fn reports_progress_finishes_and_cancels() {
        let woken = Arc::new(Mutex::new(0));
        let counter = woken.clone();
        let mut jobs = Jobs::new(Arc::new(move || *counter.lock().unwrap() += 1));
        let (go, wait_go) = channel::<()>();
        let id = jobs.start("Baking", move |reporter| {
            for i in 1..=3 {
                reporter.report(Progress::Fraction(i as f32 / 4.0));
            }
            wait_go.recv().unwrap();
            Err(JobError::message("no"))
        });
        assert_eq!(jobs.label(id), Some("Baking"));
        while jobs.progress(id) != Some(&Progress::Fraction(0.75)) {
            jobs.drain();
        }
        go.send(()).unwrap();
        let done = wait(&mut jobs);
        assert!(
            matches!(&done[..], [Finished { label, result: Err(e), .. }] if label == "Baking" && e.to_string() == "no")
        );
        assert_eq!(*woken.lock().unwrap(), 4, "after each report and at the end");
        assert!(!jobs.is_running(id));

        let (go, wait_go) = channel::<()>();
        let id = jobs.start("Waiting", move |reporter| {
            wait_go.recv().unwrap();
            assert!(reporter.cancel_flag().load(Ordering::Relaxed));
            Err(JobError::message("stopped"))
        });
        jobs.cancel(id);
        go.send(()).unwrap();
        let done = wait(&mut jobs);
        assert!(matches!(done[0].result, Err(JobError::Cancelled)));
    }
}

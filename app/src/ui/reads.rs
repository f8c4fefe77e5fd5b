//! Files the window reads as jobs, opened in the order they were asked for: a read that finishes
//! early waits for the requests before it, so the first requested volume is the base.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::jobs::{Finished, JobError, JobId, Jobs, Outcome, Progress};
use crate::loader::{FileContents, read_file};

/// A read that finished: the file and what it held, or why not.
pub type ReadResult = (JobId, PathBuf, Result<Box<FileContents>, JobError>);

/// Reads asked for and not opened yet.
#[derive(Default)]
pub struct Reads {
    /// Running, in request order.
    running: BTreeMap<JobId, PathBuf>,
    /// Finished, waiting for earlier requests.
    finished: BTreeMap<JobId, ReadResult>,
}

impl Reads {
    /// Start reading `path` as a job.
    pub fn request(&mut self, jobs: &mut Jobs, path: &Path) -> JobId {
        let name = path
            .file_name()
            .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let owned = path.to_path_buf();
        let job = jobs.start(format!("Opening {name}"), move |reporter| {
            let mut last = 0.0f32;
            let contents = read_file(&owned, &mut |fraction| {
                if fraction - last >= 0.01 {
                    last = fraction;
                    reporter.report(Progress::Fraction(fraction));
                }
            })
            .map_err(JobError::failed)?;
            Ok(Outcome::Read {
                path: owned,
                contents: Box::new(contents),
            })
        });
        self.running.insert(job, path.to_path_buf());
        job
    }

    /// Keep a finished job when it is one of these reads; hand any other back.
    pub fn take(&mut self, finished: Finished) -> Option<Finished> {
        let Some(path) = self.running.remove(&finished.id) else {
            return Some(finished);
        };
        let result = match finished.result {
            Ok(Outcome::Read { contents, .. }) => Ok(contents),
            Ok(_) => Err(JobError::message("the read produced no file contents")),
            Err(error) => Err(error),
        };
        self.finished.insert(finished.id, (finished.id, path, result));
        None
    }

    /// Finished reads whose earlier requests are all finished, in request order.
    pub fn ready(&mut self) -> Vec<ReadResult> {
        let first_running = self.running.keys().next().copied().unwrap_or(JobId::MAX);
        let mut ready = Vec::new();
        while let Some(entry) = self.finished.first_entry() {
            if *entry.key() > first_running {
                break;
            }
            ready.push(entry.remove());
        }
        ready
    }

    /// Reads still running, in request order.
    pub fn running(&self) -> impl Iterator<Item = (JobId, &Path)> {
        self.running.iter().map(|(job, path)| (*job, path.as_path()))
    }

    /// Whether reads are running or waiting to be opened.
    pub fn is_busy(&self) -> bool {
        !self.running.is_empty() || !self.finished.is_empty()
    }
}

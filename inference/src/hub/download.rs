//! Downloading a repository's missing files into the Hugging Face cache with hf-hub, reporting
//! bytes as they arrive and stopping mid-file when cancelled.
//!
//! hf-hub's blocking API has no cancel: its only hook inside a transfer is the [`Progress`] it calls
//! after every read. A cancelled download therefore unwinds out of that call with
//! [`std::panic::resume_unwind`] (which runs no panic hook) and is caught around the transfer, here.
//! hf-hub's lock on the file is released as the unwind drops it, and the partial `.part` file stays
//! in the cache, so the next download resumes where this one stopped.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use hf_hub::api::Progress;
use hf_hub::api::sync::ApiBuilder;

use super::{Hub, HubError};

/// Where a download is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadProgress {
    /// The file arriving.
    pub file: String,
    /// Its place among the files to fetch (0-based).
    pub index: usize,
    /// How many files are fetched.
    pub count: usize,
    /// Bytes of this file on disk so far.
    pub bytes: u64,
    /// Its size in bytes.
    pub size: u64,
}

/// The unwind payload that stops a transfer.
struct Cancelled;

/// Forwards hf-hub's byte counts to the caller and stops the transfer when cancelled.
struct Reporter<'a> {
    progress: DownloadProgress,
    report: &'a mut dyn FnMut(&DownloadProgress),
    cancel: &'a AtomicBool,
}

impl Progress for Reporter<'_> {
    fn init(&mut self, size: usize, _filename: &str) {
        self.progress.size = size as u64;
        self.progress.bytes = 0;
        (self.report)(&self.progress);
    }

    fn update(&mut self, bytes: usize) {
        if self.cancel.load(Ordering::Relaxed) {
            resume_unwind(Box::new(Cancelled));
        }
        self.progress.bytes += bytes as u64;
        (self.report)(&self.progress);
    }

    fn finish(&mut self) {}
}

impl Hub {
    /// Fetch the files of repository `repo` missing from the cache (those present are not fetched
    /// again), one after the other, calling `report` as bytes arrive; returns the snapshot folder.
    /// Setting `cancel` stops the transfer within one read ([`HubError::Cancelled`]).
    pub fn download(
        &self,
        repo: &str,
        files: &[&str],
        report: &mut dyn FnMut(&DownloadProgress),
        cancel: &AtomicBool,
    ) -> Result<PathBuf, HubError> {
        let missing = self.missing(repo, files)?;
        let failed = |file: &str, message: String| HubError::Download {
            repo: repo.to_owned(),
            file: file.to_owned(),
            message,
        };
        if let Some(first) = missing.first() {
            let api = ApiBuilder::from_cache(self.cache())
                .with_endpoint(self.endpoint.clone())
                .with_progress(false)
                .build()
                .map_err(|e| failed(first, e.to_string()))?;
            let api_repo = api.model(repo.to_owned());
            for (index, file) in missing.iter().enumerate() {
                if cancel.load(Ordering::Relaxed) {
                    return Err(HubError::Cancelled);
                }
                let reporter = Reporter {
                    progress: DownloadProgress {
                        file: file.clone(),
                        index,
                        count: missing.len(),
                        bytes: 0,
                        size: 0,
                    },
                    report: &mut *report,
                    cancel,
                };
                match catch_unwind(AssertUnwindSafe(|| api_repo.download_with_progress(file, reporter))) {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return Err(failed(file, e.to_string())),
                    Err(payload) if payload.is::<Cancelled>() => return Err(HubError::Cancelled),
                    Err(payload) => resume_unwind(payload),
                }
            }
        }
        self.locate(repo, files)
    }
}

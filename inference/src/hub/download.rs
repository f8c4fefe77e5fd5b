//! Downloading a repository's missing files into the Hugging Face cache with hf-hub, reporting
//! bytes as they arrive and stopping mid-file when cancelled.
//!
//! hf-hub's blocking API has no cancel and no read timeout: its only hook inside a transfer is the
//! [`Progress`] it calls after every read. So the transfer runs on its own thread, and a cancelled
//! download returns at once, even when the connection has stalled; the transfer thread stops at its
//! next read by unwinding out of that call with [`std::panic::resume_unwind`] (which runs no panic
//! hook), caught around the transfer. hf-hub's lock on the file is released as the unwind drops
//! it, and the partial `.part` file stays in the cache, so the next download resumes where this one
//! stopped (it waits for the lock if the stopped transfer still holds it).

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

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

/// What the transfer thread tells the caller's thread.
enum Event {
    Progress(DownloadProgress),
    Done(Result<(), HubError>),
}

/// How often a waiting download looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

impl Hub {
    /// Fetch the files of repository `repo` missing from the cache (those present are not fetched
    /// again), one after the other, calling `report` as bytes arrive; returns the snapshot folder.
    /// Setting `cancel` returns [`HubError::Cancelled`] within 50 ms, stalled connection or not.
    pub fn download(
        &self,
        repo: &str,
        files: &[&str],
        report: &mut dyn FnMut(&DownloadProgress),
        cancel: &AtomicBool,
    ) -> Result<PathBuf, HubError> {
        let missing = self.missing(repo, files)?;
        if !missing.is_empty() {
            let (sender, events) = channel();
            let stop = Arc::new(AtomicBool::new(false));
            let (hub, name, transfer_stop) = (self.clone(), repo.to_owned(), stop.clone());
            std::thread::Builder::new()
                .name("hub-download".into())
                .spawn(move || {
                    let progress = sender.clone();
                    let mut forward = |p: &DownloadProgress| {
                        let _ = progress.send(Event::Progress(p.clone()));
                    };
                    let result = hub.transfer(&name, &missing, &mut forward, &transfer_stop);
                    let _ = sender.send(Event::Done(result));
                })
                .map_err(|e| HubError::Download {
                    repo: repo.to_owned(),
                    file: files.first().map_or(String::new(), |f| f.to_string()),
                    message: format!("starting the download thread: {e}"),
                })?;
            loop {
                if cancel.load(Ordering::Relaxed) {
                    stop.store(true, Ordering::Relaxed);
                    return Err(HubError::Cancelled);
                }
                match events.recv_timeout(CANCEL_POLL) {
                    Ok(Event::Progress(p)) => report(&p),
                    Ok(Event::Done(result)) => break result?,
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => {
                        return Err(HubError::Download {
                            repo: repo.to_owned(),
                            file: String::new(),
                            message: "the download thread stopped unexpectedly".into(),
                        });
                    }
                }
            }
        }
        self.locate(repo, files)
    }

    /// Fetch `missing` of `repo` one after the other on this thread, stopping within one read once
    /// `stop` is set.
    fn transfer(
        &self,
        repo: &str,
        missing: &[String],
        report: &mut dyn FnMut(&DownloadProgress),
        stop: &AtomicBool,
    ) -> Result<(), HubError> {
        let failed = |file: &str, message: String| HubError::Download {
            repo: repo.to_owned(),
            file: file.to_owned(),
            message,
        };
        let Some(first) = missing.first() else {
            return Ok(());
        };
        let api = ApiBuilder::from_cache(self.cache())
            .with_endpoint(self.endpoint.clone())
            .with_progress(false)
            .build()
            .map_err(|e| failed(first, e.to_string()))?;
        let api_repo = api.model(repo.to_owned());
        for (index, file) in missing.iter().enumerate() {
            if stop.load(Ordering::Relaxed) {
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
                cancel: stop,
            };
            match catch_unwind(AssertUnwindSafe(|| api_repo.download_with_progress(file, reporter))) {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(failed(file, e.to_string())),
                Err(payload) if payload.is::<Cancelled>() => return Err(HubError::Cancelled),
                Err(payload) => resume_unwind(payload),
            }
        }
        Ok(())
    }
}

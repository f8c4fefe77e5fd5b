//! Downloading a model's missing files from the Hugging Face hub into its cache, on a worker with
//! progress and cancel, for models named by repository id (CLIP for encoder fits).

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use cortexlens_inference::hub::{DownloadProgress, Hub, HubError};

use crate::worker::Worker;

/// A download running in the background.
pub struct ModelDownloadJob {
    /// The repository being fetched.
    pub repo: String,
    worker: Worker<DownloadProgress, Result<PathBuf, HubError>>,
    /// When the current file was first seen arriving, and its bytes then (for the rate).
    rate_start: RefCell<Option<(Instant, String, u64)>>,
}

impl ModelDownloadJob {
    /// Start fetching the `files` of `repo` missing from `hub`'s cache; `notify` wakes the UI.
    pub fn start(hub: Hub, repo: String, files: Vec<String>, notify: Arc<dyn Fn() + Send + Sync>) -> ModelDownloadJob {
        let name = repo.clone();
        let worker = Worker::spawn("model-download", notify, move |report, cancel| {
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            hub.download(&name, &files, &mut |p| report(p.clone()), cancel)
        });
        ModelDownloadJob {
            repo,
            worker,
            rate_start: RefCell::new(None),
        }
    }

    /// The latest progress report.
    pub fn progress(&self) -> Option<DownloadProgress> {
        self.worker.progress()
    }

    /// The latest progress report and the current file's rate in bytes per second since this was
    /// first asked about it (none before a second has passed).
    pub fn progress_and_rate(&self) -> Option<(DownloadProgress, Option<f64>)> {
        let progress = self.worker.progress()?;
        let mut start = self.rate_start.borrow_mut();
        let same_file =
            matches!(&*start, Some((_, file, bytes0)) if *file == progress.file && progress.bytes >= *bytes0);
        if !same_file {
            *start = Some((Instant::now(), progress.file.clone(), progress.bytes));
        }
        let (since, _, bytes0) = start.as_ref()?;
        let seconds = since.elapsed().as_secs_f64();
        let rate = (seconds >= 1.0).then(|| (progress.bytes - bytes0) as f64 / seconds);
        Some((progress, rate))
    }

    /// Stop the transfer (what arrived stays in the cache; the next download resumes it).
    pub fn cancel(&self) {
        self.worker.cancel();
    }

    /// The outcome, once finished: the snapshot folder, or why there is none.
    pub fn poll(&self) -> Option<Result<PathBuf, HubError>> {
        self.worker.poll()
    }
}

/// A progress report as the UI shows it, "model.safetensors (2/2): 120.5 / 605.2 MB", followed by
/// ", 12.0 MB/s, 40 s left" when the rate (bytes per second) is known; and the fraction of the file
/// done.
pub fn describe(progress: &DownloadProgress, rate: Option<f64>) -> (String, f32) {
    let mb = |bytes: f64| bytes / 1e6;
    let fraction = if progress.size > 0 {
        (progress.bytes as f64 / progress.size as f64) as f32
    } else {
        0.0
    };
    let mut text = format!(
        "{} ({}/{}): {:.1} / {:.1} MB",
        progress.file,
        progress.index + 1,
        progress.count,
        mb(progress.bytes as f64),
        mb(progress.size as f64)
    );
    if let Some(rate) = rate.filter(|r| *r > 0.0) {
        let left = progress.size.saturating_sub(progress.bytes) as f64 / rate;
        text += &format!(", {:.1} MB/s, {:.0} s left", mb(rate), left.ceil());
    }
    (text, fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_as_file_count_and_megabytes() {
        let progress = DownloadProgress {
            file: "model.safetensors".into(),
            index: 1,
            count: 2,
            bytes: 120_500_000,
            size: 605_200_000,
        };
        let (text, fraction) = describe(&progress, None);
        assert_eq!(text, "model.safetensors (2/2): 120.5 / 605.2 MB");
        assert!((fraction - 0.19911).abs() < 1e-4);
        let (text, _) = describe(&progress, Some(12e6));
        assert_eq!(text, "model.safetensors (2/2): 120.5 / 605.2 MB, 12.0 MB/s, 41 s left");
        assert_eq!(describe(&DownloadProgress { size: 0, ..progress }, None).1, 0.0);
    }
}

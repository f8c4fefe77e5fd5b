//! Downloading a model's missing files from the Hugging Face hub into its cache, on a worker with
//! progress and cancel, for models named by repository id (CLIP for encoder fits).

use std::path::PathBuf;
use std::sync::Arc;

use cortexlens_inference::hub::{DownloadProgress, Hub, HubError};

use crate::worker::Worker;

/// A download running in the background.
pub struct ModelDownloadJob {
    /// The repository being fetched.
    pub repo: String,
    worker: Worker<DownloadProgress, Result<PathBuf, HubError>>,
}

impl ModelDownloadJob {
    /// Start fetching the `files` of `repo` missing from `hub`'s cache; `notify` wakes the UI.
    pub fn start(hub: Hub, repo: String, files: Vec<String>, notify: Arc<dyn Fn() + Send + Sync>) -> ModelDownloadJob {
        let name = repo.clone();
        let worker = Worker::spawn("model-download", notify, move |report, cancel| {
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            hub.download(&name, &files, &mut |p| report(p.clone()), cancel)
        });
        ModelDownloadJob { repo, worker }
    }

    /// The latest progress report.
    pub fn progress(&self) -> Option<DownloadProgress> {
        self.worker.progress()
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

/// A progress report as the UI shows it: "model.safetensors (2/2): 120.5 / 605.2 MB" and the
/// fraction of the file done.
pub fn describe(progress: &DownloadProgress) -> (String, f32) {
    let mb = |bytes: u64| bytes as f64 / 1e6;
    let fraction = if progress.size > 0 {
        (progress.bytes as f64 / progress.size as f64) as f32
    } else {
        0.0
    };
    (
        format!(
            "{} ({}/{}): {:.1} / {:.1} MB",
            progress.file,
            progress.index + 1,
            progress.count,
            mb(progress.bytes),
            mb(progress.size)
        ),
        fraction,
    )
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
        let (text, fraction) = describe(&progress);
        assert_eq!(text, "model.safetensors (2/2): 120.5 / 605.2 MB");
        assert!((fraction - 0.19911).abs() < 1e-4);
        assert_eq!(describe(&DownloadProgress { size: 0, ..progress }).1, 0.0);
    }
}

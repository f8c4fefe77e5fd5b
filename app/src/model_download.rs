//! How a model download reads in the UI: the file, megabytes, rate and time left. The download
//! itself is [`cortexlens_inference::hub::Hub::download`], run as a job by the encoder-fit panel and
//! directly by `cortexlens encoder fit --download`.

use std::time::Instant;

use cortexlens_inference::hub::DownloadProgress;

/// Measures a download's rate: bytes of the current file since it was first seen arriving.
#[derive(Debug, Default)]
pub struct RateMeter {
    start: Option<(Instant, String, u64)>,
}

impl RateMeter {
    /// The current file's rate in bytes per second since this meter first saw it (none before a
    /// second has passed).
    pub fn rate(&mut self, progress: &DownloadProgress) -> Option<f64> {
        let same_file =
            matches!(&self.start, Some((_, file, bytes0)) if *file == progress.file && progress.bytes >= *bytes0);
        if !same_file {
            self.start = Some((Instant::now(), progress.file.clone(), progress.bytes));
        }
        let (since, _, bytes0) = self.start.as_ref()?;
        let seconds = since.elapsed().as_secs_f64();
        (seconds >= 1.0).then(|| (progress.bytes - bytes0) as f64 / seconds)
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

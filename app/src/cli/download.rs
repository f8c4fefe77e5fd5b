//! Model downloads on the command line: missing files fetched into the Hugging Face cache with a
//! terminal progress bar.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use cortexlens_inference::hub::{Hub, HubError};
use indicatif::{ProgressBar, ProgressStyle};

use super::CliError;

/// Download `files` of the repository `spec` (those not cached yet) and return its snapshot folder;
/// a failed transfer is a failure, anything else (a bad id, no cache) bad input.
pub(super) fn download_with_bar(hub: &Hub, spec: &str, files: &[&str]) -> Result<PathBuf, CliError> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let folder = hub.download(
        spec,
        files,
        &mut |p| {
            bar.set_message(format!("{} ({}/{})", p.file, p.index + 1, p.count));
            bar.set_length(p.size);
            bar.set_position(p.bytes);
        },
        &AtomicBool::new(false),
    );
    bar.finish_and_clear();
    folder.map_err(|e| match e {
        HubError::Download { .. } => CliError::failure(e),
        e => CliError::bad_input(e),
    })
}

//! The command line: open files in the window, `info`, `render`.

mod caption;
mod clusters;
mod download;
mod encoder;
mod fit;
mod info;
mod isosurface;
mod layer_options;
mod project;
mod render;
mod synthesize;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use caption::CaptionArgs;
pub use clusters::ClustersArgs;
pub use encoder::EncoderArgs;
pub use fit::FitArgs;
pub use info::{InfoArgs, info_json};
pub use isosurface::IsosurfaceArgs;
pub use project::ProjectArgs;
pub use render::RenderArgs;
pub use synthesize::SynthesizeArgs;

/// cortexlens: explore brain volumes and surfaces on the GPU.
#[derive(Debug, Parser)]
#[command(name = "cortexlens", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Files to open in the window: the first volume is the base, later volumes are overlays,
    /// surfaces are kept for the surface view. With none, the demo scene opens.
    files: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a file's header, affine and statistics.
    Info(InfoArgs),
    /// Render the views (slices, surfaces) to a PNG without a window.
    Render(Box<RenderArgs>),
    /// Sample a volume at the vertices of a surface mesh.
    Project(ProjectArgs),
    /// The cluster table of a statistical map, with atlas labels at the peaks (TSV).
    Clusters(ClustersArgs),
    /// Extract a mesh from a volume at an iso-level (marching cubes).
    Isosurface(IsosurfaceArgs),
    /// Fit a neural field to a volume and save it as `.nfield`.
    Fit(FitArgs),
    /// Voxel-wise encoders: import BrainSCUBA/BrainDiVE checkpoints or fit one with CLIP + ridge.
    Encoder(EncoderArgs),
    /// Caption encoder voxels in words (BrainSCUBA: projection onto an image pool, ClipCap + GPT-2).
    Caption(CaptionArgs),
    /// Preferred images of a region (BrainDiVE: Stable Diffusion guided by the encoder).
    Synthesize(Box<SynthesizeArgs>),
}

/// Exit code for bad input (unreadable file, bad option value).
pub const EXIT_BAD_INPUT: u8 = 2;

/// An error for the user: a one-line message and an exit code.
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub code: u8,
    /// The message, one line.
    pub message: String,
}

impl CliError {
    /// Bad input: exit code 2.
    pub fn bad_input(error: impl std::fmt::Display) -> CliError {
        CliError {
            code: EXIT_BAD_INPUT,
            message: one_line(&error.to_string()),
        }
    }

    /// Any other failure (e.g. no GPU): exit code 1.
    pub fn failure(error: impl std::fmt::Display) -> CliError {
        CliError {
            code: 1,
            message: one_line(&error.to_string()),
        }
    }
}

/// The volume at `path`, which must have a frame `frame` (bad input otherwise).
fn load_volume_frame(path: &Path, frame: usize) -> Result<cortexlens_data::Volume, CliError> {
    let volume = match cortexlens_data::load_path(path, &mut |_| {}).map_err(CliError::bad_input)? {
        cortexlens_data::Loaded::Volume(volume) => volume,
        other => {
            return Err(CliError::bad_input(format!(
                "{}: a {} file, not a volume",
                path.display(),
                other.kind()
            )));
        }
    };
    if frame >= volume.frames() {
        return Err(CliError::bad_input(format!(
            "--frame {frame} but {} has {} frames",
            volume.name,
            volume.frames()
        )));
    }
    Ok(volume)
}

/// Print `text` to standard output. A reader that has gone (`cortexlens info … | head -1`) ends the
/// output quietly, as other command-line tools do, rather than as an error or a panic.
pub(crate) fn print_stdout(text: &str) -> Result<(), CliError> {
    write_unless_closed(&mut std::io::stdout().lock(), text)
}

fn write_unless_closed(out: &mut impl std::io::Write, text: &str) -> Result<(), CliError> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result.map_err(|error| CliError::failure(format!("writing the output: {error}"))),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parse the command line and run it.
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let result = match cli.command {
        Some(Command::Info(args)) => info::run(&args),
        Some(Command::Render(args)) => {
            let sub = matches
                .subcommand_matches("render")
                .expect("clap matched the render subcommand");
            render::run(&args, sub)
        }
        Some(Command::Project(args)) => project::run(&args),
        Some(Command::Clusters(args)) => clusters::run(&args),
        Some(Command::Isosurface(args)) => isosurface::run(&args),
        Some(Command::Fit(args)) => fit::run(&args),
        Some(Command::Encoder(args)) => encoder::run(&args),
        Some(Command::Caption(args)) => caption::run(&args),
        Some(Command::Synthesize(args)) => synthesize::run(&args),
        None => crate::ui::run_window(cli.files).map_err(|e| CliError::failure(crate::platform::window_failed(&e))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cortexlens: {}", error.message);
            ExitCode::from(error.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader has gone.
    struct ClosedPipe;

    impl std::io::Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_ends_the_output_quietly_and_other_errors_are_reported() {
        assert!(write_unless_closed(&mut ClosedPipe, "{}").is_ok());
        let mut full = std::io::Cursor::new([0u8; 2]);
        let error = write_unless_closed(&mut full, "three").unwrap_err();
        assert!(error.message.starts_with("writing the output"), "{}", error.message);
        let mut out = Vec::new();
        write_unless_closed(&mut out, "text").unwrap();
        assert_eq!(out, b"text");
    }
}

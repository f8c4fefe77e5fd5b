//! `cortexlens isosurface VOLUME --level L --out mesh.gii|mesh.obj|mesh.ply`.

use std::path::PathBuf;

use clap::Args;
use cortexlens_data::isosurface::isosurface;

use super::CliError;

/// Arguments of `cortexlens isosurface`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct IsosurfaceArgs {
    /// The volume.
    pub volume: PathBuf,
    /// The iso-level in the volume's (scaled) values.
    #[arg(long)]
    pub level: f32,
    /// Frame of a 4D volume.
    #[arg(long, default_value_t = 0)]
    pub frame: usize,
    /// Output mesh: `.gii`, `.obj` or `.ply`.
    #[arg(long)]
    pub out: PathBuf,
}

pub(super) fn run(args: &IsosurfaceArgs) -> Result<(), CliError> {
    let volume = super::load_volume_frame(&args.volume, args.frame)?;
    let mesh = isosurface(&volume, args.frame, args.level);
    if mesh.triangles.is_empty() {
        return Err(CliError::bad_input(format!(
            "{}: no surface at level {}",
            volume.name, args.level
        )));
    }
    cortexlens_data::formats::save_mesh(&args.out, &mesh).map_err(CliError::bad_input)?;
    eprintln!("{} vertices, {} triangles", mesh.vertices.len(), mesh.triangles.len());
    Ok(())
}

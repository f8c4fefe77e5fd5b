//! `cortexlens project VOLUME --surface MESH [--inner WHITE] [--interp …] --out values.json|values.gii`.

use std::path::{Path, PathBuf};

use clap::Args;
use cortexlens_data::mesh::Mesh;
use cortexlens_data::projection::{ProjectionMethod, project};
use cortexlens_data::{Loaded, load_path};
use serde_json::json;

use super::CliError;
use super::render::parse_projection;

/// Arguments of `cortexlens project`.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// The volume to sample (its first frame, unless --frame).
    pub volume: PathBuf,
    /// The mesh whose vertices are sampled (e.g. a pial surface).
    #[arg(long)]
    pub surface: PathBuf,
    /// Inner mesh (white matter) with the same vertices: the nilearn method then samples between the two.
    #[arg(long)]
    pub inner: Option<PathBuf>,
    /// nilearn (average along the normal, nilearn's default), linear (trilinear at the vertex) or nearest.
    #[arg(long, default_value = "nilearn", value_parser = parse_projection)]
    pub interp: ProjectionMethod,
    /// Frame of a 4D volume.
    #[arg(long, default_value_t = 0)]
    pub frame: usize,
    /// Output: `.json` (`{"values":[…]}` in vertex order) or `.gii` (one float32 shape array).
    #[arg(long)]
    pub out: PathBuf,
}

fn load_mesh(path: &Path) -> Result<Mesh, CliError> {
    match load_path(path, &mut |_| {}).map_err(CliError::bad_input)? {
        Loaded::Surface(file) => Mesh::from_surface(&file).map_err(CliError::bad_input),
        other => Err(CliError::bad_input(format!(
            "{}: a {}, not a surface mesh",
            path.display(),
            other.kind()
        ))),
    }
}

pub(super) fn run(args: &ProjectArgs) -> Result<(), CliError> {
    let volume = super::load_volume_frame(&args.volume, args.frame)?;
    let surface = load_mesh(&args.surface)?;
    let inner = args.inner.as_deref().map(load_mesh).transpose()?;
    if let Some(inner) = &inner
        && inner.vertices.len() != surface.vertices.len()
    {
        return Err(CliError::bad_input(format!(
            "{}: {} vertices but {} has {}",
            args.inner.as_ref().map_or(String::new(), |p| p.display().to_string()),
            inner.vertices.len(),
            args.surface.display(),
            surface.vertices.len()
        )));
    }
    let values = project(&volume, args.frame, &surface, inner.as_ref(), args.interp);
    let extension = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match extension.as_str() {
        "json" => {
            let numbers: Vec<serde_json::Value> = values
                .iter()
                .map(|&v| {
                    serde_json::Number::from_f64(v as f64).map_or(serde_json::Value::Null, serde_json::Value::Number)
                })
                .collect();
            std::fs::write(&args.out, json!({ "values": numbers }).to_string())
                .map_err(|e| CliError::bad_input(format!("{}: {e}", args.out.display())))
        }
        "gii" => cortexlens_data::formats::save_vertex_values_gifti(&args.out, &values).map_err(CliError::bad_input),
        _ => Err(CliError::bad_input(format!(
            "{}: --out must end in .json or .gii",
            args.out.display()
        ))),
    }
}

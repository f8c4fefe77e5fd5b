//! `cortexlens clusters MAP --threshold T [--two-sided] [--min-size N] [--connectivity C]
//! [--atlas FILE]… [--out table.tsv]`: the Clusters panel's table (nilearn's
//! `get_clusters_table`), with the label at each peak from the atlases given (FSL `.xml`, or a
//! labelled volume with its table beside it), as TSV on stdout or into a file.

use std::path::PathBuf;

use clap::Args;
use cortexlens_data::clusters::{ClusterOptions, Connectivity, clusters, clusters_tsv};

use super::CliError;
use crate::loader::read_file;
use crate::open::open;
use crate::viewer::Viewer;

/// Arguments of `cortexlens clusters`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct ClustersArgs {
    /// The statistical map.
    pub map: PathBuf,
    /// Keep voxels whose value (|value| with `--two-sided`) is at least this.
    #[arg(long)]
    pub threshold: f32,
    /// Clusters of negative values too (as separate clusters).
    #[arg(long)]
    pub two_sided: bool,
    /// Drop clusters of fewer voxels.
    #[arg(long, default_value_t = 0)]
    pub min_size: usize,
    /// Which neighbours connect: faces (6, nilearn's default), edges (18) or vertices (26, FSL's).
    #[arg(long, default_value = "faces", value_parser = parse_connectivity)]
    pub connectivity: Connectivity,
    /// Frame of a 4D map.
    #[arg(long, default_value_t = 0)]
    pub frame: usize,
    /// Atlases naming each peak (the last given is asked first): an FSL atlas `.xml`, or a
    /// labelled volume with its label table beside it.
    #[arg(long)]
    pub atlas: Vec<PathBuf>,
    /// Write the table here instead of to stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn parse_connectivity(text: &str) -> Result<Connectivity, String> {
    Connectivity::ALL
        .into_iter()
        .find(|c| c.name() == text.trim())
        .ok_or_else(|| format!("expected faces, edges or vertices, got '{text}'"))
}

pub(super) fn run(args: &ClustersArgs) -> Result<(), CliError> {
    let map = super::load_volume_frame(&args.map, args.frame)?;
    let options = ClusterOptions {
        two_sided: args.two_sided,
        min_size: args.min_size,
        connectivity: args.connectivity,
        ..ClusterOptions::at(args.threshold)
    };
    let table = clusters(&map, args.frame, &options);
    let mut atlases = Viewer::default();
    for path in &args.atlas {
        let contents = read_file(path, &mut |_| {}).map_err(CliError::bad_input)?;
        let opened = open(&mut atlases, path, contents).map_err(CliError::bad_input)?;
        for warning in opened.warnings {
            eprintln!("warning: {warning}");
        }
    }
    let tsv = clusters_tsv(&table, &|mm| atlases.label_at(mm));
    match &args.out {
        Some(path) => std::fs::write(path, tsv).map_err(|e| CliError::bad_input(format!("{}: {e}", path.display())))?,
        None => super::print_stdout(&tsv)?,
    }
    eprintln!("{} clusters", table.len());
    Ok(())
}

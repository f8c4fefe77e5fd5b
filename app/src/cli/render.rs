//! `cortexlens render FILES… --view V --out shot.png`: the window's pictures without a window —
//! files opened by the window's open step, drawn by the window's GPU scene.

use std::path::{Path, PathBuf};

use clap::{ArgMatches, Args};
use cortexlens_data::camera::{CameraPreset, OrbitCamera};
use cortexlens_data::projection::ProjectionMethod;
use cortexlens_data::{Colormap, Interpolation};
use cortexlens_render::{GpuContext, RenderMode, SLICE_FORMAT};
use glam::DVec3;

use super::CliError;
use super::layer_options::{self, LayerOptions, parse_colormap, parse_interpolation, parse_range};
use crate::gpu_scene::health::GpuHealth;
use crate::gpu_scene::picture::{PictureOptions, render_picture};
use crate::gpu_scene::{GpuScene, SyncNotice, field_drawing_for};
use crate::loader::read_file;
use crate::open::{Added, open};
use crate::session::{is_session_path, open_session_now};
use crate::viewer::{Layer, LayerId, Layout, Mosaic, Viewer, default_style};
use cortexlens_data::splats::placement::read_transform;

/// Arguments of `cortexlens render`. Per-layer options apply to the file they follow.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct RenderArgs {
    /// Volumes: the first is the base, later ones are overlays; surfaces, maps, fields and splat
    /// scenes as the window opens them. Or one session file (`SESSION.json`, saved by the window),
    /// drawn as the window showed it.
    #[arg(required = true, id = "files")]
    pub files: Vec<PathBuf>,
    /// Which view: axial, coronal, sagittal, ortho (all three; with surfaces a 2×2 grid with the
    /// surface view), surface, 3d (the base volume or a neural-field file ray-marched, with the pial
    /// or white surfaces and mesh files where they are, and splat scenes), or mosaic (the slices of
    /// `--slices`).
    #[arg(long, default_value = "ortho", value_parser = ["axial", "coronal", "sagittal", "ortho", "surface", "3d", "mosaic"])]
    pub view: String,
    /// With `--view mosaic`: AXIS:FROM:TO:STEP, slices of AXIS (axial, coronal, sagittal) from FROM
    /// to TO mm along its normal every STEP mm, e.g. `axial:-30:60:10`.
    #[arg(long, value_name = "AXIS:FROM:TO:STEP", allow_hyphen_values = true)]
    pub slices: Option<String>,
    /// With `--view mosaic`: columns of the grid (default: about the square root of the slice count).
    #[arg(long)]
    pub columns: Option<u32>,
    /// Camera of the surface view: lateral-left, medial-left, lateral-right, medial-right, dorsal,
    /// ventral, anterior or posterior.
    #[arg(long, default_value = "lateral-left", value_parser = parse_camera)]
    pub camera: CameraPreset,
    /// 3D view: mip (maximum intensity), dvr (volume rendering) or iso (shaded isosurface).
    #[arg(long, default_value = "dvr", value_parser = parse_mode)]
    pub mode: RenderMode,
    /// 3D view: the isosurface level (default: 30% into the base volume's display range).
    #[arg(long)]
    pub iso_level: Option<f32>,
    /// How volumes are projected onto surfaces for the surface view: nilearn, linear or nearest.
    #[arg(long, default_value = "nilearn", value_parser = parse_projection)]
    pub projection: ProjectionMethod,
    /// Place the splat scenes by this scene-to-world transform (a `NAME.transform.json` as the
    /// window saves it) instead of their sidecars.
    #[arg(long)]
    pub transform: Option<PathBuf>,
    /// Output PNG.
    #[arg(long)]
    pub out: PathBuf,
    /// Picture size WxH in pixels (the colour bar adds a strip on the right). Default 512 per view.
    #[arg(long, value_parser = parse_size)]
    pub size: Option<(u32, u32)>,
    /// Crosshair (slice position) in world millimetres x,y,z. Default: centre of the base volume.
    #[arg(long, value_parser = parse_xyz, allow_hyphen_values = true)]
    pub at: Option<[f64; 3]>,
    /// Show patient left on screen right.
    #[arg(long)]
    pub radiological: bool,
    /// Append a colour bar of the top layer.
    #[arg(long)]
    pub colorbar: bool,
    /// Leave out the crosshair lines.
    #[arg(long)]
    pub no_crosshair: bool,
    /// Per layer: colormap (gray, hot, cool, viridis, inferno, red-yellow, blue-lightblue, or labels
    /// for integer labels: distinct colours, nearest sampling, label 0 transparent).
    #[arg(long, value_parser = parse_colormap)]
    pub colormap: Vec<Colormap>,
    /// Per layer: colormap of negative values; makes the layer a signed map.
    #[arg(long = "negative-colormap", id = "negative-colormap", value_parser = parse_colormap)]
    pub negative_colormap: Vec<Colormap>,
    /// Per layer: display range lo,hi (of |value| for a signed map).
    #[arg(long, value_parser = parse_range)]
    pub range: Vec<(f32, f32)>,
    /// Per layer: hide values (|values| for a signed map) below this.
    #[arg(long)]
    pub threshold: Vec<f32>,
    /// Per layer: opacity 0..1.
    #[arg(long)]
    pub opacity: Vec<f32>,
    /// Per layer: nearest or linear.
    #[arg(long, value_parser = parse_interpolation)]
    pub interp: Vec<Interpolation>,
    /// Per layer: frame of a 4D volume.
    #[arg(long)]
    pub frame: Vec<usize>,
}

fn parse_camera(text: &str) -> Result<CameraPreset, String> {
    CameraPreset::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = CameraPreset::ALL.iter().map(|c| c.name()).collect();
        format!("unknown camera '{text}' (one of {})", names.join(", "))
    })
}

/// Parse `nilearn|linear|nearest`.
pub fn parse_projection(text: &str) -> Result<ProjectionMethod, String> {
    ProjectionMethod::from_name(text).ok_or_else(|| format!("expected nilearn, linear or nearest, got '{text}'"))
}

fn parse_mode(text: &str) -> Result<RenderMode, String> {
    RenderMode::from_name(text).ok_or_else(|| format!("expected mip, dvr or iso, got '{text}'"))
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WxH, got '{text}'"))?;
    let parse = |s: &str| match s.trim().parse::<u32>() {
        Ok(v) if (1..=16384).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a size between 1 and 16384")),
    };
    Ok((parse(w)?, parse(h)?))
}

fn parse_xyz(text: &str) -> Result<[f64; 3], String> {
    let parts: Vec<f64> = text
        .split(',')
        .map(|s| s.trim().parse::<f64>().map_err(|_| format!("'{s}' is not a number")))
        .collect::<Result<_, _>>()?;
    <[f64; 3]>::try_from(parts).map_err(|_| format!("expected x,y,z, got '{text}'"))
}

pub(super) fn run(args: &RenderArgs, matches: &ArgMatches) -> Result<(), CliError> {
    let (viewer, saved_size) = match args.files.as_slice() {
        [session] if is_session_path(session) => viewer_of_session(session, args, matches)?,
        _ => (viewer_of_files(args, matches)?, None),
    };
    draw(viewer, args, saved_size)
}

/// The viewer a session shows; `--view`, `--at` and `--radiological` given on the command line
/// override it. Returns the session's view size too.
fn viewer_of_session(
    path: &Path,
    args: &RenderArgs,
    matches: &ArgMatches,
) -> Result<(Viewer, Option<(u32, u32)>), CliError> {
    let mut viewer = Viewer::default();
    let (session, problems) = open_session_now(path, &mut viewer).map_err(CliError::bad_input)?;
    for problem in problems {
        eprintln!("warning: {problem}");
    }
    let given = |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    if given("view") {
        viewer.layout = layout_of(args)?;
    }
    if let Some([x, y, z]) = args.at {
        viewer.set_crosshair(DVec3::new(x, y, z));
    }
    viewer.radiological |= args.radiological;
    check_layout(&viewer)?;
    Ok((viewer, session.view_size.map(|[w, h]| (w, h))))
}

/// The layout `--view` (and `--slices`, `--columns`) ask for.
fn layout_of(args: &RenderArgs) -> Result<Layout, CliError> {
    match (args.view.as_str(), &args.slices) {
        ("mosaic", Some(slices)) => Ok(Layout::Mosaic(
            Mosaic::parse(slices, args.columns.unwrap_or(0)).map_err(CliError::bad_input)?,
        )),
        ("mosaic", None) => Err(CliError::bad_input("--view mosaic needs --slices AXIS:FROM:TO:STEP")),
        (_, Some(_)) => Err(CliError::bad_input("--slices goes with --view mosaic")),
        (view, None) => Layout::from_name(view).ok_or_else(|| CliError::bad_input(format!("unknown view '{view}'"))),
    }
}

/// A surface view needs a mesh, a 3D view a volume or field.
fn check_layout(viewer: &Viewer) -> Result<(), CliError> {
    if viewer.layout == Layout::Surface && viewer.surfaces.is_empty() {
        return Err(CliError::bad_input(
            "--view surface needs a surface mesh (e.g. lh.pial or a .gii mesh)",
        ));
    }
    if viewer.layout == Layout::Volume3d && viewer.bounds_3d().is_none() {
        return Err(CliError::bad_input("--view 3d needs a volume or a neural-field file"));
    }
    Ok(())
}

/// The viewer of `FILES…` with their per-file options.
fn viewer_of_files(args: &RenderArgs, matches: &ArgMatches) -> Result<Viewer, CliError> {
    let options = layer_options::collect(matches, "files", args.files.len())?;
    let layout = layout_of(args)?;
    let mut viewer = Viewer::default();
    viewer.radiological = args.radiological;
    let mut volume_options = Vec::new();
    let mut cifti_layers = Vec::new();
    let mut cifti_options = Vec::new();
    for (path, layer_options) in args.files.iter().zip(&options) {
        let contents = read_file(path, &mut |_| {}).map_err(CliError::bad_input)?;
        let opened = open(&mut viewer, path, contents).map_err(CliError::bad_input)?;
        for warning in &opened.warnings {
            eprintln!("warning: {warning}");
        }
        match opened.added {
            Added::Layer(id) => {
                apply_to_layer(&mut viewer, id, path, layer_options)?;
                volume_options.push(layer_options);
            }
            Added::Surface { maps } => apply_to_maps(&mut viewer, &maps, layer_options),
            Added::Cifti(added) => {
                // Its maps may attach to meshes opened later: options are applied after the loop.
                cifti_options.push((viewer.cifti.len() - 1, layer_options));
                if let Some(id) = added.layer {
                    apply_to_layer(&mut viewer, id, path, layer_options)?;
                    cifti_layers.push(id);
                }
            }
            Added::Splats(id) => {
                if let Some(path) = &args.transform {
                    let transform = read_transform(path).map_err(CliError::bad_input)?;
                    if let Some(open) = viewer.volume3d.splats.iter_mut().find(|s| s.id == id) {
                        open.transform = transform;
                    }
                }
            }
            Added::Region(_) | Added::Field(_) => {}
        }
    }
    for (at, layer_options) in cifti_options {
        let maps: Vec<_> = viewer.cifti[at].parts.iter().flat_map(|p| p.maps.clone()).collect();
        apply_to_maps(&mut viewer, &maps, layer_options);
    }
    // A CIFTI structure whose mesh was not among the files is not drawn: say which mesh it needs.
    for waiting in viewer.waiting_cifti() {
        eprintln!("warning: {waiting}");
    }
    viewer.layout = layout;
    check_layout(&viewer)?;
    // The overlays are projected onto the surfaces; a lone volume is projected as an overlay too.
    // A CIFTI file's voxels are not: its surface part is already on the meshes.
    if !viewer.surfaces.is_empty() {
        let volumes: Vec<&Layer> = viewer.layers.iter().filter(|l| !cifti_layers.contains(&l.id)).collect();
        let projected: Vec<Layer> = match volumes.as_slice() {
            [lone] => {
                let mut layer = (*lone).clone();
                layer.style = volume_options[0].apply(default_style(&layer.volume, false));
                vec![layer]
            }
            layers => {
                let base_is_volume = viewer.layers.first().is_some_and(|l| !cifti_layers.contains(&l.id));
                let skip = usize::from(base_is_volume);
                layers.iter().skip(skip).map(|l| (*l).clone()).collect()
            }
        };
        for layer in &projected {
            viewer.surfaces.add_projection(layer, args.projection);
        }
    }
    viewer.surfaces.look_from(args.camera);
    viewer.volume3d.settings.mode = args.mode;
    if let Some(level) = args.iso_level {
        viewer.volume3d.settings.iso_level = level;
    }
    if let Some(bounds) = viewer.bounds_3d() {
        viewer.volume3d.camera = OrbitCamera::preset(args.camera, bounds);
    }
    match args.at {
        Some([x, y, z]) => viewer.set_crosshair(DVec3::new(x, y, z)),
        None => viewer.set_crosshair(viewer.crosshair),
    }
    Ok(viewer)
}

/// Draws `viewer` into `--out`: at `--size`, else the session's size, else 512 pixels per view.
fn draw(mut viewer: Viewer, args: &RenderArgs, saved_size: Option<(u32, u32)>) -> Result<(), CliError> {
    let layout = viewer.layout;
    // As in the window: on a software GPU the shown field is drawn from a baked grid.
    let gpu = GpuContext::headless().map_err(|e| CliError::failure(crate::platform::no_gpu(&e.to_string())))?;
    let health = GpuHealth::watch(&gpu.device);
    viewer.volume3d.field_drawing = field_drawing_for(&gpu.adapter.get_info());
    if layout == Layout::Volume3d {
        viewer.volume3d.bake_now().map_err(CliError::failure)?;
    }
    let size = args.size.or(saved_size).unwrap_or_else(|| default_size(&viewer));

    let mut scene = GpuScene::new(&gpu.device, SLICE_FORMAT);
    for notice in scene.sync(&gpu.device, &gpu.queue, &viewer) {
        match notice {
            SyncNotice::Downsampled { layer, notice } => {
                let name = viewer.layer(layer).map_or("", |l| l.name());
                eprintln!("cortexlens: {name}: {notice}");
            }
            SyncNotice::FieldRefused { error, .. } => return Err(CliError::failure(error)),
            SyncNotice::MeshRefused { error } => eprintln!("cortexlens: {error}"),
            SyncNotice::SplatsReduced { notice } => eprintln!("cortexlens: {notice}"),
        }
    }
    let picture_options = PictureOptions {
        colorbar: args.colorbar,
        crosshair: !args.no_crosshair,
    };
    let picture = render_picture(&mut scene, &gpu.device, &gpu.queue, &viewer, size, picture_options)
        .map_err(CliError::failure)?;
    if let Some(error) = health.take_errors().into_iter().next() {
        return Err(CliError::failure(format!("the GPU reported an error: {error}")));
    }
    picture
        .save(&args.out)
        .map_err(|e| CliError::bad_input(format!("{}: {e}", args.out.display())))?;
    Ok(())
}

/// A file's per-file options on its per-vertex maps: their style and frame (clamped).
fn apply_to_maps(viewer: &mut Viewer, maps: &[crate::viewer::SurfaceId], options: &LayerOptions) {
    for map in viewer.surfaces.maps.iter_mut().filter(|m| maps.contains(&m.id)) {
        map.style = options.apply(map.style);
        map.frame = options.frame.unwrap_or(0).min(map.frames.len() - 1);
    }
}

/// A layer's per-file options: its style, and its frame (which must exist).
fn apply_to_layer(viewer: &mut Viewer, id: LayerId, path: &Path, options: &LayerOptions) -> Result<(), CliError> {
    let Some(layer) = viewer.layer_mut(id) else {
        return Ok(());
    };
    layer.style = options.apply(layer.style);
    if let Some(frame) = options.frame {
        if frame >= layer.volume.frames() {
            return Err(CliError::bad_input(format!(
                "{}: --frame {frame} but the volume has {} frames",
                path.display(),
                layer.volume.frames()
            )));
        }
        layer.frame = frame;
    }
    Ok(())
}

/// 512 pixels per view: three columns for ortho, a 2×2 grid with the surface view; 256 per
/// mosaic tile.
fn default_size(viewer: &Viewer) -> (u32, u32) {
    match (viewer.layout, viewer.surfaces.is_empty()) {
        (Layout::Mosaic(mosaic), _) => {
            let (columns, rows) = mosaic.grid();
            (256 * columns, 256 * rows)
        }
        (Layout::Ortho, true) => (1536, 512),
        (Layout::Ortho, false) => (1024, 1024),
        _ => (768, 768),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_points() {
        assert_eq!(parse_size("640x480"), Ok((640, 480)));
        assert!(parse_size("0x480").is_err());
        assert!(parse_size("640").is_err());
        assert_eq!(parse_xyz("-10,2.5,30"), Ok([-10.0, 2.5, 30.0]));
        assert!(parse_xyz("1,2").is_err());
    }
}

//! `cortexlens render FILES… --view V --out shot.png`: the window's pictures without a window.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::{ArgMatches, Args};
use cortexlens_data::{Colormap, Interpolation, Loaded, load_path};
use cortexlens_render::{GpuContext, SliceRenderer, VolumeTexture};
use glam::DVec3;

use super::CliError;
use super::layer_options::{self, parse_colormap, parse_interpolation, parse_range};
use crate::picture::{PictureGpu, PictureOptions, render_picture};
use crate::viewer::{Layer, LayerId, Layout, Viewer, default_style};

/// Arguments of `cortexlens render`. Per-layer options apply to the file they follow.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct RenderArgs {
    /// Volumes: the first is the base, later ones are overlays.
    #[arg(required = true, id = "files")]
    pub files: Vec<PathBuf>,
    /// Which view: axial, coronal, sagittal or ortho (all three side by side).
    #[arg(long, default_value = "ortho", value_parser = ["axial", "coronal", "sagittal", "ortho"])]
    pub view: String,
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
    /// Per layer: colormap (gray, hot, cool, viridis, inferno, red-yellow, blue-lightblue).
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
        .map(|s| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| format!("'{s}' is not a number"))
        })
        .collect::<Result<_, _>>()?;
    <[f64; 3]>::try_from(parts).map_err(|_| format!("expected x,y,z, got '{text}'"))
}

pub(super) fn run(args: &RenderArgs, matches: &ArgMatches) -> Result<(), CliError> {
    let options = layer_options::collect(matches, "files", args.files.len())?;
    let layout = Layout::from_name(&args.view)
        .ok_or_else(|| CliError::bad_input(format!("unknown view '{}'", args.view)))?;
    let mut viewer = Viewer {
        layout,
        radiological: args.radiological,
        ..Viewer::default()
    };
    for (i, (path, layer_options)) in args.files.iter().zip(&options).enumerate() {
        let volume = match load_path(path, &mut |_| {}).map_err(CliError::bad_input)? {
            Loaded::Volume(volume) => volume,
            Loaded::Surface(_) => {
                return Err(CliError::bad_input(format!(
                    "{}: a surface file; `render` draws slice views of volumes",
                    path.display()
                )));
            }
        };
        let style = layer_options.apply(default_style(&volume, i == 0));
        let mut layer = Layer::new(LayerId(i as u64), volume, style);
        if let Some(frame) = layer_options.frame {
            if frame >= layer.volume.frames() {
                return Err(CliError::bad_input(format!(
                    "{}: --frame {frame} but the volume has {} frames",
                    path.display(),
                    layer.volume.frames()
                )));
            }
            layer.frame = frame;
        }
        viewer.push_layer(layer);
    }
    if let Some([x, y, z]) = args.at {
        viewer.crosshair = DVec3::new(x, y, z);
    }
    let panes = layout.planes().len() as u32;
    let (width, height) = args.size.unwrap_or((512 * panes, 512));

    let gpu = GpuContext::headless().map_err(CliError::failure)?;
    let renderer = SliceRenderer::new(&gpu.device);
    let mut textures = HashMap::new();
    for layer in &viewer.layers {
        let texture = VolumeTexture::upload(&gpu.device, &gpu.queue, &layer.volume, layer.frame);
        if let Some(notice) = texture.downsample_notice() {
            eprintln!("cortexlens: {}: {notice}", layer.name());
        }
        textures.insert(layer.id, texture);
    }
    let picture_gpu = PictureGpu {
        device: &gpu.device,
        queue: &gpu.queue,
        renderer: &renderer,
        textures: &textures,
    };
    let picture_options = PictureOptions {
        colorbar: args.colorbar,
        crosshair: !args.no_crosshair,
    };
    let picture = render_picture(&picture_gpu, &viewer, width, height, picture_options)
        .map_err(CliError::failure)?;
    picture
        .save(&args.out)
        .map_err(|e| CliError::bad_input(format!("{}: {e}", args.out.display())))?;
    Ok(())
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

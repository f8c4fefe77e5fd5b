//! `cortexlens info FILE [--json] [--at i,j,k]…`: header, affine and statistics of a file; for an
//! FSL atlas descriptor (`.xml`), the atlas and its images.

use std::path::PathBuf;

use clap::Args;
use cortexlens_data::atlas::{FslAtlas, is_atlas_path, read_fsl_atlas};
use cortexlens_data::cifti::{CiftiFile, IndexMap, ModelKind, VolumeSpace};
use cortexlens_data::splats::Splats;
use cortexlens_data::{FreeSurferLabel, Loaded, SurfaceFile, Volume, VolumeStats, load_path};
use glam::DVec3;
use serde_json::{Value, json};

use super::CliError;

/// Arguments of `cortexlens info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// A volume, surface, CIFTI, label or splat file, or an FSL atlas descriptor (`.xml`).
    pub file: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Also report the value and world position of voxel `i,j,k` (first frame); repeatable.
    #[arg(long = "at", value_name = "I,J,K", value_parser = parse_ijk, allow_hyphen_values = true)]
    pub at: Vec<[i64; 3]>,
}

pub(super) fn parse_ijk(text: &str) -> Result<[i64; 3], String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [i, j, k] = parts.as_slice() else {
        return Err(format!("expected i,j,k, got '{text}'"));
    };
    let parse = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| format!("'{s}' is not an integer voxel index"))
    };
    Ok([parse(i)?, parse(j)?, parse(k)?])
}

pub(super) fn run(args: &InfoArgs) -> Result<(), CliError> {
    let value = if is_atlas_path(&args.file) {
        if !args.at.is_empty() {
            return Err(CliError::bad_input(
                "--at samples the voxels of a volume, not an atlas descriptor",
            ));
        }
        atlas_json(&read_fsl_atlas(&args.file).map_err(CliError::bad_input)?)
    } else {
        info_json(
            &load_path(&args.file, &mut |_| {}).map_err(CliError::bad_input)?,
            &args.at,
        )
    };
    let text = if args.json {
        value.to_string()
    } else {
        serde_json::to_string_pretty(&value).map_err(CliError::failure)?
    };
    super::print_stdout(&format!("{text}\n"))
}

/// The JSON object `cortexlens info --json` prints.
pub fn info_json(loaded: &Loaded, at: &[[i64; 3]]) -> Value {
    match loaded {
        Loaded::Volume(volume) => volume_json(volume, at),
        Loaded::Surface(surface) => surface_json(surface),
        Loaded::Cifti(cifti) => cifti_json(cifti),
        Loaded::Label(label) => label_json(label),
        Loaded::Splats(splats) => splats_json(splats),
    }
}

/// `{"kind":"splats","count":N,"sh_degree":d,"bounds":[[min…],[max…]]}` (`bounds` null when empty).
fn splats_json(splats: &Splats) -> Value {
    let bounds = splats.bounds().map_or(Value::Null, |(lo, hi)| {
        json!([lo.map(|v| num(f64::from(v))), hi.map(|v| num(f64::from(v)))])
    });
    json!({
        "kind": "splats",
        "count": splats.len(),
        "sh_degree": splats.sh_degree,
        "bounds": bounds,
    })
}

/// A number, or `null` for NaN and infinities (JSON has no spelling for them).
fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn volume_json(volume: &Volume, at: &[[i64; 3]]) -> Value {
    let stats = VolumeStats::of(volume);
    let shape = &volume.shape[..volume.ndim];
    let affine: Vec<Vec<Value>> = (0..4)
        .map(|r| (0..4).map(|c| num(volume.affine.col(c)[r])).collect())
        .collect();
    let mut object = json!({
        "kind": "volume",
        "shape": shape,
        "datatype": volume.datatype,
        "zooms": volume.zooms.iter().map(|&z| num(z)).collect::<Vec<_>>(),
        "affine": affine,
        "scl_slope": num(volume.scl_slope),
        "scl_inter": num(volume.scl_inter),
        "stats": {
            "min": num(stats.min),
            "max": num(stats.max),
            "mean": num(stats.mean),
            "sum": num(stats.sum),
            "n_nan": stats.n_nan,
            "n_nonzero": stats.n_nonzero,
        },
    });
    if !at.is_empty() {
        let samples: Vec<Value> = at
            .iter()
            .map(|&ijk| {
                let world = volume.voxel_to_world(DVec3::new(ijk[0] as f64, ijk[1] as f64, ijk[2] as f64));
                json!({
                    "ijk": ijk,
                    "value": volume.value_at(ijk, 0).map_or(Value::Null, |v| num(v as f64)),
                    "world_mm": [num(world.x), num(world.y), num(world.z)],
                })
            })
            .collect();
        object["samples"] = Value::Array(samples);
    }
    object
}

fn surface_json(surface: &SurfaceFile) -> Value {
    let arrays: Vec<Value> = surface
        .arrays
        .iter()
        .map(|array| {
            let values = array.data.to_f64();
            let finite = values.iter().copied().filter(|v| !v.is_nan());
            let (min, max, sum) = finite.fold((f64::INFINITY, f64::NEG_INFINITY, 0.0), |(lo, hi, s), v| {
                (lo.min(v), hi.max(v), s + v)
            });
            let empty = values.iter().all(|v| v.is_nan());
            json!({
                "intent": array.intent,
                "datatype": array.data.dtype_name(),
                "shape": array.dims,
                "min": if empty { Value::Null } else { num(min) },
                "max": if empty { Value::Null } else { num(max) },
                "sum": num(sum),
            })
        })
        .collect();
    let labels: Vec<Value> = surface
        .labels
        .iter()
        .map(|l| json!({"key": l.key, "name": l.name}))
        .collect();
    json!({"kind": "surface", "arrays": arrays, "labels": labels})
}

/// `{"kind":"cifti","shape":[rows,cols],"maps":[{"index_map":0|1,"type":…,…}],…}`: the matrix, each
/// dimension's index map (a map that applies to both dimensions is listed for each) and the
/// statistics of the values.
fn cifti_json(cifti: &CiftiFile) -> Value {
    let maps: Vec<Value> = cifti
        .maps
        .iter()
        .enumerate()
        .map(|(dim, map)| index_map_json(dim, map))
        .collect();
    let finite = cifti.data.iter().copied().filter(|v| v.is_finite()).map(f64::from);
    let (min, max, sum, n) = finite.fold((f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize), |(lo, hi, s, n), v| {
        (lo.min(v), hi.max(v), s + v, n + 1)
    });
    let stat = |x: f64| if n == 0 { Value::Null } else { num(x) };
    json!({
        "kind": "cifti",
        "shape": cifti.shape,
        "intent_code": cifti.intent_code,
        "intent": cifti.kind_name(),
        "datatype": cifti.datatype,
        "maps": maps,
        "stats": {
            "min": stat(min),
            "max": stat(max),
            "mean": stat(sum / n.max(1) as f64),
            "sum": num(sum),
            "n_nan": cifti.data.iter().filter(|v| v.is_nan()).count(),
        },
    })
}

fn volume_space_json(space: &VolumeSpace) -> Value {
    let affine: Vec<Vec<Value>> = (0..4)
        .map(|r| (0..4).map(|c| num(space.transform.col(c)[r])).collect())
        .collect();
    json!({"dimensions": space.dims, "affine": affine, "meter_exponent": space.meter_exponent})
}

fn index_map_json(dim: usize, map: &IndexMap) -> Value {
    let mut object = json!({"index_map": dim, "type": map.type_name(), "count": map.len()});
    match map {
        IndexMap::BrainModels(b) => {
            let structures: Vec<Value> = b
                .models
                .iter()
                .map(|m| match &m.kind {
                    ModelKind::Surface { vertex_count, .. } => json!({
                        "name": m.structure, "model_type": "surface", "offset": m.offset, "count": m.count,
                        "vertices": vertex_count,
                    }),
                    ModelKind::Voxels { .. } => json!({
                        "name": m.structure, "model_type": "voxels", "offset": m.offset, "count": m.count,
                    }),
                })
                .collect();
            object["structures"] = Value::Array(structures);
            if let Some(space) = &b.volume {
                object["volume"] = volume_space_json(space);
            }
        }
        IndexMap::Parcels(p) => {
            object["names"] = p.parcels.iter().map(|p| p.name.clone()).collect();
            object["surfaces"] = p
                .surfaces
                .iter()
                .map(|(name, vertices)| json!({"name": name, "vertices": vertices}))
                .collect();
            if let Some(space) = &p.volume {
                object["volume"] = volume_space_json(space);
            }
        }
        IndexMap::Series(s) => {
            object["start"] = num(s.start);
            object["step"] = num(s.step);
            object["unit"] = json!(s.unit);
            object["exponent"] = json!(s.exponent);
        }
        IndexMap::Scalars(names) => object["names"] = json!(names),
        IndexMap::Labels(maps) => {
            object["names"] = maps.iter().map(|m| m.name.clone()).collect();
            object["labels"] = maps
                .iter()
                .map(|m| {
                    m.labels
                        .iter()
                        .map(|l| json!({"key": l.key, "name": l.name}))
                        .collect::<Value>()
                })
                .collect();
        }
    }
    object
}

/// `{"kind":"atlas","name":…,"shortname":…,"type":"probabilistic","labels":48,"images":[{"imagefile":…,
/// "summaryimagefile":…,"shape":[…],"zooms":[…]}],"finest":1}`: an FSL atlas descriptor, its
/// images (one entry per resolution, found on disk; headers only) and the one the window reads.
fn atlas_json(atlas: &FslAtlas) -> Value {
    let images: Vec<Value> = atlas
        .resolutions
        .iter()
        .map(|r| {
            json!({
                "imagefile": r.image.display().to_string(),
                "summaryimagefile": r.summary.display().to_string(),
                "shape": &r.image_grid.shape[..if r.image_grid.shape[3] > 1 { 4 } else { 3 }],
                "zooms": r.image_grid.zooms.iter().take(3).map(|&z| num(z)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "kind": "atlas",
        "name": atlas.xml.name,
        "shortname": atlas.xml.short_name,
        "type": atlas.xml.kind.name(),
        "labels": atlas.xml.labels.len(),
        "images": images,
        "finest": atlas.finest(),
    })
}

/// A label in a few numbers: its row count, its vertex numbers (range, distinct ones, volume
/// points), the range and mean of its values, and its comment line.
fn label_json(label: &FreeSurferLabel) -> Value {
    let mut distinct = label.vertices.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let (lo, hi) = label
        .vertex_range()
        .map_or((Value::Null, Value::Null), |(lo, hi)| (json!(lo), json!(hi)));
    let finite = || label.values.iter().copied().filter(|v| v.is_finite());
    let (min, max) = finite().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let n = finite().count();
    let (min, max, mean) = if n == 0 {
        (Value::Null, Value::Null, Value::Null)
    } else {
        (num(min), num(max), num(finite().sum::<f64>() / n as f64))
    };
    json!({
        "kind": "label",
        "count": label.len(),
        "vertices": {
            "min": lo,
            "max": hi,
            "distinct": distinct.len(),
            "volume_points": label.vertices.iter().filter(|&&v| v < 0).count(),
        },
        "values": {"min": min, "max": max, "mean": mean},
        "comment": label.comment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ijk_parsing() {
        assert_eq!(parse_ijk("1, 2,3"), Ok([1, 2, 3]));
        assert_eq!(parse_ijk("-1,0,0"), Ok([-1, 0, 0]));
        assert!(parse_ijk("1,2").is_err());
        assert!(parse_ijk("a,b,c").is_err());
    }

    #[test]
    fn nan_is_null() {
        assert_eq!(num(f64::NAN), Value::Null);
        assert_eq!(num(1.5), json!(1.5));
    }
}

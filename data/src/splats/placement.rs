//! Placing a splat scene in the brain's world: a 4×4 scene-to-world transform (RAS millimetres),
//! fitted from point pairs or read from a sidecar file beside the scene.
//!
//! # The fit
//!
//! [`fit_similarity`] is Umeyama's least-squares similarity (IEEE TPAMI 13(4), 1991): the
//! rotation `R`, uniform scale `c` and translation `t` minimising `Σ |c·R·xᵢ + t − yᵢ|²` over
//! scene points `xᵢ` and world points `yᵢ`, with `det R = +1` (a reflection is never fitted: the
//! sign of the smallest singular direction is flipped instead, eq. 39–43). The 3×3 SVD is
//! nalgebra's (already in the workspace for the encoders' ridge fits). Three pairs that are not
//! collinear determine it; nasion and the two preauricular points are the usual three.
//!
//! # The sidecar
//!
//! `NAME.ply.transform.json` beside `NAME.ply` ([`sidecar_path`]), small and readable:
//!
//! ```json
//! {
//!   "format": "cortexlens-transform",
//!   "version": 1,
//!   "scene_to_world": [
//!     [r00, r01, r02, tx],
//!     [r10, r11, r12, ty],
//!     [r20, r21, r22, tz],
//!     [0, 0, 0, 1]
//!   ]
//! }
//! ```
//!
//! Rows of the matrix that takes a scene point `[x, y, z, 1]ᵀ` to world millimetres. Other keys
//! are ignored (a writer may add notes, such as the fit's residual). Refused with a
//! [`TransformFileError`]: another `format` or `version`, a matrix that is not 4×4 numbers, a
//! non-finite entry, a last row other than `[0, 0, 0, 1]`, a singular matrix.

use std::path::{Path, PathBuf};

use glam::{DMat3, DMat4, DVec3, DVec4};
use nalgebra::{Matrix3, Vector3};
use serde_json::{Value, json};

/// Why a similarity could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// Fewer than three pairs.
    #[error("a similarity fit needs at least 3 point pairs, got {pairs}")]
    TooFewPairs {
        /// Pairs given.
        pairs: usize,
    },
    /// The two lists differ in length.
    #[error("{scene} scene points but {world} world points")]
    Unpaired {
        /// Scene points.
        scene: usize,
        /// World points.
        world: usize,
    },
    /// A coordinate is NaN or infinite.
    #[error("pair {pair} has a coordinate that is not finite")]
    NonFinite {
        /// The pair (0-based).
        pair: usize,
    },
    /// The points of one side lie on a line (or coincide): the rotation about that line is free.
    #[error(
        "the {side} points are collinear (or coincide), so the rotation about their line is undetermined; pick points that span a triangle"
    )]
    Degenerate {
        /// `"scene"` or `"world"`.
        side: &'static str,
    },
}

/// A fitted similarity.
#[derive(Clone, Debug, PartialEq)]
pub struct SimilarityFit {
    /// Scene → world: `c·R` in the upper 3×3, `t` in the last column.
    pub scene_to_world: DMat4,
    /// The uniform scale `c`.
    pub scale: f64,
    /// The rotation `R` (proper: determinant +1).
    pub rotation: DMat3,
    /// The translation `t`, world millimetres.
    pub translation: DVec3,
    /// Root mean square of the residual distances `|c·R·xᵢ + t − yᵢ|`, world millimetres.
    pub rms_mm: f64,
    /// Each pair's residual distance, world millimetres.
    pub residuals_mm: Vec<f64>,
}

/// The least-squares similarity taking `scene[i]` to `world[i]` (Umeyama 1991, no reflection).
pub fn fit_similarity(scene: &[DVec3], world: &[DVec3]) -> Result<SimilarityFit, FitError> {
    if scene.len() != world.len() {
        return Err(FitError::Unpaired {
            scene: scene.len(),
            world: world.len(),
        });
    }
    let n = scene.len();
    if n < 3 {
        return Err(FitError::TooFewPairs { pairs: n });
    }
    if let Some(pair) = (0..n).find(|&i| !scene[i].is_finite() || !world[i].is_finite()) {
        return Err(FitError::NonFinite { pair });
    }
    let mean = |p: &[DVec3]| p.iter().copied().sum::<DVec3>() / n as f64;
    let (mx, my) = (mean(scene), mean(world));
    let v = |p: DVec3| Vector3::new(p.x, p.y, p.z);
    let scatter = |points: &[DVec3], m: DVec3| {
        points
            .iter()
            .fold(Matrix3::zeros(), |acc, &p| acc + v(p - m) * v(p - m).transpose())
    };
    for (side, points, m) in [("scene", scene, mx), ("world", world, my)] {
        let s = scatter(points, m).singular_values();
        let mut s: Vec<f64> = s.iter().copied().collect();
        s.sort_by(|a, b| b.total_cmp(a));
        // Collinear: the second principal spread vanishes next to the first.
        if s[0] <= 0.0 || s[1] <= 1e-12 * s[0] {
            return Err(FitError::Degenerate { side });
        }
    }
    let variance = scene.iter().map(|&p| (p - mx).length_squared()).sum::<f64>() / n as f64;
    let covariance = scene.iter().zip(world).fold(Matrix3::zeros(), |acc, (&x, &y)| {
        acc + v(y - my) * v(x - mx).transpose()
    }) / n as f64;
    let svd = covariance.svd(true, true);
    let (u, vt) = (svd.u.expect("computed"), svd.v_t.expect("computed"));
    let d = svd.singular_values;
    let mut s = Vector3::new(1.0, 1.0, 1.0);
    if u.determinant() * vt.determinant() < 0.0 {
        // nalgebra does not sort singular values: flip the smallest one's direction.
        let smallest = (0..3).min_by(|&a, &b| d[a].total_cmp(&d[b])).expect("three");
        s[smallest] = -1.0;
    }
    let r = u * Matrix3::from_diagonal(&s) * vt;
    let scale = d.component_mul(&s).sum() / variance;
    let rotation = DMat3::from_cols(
        DVec3::new(r[(0, 0)], r[(1, 0)], r[(2, 0)]),
        DVec3::new(r[(0, 1)], r[(1, 1)], r[(2, 1)]),
        DVec3::new(r[(0, 2)], r[(1, 2)], r[(2, 2)]),
    );
    let translation = my - scale * (rotation * mx);
    let linear = rotation * scale;
    let scene_to_world = DMat4::from_cols(
        linear.x_axis.extend(0.0),
        linear.y_axis.extend(0.0),
        linear.z_axis.extend(0.0),
        translation.extend(1.0),
    );
    let residuals_mm: Vec<f64> = scene
        .iter()
        .zip(world)
        .map(|(&x, &y)| (scene_to_world.transform_point3(x) - y).length())
        .collect();
    let rms_mm = (residuals_mm.iter().map(|r| r * r).sum::<f64>() / n as f64).sqrt();
    Ok(SimilarityFit {
        scene_to_world,
        scale,
        rotation,
        translation,
        rms_mm,
        residuals_mm,
    })
}

/// The value of `"format"` in a transform sidecar.
pub const TRANSFORM_FORMAT: &str = "cortexlens-transform";

/// The sidecar version written and read.
pub const TRANSFORM_VERSION: u64 = 1;

/// Why a transform file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TransformFileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("{path}: not JSON: {detail}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        detail: String,
    },
    /// JSON, but not a transform sidecar of this version.
    #[error("{path}: not a cortexlens transform: {detail}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A 4×4 matrix that is no usable scene-to-world transform.
    #[error("{path}: invalid transform: {detail}")]
    Matrix {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// `NAME.ply.transform.json` for the scene `NAME.ply` (any scene file name).
pub fn sidecar_path(scene: &Path) -> PathBuf {
    let mut name = scene.file_name().unwrap_or_default().to_os_string();
    name.push(".transform.json");
    scene.with_file_name(name)
}

/// The sidecar's JSON text for `scene_to_world` (pretty, one row per line).
pub fn transform_json(scene_to_world: &DMat4) -> String {
    let rows: Vec<Value> = (0..4).map(|r| json!(scene_to_world.row(r).to_array())).collect();
    let value = json!({
        "format": TRANSFORM_FORMAT,
        "version": TRANSFORM_VERSION,
        "scene_to_world": rows,
    });
    let text = serde_json::to_string_pretty(&value).expect("numbers and strings serialise");
    // One row per line: collapse the inner arrays that to_string_pretty spreads over lines.
    let mut out = String::with_capacity(text.len());
    let mut depth = 0;
    for line in text.lines() {
        let trimmed = line.trim();
        if depth >= 2 {
            out.push_str(trimmed);
            out.push_str(if trimmed.ends_with(',') { " " } else { "" });
        } else {
            out.push_str(line);
        }
        if trimmed.ends_with('[') {
            depth += 1;
        }
        if trimmed.starts_with(']') {
            depth -= 1;
        }
        if depth < 2 {
            out.push('\n');
        }
    }
    out
}

/// Writes the sidecar `path`.
pub fn write_transform(path: &Path, scene_to_world: &DMat4) -> Result<(), TransformFileError> {
    std::fs::write(path, transform_json(scene_to_world)).map_err(|source| TransformFileError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Reads the sidecar `path`.
pub fn read_transform(path: &Path) -> Result<DMat4, TransformFileError> {
    // A sidecar is a few hundred bytes; anything past 1 MiB is not one.
    let io = |source| TransformFileError::Io {
        path: path.to_owned(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > 1 << 20 {
        return Err(TransformFileError::Format {
            path: path.to_owned(),
            detail: format!("{len} bytes; a transform sidecar is a few hundred"),
        });
    }
    let text = std::fs::read(path).map_err(io)?;
    parse_transform(&text).map_err(|e| e.at(path))
}

/// Parses sidecar text (errors carry an empty path; [`read_transform`] names the file).
pub fn parse_transform(text: &[u8]) -> Result<DMat4, TransformFileError> {
    let none = PathBuf::new;
    let value: Value = serde_json::from_slice(text).map_err(|e| TransformFileError::Json {
        path: none(),
        detail: e.to_string(),
    })?;
    let format = |detail: String| TransformFileError::Format { path: none(), detail };
    let matrix = |detail: String| TransformFileError::Matrix { path: none(), detail };
    let object = value
        .as_object()
        .ok_or_else(|| format("the top level is not an object".into()))?;
    match object.get("format").and_then(Value::as_str) {
        Some(TRANSFORM_FORMAT) => {}
        Some(other) => return Err(format(format!("format is \"{other}\", not \"{TRANSFORM_FORMAT}\""))),
        None => return Err(format(format!("no \"format\": \"{TRANSFORM_FORMAT}\""))),
    }
    match object.get("version").and_then(Value::as_u64) {
        Some(TRANSFORM_VERSION) => {}
        Some(v) => return Err(format(format!("version {v} (this reader knows {TRANSFORM_VERSION})"))),
        None => return Err(format("no integer \"version\"".into())),
    }
    let rows = object
        .get("scene_to_world")
        .and_then(Value::as_array)
        .ok_or_else(|| format("no \"scene_to_world\" array".into()))?;
    if rows.len() != 4 {
        return Err(matrix(format!("scene_to_world has {} rows, not 4", rows.len())));
    }
    let mut m = [[0f64; 4]; 4];
    for (r, row) in rows.iter().enumerate() {
        let row = row
            .as_array()
            .filter(|row| row.len() == 4)
            .ok_or_else(|| matrix(format!("row {r} is not 4 numbers")))?;
        for (c, x) in row.iter().enumerate() {
            let x = x
                .as_f64()
                .ok_or_else(|| matrix(format!("row {r}, column {c} is not a number")))?;
            if !x.is_finite() {
                return Err(matrix(format!("row {r}, column {c} is not finite")));
            }
            m[r][c] = x;
        }
    }
    if m[3] != [0.0, 0.0, 0.0, 1.0] {
        return Err(matrix(format!("the last row is {:?}, not [0, 0, 0, 1]", m[3])));
    }
    let mat = DMat4::from_cols_array_2d(&m).transpose();
    let det = mat.determinant();
    if !det.is_normal() {
        return Err(matrix(format!("the matrix is singular (determinant {det})")));
    }
    Ok(mat)
}

impl TransformFileError {
    /// The same error about `path`.
    fn at(self, path: &Path) -> Self {
        let path = path.to_owned();
        match self {
            TransformFileError::Io { source, .. } => TransformFileError::Io { path, source },
            TransformFileError::Json { detail, .. } => TransformFileError::Json { path, detail },
            TransformFileError::Format { detail, .. } => TransformFileError::Format { path, detail },
            TransformFileError::Matrix { detail, .. } => TransformFileError::Matrix { path, detail },
        }
    }
}

/// `m` applied to the point `p`.
pub fn apply(m: &DMat4, p: DVec3) -> DVec3 {
    let q: DVec4 = *m * p.extend(1.0);
    q.truncate()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_round_trips_and_names() {
        let m = DMat4::from_scale_rotation_translation(
            DVec3::splat(1000.0),
            glam::DQuat::from_rotation_y(0.3),
            DVec3::new(1.0, -2.5, 30.0),
        );
        let text = transform_json(&m);
        assert!(text.contains("\"format\": \"cortexlens-transform\""), "{text}");
        assert_eq!(text.lines().count(), 10, "{text}");
        assert_eq!(parse_transform(text.as_bytes()).unwrap(), m);
        assert_eq!(
            sidecar_path(Path::new("/a/head.ply")),
            Path::new("/a/head.ply.transform.json")
        );
        assert_eq!(apply(&m, DVec3::ZERO), DVec3::new(1.0, -2.5, 30.0));
    }
}

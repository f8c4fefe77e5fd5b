//! Gaussian splats written as an INRIA 3DGS `.ply` (binary little-endian), the layout every
//! trainer and viewer reads: `x y z`, `f_dc_0..2`, `f_rest_*` (channel-major), `opacity` (a
//! logit), `scale_0..2` (log standard deviations), `rot_0..3` (`w x y z`). The reader in
//! `splat_ply.rs` turns it back into the same [`Splats`] (opacities of exactly 0 or 1 are
//! written as the logits of 1e-7 and 1 − 1e-7, which `f32` cannot tell apart from them).

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::splats::{Splats, sh_coefficients};

/// Writes `splats` to `path` as a binary little-endian 3DGS `.ply`.
pub fn save_splats_ply(path: &Path, splats: &Splats) -> io::Result<()> {
    let rest = sh_coefficients(splats.sh_degree) - 1;
    let mut header = format!(
        "ply\nformat binary_little_endian 1.0\nelement vertex {}\n",
        splats.len()
    );
    let mut names: Vec<String> = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2"].map(String::from).into();
    names.extend((0..3 * rest).map(|i| format!("f_rest_{i}")));
    names.extend(
        [
            "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3",
        ]
        .map(String::from),
    );
    for name in &names {
        header.push_str(&format!("property float {name}\n"));
    }
    header.push_str("end_header\n");
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    out.write_all(header.as_bytes())?;
    let mut row = Vec::with_capacity(names.len() * 4);
    for i in 0..splats.len() {
        row.clear();
        let mut put = |v: f32| row.extend_from_slice(&v.to_le_bytes());
        splats.positions[i].into_iter().for_each(&mut put);
        let sh = splats.coefficients(i);
        sh[0].into_iter().for_each(&mut put);
        for channel in 0..3 {
            sh[1..].iter().for_each(|c| put(c[channel]));
        }
        let opacity = splats.opacities[i].clamp(1e-7, 1.0 - 1e-7);
        put((opacity / (1.0 - opacity)).ln());
        splats.scales[i].into_iter().for_each(|s| put(s.ln()));
        splats.rotations[i].into_iter().for_each(&mut put);
        out.write_all(&row)?;
    }
    out.flush()
}

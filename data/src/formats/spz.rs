//! Niantic's `.spz` Gaussian splats, versions 1 to 4, read as Niantic's reference library
//! (`nianticlabs/spz`, `load-spz.cc`, MIT) defines them:
//!
//! - **Versions 1–3**: the whole file is one gzip stream of a 16-byte header (`NGSP` magic,
//!   version, point count, SH degree, fractional bits, flags, reserved; little-endian), then the
//!   attributes one after the other — positions (3 × 24-bit signed fixed point with `fractional
//!   bits`; version 1: 3 × float16), alphas (u8, the activated opacity × 255), colours (3 × u8, SH
//!   coefficient 0 as `c·0.15·255 + 127.5`), scales (3 × u8, log-scale as `(s + 10)·16`),
//!   rotations (version 3: 4 bytes, 2 bits naming the largest component of the unit quaternion
//!   `x y z w` and the other three as sign + 9-bit magnitude in units of `1/√2/511`; versions 1–2:
//!   `x y z` as u8 `(q + 1)·127.5` with `w ≥ 0` derived), SH (u8 `(v·128) + 128` for the `f_rest`
//!   coefficients, coefficient-major with the channel inner: `sh1_r sh1_g sh1_b sh2_r …`). When
//!   flag `0x2` is set, extension records follow.
//! - **Version 4**: a plain 32-byte header (`NGSP`, version, count, degree, fractional bits,
//!   flags, stream count, offset of the table of contents), extension records up to that offset,
//!   then a table of `[compressed, uncompressed]` u64 sizes and one zstd stream per non-empty
//!   attribute, in the order above.
//!
//! SPZ stores coordinates in OpenGL's RUB axes (right, up, back) unless the Adobe coordinate-system
//! extension (`0xADBE0003`) names another; 3DGS `.ply` files are RDF (right, down, front). Scenes
//! are converted to RDF as Niantic's `spz_to_ply` does, so a `.spz` and the `.ply` it was made from
//! load with the same coordinates: axis flips of positions, of the quaternions' vector part and of
//! the SH coefficients (the signs of `CoordinateConverter`). Extensions naming a rotated axis order
//! (`LFD`…`RBU`) are refused. SH of degree 4 (version 4 allows it) are cut to degree 3, the most
//! [`Splats`] holds.
//!
//! Written here: the crates on crates.io do not fit. `spz_rs` 0.1 reads versions 1–2 only; `spz`
//! 0.0.6 reads 1–3 (not 4) and brings tokio, clap and anyhow into a crate without a runtime; both
//! allocate whatever count a header claims and decompress without bound.
//!
//! Hostile input: the count is checked against [`MEMORY_BUDGET`] and the data's bound before
//! anything is allocated; gzip is inflated no further than the header says
//! ([`Input::expect`]); each zstd stream's size must be the one the count implies, is decoded
//! with a window of at most twice that (8 to 128 MiB) and read no further than it; the decoded arrays are allocated
//! only once all streams have arrived.

use std::io::Read;

use super::MEMORY_BUDGET;
use super::input::Input;
use super::progress::Progress;
use super::splat_ply::{normalised, read_exactly};
use crate::error::LoadError;
use crate::splats::{Splats, sh_coefficients};

/// The first four bytes of an SPZ header (`0x5053474e` little-endian).
pub(crate) const MAGIC: &[u8; 4] = b"NGSP";

/// Bytes of extension records read after the data of a gzip (version 1–3) file.
const MAX_EXTENSIONS: u64 = 64 << 10;

/// The Adobe coordinate-system extension's type.
const COORDINATE_SYSTEM: u32 = 0xADBE_0003;

/// Niantic's `CoordinateSystem::RUB`, what SPZ stores unless an extension says otherwise.
const RUB: u32 = 4;

/// Scale of the DC colour term, stored as `c·0.15·255 + 127.5`.
const COLOR_SCALE: f32 = 0.15;

/// What the header says.
#[derive(Clone, Copy, Debug)]
struct Head {
    version: u32,
    count: u64,
    degree: u8,
    fractional_bits: u8,
    flags: u8,
}

impl Head {
    fn parse(b: &[u8]) -> Result<Head, LoadError> {
        if !b.starts_with(MAGIC) {
            return Err(LoadError::bad_magic("SPZ", "the data does not start with NGSP"));
        }
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("16 bytes"));
        let head = Head {
            version: u32_at(4),
            count: u64::from(u32_at(8)),
            degree: b[12],
            fractional_bits: b[13],
            flags: b[14],
        };
        if !(1..=4).contains(&head.version) {
            return Err(LoadError::bad_header(format!(
                "SPZ version {} (versions 1 to 4 are read)",
                head.version
            )));
        }
        if head.degree > 4 {
            return Err(LoadError::bad_header(format!("SH degree {} (0 to 4)", head.degree)));
        }
        if head.fractional_bits > 23 {
            return Err(LoadError::bad_header(format!(
                "{} fractional bits of 24-bit positions",
                head.fractional_bits
            )));
        }
        Ok(head)
    }

    /// SH coefficients per channel beyond the DC term, as stored.
    fn rest(&self) -> usize {
        sh_coefficients(self.degree) - 1
    }

    /// Bytes of each attribute of all splats: positions, alphas, colours, scales, rotations, SH.
    fn sizes(&self) -> Option<[u64; 6]> {
        let n = self.count;
        let position = if self.version == 1 { 6 } else { 9 };
        let rotation = if self.version >= 3 { 4 } else { 3 };
        let per = [position, 1, 3, 3, rotation, 3 * self.rest() as u64];
        let mut out = [0u64; 6];
        for (o, p) in out.iter_mut().zip(per) {
            *o = n.checked_mul(p)?;
        }
        Some(out)
    }

    /// Checks the decoded scene against the memory budget.
    fn check_budget(&self) -> Result<(), LoadError> {
        let degree = self.degree.min(3);
        let decoded = self
            .count
            .saturating_mul(4 * (3 + 3 + 4 + 1 + 3 * sh_coefficients(degree) as u64));
        if decoded > MEMORY_BUDGET {
            return Err(LoadError::too_large(format!(
                "{} splats take {decoded} bytes decoded, over the memory budget of {MEMORY_BUDGET} bytes",
                self.count
            )));
        }
        Ok(())
    }
}

/// Loads an `.spz` file whose first bytes (decompressed, for versions 1–3) are `NGSP`.
pub(crate) fn load(input: &mut Input, name: &str, progress: &mut Progress) -> Result<Splats, LoadError> {
    let mut splats = if input.is_gzip() {
        load_gzip(input, progress)?
    } else {
        load_zstd(input, progress)?
    };
    splats.name = name.to_owned();
    Ok(splats)
}

fn load_gzip(input: &mut Input, progress: &mut Progress) -> Result<Splats, LoadError> {
    let head = Head::parse(&input.read_header(16, "SPZ header")?)?;
    if head.version >= 4 {
        return Err(LoadError::bad_header(
            "a gzip stream of SPZ version 4 (version 4 files are zstd streams behind a plain header)",
        ));
    }
    head.check_budget()?;
    let sizes = head
        .sizes()
        .ok_or_else(|| LoadError::too_large("the point count overflows"))?;
    let total: u64 = sizes.iter().sum();
    if total > input.max_remaining() {
        return Err(LoadError::truncated(format!(
            "the header claims {} splats ({total} bytes), the gzip stream can hold at most {}",
            head.count,
            input.max_remaining()
        )));
    }
    let extensions = head.flags & 2 != 0;
    input.expect(16 + total + if extensions { MAX_EXTENSIONS } else { 0 });
    progress.range(0.0, 0.7);
    let data = read_exactly(input, total, "the SPZ attributes", progress)?;
    let mut system = RUB;
    if extensions {
        let mut records = vec![0u8; MAX_EXTENSIONS as usize];
        let got = input.read_full(&mut records)?;
        records.truncate(got);
        system = coordinate_system(&records)?;
    }
    progress.range(0.7, 1.0);
    let mut at = 0usize;
    let streams = sizes.map(|len| {
        let s = &data[at..at + len as usize];
        at += len as usize;
        s
    });
    decode(&head, streams, system)
}

fn load_zstd(input: &mut Input, progress: &mut Progress) -> Result<Splats, LoadError> {
    if !input.peek(4)?.starts_with(MAGIC) {
        return Err(LoadError::bad_magic(
            "SPZ",
            "neither a gzip stream (versions 1–3) nor NGSP (version 4)",
        ));
    }
    let fixed = input.read_header(32, "SPZ version 4 header")?;
    let head = Head::parse(&fixed)?;
    if head.version < 4 {
        return Err(LoadError::bad_header(format!(
            "SPZ version {} without gzip (versions 1 to 3 are gzip streams)",
            head.version
        )));
    }
    head.check_budget()?;
    let stream_count = usize::from(fixed[15]);
    let toc = u32::from_le_bytes(fixed[16..20].try_into().expect("32 bytes")) as u64;
    let sizes = head
        .sizes()
        .ok_or_else(|| LoadError::too_large("the point count overflows"))?;
    progress.range(0.0, 0.3);
    let rest = input.read_to_end(MEMORY_BUDGET, &mut |f| progress.set(f))?;
    let file_len = 32 + rest.len() as u64;
    let toc_end = toc.saturating_add(16 * stream_count as u64);
    if toc < 32 || toc_end > file_len {
        return Err(LoadError::truncated(format!(
            "the table of {stream_count} streams at offset {toc} ends past the end of the file ({file_len} bytes)"
        )));
    }
    let system = if head.flags & 2 != 0 {
        coordinate_system(&rest[..(toc - 32) as usize])?
    } else {
        RUB
    };
    let table = &rest[(toc - 32) as usize..(toc_end - 32) as usize];
    let expected: Vec<(usize, u64)> = sizes.iter().copied().enumerate().filter(|&(_, s)| s > 0).collect();
    if expected.len() != stream_count {
        return Err(LoadError::splats(format!(
            "{stream_count} streams for {} splats of SH degree {} ({} expected)",
            head.count,
            head.degree,
            expected.len()
        )));
    }
    let mut offset = (toc_end - 32) as usize;
    let mut streams: [Vec<u8>; 6] = Default::default();
    progress.range(0.3, 0.8);
    for (k, &(attribute, want)) in expected.iter().enumerate() {
        let entry = &table[16 * k..16 * k + 16];
        let compressed = u64::from_le_bytes(entry[..8].try_into().expect("16 bytes"));
        let uncompressed = u64::from_le_bytes(entry[8..].try_into().expect("16 bytes"));
        if uncompressed != want {
            return Err(LoadError::splats(format!(
                "stream {k} ({}) holds {uncompressed} bytes, {} splats need {want}",
                ATTRIBUTES[attribute], head.count
            )));
        }
        let end = (offset as u64).saturating_add(compressed);
        if end > rest.len() as u64 {
            return Err(LoadError::truncated(format!(
                "stream {k} ({}) of {compressed} bytes at offset {} ends past the end of the file ({file_len} bytes)",
                ATTRIBUTES[attribute],
                offset + 32
            )));
        }
        streams[attribute] = unzstd(&rest[offset..end as usize], want, ATTRIBUTES[attribute])?;
        offset = end as usize;
        progress.set((k + 1) as f64 / expected.len() as f64);
    }
    if offset != rest.len() {
        return Err(LoadError::splats(format!(
            "{} bytes after the last stream",
            rest.len() - offset
        )));
    }
    progress.range(0.8, 1.0);
    decode(&head, streams.each_ref().map(Vec::as_slice), system)
}

const ATTRIBUTES: [&str; 6] = ["positions", "alphas", "colors", "scales", "rotations", "sh"];

/// One zstd frame holding exactly `want` bytes, decoded with a window of at most twice that (at
/// least 8 MiB, at most 128 MiB) and read no further than it.
fn unzstd(compressed: &[u8], want: u64, what: &str) -> Result<Vec<u8>, LoadError> {
    let bad = |detail: String| LoadError::BadGzip {
        file: String::new(),
        detail: format!("zstd stream of the {what}: {detail}"),
    };
    let mut frame = ruzstd::decoding::FrameDecoder::new();
    // libzstd shrinks the window to a frame's known size, other encoders (ruzstd: 128 KiB) may not.
    frame.set_max_window_size(want.saturating_mul(2).clamp(8 << 20, 128 << 20));
    let decoder =
        ruzstd::decoding::StreamingDecoder::new_with_decoder(compressed, frame).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::with_capacity(usize::try_from(want.min(16 << 20)).unwrap_or(0));
    decoder
        .take(want + 1)
        .read_to_end(&mut out)
        .map_err(|e| bad(e.to_string()))?;
    if out.len() as u64 != want {
        return Err(LoadError::truncated(format!(
            "the zstd stream of the {what} holds {} bytes, the header needs {want}",
            out.len()
        )));
    }
    Ok(out)
}

/// The coordinate system named by the records `[type u32][length u32][payload]` (Adobe's
/// extension), RUB when none names one.
fn coordinate_system(records: &[u8]) -> Result<u32, LoadError> {
    let mut at = 0usize;
    while at + 8 <= records.len() {
        let kind = u32::from_le_bytes(records[at..at + 4].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(records[at + 4..at + 8].try_into().expect("8 bytes")) as usize;
        let Some(payload) = records.get(at + 8..(at + 8).saturating_add(len)) else {
            break;
        };
        if kind == COORDINATE_SYSTEM && len >= 4 {
            let system = u32::from_le_bytes(payload[..4].try_into().expect("4 bytes"));
            if system > 16 {
                return Err(LoadError::splats(format!("coordinate system {system} (0 to 16)")));
            }
            return Ok(system);
        }
        at += 8 + len;
    }
    Ok(RUB)
}

/// Signs that take coordinates in Niantic's `system` to RDF: `[x, y, z]` (0: unspecified, kept).
fn flips(system: u32) -> Result<[f32; 3], LoadError> {
    const RDF: u32 = 6;
    if system == 0 {
        return Ok([1.0; 3]);
    }
    if system > 8 {
        return Err(LoadError::splats(format!(
            "coordinate system {system}: a rotated axis order (LFD…RBU) is not read"
        )));
    }
    let (a, b) = (system - 1, RDF - 1);
    Ok(std::array::from_fn(|axis| {
        if (a >> axis) & 1 == (b >> axis) & 1 { 1.0 } else { -1.0 }
    }))
}

/// Sign of each of the 15 non-DC SH coefficients under axis flips `[x, y, z]` (Niantic's
/// `flipSh`, from the sign of each real SH basis function under reflection).
fn sh_flips([x, y, z]: [f32; 3]) -> [f32; 15] {
    [y, z, x, x * y, y * z, 1.0, x * z, 1.0, y, x * y * z, y, z, x, z, x]
}

/// The scene from the attribute arrays (checked to have the header's sizes).
fn decode(
    head: &Head,
    [positions, alphas, colors, scales, rotations, sh]: [&[u8]; 6],
    system: u32,
) -> Result<Splats, LoadError> {
    let n = head.count as usize;
    let flip = flips(system)?;
    let sh_flip = sh_flips(flip);
    let degree = head.degree.min(3);
    let coefficients = sh_coefficients(degree);
    let stored = head.rest();
    let fixed = 2f32.powi(-i32::from(head.fractional_bits));
    let mut s = Splats {
        sh_degree: degree,
        positions: Vec::with_capacity(n),
        scales: Vec::with_capacity(n),
        rotations: Vec::with_capacity(n),
        opacities: Vec::with_capacity(n),
        sh: Vec::with_capacity(n * coefficients),
        ..Splats::default()
    };
    for i in 0..n {
        let p: [f32; 3] = if head.version == 1 {
            std::array::from_fn(|a| {
                let b = &positions[6 * i + 2 * a..];
                half::f16::from_le_bytes([b[0], b[1]]).to_f32()
            })
        } else {
            std::array::from_fn(|a| {
                let b = &positions[9 * i + 3 * a..];
                let v = i32::from_le_bytes([b[0], b[1], b[2], 0]) << 8 >> 8;
                v as f32 * fixed
            })
        };
        if let Some(a) = (0..3).find(|&a| !p[a].is_finite()) {
            return Err(LoadError::non_finite(
                format!("splat {i}: position {a}"),
                f64::from(p[a]),
            ));
        }
        s.positions.push(std::array::from_fn(|a| p[a] * flip[a]));
        s.opacities.push(f32::from(alphas[i]) / 255.0);
        s.scales.push(std::array::from_fn(|a| {
            (f32::from(scales[3 * i + a]) / 16.0 - 10.0).exp()
        }));
        let xyzw = if head.version >= 3 {
            smallest_three(rotations[4 * i..4 * i + 4].try_into().expect("4 bytes"))
        } else {
            let v: [f32; 3] = std::array::from_fn(|a| f32::from(rotations[3 * i + a]) / 127.5 - 1.0);
            let w = (1.0 - v.iter().map(|c| c * c).sum::<f32>()).max(0.0).sqrt();
            [v[0], v[1], v[2], w]
        };
        let q = [
            xyzw[3],
            xyzw[0] * flip[1] * flip[2],
            xyzw[1] * flip[0] * flip[2],
            xyzw[2] * flip[0] * flip[1],
        ];
        s.rotations.push(
            normalised(q).ok_or_else(|| LoadError::splats(format!("splat {i}: the rotation quaternion is zero")))?,
        );
        s.sh.push(std::array::from_fn(|c| {
            (f32::from(colors[3 * i + c]) / 255.0 - 0.5) / COLOR_SCALE
        }));
        let base = i * stored * 3;
        for k in 0..coefficients - 1 {
            s.sh.push(std::array::from_fn(|c| {
                (f32::from(sh[base + 3 * k + c]) - 128.0) / 128.0 * sh_flip[k]
            }));
        }
    }
    Ok(s)
}

/// Version 3 rotations: `x y z w` with the largest component (named by the top 2 bits, made
/// positive) derived from the other three (sign bit and 9-bit magnitude, last component lowest).
fn smallest_three(bytes: [u8; 4]) -> [f32; 4] {
    let mut comp = u32::from_le_bytes(bytes);
    let largest = (comp >> 30) as usize;
    let mut q = [0f32; 4];
    let mut sum = 0.0;
    for i in (0..4).rev() {
        if i != largest {
            let magnitude = (comp & 511) as f32 / 511.0 * std::f32::consts::FRAC_1_SQRT_2;
            q[i] = if (comp >> 9) & 1 == 1 { -magnitude } else { magnitude };
            sum += q[i] * q[i];
            comp >>= 10;
        }
    }
    q[largest] = (1.0 - sum).max(0.0).sqrt();
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rub_to_rdf_flips_y_and_z() {
        assert_eq!(flips(RUB).unwrap(), [1.0, -1.0, -1.0]);
        assert_eq!(flips(6).unwrap(), [1.0; 3]);
        assert_eq!(flips(0).unwrap(), [1.0; 3]);
        assert!(flips(9).is_err());
        let s = sh_flips([1.0, -1.0, -1.0]);
        assert_eq!(&s[..3], &[-1.0, -1.0, 1.0]);
    }

    #[test]
    fn smallest_three_decodes_the_identity() {
        // w (index 3) largest, x y z zero.
        assert_eq!(smallest_three((3u32 << 30).to_le_bytes()), [0.0, 0.0, 0.0, 1.0]);
        // x largest; y = -1/√2 (sign bit, full magnitude), z w zero: 10-bit fields are w (lowest), z, y.
        let comp: u32 = (1 << 9 | 511) << 20; // index 0 (x) in the top bits
        let q = smallest_three(comp.to_le_bytes());
        assert!((q[1] + std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6, "{q:?}");
        assert!((q[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6, "{q:?}");
    }

    #[test]
    fn extension_records() {
        let mut r = Vec::new();
        r.extend(0xADBE_0002u32.to_le_bytes());
        r.extend(12u32.to_le_bytes());
        r.extend([0u8; 12]);
        r.extend(COORDINATE_SYSTEM.to_le_bytes());
        r.extend(4u32.to_le_bytes());
        r.extend(6u32.to_le_bytes());
        assert_eq!(coordinate_system(&r).unwrap(), 6);
        assert_eq!(coordinate_system(&r[..20]).unwrap(), RUB);
    }
}

//! Gaussian splats in PLY files: the INRIA 3DGS layout (Kerbl et al. 2023, as its `save_ply`
//! writes it and every trainer since copies it) and SuperSplat's `.compressed.ply` (PlayCanvas:
//! chunks of 256 quantised splats).
//!
//! # INRIA 3DGS
//!
//! One `vertex` element with `x y z`, `f_dc_0..2` (SH coefficient 0 of R, G, B), `f_rest_*`
//! (the higher SH coefficients, *channel-major*: all of R's, then G's, then B's; 0, 9, 24 or 45 of
//! them for degree 0 to 3), `opacity` (a logit), `scale_0..2` (log standard deviations) and
//! `rot_0..3` (a quaternion `w, x, y, z`, not necessarily unit). Any scalar type is read; other
//! properties (`nx ny nz`, anything) and other elements are skipped. Values are activated as the
//! reference rasteriser uses them: `exp` of the scales, `sigmoid` of the opacity, the quaternion
//! normalised; the SH are stored splat-major in [`Splats::sh`]. A missing property is
//! [`LoadError::MissingProperties`] naming every one missing; a NaN or infinite value (or a scale
//! whose `exp` overflows) is [`LoadError::NonFinite`] naming the splat and property; a rotation of
//! length zero is [`LoadError::Splats`].
//!
//! Binary files are read in blocks of rows that are decoded in parallel (no allocation per row
//! or property), so a scene costs little more than reading its bytes; ASCII files are read whole
//! and parsed line by line.
//!
//! # SuperSplat `.compressed.ply`
//!
//! Read as PlayCanvas' `splat-transform` (`decompress-ply.ts`) and engine read it: a `chunk`
//! element with, per 256 splats, float `min_x … max_z`, `min_scale_x … max_scale_z` (log-scales)
//! and optionally `min_r … max_b` (colours); a `vertex` element of uint `packed_position`
//! (11-10-11 bits, unit fractions of the chunk's box), `packed_rotation` (2 bits naming the
//! largest of `rot_0..3`, then the other three as 10-bit values in ±1/√2), `packed_scale` (11-10-11
//! bits of the chunk's log-scale range), `packed_color` (8 bits each of R, G, B — fractions of the
//! chunk's colour range when it has one, else the colour itself — and the activated opacity); an
//! optional `sh` element of uchar `f_rest_*` (channel-major as above), each `(v + 0.5)/256`
//! (0 and 255 exactly 0 and 1) mapped to `(n − 0.5)·8`. Colour `c` is SH coefficient
//! `(c − 0.5)/SH_C0`.
//!
//! # Hostile input
//!
//! Before anything is allocated, the rows an element claims are checked against the bytes the
//! file has (after decompression, for a gzipped `.ply`: only as much is inflated as the header
//! says) and the decoded scene against [`MEMORY_BUDGET`].

use rayon::prelude::*;

use super::MEMORY_BUDGET;
use super::input::{CHUNK, Input};
use super::ply::{self, AsciiRows, Element, Encoding, Header, Kind, Scalar};
use super::progress::Progress;
use crate::error::LoadError;
use crate::splats::{SH_C0, Splats, sh_coefficients};

/// The properties a 3DGS vertex must have besides `f_rest_*`.
const REQUIRED: [&str; 14] = [
    "x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2",
    "rot_3",
];

/// Properties that mark a PLY `vertex` element as Gaussian splats rather than a point cloud or mesh.
const SPLAT_MARKERS: [&str; 5] = ["f_dc_0", "opacity", "scale_0", "rot_0", "f_rest_0"];

/// Splats per chunk of a compressed PLY.
const CHUNK_SPLATS: usize = 256;

/// What a PLY file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PlyKind {
    /// INRIA 3DGS splats.
    Gaussians,
    /// SuperSplat's chunked, quantised splats.
    Compressed,
    /// Anything else (a mesh, a point cloud).
    Other,
}

/// Tells the kinds apart by the header's elements and properties.
pub(crate) fn classify(header: &Header) -> PlyKind {
    let vertex = header.element("vertex").map(|(_, v)| v);
    if header.element("chunk").is_some() && vertex.is_some_and(|v| v.has("packed_position")) {
        PlyKind::Compressed
    } else if vertex.is_some_and(|v| SPLAT_MARKERS.iter().any(|m| v.has(m))) {
        PlyKind::Gaussians
    } else {
        PlyKind::Other
    }
}

/// Reads the PLY header at the start of `input`, consuming it; also returns its line count.
pub(crate) fn read_header(input: &mut Input) -> Result<(Header, usize), LoadError> {
    let head = input.peek(ply::MAX_HEADER)?;
    let header = ply::parse_header(head)?;
    let lines = ply::header_lines(head, &header);
    input.read_header(header.len, "PLY header")?;
    Ok((header, lines))
}

/// Loads a 3DGS or compressed PLY whose header has been read.
pub(crate) fn load(
    input: &mut Input,
    header: &Header,
    header_lines: usize,
    kind: PlyKind,
    name: &str,
    progress: &mut Progress,
) -> Result<Splats, LoadError> {
    let splats = match kind {
        PlyKind::Compressed => load_compressed(input, header, progress)?,
        _ => load_gaussians(input, header, header_lines, progress)?,
    };
    Ok(Splats {
        name: name.to_owned(),
        ..splats
    })
}

/// Where each value of a 3DGS row is: property indices (ASCII) or byte offsets (binary).
struct Layout {
    /// `x y z`, `f_dc_0..2`, `opacity`, `scale_0..2`, `rot_0..3`, as in [`REQUIRED`].
    fixed: [(usize, Scalar); 14],
    /// `f_rest_0..`, in file order (channel-major).
    rest: Vec<(usize, Scalar)>,
    /// Names of `fixed` then `rest`, for messages.
    names: Vec<String>,
    /// SH degree.
    degree: u8,
}

impl Layout {
    /// The layout of `vertex`; `at` gives a property's position (byte offset or index) and type.
    fn of(vertex: &Element, at: impl Fn(&str) -> Option<(usize, Scalar)>) -> Result<Layout, LoadError> {
        // f_rest_0 … f_rest_{k-1}: k from the highest index present, so a gap is named.
        let rest_count = vertex
            .properties
            .iter()
            .filter_map(|p| p.name.strip_prefix("f_rest_")?.parse::<usize>().ok())
            .map(|i| i + 1)
            .max()
            .unwrap_or(0);
        let rest_names: Vec<String> = (0..rest_count).map(|i| format!("f_rest_{i}")).collect();
        let mut missing: Vec<String> = REQUIRED
            .iter()
            .map(|s| s.to_string())
            .chain(rest_names.iter().cloned())
            .filter(|n| !vertex.has(n))
            .collect();
        if !missing.is_empty() {
            missing.sort_by_key(|n| REQUIRED.iter().position(|r| r == n).unwrap_or(REQUIRED.len()));
            return Err(LoadError::missing(&vertex.name, missing));
        }
        let degree = match rest_count {
            0 => 0,
            9 => 1,
            24 => 2,
            45 => 3,
            n => {
                return Err(LoadError::splats(format!(
                    "{n} f_rest properties: SH degrees 1, 2 and 3 have 9, 24 and 45"
                )));
            }
        };
        for name in REQUIRED.iter().copied().chain(rest_names.iter().map(String::as_str)) {
            if at(name).is_none() {
                return Err(LoadError::ply(format!(
                    "property {name} of element {} is a list, not a number",
                    vertex.name
                )));
            }
        }
        let get = |n: &str| at(n).expect("checked above");
        Ok(Layout {
            fixed: REQUIRED.map(get),
            rest: rest_names.iter().map(|n| get(n)).collect(),
            names: REQUIRED.iter().map(|s| s.to_string()).chain(rest_names).collect(),
            degree,
        })
    }

    /// Coefficients per splat and channel.
    fn coefficients(&self) -> usize {
        sh_coefficients(self.degree)
    }

    /// Bytes of the decoded scene per splat.
    fn decoded_bytes(&self) -> u64 {
        4 * (3 + 3 + 4 + 1 + 3 * self.coefficients() as u64)
    }
}

/// The decoded arrays of some rows.
struct Out<'a> {
    positions: &'a mut [[f32; 3]],
    scales: &'a mut [[f32; 3]],
    rotations: &'a mut [[f32; 4]],
    opacities: &'a mut [f32],
    sh: &'a mut [[f32; 3]],
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Activates one row's values (`value(k)` is property `k` of the layout: fixed then rest) into
/// splat `i` of `out`, row `first + i` of the file; errors name the splat.
#[inline(always)]
fn activate(
    layout: &Layout,
    value: impl Fn(usize) -> f32,
    out: &mut Out,
    i: usize,
    first: usize,
) -> Result<(), LoadError> {
    let v: [f32; 14] = std::array::from_fn(&value);
    let m = layout.rest.len() / 3;
    let nc = m + 1;
    let sh = &mut out.sh[i * nc..(i + 1) * nc];
    sh[0] = [v[3], v[4], v[5]];
    let mut finite = v.iter().all(|x| x.is_finite());
    for (j, c) in sh[1..].iter_mut().enumerate() {
        *c = [value(14 + j), value(14 + m + j), value(14 + 2 * m + j)];
        finite &= c.iter().all(|x| x.is_finite());
    }
    if !finite {
        let k = (0..14 + layout.rest.len())
            .find(|&k| !value(k).is_finite())
            .unwrap_or(0);
        return Err(LoadError::non_finite(
            format!("splat {}: {}", first + i, layout.names[k]),
            f64::from(value(k)),
        ));
    }
    out.positions[i] = [v[0], v[1], v[2]];
    out.opacities[i] = sigmoid(v[6]);
    let scale = [v[7].exp(), v[8].exp(), v[9].exp()];
    if let Some(a) = (0..3).find(|&a| !scale[a].is_finite()) {
        return Err(LoadError::non_finite(
            format!("splat {}: exp(scale_{a}) (log-scale {})", first + i, v[7 + a]),
            f64::from(scale[a]),
        ));
    }
    out.scales[i] = scale;
    out.rotations[i] = normalised([v[10], v[11], v[12], v[13]]).ok_or_else(|| {
        LoadError::splats(format!(
            "splat {}: the rotation quaternion (rot_0..3) is zero",
            first + i
        ))
    })?;
    Ok(())
}

/// `q / |q|`, `None` when `q` has no length (computed in `f64`, so tiny quaternions still normalise).
pub(crate) fn normalised(q: [f32; 4]) -> Option<[f32; 4]> {
    let norm = q.iter().map(|&c| f64::from(c) * f64::from(c)).sum::<f64>().sqrt();
    (norm > 0.0 && norm.is_finite()).then(|| q.map(|c| (f64::from(c) / norm) as f32))
}

/// Empty arrays for `n` splats of `layout`, or [`LoadError::TooLarge`] past the budget.
fn allocate(n: u64, decoded_per_splat: u64, coefficients: usize, reserve: usize) -> Result<Splats, LoadError> {
    let bytes = n.saturating_mul(decoded_per_splat);
    if bytes > MEMORY_BUDGET {
        return Err(LoadError::too_large(format!(
            "{n} splats take {bytes} bytes decoded, over the memory budget of {MEMORY_BUDGET} bytes"
        )));
    }
    Ok(Splats {
        positions: Vec::with_capacity(reserve),
        scales: Vec::with_capacity(reserve),
        rotations: Vec::with_capacity(reserve),
        opacities: Vec::with_capacity(reserve),
        sh: Vec::with_capacity(reserve * coefficients),
        ..Splats::default()
    })
}

/// Grows every array of `s` to `n` splats.
fn grow(s: &mut Splats, n: usize, coefficients: usize) {
    s.positions.resize(n, [0.0; 3]);
    s.scales.resize(n, [0.0; 3]);
    s.rotations.resize(n, [0.0; 4]);
    s.opacities.resize(n, 0.0);
    s.sh.resize(n * coefficients, [0.0; 3]);
}

/// The arrays of splats `from..to` of `s`.
fn out_range(s: &mut Splats, from: usize, to: usize, coefficients: usize) -> Out<'_> {
    Out {
        positions: &mut s.positions[from..to],
        scales: &mut s.scales[from..to],
        rotations: &mut s.rotations[from..to],
        opacities: &mut s.opacities[from..to],
        sh: &mut s.sh[from * coefficients..to * coefficients],
    }
}

fn load_gaussians(
    input: &mut Input,
    header: &Header,
    header_lines: usize,
    progress: &mut Progress,
) -> Result<Splats, LoadError> {
    let (index, vertex) = header.element("vertex").expect("classified as splats");
    if header.encoding == Encoding::Ascii {
        let layout = Layout::of(vertex, |n| {
            let i = vertex.index_of(n)?;
            match vertex.properties[i].kind {
                Kind::Scalar(s) => Some((i, s)),
                Kind::List { .. } => None,
            }
        })?;
        return load_ascii(input, header, header_lines, index, &layout, progress);
    }
    let row = vertex
        .row_size()
        .ok_or_else(|| LoadError::ply("the vertex element of a splat file has a list property (it is not read)"))?;
    let layout = Layout::of(vertex, |n| vertex.scalar(n))?;
    let big = header.encoding == Encoding::Big;
    let n = vertex.count;
    // Elements before the vertices: skipped (their length walked in memory when they hold lists).
    let mut before = 0u64;
    let mut skipped = Vec::new();
    for element in &header.elements[..index] {
        match element.row_size() {
            Some(r) => before = before.saturating_add(element.count.saturating_mul(r as u64)),
            None => {
                let limit = input.max_remaining().min(MEMORY_BUDGET);
                skipped = input.read_to_end(limit, &mut |_| {})?;
                let mut at = 0usize;
                for e in &header.elements[..index] {
                    at += ply::binary_len(e, &skipped[at..], big).ok_or_else(|| {
                        LoadError::truncated(format!("element {} ends past the end of the data", e.name))
                    })?;
                }
                skipped.drain(..at);
                before = 0;
                break;
            }
        }
    }
    let claimed = n.saturating_mul(row as u64);
    let available = if skipped.is_empty() {
        input.max_remaining().saturating_sub(before)
    } else {
        skipped.len() as u64
    };
    if claimed > available {
        return Err(LoadError::truncated(format!(
            "the header claims {n} vertices of {row} bytes ({claimed} bytes) after {before} bytes of other elements, the {} has {available}",
            input.data_noun()
        )));
    }
    let coefficients = layout.coefficients();
    let exact = input.exact_remaining().is_some() || !skipped.is_empty();
    let reserve = if exact { n as usize } else { (n as usize).min(1 << 16) };
    let mut splats = allocate(n, layout.decoded_bytes(), coefficients, reserve)?;
    splats.sh_degree = layout.degree;
    if skipped.is_empty() {
        input.expect(input.position() + before + claimed);
        if input.skip(before)? < before {
            return Err(LoadError::truncated(
                "the data ends inside the elements before the vertices",
            ));
        }
    }
    let n = n as usize;
    let rows_per_block = (8 * CHUNK / row.max(1)).max(1);
    let mut buffer = vec![0u8; rows_per_block.min(n.max(1)) * row];
    let mut done = 0usize;
    while done < n {
        let rows = rows_per_block.min(n - done);
        let bytes: &[u8] = if skipped.is_empty() {
            let want = rows * row;
            let got = input.read_full(&mut buffer[..want])?;
            if got < want {
                return Err(LoadError::truncated(format!(
                    "the header claims {n} vertices, the data ends in vertex {}",
                    done + got / row.max(1)
                )));
            }
            &buffer[..want]
        } else {
            &skipped[done * row..(done + rows) * row]
        };
        grow(&mut splats, done + rows, coefficients);
        decode_block(
            bytes,
            row,
            big,
            &layout,
            out_range(&mut splats, done, done + rows, coefficients),
            done,
        )?;
        done += rows;
        progress.set(done as f64 / n as f64);
    }
    Ok(splats)
}

/// Decodes binary rows `bytes` (rows of `row` bytes, the first being file row `first`) in parallel.
fn decode_block(bytes: &[u8], row: usize, big: bool, layout: &Layout, out: Out, first: usize) -> Result<(), LoadError> {
    const PIECE: usize = 4096;
    let nc = layout.coefficients();
    let results: Vec<Result<(), LoadError>> = bytes
        .par_chunks(PIECE * row.max(1))
        .zip(out.positions.par_chunks_mut(PIECE))
        .zip(out.scales.par_chunks_mut(PIECE))
        .zip(out.rotations.par_chunks_mut(PIECE))
        .zip(out.opacities.par_chunks_mut(PIECE))
        .zip(out.sh.par_chunks_mut(PIECE * nc))
        .enumerate()
        .map(|(p, (((((bytes, positions), scales), rotations), opacities), sh))| {
            let mut out = Out {
                positions,
                scales,
                rotations,
                opacities,
                sh,
            };
            for (i, r) in bytes.chunks_exact(row.max(1)).enumerate() {
                let value = |k: usize| {
                    let (offset, ty) = if k < 14 { layout.fixed[k] } else { layout.rest[k - 14] };
                    ty.read_f32(&r[offset..], big)
                };
                activate(layout, value, &mut out, i, first + p * PIECE)?;
            }
            Ok(())
        })
        .collect();
    results.into_iter().collect()
}

fn load_ascii(
    input: &mut Input,
    header: &Header,
    header_lines: usize,
    index: usize,
    layout: &Layout,
    progress: &mut Progress,
) -> Result<Splats, LoadError> {
    let vertex = &header.elements[index];
    let needed: u64 = header.elements[..=index]
        .iter()
        .map(|e| ply::min_bytes(e, Encoding::Ascii))
        .fold(0, u64::saturating_add);
    if needed > input.max_remaining() {
        return Err(LoadError::truncated(format!(
            "the header claims {} vertices (at least {needed} bytes of text with the elements before them), the {} has {}",
            vertex.count,
            input.data_noun(),
            input.max_remaining()
        )));
    }
    let n = vertex.count;
    let coefficients = layout.coefficients();
    let mut splats = allocate(n, layout.decoded_bytes(), coefficients, 0)?;
    splats.sh_degree = layout.degree;
    progress.range(0.0, 0.5);
    let text = input.read_to_end(MEMORY_BUDGET, &mut |f| progress.set(f))?;
    progress.range(0.5, 1.0);
    let mut rows = AsciiRows::new(&text, header_lines);
    let mut words = Vec::new();
    for element in &header.elements[..index] {
        for _ in 0..element.count {
            if !rows.next_row(&mut words)? {
                return Err(LoadError::truncated(format!(
                    "the text ends inside element {}",
                    element.name
                )));
            }
        }
    }
    let n = n as usize;
    let width = vertex.properties.len();
    let mut values = vec![0f32; layout.names.len()];
    let positions: Vec<usize> = layout.fixed.iter().chain(&layout.rest).map(|&(i, _)| i).collect();
    let types: Vec<Scalar> = layout.fixed.iter().chain(&layout.rest).map(|&(_, t)| t).collect();
    grow(&mut splats, n, coefficients);
    let mut out = out_range(&mut splats, 0, n, coefficients);
    for i in 0..n {
        if !rows.next_row(&mut words)? {
            return Err(LoadError::truncated(format!(
                "the header claims {n} vertices, the text ends after {i}"
            )));
        }
        if words.len() != width {
            return Err(LoadError::ply(format!(
                "line {}: {} values, the vertex element has {width} properties",
                rows.line - 1,
                words.len()
            )));
        }
        for (k, (&at, &ty)) in positions.iter().zip(&types).enumerate() {
            values[k] = ply::parse_ascii(words[at], ty).ok_or_else(|| {
                LoadError::ply(format!(
                    "line {}: `{}` is not a {} ({})",
                    rows.line - 1,
                    words[at],
                    ty.name(),
                    layout.names[k]
                ))
            })? as f32;
        }
        activate(layout, |k| values[k], &mut out, i, 0)?;
        if i % 65536 == 0 {
            progress.set(i as f64 / n as f64);
        }
    }
    Ok(splats)
}

/// Chunk properties of a compressed PLY (colours optional).
const CHUNK_REQUIRED: [&str; 12] = [
    "min_x",
    "min_y",
    "min_z",
    "max_x",
    "max_y",
    "max_z",
    "min_scale_x",
    "min_scale_y",
    "min_scale_z",
    "max_scale_x",
    "max_scale_y",
    "max_scale_z",
];
const CHUNK_COLORS: [&str; 6] = ["min_r", "min_g", "min_b", "max_r", "max_g", "max_b"];
const PACKED: [&str; 4] = ["packed_position", "packed_rotation", "packed_scale", "packed_color"];

/// One element's binary rows in memory.
struct Rows<'a> {
    bytes: &'a [u8],
    row: usize,
    big: bool,
}

impl Rows<'_> {
    fn f32(&self, i: usize, (offset, ty): (usize, Scalar)) -> f32 {
        ty.read_f32(&self.bytes[i * self.row + offset..], self.big)
    }

    fn u32(&self, i: usize, (offset, ty): (usize, Scalar)) -> u32 {
        ty.read_u32(&self.bytes[i * self.row + offset..], self.big).unwrap_or(0)
    }
}

/// The byte offsets of `names` in `element`'s rows, or the names missing.
fn offsets<const N: usize>(element: &Element, names: [&str; N]) -> Result<[(usize, Scalar); N], LoadError> {
    let missing: Vec<String> = names
        .iter()
        .filter(|n| element.scalar(n).is_none())
        .map(|n| n.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(LoadError::missing(&element.name, missing));
    }
    Ok(names.map(|n| element.scalar(n).expect("checked")))
}

fn load_compressed(input: &mut Input, header: &Header, progress: &mut Progress) -> Result<Splats, LoadError> {
    if header.encoding == Encoding::Ascii {
        return Err(LoadError::ply(
            "a compressed PLY (with chunk and packed_* properties) must be binary",
        ));
    }
    let big = header.encoding == Encoding::Big;
    let (_, chunk) = header.element("chunk").expect("classified");
    let (_, vertex) = header.element("vertex").expect("classified");
    let sh_element = header.element("sh").map(|(_, e)| e);
    for e in &header.elements {
        if e.row_size().is_none() && ["chunk", "vertex", "sh"].contains(&e.name.as_str()) {
            return Err(LoadError::ply(format!(
                "element {} of a compressed PLY has a list property",
                e.name
            )));
        }
    }
    let chunk_at = offsets(chunk, CHUNK_REQUIRED)?;
    let colors = if CHUNK_COLORS.iter().any(|c| chunk.has(c)) {
        Some(offsets(chunk, CHUNK_COLORS)?)
    } else {
        None
    };
    let packed = offsets(vertex, PACKED)?;
    for (&name, &(_, ty)) in PACKED.iter().zip(&packed) {
        if !ty.is_integer() {
            return Err(LoadError::ply(format!(
                "{name} is a {}, not an unsigned integer",
                ty.name()
            )));
        }
    }
    let n = vertex.count;
    let chunks_needed = n.div_ceil(CHUNK_SPLATS as u64);
    if chunk.count != chunks_needed {
        return Err(LoadError::splats(format!(
            "{} chunks for {n} splats (one per {CHUNK_SPLATS}: {chunks_needed})",
            chunk.count
        )));
    }
    let (degree, sh_at) = match sh_element {
        None => (0u8, Vec::new()),
        Some(sh) => {
            let k = sh.properties.len();
            let degree = match k {
                9 => 1,
                24 => 2,
                45 => 3,
                _ => {
                    return Err(LoadError::splats(format!(
                        "the sh element has {k} properties: SH degrees 1, 2 and 3 have 9, 24 and 45"
                    )));
                }
            };
            if sh.count != n {
                return Err(LoadError::splats(format!("{} sh rows for {n} splats", sh.count)));
            }
            let names: Vec<String> = (0..k).map(|i| format!("f_rest_{i}")).collect();
            let missing: Vec<String> = names.iter().filter(|m| !sh.has(m)).cloned().collect();
            if !missing.is_empty() {
                return Err(LoadError::missing("sh", missing));
            }
            (degree, names.iter().map(|m| sh.scalar(m).expect("checked")).collect())
        }
    };
    let claimed: u64 = header
        .elements
        .iter()
        .map(|e| ply::min_bytes(e, header.encoding))
        .fold(0, u64::saturating_add);
    if claimed > input.max_remaining() {
        return Err(LoadError::truncated(format!(
            "the header claims {claimed} bytes of rows ({n} splats), the {} has {}",
            input.data_noun(),
            input.max_remaining()
        )));
    }
    let coefficients = sh_coefficients(degree);
    let decoded = 4 * (3 + 3 + 4 + 1 + 3 * coefficients as u64);
    let mut splats = allocate(n, decoded, coefficients, 0)?;
    splats.sh_degree = degree;
    input.expect(input.position() + claimed);
    progress.range(0.0, 0.6);
    let data = read_exactly(input, claimed, "the rows of a compressed PLY", progress)?;
    progress.range(0.6, 1.0);
    // Each element's rows (all scalar, so fixed-size).
    let mut at = 0usize;
    let mut rows_of = std::collections::HashMap::new();
    for e in &header.elements {
        let len = ply::binary_len(e, &data[at..], big).ok_or_else(|| {
            LoadError::truncated(format!(
                "element {} ({} rows) ends past the end of the data ({} bytes)",
                e.name,
                e.count,
                data.len()
            ))
        })?;
        rows_of.insert(e.name.as_str(), (at, len, e.row_size().unwrap_or(0)));
        at += len;
    }
    let rows = |name: &str| {
        let (at, len, row) = rows_of[name];
        Rows {
            bytes: &data[at..at + len],
            row,
            big,
        }
    };
    let chunk_rows = rows("chunk");
    let vertex_rows = rows("vertex");
    let n = n as usize;
    // Chunk bounds, checked finite.
    let mut bounds = Vec::with_capacity(chunk.count as usize);
    for c in 0..chunk.count as usize {
        let b: [f32; 12] = chunk_at.map(|p| chunk_rows.f32(c, p));
        let col: Option<[f32; 6]> = colors.map(|cs| cs.map(|p| chunk_rows.f32(c, p)));
        let all = b.iter().chain(col.iter().flatten());
        if let Some((k, v)) = all.enumerate().find(|(_, v)| !v.is_finite()) {
            let name = CHUNK_REQUIRED.iter().chain(&CHUNK_COLORS).nth(k).unwrap_or(&"");
            return Err(LoadError::non_finite(format!("chunk {c}: {name}"), f64::from(*v)));
        }
        bounds.push((b, col));
    }
    grow(&mut splats, n, coefficients);
    let lerp = |a: f32, b: f32, t: f32| a * (1.0 - t) + b * t;
    let unorm = |v: u32, bits: u32| (v & ((1 << bits) - 1)) as f32 / ((1u32 << bits) - 1) as f32;
    for i in 0..n {
        let (b, col) = &bounds[i / CHUNK_SPLATS];
        let [p, r, s, c] = packed.map(|at| vertex_rows.u32(i, at));
        let t = [unorm(p >> 21, 11), unorm(p >> 11, 10), unorm(p, 11)];
        splats.positions[i] = std::array::from_fn(|a| lerp(b[a], b[3 + a], t[a]));
        let t = [unorm(s >> 21, 11), unorm(s >> 11, 10), unorm(s, 11)];
        let scale: [f32; 3] = std::array::from_fn(|a| lerp(b[6 + a], b[9 + a], t[a]).exp());
        if let Some(a) = (0..3).find(|&a| !scale[a].is_finite()) {
            return Err(LoadError::non_finite(
                format!("splat {i}: scale {a}"),
                f64::from(scale[a]),
            ));
        }
        splats.scales[i] = scale;
        splats.rotations[i] = unpack_rotation(r);
        let rgb = [unorm(c >> 24, 8), unorm(c >> 16, 8), unorm(c >> 8, 8)];
        let rgb: [f32; 3] = match col {
            Some(col) => std::array::from_fn(|a| lerp(col[a], col[3 + a], rgb[a])),
            None => rgb,
        };
        splats.sh[i * coefficients] = rgb.map(|v| (v - 0.5) / SH_C0);
        splats.opacities[i] = unorm(c, 8);
        if i % 65536 == 0 {
            progress.set(i as f64 / n as f64);
        }
    }
    if degree > 0 {
        let sh_rows = rows("sh");
        let m = coefficients - 1;
        let value = |v: u32| {
            let n = match v {
                0 => 0.0,
                255 => 1.0,
                v => (v as f32 + 0.5) / 256.0,
            };
            (n - 0.5) * 8.0
        };
        for i in 0..n {
            for j in 0..m {
                splats.sh[i * coefficients + 1 + j] =
                    std::array::from_fn(|ch| value(sh_rows.u32(i, sh_at[ch * m + j])));
            }
        }
    }
    Ok(splats)
}

/// The next `n` bytes of `input` (checked against what it can hold by the caller); the buffer grows
/// as the data arrives, so a claim is never allocated ahead of its data.
pub(crate) fn read_exactly(
    input: &mut Input,
    n: u64,
    what: &str,
    progress: &mut Progress,
) -> Result<Vec<u8>, LoadError> {
    let n = usize::try_from(n).map_err(|_| LoadError::too_large(format!("{what}: {n} bytes")))?;
    let mut out = Vec::with_capacity(n.min(16 * CHUNK));
    let mut buf = vec![0u8; CHUNK.min(n)];
    while out.len() < n {
        let want = buf.len().min(n - out.len());
        let got = input.read_full(&mut buf[..want])?;
        out.extend_from_slice(&buf[..got]);
        progress.set(out.len() as f64 / n as f64);
        if got < want {
            return Err(LoadError::truncated(format!(
                "{what} need {n} bytes, the {} ends after {}",
                input.data_noun(),
                out.len()
            )));
        }
    }
    Ok(out)
}

/// A `packed_rotation`: 2 bits naming the largest of `rot_0..3` (`w x y z`), then the other three
/// in order, 10 bits each, `(v/1023 − 0.5)·√2`.
fn unpack_rotation(v: u32) -> [f32; 4] {
    let norm = std::f32::consts::SQRT_2;
    let part = |shift: u32| ((v >> shift) & 1023) as f32 / 1023.0 - 0.5;
    let (a, b, c) = (part(20) * norm, part(10) * norm, part(0) * norm);
    let m = (1.0 - (a * a + b * b + c * c)).max(0.0).sqrt();
    let q = match v >> 30 {
        0 => [m, a, b, c],
        1 => [a, m, b, c],
        2 => [a, b, m, c],
        _ => [a, b, c, m],
    };
    normalised(q).unwrap_or([1.0, 0.0, 0.0, 0.0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotations_unpack_as_packed() {
        // The identity: w largest (index 0), the others at the middle code 511.5 → ±0.0007.
        let v = 511 << 20 | 511 << 10 | 511;
        let q = unpack_rotation(v);
        assert!(
            (q[0] - 1.0).abs() < 1e-5 && q[1..].iter().all(|c| c.abs() < 1e-3),
            "{q:?}"
        );
        // z largest (index 3): a, b, c are w, x, y.
        let q = unpack_rotation(3 << 30 | 1023 << 20 | 511 << 10 | 511);
        assert!((q[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-3, "{q:?}");
        assert!((q[3] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-3, "{q:?}");
    }

    #[test]
    fn normalising() {
        assert_eq!(normalised([0.0; 4]), None);
        assert_eq!(normalised([2.0, 0.0, 0.0, 0.0]), Some([1.0, 0.0, 0.0, 0.0]));
        let tiny = normalised([1e-30, 0.0, 0.0, 1e-30]).unwrap();
        assert!((tiny[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert_eq!(normalised([f32::NAN, 0.0, 0.0, 1.0]), None);
    }
}

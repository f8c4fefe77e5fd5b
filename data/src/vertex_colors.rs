//! Per-vertex colours of a surface: a gray base shaded by curvature or sulcal depth, with
//! per-vertex maps blended over it and regions (labels) painted over those.
//!
//! This is the definition; the GPU only interpolates these colours across triangles and
//! multiplies them by the lighting. Maps use the same [`LayerStyle`] as volume overlays
//! (colormap, range, threshold, negative side, opacity, visibility), so a statistic looks the
//! same on a slice and on the surface.

use std::collections::HashMap;

use crate::style::LayerStyle;
use crate::surface::Label;

/// Gray of the surface without shading, 0..=255.
pub const PLAIN_GRAY: u8 = 160;
/// Gray of gyri (curvature ≤ 0, shallow sulcal depth).
pub const GYRUS_GRAY: u8 = 170;
/// Gray of sulci (curvature > 0, deep sulcal depth).
pub const SULCUS_GRAY: u8 = 100;
/// Colour of the highlighted vertex: the crosshair's green.
pub const HIGHLIGHT_RGBA: [u8; 4] = [40, 220, 40, 255];

/// Graded shading maps ±(this percentile of |value|) onto the gyrus and sulcus grays, so a few
/// extreme vertices do not wash the rest out.
const GRADED_PERCENTILE: f64 = 0.98;

/// How the base gray of each vertex is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Shading {
    /// Every vertex [`PLAIN_GRAY`].
    None,
    /// By the sign of a curvature map, as Freeview's binary curvature: values > 0 (sulci, in
    /// FreeSurfer's sign convention) [`SULCUS_GRAY`], others [`GYRUS_GRAY`].
    Binary,
    /// Sulcal depth (or curvature) mapped linearly to gray: `−s` and below [`GYRUS_GRAY`],
    /// `+s` and above [`SULCUS_GRAY`], where `s` is the 98th percentile of |value|.
    Graded,
}

/// One per-vertex map drawn over the base: its values (one per vertex) and style.
#[derive(Clone, Copy, Debug)]
pub struct VertexLayer<'a> {
    /// One value per vertex; vertices past the end are not drawn.
    pub values: &'a [f32],
    /// Colormap, range, threshold, negative side, opacity and visibility.
    pub style: &'a LayerStyle,
    /// For a label map: the label table. A vertex's value (rounded) is the key; its colour is
    /// the label's, its alpha the label's alpha × `style.opacity`; the colormap, range and
    /// threshold are not used. Values without a label are not drawn.
    pub labels: Option<&'a [Label]>,
}

/// The RGBA8 colour of each of `n` vertices (alpha always 255).
///
/// 1. Base: a gray from `shading` applied to `shading_source` (curvature or sulcal depth;
///    ignored for [`Shading::None`]). Vertices without a finite source value get [`PLAIN_GRAY`].
/// 2. Each visible layer, first to last, is blended over it where it is drawn (as the slice
///    renderer blends): `c = src · a + c · (1 − a)`, with `src` the layer's colour
///    ([`LayerStyle::shade`], or the label colour) and `a` its opacity clamped to 0..=1.
/// 3. Components are kept in f32 throughout and rounded to 8 bits once at the end.
/// 4. The `highlight` vertex (the crosshair's nearest), if any, is painted [`HIGHLIGHT_RGBA`]
///    over everything (see [`highlight`]).
pub fn vertex_colors(
    n: usize,
    shading_source: Option<&[f32]>,
    shading: Shading,
    layers: &[VertexLayer<'_>],
    highlight_vertex: Option<usize>,
) -> Vec<[u8; 4]> {
    let base = base_grays(n, shading_source, shading);
    let mut colors: Vec<[f32; 3]> = base.iter().map(|&g| [g as f32 / 255.0; 3]).collect();
    for layer in layers.iter().filter(|l| l.style.visible) {
        let opacity = clamp_unit(layer.style.opacity);
        let table: Option<HashMap<i32, [f32; 4]>> = layer
            .labels
            .map(|labels| labels.iter().map(|l| (l.key, l.rgba)).collect());
        for (color, &value) in colors.iter_mut().zip(layer.values) {
            let src = match &table {
                Some(table) => label_color(table, value),
                None => layer.style.shade(value),
            };
            let Some([r, g, b, alpha]) = src else {
                continue;
            };
            let a = match table {
                Some(_) => opacity * clamp_unit(alpha),
                None => opacity,
            };
            for (c, s) in color.iter_mut().zip([r, g, b]) {
                *c = clamp_unit(s) * a + *c * (1.0 - a);
            }
        }
    }
    let mut colors: Vec<[u8; 4]> = colors
        .into_iter()
        .map(|[r, g, b]| [to_u8(r), to_u8(g), to_u8(b), 255])
        .collect();
    if let Some(vertex) = highlight_vertex {
        highlight(&mut colors, vertex);
    }
    colors
}

/// A region painted over the maps: its vertices (all of them for a fill, its outline for an
/// outline, see [`crate::mesh::Mesh::region_outline`]) in one colour.
#[derive(Clone, Copy, Debug)]
pub struct VertexRegion<'a> {
    /// The vertices painted; indices past the colours are ignored.
    pub vertices: &'a [u32],
    /// Its colour.
    pub rgb: [u8; 3],
    /// Opacity over what is beneath, clamped to 0..=1.
    pub opacity: f32,
}

/// Paint each region over `colors`, first to last, blending as the maps do
/// (`c = rgb · a + c · (1 − a)`, rounded to 8 bits). Call it after [`vertex_colors`] with no
/// highlight, then [`highlight`], so that the crosshair's vertex stays visible on a region.
pub fn paint_regions(colors: &mut [[u8; 4]], regions: &[VertexRegion<'_>]) {
    for region in regions {
        let a = clamp_unit(region.opacity);
        for &v in region.vertices {
            if let Some(c) = colors.get_mut(v as usize) {
                for (c, s) in c.iter_mut().zip(region.rgb) {
                    *c = to_u8(s as f32 / 255.0 * a + *c as f32 / 255.0 * (1.0 - a));
                }
            }
        }
    }
}

/// Paint `vertex` in [`HIGHLIGHT_RGBA`] (the crosshair's nearest vertex). The GPU interpolates
/// it over the triangles around the vertex. Out-of-range vertices are ignored.
pub fn highlight(colors: &mut [[u8; 4]], vertex: usize) {
    if let Some(c) = colors.get_mut(vertex) {
        *c = HIGHLIGHT_RGBA;
    }
}

/// The base gray of each vertex (see [`vertex_colors`]).
pub fn base_grays(n: usize, shading_source: Option<&[f32]>, shading: Shading) -> Vec<u8> {
    let source = match (shading, shading_source) {
        (Shading::None, _) | (_, None) => return vec![PLAIN_GRAY; n],
        (_, Some(source)) => source,
    };
    let value = |i: usize| source.get(i).copied().filter(|v| v.is_finite());
    match shading {
        Shading::None => vec![PLAIN_GRAY; n],
        Shading::Binary => (0..n)
            .map(|i| match value(i) {
                Some(v) if v > 0.0 => SULCUS_GRAY,
                Some(_) => GYRUS_GRAY,
                None => PLAIN_GRAY,
            })
            .collect(),
        Shading::Graded => {
            let scale = graded_scale(&source[..n.min(source.len())]);
            let (light, dark) = (GYRUS_GRAY as f32, SULCUS_GRAY as f32);
            (0..n)
                .map(|i| match value(i) {
                    Some(v) => {
                        // t = −1 → light, +1 → dark.
                        let t = (v / scale).clamp(-1.0, 1.0);
                        let gray = (light + dark) * 0.5 - t * (light - dark) * 0.5;
                        gray.round() as u8
                    }
                    None => PLAIN_GRAY,
                })
                .collect()
        }
    }
}

/// The [`GRADED_PERCENTILE`] of |value| over finite values; 1 when that is 0 or there are none.
fn graded_scale(values: &[f32]) -> f32 {
    let mut magnitudes: Vec<f32> = values.iter().filter(|v| v.is_finite()).map(|v| v.abs()).collect();
    if magnitudes.is_empty() {
        return 1.0;
    }
    let k = ((magnitudes.len() - 1) as f64 * GRADED_PERCENTILE).round() as usize;
    let (_, &mut s, _) = magnitudes.select_nth_unstable_by(k, f32::total_cmp);
    if s > 0.0 { s } else { 1.0 }
}

fn label_color(table: &HashMap<i32, [f32; 4]>, value: f32) -> Option<[f32; 4]> {
    if !value.is_finite() {
        return None;
    }
    table.get(&(value.round() as i32)).copied()
}

/// Clamp to 0..=1, NaN to 0 (as the slice renderer treats opacity).
fn clamp_unit(x: f32) -> f32 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

fn to_u8(x: f32) -> u8 {
    (clamp_unit(x) * 255.0).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colormap::Colormap;

    fn gray(g: u8) -> [u8; 4] {
        [g, g, g, 255]
    }

    #[test]
    fn shading_modes() {
        let curv = [0.5, -0.2, 0.0, f32::NAN];
        assert_eq!(
            vertex_colors(4, Some(&curv), Shading::None, &[], None),
            vec![gray(PLAIN_GRAY); 4]
        );
        assert_eq!(
            vertex_colors(5, Some(&curv), Shading::Binary, &[], None),
            vec![
                gray(SULCUS_GRAY),
                gray(GYRUS_GRAY),
                gray(GYRUS_GRAY),
                gray(PLAIN_GRAY),
                gray(PLAIN_GRAY)
            ]
        );
        assert_eq!(
            vertex_colors(2, None, Shading::Binary, &[], None),
            vec![gray(PLAIN_GRAY); 2]
        );
        // Graded: 101 values −50..=50; the 98th percentile of |v| is 49.
        let sulc: Vec<f32> = (-50..=50).map(|v| v as f32).collect();
        let g = base_grays(101, Some(&sulc), Shading::Graded);
        assert_eq!(g[0], GYRUS_GRAY); // −50, beyond −49
        assert_eq!(g[100], SULCUS_GRAY);
        assert_eq!(g[50], 135); // 0 → the middle of 170 and 100
        assert_eq!(g[50 + 24], 118); // 135 − 35 · 24/49 = 117.9
        assert!(g.windows(2).all(|w| w[0] >= w[1]), "monotone: deeper is darker");
        // All zero: no division by zero.
        assert_eq!(base_grays(3, Some(&[0.0; 3]), Shading::Graded), vec![135; 3]);
    }

    #[test]
    fn thresholded_signed_map_over_the_base() {
        let style = LayerStyle::signed_overlay(2.0, 4.0);
        let values = [1.0, 2.0, 4.0, -4.0, -3.0, f32::NAN, 100.0];
        let layer = VertexLayer {
            values: &values,
            style: &style,
            labels: None,
        };
        let c = vertex_colors(8, None, Shading::None, &[layer], None);
        let lut = |m: Colormap, i: usize| m.lut()[i];
        assert_eq!(c[0], gray(PLAIN_GRAY), "below the threshold");
        assert_eq!(c[1], lut(Colormap::RedYellow, 0));
        assert_eq!(c[2], lut(Colormap::RedYellow, 255));
        assert_eq!(c[3], lut(Colormap::BlueLightblue, 255));
        assert_eq!(c[4], lut(Colormap::BlueLightblue, 128));
        assert_eq!(c[5], gray(PLAIN_GRAY), "NaN");
        assert_eq!(c[6], lut(Colormap::RedYellow, 255), "clamped to the range");
        assert_eq!(c[7], gray(PLAIN_GRAY), "past the end of the values");
        // Without a negative side, negative values are below the threshold.
        let mut unsigned = style;
        unsigned.negative = None;
        let layer = VertexLayer {
            style: &unsigned,
            ..layer
        };
        assert_eq!(
            vertex_colors(4, None, Shading::None, &[layer], None)[3],
            gray(PLAIN_GRAY)
        );
    }

    #[test]
    fn opacity_blends_and_hidden_layers_are_skipped() {
        let mut style = LayerStyle::base((0.0, 1.0));
        style.colormap = Colormap::RedYellow;
        style.opacity = 0.25;
        let values = [1.0];
        let layer = VertexLayer {
            values: &values,
            style: &style,
            labels: None,
        };
        // Red-yellow at 1 is (1, 1, 0) over 160 gray: 255·0.25 + 160·0.75 = 183.75; 0 + 120.
        assert_eq!(
            vertex_colors(1, None, Shading::None, &[layer], None),
            vec![[184, 184, 120, 255]]
        );
        // Two layers: the second over the first.
        let mut top = LayerStyle::base((0.0, 1.0));
        top.opacity = 0.5;
        let zeros = [0.0];
        let second = VertexLayer {
            values: &zeros,
            style: &top,
            labels: None,
        };
        let expected =
            [0.25 * 255.0 + 0.75 * 160.0, 0.25 * 255.0 + 0.75 * 160.0, 120.0].map(|c: f32| (c * 0.5).round() as u8);
        assert_eq!(
            vertex_colors(1, None, Shading::None, &[layer, second], None)[0][..3],
            expected
        );
        top.visible = false;
        let hidden = VertexLayer {
            values: &zeros,
            style: &top,
            labels: None,
        };
        assert_eq!(
            vertex_colors(1, None, Shading::None, &[layer, hidden], None),
            vec![[184, 184, 120, 255]]
        );
    }

    #[test]
    fn label_maps_use_the_table() {
        let labels = [
            Label {
                key: 0,
                name: "???".into(),
                rgba: [0.0, 0.0, 0.0, 0.0],
            },
            Label {
                key: 7,
                name: "precentral".into(),
                rgba: [1.0, 0.0, 0.5, 1.0],
            },
        ];
        let mut style = LayerStyle::base((0.0, 1.0));
        let values = [7.0, 0.0, 3.0, 6.9];
        let layer = VertexLayer {
            values: &values,
            style: &style,
            labels: Some(&labels),
        };
        let c = vertex_colors(4, Some(&[1.0; 4]), Shading::Binary, &[layer], None);
        assert_eq!(c[0], [255, 0, 128, 255]);
        assert_eq!(c[1], gray(SULCUS_GRAY), "a transparent label");
        assert_eq!(c[2], gray(SULCUS_GRAY), "a key without a label");
        assert_eq!(c[3], [255, 0, 128, 255], "keys are rounded");
        style.opacity = 0.5;
        let layer = VertexLayer {
            values: &values,
            style: &style,
            labels: Some(&labels),
        };
        let c = vertex_colors(1, Some(&[1.0]), Shading::Binary, &[layer], None);
        assert_eq!(c[0], [178, 50, 114, 255]); // (255+100)/2, 100/2, (127.5+100)/2
    }

    /// FreeSurfer's signs: curvature > 0 and sulcal depth > 0 both mark sulci, so binary
    /// curvature shading and graded sulcal-depth shading darken the same vertices.
    #[test]
    fn binary_curvature_and_graded_depth_agree_on_fsaverage5() {
        let load = |name: &str| {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/data/surfaces")
                .join(name);
            match crate::load_path(&path, &mut |_| {}) {
                Ok(crate::Loaded::Surface(s)) => s.arrays[0]
                    .data
                    .to_f64()
                    .into_iter()
                    .map(|v| v as f32)
                    .collect::<Vec<f32>>(),
                other => panic!("{name}: {:?}", other.err()),
            }
        };
        let curv = load("fsaverage5_curv_left.gii.gz");
        let sulc = load("fsaverage5_sulc_left.gii.gz");
        let binary = base_grays(curv.len(), Some(&curv), Shading::Binary);
        let graded = base_grays(sulc.len(), Some(&sulc), Shading::Graded);
        let mid = (GYRUS_GRAY as u16 + SULCUS_GRAY as u16) / 2;
        let agree = binary
            .iter()
            .zip(&graded)
            .filter(|&(&b, &g)| (b == SULCUS_GRAY) == ((g as u16) < mid))
            .count();
        assert!(agree * 10 > curv.len() * 7, "{agree} of {}", curv.len());
    }

    #[test]
    fn regions_paint_their_vertices_over_the_maps() {
        let mut c = vertex_colors(4, None, Shading::None, &[], None);
        let outline = VertexRegion {
            vertices: &[1, 2, 9],
            rgb: [255, 0, 0],
            opacity: 1.0,
        };
        let half = VertexRegion {
            vertices: &[2],
            rgb: [0, 0, 255],
            opacity: 0.5,
        };
        paint_regions(&mut c, &[outline, half]);
        assert_eq!(c[0], gray(PLAIN_GRAY));
        assert_eq!(c[1], [255, 0, 0, 255]);
        assert_eq!(c[2], [128, 0, 128, 255], "the later region blends over the earlier");
        highlight(&mut c, 1);
        assert_eq!(c[1], HIGHLIGHT_RGBA, "the crosshair's vertex stays visible");
    }

    #[test]
    fn highlight_paints_one_vertex() {
        let mut c = vertex_colors(3, None, Shading::None, &[], None);
        highlight(&mut c, 99);
        assert_eq!(c, vec![gray(PLAIN_GRAY); 3]);
        // Over a map too.
        let style = LayerStyle::base((0.0, 1.0));
        let layer = VertexLayer {
            values: &[1.0; 3],
            style: &style,
            labels: None,
        };
        let c = vertex_colors(3, None, Shading::None, &[layer], Some(1));
        assert_eq!(c, vec![gray(255), HIGHLIGHT_RGBA, gray(255)]);
    }
}

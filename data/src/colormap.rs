//! Colormaps as 256-entry lookup tables, shared by the GPU renderer, its CPU reference and the colour bar.

/// Entries in every lookup table.
pub const LUT_SIZE: usize = 256;

/// The lookup-table entry of a finite value in the display range `(lo, hi)`:
/// `floor(clamp((value − lo) / (hi − lo), 0, 1) · 255 + 0.5)`; with a zero span, values `≥ hi` map
/// to 255 and the rest to 0. The shaders' `range_index` (render/shaders/lut.wgsl) does the same.
pub fn range_index(value: f32, (lo, hi): (f32, f32)) -> usize {
    let span = hi - lo;
    let t = if span != 0.0 {
        (value - lo) / span
    } else if value >= hi {
        1.0
    } else {
        0.0
    };
    let index = (t.clamp(0.0, 1.0) * (LUT_SIZE - 1) as f32 + 0.5).floor() as usize;
    index.min(LUT_SIZE - 1)
}

/// The colormaps a layer can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Colormap {
    /// Black to white.
    Gray,
    /// matplotlib `hot`: black, red, yellow, white.
    Hot,
    /// matplotlib `cool`: cyan to magenta.
    Cool,
    /// matplotlib `viridis`.
    Viridis,
    /// matplotlib `inferno`.
    Inferno,
    /// FSL's red-yellow, for positive statistics.
    RedYellow,
    /// FSL's blue-lightblue, for negative statistics.
    BlueLightblue,
    /// Distinct colours for integer labels (atlases, segmentations): a value is drawn with entry
    /// [`label_index`] of the table, not by its place in the display range.
    Labels,
}

impl Colormap {
    /// Every colormap, in menu order.
    pub const ALL: [Colormap; 8] = [
        Colormap::Gray,
        Colormap::Hot,
        Colormap::Cool,
        Colormap::Viridis,
        Colormap::Inferno,
        Colormap::RedYellow,
        Colormap::BlueLightblue,
        Colormap::Labels,
    ];

    /// Name as used on the command line and in the UI.
    pub fn name(self) -> &'static str {
        match self {
            Colormap::Gray => "gray",
            Colormap::Hot => "hot",
            Colormap::Cool => "cool",
            Colormap::Viridis => "viridis",
            Colormap::Inferno => "inferno",
            Colormap::RedYellow => "red-yellow",
            Colormap::BlueLightblue => "blue-lightblue",
            Colormap::Labels => "labels",
        }
    }

    /// Parse a name as printed by [`Colormap::name`] (also accepts `grey`).
    pub fn from_name(name: &str) -> Option<Colormap> {
        let name = name.trim().to_ascii_lowercase();
        if name == "grey" {
            return Some(Colormap::Gray);
        }
        Colormap::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Colour at `t` in 0..=1, components in 0..=1.
    pub fn sample(self, t: f64) -> [f64; 3] {
        let t = t.clamp(0.0, 1.0);
        match self {
            Colormap::Gray => [t, t, t],
            Colormap::Hot => [
                (t / 0.365).min(1.0),
                ((t - 0.365) / 0.381).clamp(0.0, 1.0),
                ((t - 0.746) / 0.254).clamp(0.0, 1.0),
            ],
            Colormap::Cool => [t, 1.0 - t, 1.0],
            Colormap::Viridis => from_colorous(colorous::VIRIDIS, t),
            Colormap::Inferno => from_colorous(colorous::INFERNO, t),
            Colormap::RedYellow => [1.0, t, 0.0],
            Colormap::BlueLightblue => [0.0, t, 1.0],
            Colormap::Labels => label_color((t * (LUT_SIZE - 1) as f64).round() as usize),
        }
    }

    /// Whether values pick table entries as integer labels ([`label_index`]) rather than by range.
    pub fn is_categorical(self) -> bool {
        self == Colormap::Labels
    }

    /// The lookup table: entry `i` is the colour at `t = i / 255`, opaque.
    pub fn lut(self) -> [[u8; 4]; LUT_SIZE] {
        std::array::from_fn(|i| {
            let [r, g, b] = self.sample(i as f64 / (LUT_SIZE - 1) as f64);
            [to_u8(r), to_u8(g), to_u8(b), 255]
        })
    }
}

/// The table entry of an integer label: `floor(value + 0.5)` modulo 256 (entry 0 for labels 0,
/// 256, …, so labels that far apart share a colour). The shaders' `lut_entry` (lut.wgsl) does the same.
pub fn label_index(value: f32) -> usize {
    ((value + 0.5).floor() as i32).rem_euclid(LUT_SIZE as i32) as usize
}

/// Entry `i` of the label table: black for 0, else a hue stepped by the golden angle, with
/// saturation and value varied so that neighbouring labels differ.
fn label_color(i: usize) -> [f64; 3] {
    if i == 0 {
        return [0.0, 0.0, 0.0];
    }
    let hue = (i as f64 * 0.618_033_988_75).fract() * 6.0;
    let saturation = [0.85, 0.6, 0.95][i % 3];
    let value = [1.0, 0.85, 0.7][(i / 3) % 3];
    let chroma = value * saturation;
    let x = chroma * (1.0 - (hue % 2.0 - 1.0).abs());
    let [r, g, b] = match hue as u32 {
        0 => [chroma, x, 0.0],
        1 => [x, chroma, 0.0],
        2 => [0.0, chroma, x],
        3 => [0.0, x, chroma],
        4 => [x, 0.0, chroma],
        _ => [chroma, 0.0, x],
    };
    let m = value - chroma;
    [r + m, g + m, b + m]
}

fn from_colorous(gradient: colorous::Gradient, t: f64) -> [f64; 3] {
    let c = gradient.eval_continuous(t);
    [c.r as f64 / 255.0, c.g as f64 / 255.0, c.b as f64 / 255.0]
}

fn to_u8(x: f64) -> u8 {
    (x.clamp(0.0, 1.0) * 255.0).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Colormap::ALL {
            assert_eq!(Colormap::from_name(c.name()), Some(c));
        }
        assert_eq!(Colormap::from_name("nope"), None);
    }

    #[test]
    fn endpoints() {
        assert_eq!(Colormap::Gray.lut()[0], [0, 0, 0, 255]);
        assert_eq!(Colormap::Gray.lut()[255], [255, 255, 255, 255]);
        assert_eq!(Colormap::Hot.lut()[255], [255, 255, 255, 255]);
        assert_eq!(Colormap::RedYellow.lut()[0], [255, 0, 0, 255]);
        assert_eq!(Colormap::BlueLightblue.lut()[255], [0, 255, 255, 255]);
        let v = Colormap::Viridis.lut();
        assert!(v[0][2] > v[0][1] && v[255][0] > 200 && v[255][1] > 200);
    }

    #[test]
    fn labels_get_distinct_colours_by_integer_value() {
        assert_eq!(label_index(3.0), 3);
        assert_eq!(label_index(2.6), 3);
        assert_eq!(label_index(2.5), 3, "halves round up, as floor(v + 0.5) in WGSL");
        assert_eq!(label_index(1017.0), 1017 % 256);
        assert_eq!(label_index(-1.0), 255);
        let lut = Colormap::Labels.lut();
        assert_eq!(lut[0], [0, 0, 0, 255]);
        let distinct: std::collections::HashSet<[u8; 4]> = lut[1..].iter().copied().collect();
        assert_eq!(distinct.len(), 255, "every label entry has its own colour");
        for pair in lut[1..].windows(2) {
            let d: i32 = (0..3).map(|c| (pair[0][c] as i32 - pair[1][c] as i32).abs()).sum();
            assert!(d > 60, "neighbouring labels look different: {pair:?}");
        }
    }
}

// Values to lookup-table entries, shared by the slice shader and the ray marchers. The CPU twins
// are `colormap::range_index` and `LayerStyle::lut_entry` in the data crate.

// A layer's style: mirrors `StyleUniform` in `src/style_uniform.rs`.
struct Style {
    // x: range low, y: range high, z: threshold, w: opacity (already clamped to 0..1).
    params: vec4<f32>,
    // x: 1 when a threshold applies, y: 1 when the map is signed (negative LUT used below 0),
    // z: 1 when values are labels; w: interpolation (0 nearest, 1 trilinear).
    flags: vec4<u32>,
    // Entries 0..255: the colormap, 256..511: the negative colormap; RGBA8 packed, 4 per vec4.
    lut: array<vec4<u32>, 128>,
}

// The entry of a finite value in the display range lo..hi: floor(clamp((v − lo) / (hi − lo), 0, 1)
// · 255 + 0.5); with a zero span, values ≥ hi map to 255 and the rest to 0.
fn range_index(value: f32, lo: f32, hi: f32) -> i32 {
    let span = hi - lo;
    var t = 0.0;
    if span != 0.0 {
        t = (value - lo) / span;
    } else if value >= hi {
        t = 1.0;
    }
    return min(i32(floor(clamp(t, 0.0, 1.0) * 255.0 + 0.5)), 255);
}

// The LUT entry of a value as `LayerStyle::lut_entry` defines it, or -1 when not drawn.
// params and flags are a `Style`'s: (range low, range high, threshold, ·), (threshold applies,
// signed, labels, ·).
// Entries 0..255 are the colormap, 256..511 the negative colormap of a signed map. With labels,
// the entry is floor(value + 0.5) modulo 256 (`colormap::label_index`).
fn lut_entry(value: f32, params: vec4<f32>, flags: vec4<u32>) -> i32 {
    if flags.z == 1u {
        if flags.x == 1u && abs(value) < params.z {
            return -1;
        }
        return ((i32(floor(value + 0.5)) % 256) + 256) % 256;
    }
    var magnitude = value;
    var base = 0;
    if flags.y == 1u && value < 0.0 {
        magnitude = -value;
        base = 256;
    }
    if flags.x == 1u && magnitude < params.z {
        return -1;
    }
    return base + range_index(magnitude, params.x, params.y);
}

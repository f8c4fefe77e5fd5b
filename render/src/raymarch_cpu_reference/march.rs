//! The marching loop on the CPU, generic over the data source, in f64.

use cortexlens_data::colormap::LUT_SIZE;
use cortexlens_data::transfer::TransferFunction;
use glam::{DMat4, DVec3};

use super::View;
use crate::raymarch::{AMBIENT, ClipPlane, DIFFUSE, MAX_SAMPLES, RayMarchSettings, RenderMode, sample_alphas};

/// What the loop asks of the data.
pub(super) trait Source {
    /// The sample at world point `p`, `None` where there is none.
    fn value(&self, p: DVec3) -> Option<f32>;
    /// World-space gradient at `p`; `centre` replaces invalid taps.
    fn gradient(&self, p: DVec3, centre: f32) -> DVec3;
    /// `(σ, r, g, b)` of a density–colour field; zero for other sources.
    fn density(&self, _p: DVec3) -> [f64; 4] {
        [0.0; 4]
    }
    /// Whether there is an overlay at all.
    fn has_overlay(&self) -> bool {
        false
    }
    /// The overlay's colour at `p` (0..=1), `None` where it is not drawn.
    fn overlay(&self, _p: DVec3) -> Option<[f64; 3]> {
        None
    }
}

/// How a ray's samples become a colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Mip,
    Dvr,
    Iso,
    Density,
}

impl From<RenderMode> for Mode {
    fn from(mode: RenderMode) -> Mode {
        match mode {
            RenderMode::Mip => Mode::Mip,
            RenderMode::Dvr => Mode::Dvr,
            RenderMode::Iso => Mode::Iso,
        }
    }
}

/// The data's box: `to_local · p` within `lo ..= hi` on every axis.
#[derive(Clone, Copy, Debug)]
pub(super) struct Bounds {
    pub to_local: DMat4,
    pub lo: DVec3,
    pub hi: DVec3,
    /// Diagonal of the world bounding box (mm).
    pub diagonal: f64,
}

/// Everything fixed for one picture.
pub(super) struct Plan {
    mode: Mode,
    transfer: TransferFunction,
    lut: [[u8; 4]; LUT_SIZE],
    alphas: [f32; LUT_SIZE],
    step: f64,
    termination: f64,
    iso_level: f32,
    depth: f64,
    lighting: bool,
    background: [f64; 4],
    clips: Vec<ClipPlane>,
    bounds: Bounds,
    overlay_opacity: f64,
}

impl Plan {
    pub(super) fn new(settings: &RayMarchSettings, mode: Mode, bounds: Bounds, overlay_opacity: f64) -> Plan {
        let step = settings.effective_step(bounds.diagonal as f32);
        let lut = settings.transfer.lut();
        Plan {
            mode,
            transfer: settings.transfer.clone(),
            lut,
            alphas: sample_alphas(&lut, step),
            step: step as f64,
            termination: settings.termination() as f64,
            iso_level: settings.iso_level,
            depth: settings.overlay_depth() as f64,
            lighting: settings.lighting,
            background: settings.background_clamped().map(f64::from),
            clips: settings.active_clip_planes(),
            bounds,
            overlay_opacity,
        }
    }

    /// Render the picture in `view`: tightly packed RGBA8, top row first. With meshes, each ray
    /// ends at the mesh in front of it, whose colour is the background there.
    pub(super) fn render(&self, view: View<'_>, source: &impl Source) -> Vec<u8> {
        let View {
            width,
            height,
            camera,
            meshes,
        } = view;
        let (w, h) = (width.max(1), height.max(1));
        let forward = -camera.backward().as_dvec3();
        let mut pixels = Vec::with_capacity(w as usize * h as usize * 4);
        for y in 0..h {
            for x in 0..w {
                let (o, d) = camera.ray(x as f32 + 0.5, y as f32 + 0.5, w as f32, h as f32);
                let (o, d) = (o.as_dvec3(), d.as_dvec3());
                let n = y as usize * w as usize + x as usize;
                let mesh = meshes.filter(|m| m.coverage[n].is_some()).map(|m| {
                    let colour = std::array::from_fn(|c| m.rgba[4 * n + c] as f64 / 255.0);
                    (colour, m.view_depth[n] as f64 / d.dot(forward.normalize()))
                });
                let rgba = self.pixel(o, d, source, mesh);
                pixels.extend(rgba.map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8));
            }
        }
        pixels
    }

    /// `[t0, t1]` of the ray in the box, in front of the eye, on the kept side of the clip planes.
    fn segment(&self, o: DVec3, d: DVec3) -> Option<(f64, f64)> {
        let b = &self.bounds;
        let q = b.to_local.transform_point3(o);
        let dq = b.to_local.transform_vector3(d);
        let (mut t0, mut t1) = (0.0f64, f64::INFINITY);
        for a in 0..3 {
            if dq[a] == 0.0 {
                if q[a] < b.lo[a] || q[a] > b.hi[a] {
                    return None;
                }
            } else {
                let (ta, tb) = ((b.lo[a] - q[a]) / dq[a], (b.hi[a] - q[a]) / dq[a]);
                t0 = t0.max(ta.min(tb));
                t1 = t1.min(ta.max(tb));
            }
        }
        for c in &self.clips {
            let n = DVec3::from_array(c.normal.map(f64::from));
            let (nd, no) = (n.dot(d), n.dot(o));
            if nd == 0.0 {
                if no > c.offset as f64 {
                    return None;
                }
            } else {
                let t = (c.offset as f64 - no) / nd;
                if nd > 0.0 {
                    t1 = t1.min(t);
                } else {
                    t0 = t0.max(t);
                }
            }
        }
        (t0 < t1).then_some((t0, t1))
    }

    fn rgb(&self, index: usize) -> DVec3 {
        let [r, g, b, _] = self.lut[index];
        DVec3::new(r as f64, g as f64, b as f64) / 255.0
    }

    fn shade(&self, g: DVec3, d: DVec3) -> f64 {
        let len2 = g.length_squared();
        // Also for NaN, as the shader's `!(len2 > 1e-20)`.
        if len2.is_nan() || len2 <= 1e-20 {
            return (AMBIENT + DIFFUSE) as f64;
        }
        AMBIENT as f64 + DIFFUSE as f64 * g.dot(d).abs() / len2.sqrt()
    }

    /// Straight RGBA (0..=1) of one ray; `mesh`: the colour and distance of a mesh on it.
    fn pixel(&self, o: DVec3, d: DVec3, source: &impl Source, mesh: Option<([f64; 4], f64)>) -> [f64; 4] {
        let mut acc = [0.0f64; 4]; // premultiplied rgb, alpha
        let mut overlay: Option<[f64; 3]> = None;
        let segment = self.segment(o, d).and_then(|(t0, t1)| {
            let t1 = mesh.map_or(t1, |(_, t)| t1.min(t));
            (t0 < t1).then_some((t0, t1))
        });
        if let Some((t0, t1)) = segment {
            let n = ((t1 - t0) / self.step - 0.5)
                .ceil()
                .clamp(0.0, 2.0 * MAX_SAMPLES as f64) as usize;
            let at = |k: usize| t0 + (k as f64 + 0.5) * self.step;
            let mut mip: Option<f32> = None;
            let mut done = false;
            let mut t_term = t1;
            for k in 0..n {
                let t = at(k);
                if done && t > t_term + self.depth {
                    break;
                }
                let p = o + d * t;
                if !done {
                    match self.mode {
                        Mode::Mip => {
                            if let Some(v) = source.value(p) {
                                mip = Some(mip.map_or(v, |m| if v > m { v } else { m }));
                            }
                        }
                        Mode::Iso => {
                            if let Some(v) = source.value(p).filter(|&v| v >= self.iso_level) {
                                let (rgb, t_hit) = self.iso_hit(o, d, t0, k, v, source);
                                acc = [rgb.x, rgb.y, rgb.z, 1.0];
                                done = true;
                                t_term = t_hit;
                            }
                        }
                        Mode::Density => {
                            let [sigma, r, g, b] = source.density(p);
                            let a = 1.0 - (-sigma * self.step).exp();
                            if a > 0.0 {
                                self.composite(&mut acc, a, DVec3::new(r, g, b));
                                if acc[3] >= self.termination {
                                    done = true;
                                    t_term = t;
                                }
                            }
                        }
                        Mode::Dvr => {
                            if let Some((v, index)) = source.value(p).and_then(|v| Some((v, self.transfer.index(v)?))) {
                                let a = self.alphas[index] as f64;
                                if a > 0.0 {
                                    let mut rgb = self.rgb(index);
                                    if self.lighting {
                                        rgb *= self.shade(source.gradient(p, v), d);
                                    }
                                    self.composite(&mut acc, a, rgb);
                                    if acc[3] >= self.termination {
                                        done = true;
                                        t_term = t;
                                    }
                                }
                            }
                        }
                    }
                }
                if source.has_overlay() && overlay.is_none() && t <= t_term + self.depth {
                    overlay = source.overlay(p);
                }
                if done && (!source.has_overlay() || overlay.is_some()) {
                    break;
                }
            }
            let (lo, hi) = self.transfer.range;
            if let Some(m) = mip.filter(|&m| self.mode == Mode::Mip && m >= lo.min(hi))
                && let Some(index) = self.transfer.index(m)
            {
                let rgb = self.rgb(index);
                acc = [rgb.x, rgb.y, rgb.z, 1.0];
            }
        }
        self.output(acc, overlay, mesh.map_or(self.background, |(colour, _)| colour))
    }

    fn composite(&self, acc: &mut [f64; 4], a: f64, rgb: DVec3) {
        let weight = (1.0 - acc[3]) * a;
        acc[0] += weight * rgb.x;
        acc[1] += weight * rgb.y;
        acc[2] += weight * rgb.z;
        acc[3] += weight;
    }

    /// The ISO colour (shaded) and hit distance for the first sample `k` at or above the level.
    fn iso_hit(&self, o: DVec3, d: DVec3, t0: f64, k: usize, s: f32, source: &impl Source) -> (DVec3, f64) {
        let level = self.iso_level;
        let mut t_hit = t0 + (k as f64 + 0.5) * self.step;
        if k > 0 {
            let t_prev = t0 + (k as f64 - 0.5) * self.step;
            if let Some(prev) = source.value(o + d * t_prev).filter(|&v| v < level) {
                t_hit = t_prev + self.step * (level as f64 - prev as f64) / (s as f64 - prev as f64);
            }
        }
        let p = o + d * t_hit;
        let centre = source.value(p).unwrap_or(level);
        let rgb = self.transfer.index(level).map_or(DVec3::ZERO, |i| self.rgb(i));
        (rgb * self.shade(source.gradient(p, centre), d), t_hit)
    }

    /// Data over the background `bg`, then the overlay blended by its opacity.
    fn output(&self, acc: [f64; 4], overlay: Option<[f64; 3]>, bg: [f64; 4]) -> [f64; 4] {
        let alpha = acc[3] + (1.0 - acc[3]) * bg[3];
        let mut out = [0.0; 4];
        for c in 0..3 {
            let premultiplied = acc[c] + (1.0 - acc[3]) * bg[3] * bg[c];
            out[c] = if alpha > 0.0 {
                premultiplied / alpha
            } else {
                premultiplied
            };
        }
        out[3] = alpha;
        if let Some(rgb) = overlay {
            let o = self.overlay_opacity;
            for c in 0..3 {
                out[c] = out[c] * (1.0 - o) + rgb[c] * o;
            }
            out[3] = out[3] * (1.0 - o) + o;
        }
        out
    }
}

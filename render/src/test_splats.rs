//! Generated Gaussian-splat scenes for tests, benchmarks and tools/splat-compare.

use cortexlens_data::splats::{Splats, sh_coefficients};

/// A deterministic generator in 0..1.
struct Random(u64);

impl Random {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `count` splats in a 60 mm ball, scales 0.5–3 mm, random rotations, opacities and SH of
/// `sh_degree` (the GPU tests' scene).
pub fn ball_scene(count: usize, sh_degree: u8, seed: u64) -> Splats {
    let mut r = Random(seed);
    let n = sh_coefficients(sh_degree);
    let mut s = Splats {
        name: "generated".into(),
        sh_degree,
        ..Default::default()
    };
    for _ in 0..count {
        let p = [r.next() - 0.5, r.next() - 0.5, r.next() - 0.5].map(|c| c * 60.0);
        s.positions.push(p);
        s.scales
            .push([0.5 + 2.5 * r.next(), 0.5 + 2.5 * r.next(), 0.5 + 2.5 * r.next()]);
        let q = [r.next() - 0.5, r.next() - 0.5, r.next() - 0.5, r.next() - 0.5];
        let norm = q.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-3);
        s.rotations.push(q.map(|v| v / norm));
        s.opacities.push(0.2 + 0.8 * r.next());
        for k in 0..n {
            let scale = if k == 0 { 2.0 } else { 0.3 };
            s.sh.push([r.next() - 0.5, r.next() - 0.5, r.next() - 0.5].map(|v| v * scale));
        }
    }
    s.validate().unwrap();
    s
}

/// `count` splats like a captured outdoor scene (the benchmarks' scene, about a Mip-NeRF 360
/// "garden"): a ground disk of small flat splats and a cluster of larger ones above it, about 10
/// units wide, random SH of `degree`.
pub fn garden_scene(count: usize, degree: u8, seed: u64) -> Splats {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32
    };
    let coefficients = sh_coefficients(degree);
    let mut s = Splats {
        name: "garden".into(),
        sh_degree: degree,
        positions: Vec::with_capacity(count),
        scales: Vec::with_capacity(count),
        rotations: Vec::with_capacity(count),
        opacities: Vec::with_capacity(count),
        sh: Vec::with_capacity(count * coefficients),
    };
    for i in 0..count {
        let (r, phi) = (5.0 * next().sqrt(), std::f32::consts::TAU * next());
        if i % 2 == 0 {
            s.positions.push([r * phi.cos(), r * phi.sin(), -1.0 + 0.05 * next()]);
            s.scales.push([0.01 + 0.03 * next(), 0.01 + 0.03 * next(), 0.003]);
        } else {
            let h = 3.0 * next();
            s.positions.push([0.4 * r * phi.cos(), 0.4 * r * phi.sin(), h - 1.0]);
            s.scales
                .push([0.005 + 0.05 * next(), 0.005 + 0.05 * next(), 0.005 + 0.05 * next()]);
        }
        let q = [next() - 0.5, next() - 0.5, next() - 0.5, next() - 0.5];
        let norm = q.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-3);
        s.rotations.push(q.map(|v| v / norm));
        s.opacities.push(0.3 + 0.7 * next());
        for k in 0..coefficients {
            let scale = if k == 0 { 2.0 } else { 0.2 };
            s.sh.push([next() - 0.5, next() - 0.5, next() - 0.5].map(|v| v * scale));
        }
    }
    s
}

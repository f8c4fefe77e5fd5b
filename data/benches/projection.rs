//! Projection benchmark: the MNI152 1 mm template sampled at 327,684 vertices (fsaverage's count:
//! two icospheres of 163,842 vertices shaped like hemispheres inside the brain), with every
//! method, on all cores and on one thread in the same run; also nearest-vertex picking and the
//! template's isosurface.
//!
//! `cargo bench -p cortexlens-data --bench projection`

use std::path::Path;
use std::time::Instant;

use cortexlens_data::isosurface::isosurface;
use cortexlens_data::mesh::Mesh;
use cortexlens_data::projection::{ProjectionMethod, project};
use cortexlens_data::{Loaded, load_path};

const RUNS: usize = 7;

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/mni152_t1_1mm.nii.gz");
    let Ok(Loaded::Volume(volume)) = load_path(&path, &mut |_| {}) else {
        panic!("{}: not a volume", path.display());
    };
    let (outer, inner) = hemispheres();
    println!(
        "MNI152 {:?} onto {} vertices ({} triangles); {} threads",
        &volume.shape[..3],
        outer.vertices.len(),
        outer.triangles.len(),
        rayon::current_num_threads()
    );
    println!(
        "{:<34} {:>12} {:>12} {:>10} {:>14}",
        "projection (best of 7)", "all threads", "1 thread", "speed-up", "1 thread CPU"
    );
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let cases: [(&str, ProjectionMethod, Option<&Mesh>); 4] = [
        ("nearest", ProjectionMethod::Nearest, None),
        ("linear (trilinear at vertex)", ProjectionMethod::Linear, None),
        ("nilearn (10 samples on normal)", ProjectionMethod::Nilearn, None),
        (
            "nilearn (10 samples, inner mesh)",
            ProjectionMethod::Nilearn,
            Some(&inner),
        ),
    ];
    for (name, method, inner) in cases {
        let run = || {
            std::hint::black_box(project(&volume, 0, &outer, inner, method));
        };
        let all = best_ms(run);
        let single = one.install(|| best_ms(run));
        let cpu = one.install(|| cpu_ms(run));
        let cpu = cpu.map_or("n/a".to_owned(), |ms| format!("{ms:.2} ms"));
        println!(
            "{name:<34} {all:>9.2} ms {single:>9.2} ms {:>9.2}× {cpu:>14}",
            single / all
        );
    }
    let normals = best_ms(|| {
        std::hint::black_box(outer.vertex_normals());
    });
    println!("Mesh::vertex_normals (area-weighted)  {normals:>9.2} ms, one thread");
    let picks: Vec<[f32; 3]> = (0..100)
        .map(|i| outer.vertices[i * 3271 % outer.vertices.len()])
        .collect();
    let pick = best_ms(|| {
        for &p in &picks {
            std::hint::black_box(outer.nearest_vertex(p));
        }
    }) / picks.len() as f64;
    println!("nearest_vertex (327,684 vertices)   {pick:>9.3} ms per pick");
    let mut triangles = 0;
    let iso = best_ms(|| triangles = isosurface(&volume, 0, 80.0).triangles.len());
    println!("isosurface MNI152 at 80             {iso:>9.2} ms ({triangles} triangles, one thread)");
}

/// Two icospheres of 163,842 vertices, stretched into hemisphere-sized ellipsoids (the outer
/// surface) and a copy 3 mm smaller (an inner surface with the same vertices).
fn hemispheres() -> (Mesh, Mesh) {
    let sphere = Mesh::icosphere(7);
    let mut outer = Mesh::default();
    let mut inner = Mesh::default();
    for (centre_x, flip) in [(-32.0f32, false), (32.0, true)] {
        let base = outer.vertices.len() as u32;
        let radii = [30.0f32, 68.0, 52.0];
        let centre = [centre_x, -18.0, 14.0];
        for v in &sphere.vertices {
            let x = if flip { -v[0] } else { v[0] };
            let v = [x, v[1], v[2]];
            outer
                .vertices
                .push(std::array::from_fn(|a| centre[a] + radii[a] * v[a]));
            inner
                .vertices
                .push(std::array::from_fn(|a| centre[a] + (radii[a] - 3.0) * v[a]));
        }
        for t in &sphere.triangles {
            // Mirroring flips the winding: swap two corners to keep normals outward.
            let t = if flip { [t[0], t[2], t[1]] } else { *t };
            let t = t.map(|i| i + base);
            outer.triangles.push(t);
            inner.triangles.push(t);
        }
    }
    (outer, inner)
}

/// Least CPU time (all threads of the process, from `/proc/self/task/*/schedstat`) of [`RUNS`]
/// runs, in milliseconds: what the work costs when other processes share the cores. `None`
/// where `/proc` does not tell.
fn cpu_ms(mut f: impl FnMut()) -> Option<f64> {
    let total = || -> Option<u64> {
        let mut ns = 0;
        for task in std::fs::read_dir("/proc/self/task").ok()? {
            let text = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            ns += text.split_whitespace().next()?.parse::<u64>().ok()?;
        }
        Some(ns)
    };
    let mut best = f64::INFINITY;
    for _ in 0..RUNS {
        let before = total()?;
        f();
        best = best.min(total()?.saturating_sub(before) as f64 / 1e6);
    }
    Some(best)
}

/// Best wall time of [`RUNS`] runs, in milliseconds.
fn best_ms(mut f: impl FnMut()) -> f64 {
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

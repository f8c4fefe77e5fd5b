//! Time to the first frame of the demo scene: from creating the app to a rendered frame showing the
//! template and the overlay, headless through egui_kittest's wgpu renderer (see BENCHMARKS.md).
//!
//! `WGPU_BACKEND=vulkan cargo bench -p cortexlens --bench first_frame`

use std::time::{Duration, Instant};

use cortexlens::{CortexApp, Startup};
use egui_kittest::Harness;

fn main() {
    let start = Instant::now();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 820.0))
        .wgpu()
        .build_eframe(|cc| CortexApp::new(cc, Startup::Demo));
    let created = start.elapsed();
    while harness.state().viewer().layers.len() < 2 || harness.state().is_loading() {
        assert!(start.elapsed() < Duration::from_secs(60), "demo scene did not load");
        std::thread::sleep(Duration::from_millis(2));
        harness.step();
    }
    let loaded = start.elapsed();
    harness.step();
    let frame = harness.render().expect("render a frame");
    let first_frame = start.elapsed();
    assert!(frame.width() > 0);
    println!("window+GPU setup   {:>8.1} ms", created.as_secs_f64() * 1e3);
    println!("demo scene loaded  {:>8.1} ms", loaded.as_secs_f64() * 1e3);
    println!("first frame drawn  {:>8.1} ms", first_frame.as_secs_f64() * 1e3);
}

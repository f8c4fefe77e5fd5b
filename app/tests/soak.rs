//! A soak of the window: a few hundred cycles of opening volumes, a surface and (now and then) a
//! neural field, showing every layout, then closing everything. After each cycle the GPU scene
//! holds nothing of what was closed; wgpu holds no more buffers, texture views, bind groups or
//! bytes of GPU memory than after 10 cycles; the threads are back to their number; the Rust heap
//! (counted by this test's allocator) is back to its level; and the process's resident memory
//! stays within [`RESIDENT_GROWTH_KIB`] of its level after 10 cycles.
//!
//! The last check is not made on Mesa's lavapipe before 25: its queue thread leaks memory each
//! time newly uploaded volumes are drawn into mosaic tiles or the 3D view (about 3 MB a cycle
//! here, with every wgpu count flat), which Mesa 25.0's lavapipe no longer does; see
//! docs/robustness.md. CI installs Mesa 25 (`.ci/run`).

use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use cortexlens::viewer::{Layout, Mosaic};
use cortexlens::{CortexApp, Startup};
use cortexlens_data::Plane;
use egui_kittest::Harness;

mod common;

/// Bytes the Rust heap holds now.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: forwards to the system allocator, counting sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CYCLES: usize = 200;

/// How much the process's resident memory may grow between the 10th and the last cycle (allocator
/// caches and fragmentation; a leak of one volume a cycle exceeds it within 60 cycles).
const RESIDENT_GROWTH_KIB: u64 = 64 << 10;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Resident memory (KiB) and thread count of this process.
fn process_usage() -> (u64, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> u64 {
        let line = status.lines().find_map(|l| l.strip_prefix(name)).unwrap();
        line.split_whitespace().next().unwrap().parse().unwrap()
    };
    (field("VmRSS:"), field("Threads:") as usize)
}

/// What wgpu holds on the device: buffers, texture views, bind groups, bytes of buffer and
/// texture memory (the `counters` feature).
fn wgpu_holds(device: &wgpu::Device) -> [isize; 4] {
    let hal = device.get_internal_counters().hal;
    [
        hal.buffers.read(),
        hal.texture_views.read(),
        hal.bind_groups.read(),
        hal.buffer_memory.read() + hal.texture_memory.read(),
    ]
}

/// Mesa's lavapipe older than 25, whose memory leak this test does not hold against us (see the
/// module's documentation), from the adapter's driver info such as "Mesa 22.3.6 (LLVM 15.0.6)".
fn leaky_lavapipe(info: &wgpu::AdapterInfo) -> bool {
    let mesa_major = info
        .driver_info
        .strip_prefix("Mesa ")
        .and_then(|v| v.split('.').next())
        .and_then(|major| major.parse::<u32>().ok());
    info.driver == "llvmpipe" && mesa_major.is_some_and(|major| major < 25)
}

fn step_until(harness: &mut Harness<'static, CortexApp>, done: impl Fn(&CortexApp) -> bool) {
    let start = Instant::now();
    while !done(harness.state()) {
        assert!(start.elapsed() < Duration::from_secs(120), "timed out opening files");
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
}

#[test]
fn opening_and_closing_for_hundreds_of_cycles_leaves_nothing_behind() {
    if std::env::var_os("WGPU_BACKEND").is_none() {
        // SAFETY: set before any thread of this test process reads the environment.
        unsafe { std::env::set_var("WGPU_BACKEND", "vulkan") };
    }
    let dir = std::env::temp_dir().join(format!("cortexlens-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let field = dir.join("ball.nfield");
    cortexlens_data::field::save_field(&field, &common::ball_field()).unwrap();
    let volumes = [
        repo().join("tests/data/volumes/nibabel_standard.nii.gz"),
        repo().join("tests/data/volumes/nibabel_example4d.nii.gz"),
    ];
    let mesh = repo().join("tests/data/surfaces/fsaverage5_pial_left.gii.gz");
    let mut gpu = None;
    let mut harness = Harness::builder()
        .with_size(egui::vec2(900.0, 600.0))
        .wgpu()
        .build_eframe(|cc| {
            let state = cc.wgpu_render_state.as_ref().expect("a wgpu window");
            gpu = Some((state.device.clone(), state.adapter.get_info()));
            CortexApp::new(cc, Startup::Files(Vec::new()))
        });
    let (device, adapter) = gpu.unwrap();
    let check_resident = !leaky_lavapipe(&adapter);
    harness.run_steps(2);
    let mut baseline = None;
    let started = process_usage().0;
    for cycle in 0..CYCLES {
        let with_field = cycle % 40 == 5;
        let app = harness.state_mut();
        volumes.iter().for_each(|v| app.open(v));
        app.open(&mesh);
        if with_field {
            app.open(&field);
        }
        let files = 3 + usize::from(with_field);
        step_until(&mut harness, |app| {
            !app.is_loading() && app.viewer().files.len() >= files
        });
        let bounds = harness.state().viewer().world_bounds();
        for layout in [
            Layout::Ortho,
            Layout::Single(Plane::Axial),
            Layout::Surface,
            Layout::Volume3d,
            Layout::Mosaic(Mosaic::across(Plane::Coronal, bounds)),
        ] {
            harness.state_mut().viewer_mut().layout = layout;
            harness.run_steps(2);
            // Draw the frame as the window does: uploads reach the GPU with a submission.
            harness.render().expect("a frame");
        }
        // Close everything, as the panels' buttons do.
        let viewer = harness.state_mut().viewer_mut();
        while let Some(layer) = viewer.layers.first().map(|l| l.id) {
            viewer.remove_layer(layer);
        }
        while let Some(group) = viewer.surfaces.hemispheres.first().map(|h| h.id) {
            viewer.surfaces.remove_hemisphere(group);
        }
        while let Some(field) = viewer.volume3d.fields.first().map(|f| f.id) {
            viewer.volume3d.close_field(field);
        }
        viewer.files.clear();
        viewer.layout = Layout::Ortho;
        harness.run_steps(3);
        harness.render().expect("a frame");

        let app = harness.state();
        assert!(
            !app.messages()
                .iter()
                .any(|m| matches!(m, cortexlens::messages::UserMessage::Error(_))),
            "{:?}",
            app.messages()
        );
        let resident = app.gpu_resident().unwrap();
        assert_eq!(
            (resident.volumes, resident.meshes, resident.fields, resident.baked),
            (0, 0, 0, 0),
            "cycle {cycle}: closed data left on the GPU"
        );
        // Worker threads end with their jobs.
        std::thread::sleep(Duration::from_millis(30));
        let (process, threads) = process_usage();
        let heap = LIVE.load(Ordering::Relaxed);
        // Resources dropped this frame are freed once the GPU is done with them.
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("the GPU finishes");
        let holds = wgpu_holds(&device);
        match baseline {
            // The first cycles fill caches (fonts, shaders, pools): measure from the tenth.
            None if cycle == 9 => baseline = Some((heap, threads, resident.targets, holds, process)),
            Some((heap0, threads0, targets0, holds0, process0)) => {
                assert!(
                    threads <= threads0,
                    "cycle {cycle}: {threads} threads, {threads0} after 10 cycles"
                );
                assert!(
                    resident.targets <= targets0,
                    "cycle {cycle}: {resident:?}, {targets0} targets after 10"
                );
                assert!(
                    heap < heap0 + (2 << 20),
                    "cycle {cycle}: the Rust heap holds {heap} bytes, {heap0} after 10 cycles"
                );
                assert!(
                    holds.iter().zip(holds0).all(|(now, then)| *now <= then),
                    "cycle {cycle}: wgpu holds [buffers, views, bind groups, bytes] {holds:?}, {holds0:?} after 10 cycles"
                );
                assert!(
                    !check_resident || process < process0 + RESIDENT_GROWTH_KIB,
                    "cycle {cycle}: {process} KiB resident, {process0} KiB after 10 cycles ({}, {})",
                    adapter.driver,
                    adapter.driver_info
                );
            }
            None => {}
        }
    }
    let (heap0, .., holds0, process0) = baseline.unwrap();
    eprintln!(
        "soak on {} ({}): {CYCLES} cycles; Rust heap {} KiB after 10 cycles, {} KiB at the end; \
         wgpu [buffers, views, bind groups, bytes] {holds0:?} after 10 cycles, {:?} at the end; \
         process {started} KiB at the start, {process0} KiB after 10 cycles, {} KiB at the end{}",
        adapter.driver,
        adapter.driver_info,
        heap0 / 1024,
        LIVE.load(Ordering::Relaxed) / 1024,
        wgpu_holds(&device),
        process_usage().0,
        if check_resident {
            ""
        } else {
            " (not checked: Mesa's lavapipe before 25 leaks)"
        }
    );
    std::fs::remove_dir_all(dir).ok();
}

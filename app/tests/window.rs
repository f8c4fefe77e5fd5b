//! The whole app under egui_kittest on lavapipe: the demo scene, a simulated drop, the crosshair.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cortexlens::jobs::Progress;
use cortexlens::panels::{CaptionsPanel, EncoderFitPanel, NeuralFieldPanel};
use cortexlens::regions::Region;
use cortexlens::{CortexApp, Startup};
use cortexlens_data::Plane;
use egui::{Event, Modifiers, PointerButton, Pos2};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::{Harness, SnapshotOptions};
use glam::DVec2;

mod common;

const WINDOW: (f32, f32) = (1000.0, 640.0);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn harness(startup: Startup) -> Harness<'static, CortexApp> {
    if std::env::var_os("WGPU_BACKEND").is_none() {
        // SAFETY: set before any thread of this test process reads the environment.
        unsafe { std::env::set_var("WGPU_BACKEND", "vulkan") };
    }
    Harness::builder()
        .with_size(egui::vec2(WINDOW.0, WINDOW.1))
        .wgpu()
        .build_eframe(move |cc| CortexApp::new(cc, startup))
}

/// Step the app until `done` holds (loading runs on worker threads).
fn step_until(harness: &mut Harness<'static, CortexApp>, what: &str, done: impl Fn(&CortexApp) -> bool) {
    let start = Instant::now();
    while !done(harness.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    harness.run_steps(3);
}

#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

fn drop_file(harness: &mut Harness<'static, CortexApp>, path: PathBuf) {
    harness.input_mut().dropped_files.push(Arc::new(Dropped(path)));
    harness.step();
}

#[test]
fn demo_scene_opens_with_template_and_signed_overlay() {
    let mut harness = harness(Startup::Demo);
    step_until(&mut harness, "the demo scene", |app| {
        app.viewer().surfaces.maps.len() == 2 && !app.is_loading()
    });
    let app = harness.state();
    let scene = &app.viewer().surfaces;
    assert_eq!(scene.hemispheres.len(), 2, "both hemispheres");
    assert!(
        scene
            .hemispheres
            .iter()
            .all(|h| h.meshes.len() == 2 && h.shading.is_some()),
        "pial + inflated, sulcal shading"
    );
    assert!(
        scene.maps.iter().all(|m| m.style.negative.is_some()),
        "the motor map projected as a signed map"
    );
    assert_eq!(app.viewer().layers[0].name(), "mni152_t1_1mm.nii.gz");
    assert_eq!(app.viewer().layers[1].name(), "motor_stat_map.nii.gz");
    let overlay = &app.viewer().layers[1].style;
    assert!(overlay.negative.is_some(), "signed overlay");
    assert_eq!(overlay.threshold, Some(cortexlens::demo::DEMO_T_THRESHOLD));
    assert!(app.messages().is_empty(), "{:?}", app.messages());
    harness.snapshot_options(
        "demo_scene",
        &SnapshotOptions::new().threshold(2.0).max_failed_pixels(400),
    );
}

#[test]
fn dropping_files_adds_layers_and_a_bad_file_keeps_them() {
    let mut harness = harness(Startup::Files(Vec::new()));
    harness.run_steps(2);
    assert!(harness.state().viewer().layers.is_empty());

    drop_file(&mut harness, repo().join("tests/data/volumes/nibabel_example4d.nii.gz"));
    step_until(&mut harness, "the dropped volume", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    harness.get_by_role_and_label(egui::accesskit::Role::Button, "nibabel_example4d.nii.gz");
    // A 4D volume gets a frame slider; the time series plot is drawn.
    assert_eq!(harness.state().viewer().layers[0].volume.frames(), 2);

    let dir = std::env::temp_dir().join(format!("cortexlens-window-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.nii.gz");
    std::fs::write(&broken, b"definitely not gzip").unwrap();
    drop_file(&mut harness, broken);
    step_until(&mut harness, "the error", |app| {
        !app.messages().is_empty() && !app.is_loading()
    });
    let app = harness.state();
    assert_eq!(app.viewer().layers.len(), 1, "what was open stays open");
    let cortexlens::messages::UserMessage::Error(text) = &app.messages()[0] else {
        panic!("expected an error, got {:?}", app.messages()[0]);
    };
    assert!(text.contains("broken.nii.gz"), "the error names the file: {text}");
}

fn click(harness: &mut Harness<'static, CortexApp>, pos: Pos2) {
    let input = harness.input_mut();
    input.events.push(Event::PointerMoved(pos));
    input.events.push(Event::PointerButton {
        pos,
        button: PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    harness.step();
    harness.input_mut().events.push(Event::PointerButton {
        pos,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    harness.run_steps(2);
}

#[test]
fn clicking_a_view_moves_the_linked_crosshair() {
    let mni = repo().join("assets/mni152_t1_1mm.nii.gz");
    let mut harness = harness(Startup::Files(vec![mni]));
    harness.state_mut().viewer_mut().layout = cortexlens::viewer::Layout::Single(Plane::Axial);
    step_until(&mut harness, "the template", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    let before = harness.state().viewer().crosshair;

    // Click 100 points right and 50 up of the view's centre.
    let area = harness.state().view_area_rect();
    let target = area.center() + egui::vec2(100.0, -50.0);
    click(&mut harness, target);
    let app = harness.state();
    let geometry = app
        .viewer()
        .geometry(Plane::Axial, area.width().round() as u32, area.height().round() as u32);
    let expected = geometry.pixel_to_world(DVec2::new(
        (target.x - area.min.x) as f64,
        (target.y - area.min.y) as f64,
    ));
    let after = app.viewer().crosshair;
    assert!(
        (after - expected).length() < 1.5,
        "crosshair {after} expected {expected}"
    );
    assert!(
        after.x > before.x + 10.0,
        "moved right (towards +x, neurological): {before} -> {after}"
    );
    assert!(after.y > before.y + 5.0, "moved anterior: {before} -> {after}");
    assert_eq!(after.z, before.z, "the axial slice stays");

    // The readout follows.
    let shown_x = harness.get_by_label("x").accesskit_node().numeric_value();
    assert_eq!(shown_x, Some(after.x));

    // Typing world millimetres moves the crosshair there.
    harness.get_by_label("y").set_value_accesskit(-20.0);
    harness.run_steps(2);
    let typed = harness.state().viewer().crosshair;
    assert_eq!((typed.x, typed.y, typed.z), (after.x, -20.0, after.z));

    // So does a layer's voxel index: the crosshair goes to that voxel's centre.
    let indices = harness.get_all_by_role_and_label(egui::accesskit::Role::SpinButton, "mni152_t1_1mm.nii.gz");
    let indices: Vec<_> = indices.collect();
    assert_eq!(indices.len(), 3, "i, j, k of the layer");
    indices[0].set_value_accesskit(30.0);
    harness.run_steps(2);
    let app = harness.state();
    let volume = &app.viewer().layers[0].volume;
    let [_, j, k] = volume.nearest_voxel(typed);
    let voxel = glam::DVec3::new(30.0, j as f64, k as f64);
    assert_eq!(app.viewer().crosshair, volume.affine.transform_point3(voxel));

    // A crosshair outside the layer's grid stays where it is (the readout does not pull it in).
    let outside = glam::DVec3::new(500.0, -20.0, 10.0);
    harness.state_mut().viewer_mut().set_crosshair(outside);
    harness.run_steps(3);
    assert_eq!(harness.state().viewer().crosshair, outside);
}

#[test]
fn scrolling_steps_slices_and_screenshots_rerender_at_a_multiple() {
    let mni = repo().join("assets/mni152_t1_1mm.nii.gz");
    let mut harness = harness(Startup::Files(vec![mni]));
    harness.state_mut().viewer_mut().layout = cortexlens::viewer::Layout::Single(Plane::Coronal);
    step_until(&mut harness, "the template", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    let before = harness.state().viewer().crosshair;
    let center = harness.state().view_area_rect().center();
    harness.input_mut().events.push(Event::PointerMoved(center));
    harness.step();
    for _ in 0..3 {
        harness.input_mut().events.push(Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, 40.0),
            modifiers: Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
        });
        harness.run_steps(10);
    }
    let after = harness.state().viewer().crosshair;
    assert!(
        after.y > before.y + 0.5,
        "scrolling moved the coronal slice: {before} -> {after}"
    );
    assert_eq!((after.x, after.z), (before.x, before.z));

    // Keys over the view step it too: down twice and page up once is one slice back.
    for key in [egui::Key::ArrowDown, egui::Key::ArrowDown, egui::Key::PageUp] {
        harness.key_press(key);
        harness.run_steps(2);
    }
    let keyed = harness.state().viewer().crosshair;
    let step = harness.state().viewer().slice_step();
    assert!(
        (keyed.y - (after.y - step)).abs() < 1e-9,
        "{after} -> {keyed}, step {step}"
    );

    let dir = std::env::temp_dir().join(format!("cortexlens-shot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let area = harness.state().view_area_rect();
    let mut settings = cortexlens::ui::ScreenshotSettings {
        scale: 2,
        ..Default::default()
    };
    settings.options.colorbar = false;
    let path = dir.join("shot.png");
    let size = harness.state().save_screenshot(&path, &settings).expect("screenshot");
    assert_eq!(
        size,
        ((area.width().round() as u32) * 2, (area.height().round() as u32) * 2)
    );
    let shot = image::open(&path).unwrap().to_rgba8();
    assert_eq!(shot.dimensions(), size);
    let bright = shot.pixels().filter(|p| p.0[0] > 100 && p.0[0] == p.0[2]).count();
    assert!(
        bright > (size.0 * size.1 / 20) as usize,
        "the template is in the screenshot"
    );
    settings.options.colorbar = true;
    let with_bar = harness
        .state()
        .save_screenshot(&dir.join("bar.png"), &settings)
        .unwrap();
    assert!(with_bar.0 > size.0 && with_bar.1 == size.1, "colour bar strip appended");
}

fn surfaces_fixture(kind: &str, side: &str) -> PathBuf {
    repo().join(format!("tests/data/surfaces/fsaverage5_{kind}_{side}.gii.gz"))
}

#[test]
fn surface_view_picks_vertices_switches_geometry_and_rejects_mismatched_maps() {
    let files = vec![
        repo().join("assets/mni152_t1_1mm.nii.gz"),
        surfaces_fixture("pial", "left"),
        surfaces_fixture("infl", "left"),
        surfaces_fixture("sulc", "left"),
    ];
    let mut harness = harness(Startup::Files(files));
    step_until(&mut harness, "the files", |app| {
        app.viewer().layers.len() == 1 && !app.viewer().surfaces.is_empty() && !app.is_loading()
    });
    harness.state_mut().viewer_mut().layout = cortexlens::viewer::Layout::Surface;
    harness
        .state_mut()
        .viewer_mut()
        .surfaces
        .look_from(cortexlens_data::camera::CameraPreset::LateralLeft);
    harness.run_steps(2);
    let scene = &harness.state().viewer().surfaces;
    assert_eq!(scene.hemispheres.len(), 1);
    assert_eq!(
        scene.hemispheres[0].meshes.len(),
        2,
        "pial and inflated in one hemisphere"
    );
    assert!(
        scene.hemispheres[0].shading.is_some(),
        "sulcal depth shades the surface"
    );

    // Clicking the middle of the lateral view hits the left hemisphere: the crosshair moves onto a
    // pial vertex, which becomes the highlighted vertex.
    let area = harness.state().view_area_rect();
    click(&mut harness, area.center());
    let app = harness.state();
    let highlight = app.viewer().surfaces.highlight.expect("a vertex is highlighted");
    assert!(
        highlight.distance < 1e-3,
        "the crosshair sits on the picked vertex: {highlight:?}"
    );
    assert!(
        app.viewer().crosshair.x < -20.0,
        "a lateral left vertex: {}",
        app.viewer().crosshair
    );
    let expected = app.viewer().surfaces.hemispheres[0].anatomical().unwrap().vertices[highlight.vertex];
    assert!((app.viewer().crosshair - glam::DVec3::from(expected.map(f64::from))).length() < 1e-3);
    harness.get_by_label_contains(&format!("Vertex {}", highlight.vertex));

    // The same click on the inflated geometry still lands on the left hemisphere, and the crosshair
    // goes to the pial (anatomical) position of the picked vertex.
    harness.state_mut().viewer_mut().surfaces.geometry = cortexlens_data::mesh::GeometryKind::Inflated;
    harness
        .state_mut()
        .viewer_mut()
        .surfaces
        .look_from(cortexlens_data::camera::CameraPreset::LateralLeft);
    harness.run_steps(2);
    click(&mut harness, area.center());
    let app = harness.state();
    let pick = app.viewer().surfaces.highlight.expect("a vertex is highlighted");
    assert!(pick.distance < 1e-3);

    // A map with the wrong vertex count is refused with a clear error; the scene is unchanged.
    let dir = std::env::temp_dir().join(format!("cortexlens-mismatch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let short = dir.join("lh.short.shape.gii");
    cortexlens_data::formats::save_vertex_values_gifti(&short, &[1.0; 2562]).unwrap();
    drop_file(&mut harness, short);
    step_until(&mut harness, "the mismatch error", |app| {
        !app.messages().is_empty() && !app.is_loading()
    });
    let app = harness.state();
    let cortexlens::messages::UserMessage::Error(text) = &app.messages()[0] else {
        panic!("expected an error, got {:?}", app.messages());
    };
    assert!(
        text.contains("2562") && text.contains("10242"),
        "names both counts: {text}"
    );
    assert!(app.viewer().surfaces.maps.is_empty());
}

#[test]
fn a_field_drawn_from_a_baked_grid_fills_the_3d_view() {
    let dir = std::env::temp_dir().join(format!("cortexlens-bake-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ball.nfield");
    cortexlens_data::field::save_field(&path, &common::ball_field()).unwrap();
    let mut harness = harness(Startup::Files(vec![path]));
    step_until(&mut harness, "the field", |app| {
        !app.viewer().volume3d.fields.is_empty() && !app.is_loading()
    });
    // Drawn from a grid by default on a software GPU (lavapipe); chosen in the panel on others.
    let app = harness.state();
    let adapter = app.adapter_info().expect("a wgpu adapter");
    let drawing = app.viewer().volume3d.field_drawing;
    assert_eq!(drawing, cortexlens::gpu_scene::field_drawing_for(&adapter));
    assert_eq!(
        drawing == cortexlens::viewer::FieldDrawing::Baked,
        adapter.device_type == wgpu::DeviceType::Cpu
    );
    harness.get_by_label("baked grid").click_accesskit();
    step_until(&mut harness, "the baked field", |app| {
        app.viewer().volume3d.fields.first().is_some_and(|f| f.baked.is_some())
    });
    let app = harness.state();
    assert_eq!(
        app.viewer().volume3d.field_drawing,
        cortexlens::viewer::FieldDrawing::Baked
    );
    assert_eq!(app.viewer().layout, cortexlens::viewer::Layout::Volume3d);
    let open = &app.viewer().volume3d.fields[0];
    let grid = open.baked.as_ref().unwrap();
    assert!(grid.data.len() <= cortexlens_data::field::BAKE_VOXELS);
    let centre = grid.value_at(
        [
            grid.shape[0] as i64 / 2,
            grid.shape[1] as i64 / 2,
            grid.shape[2] as i64 / 2,
        ],
        0,
    );
    assert!(centre.unwrap() > 95.0, "{centre:?}");
    let frame = cortexlens::gpu_scene::Frame3d::of(app.viewer()).unwrap();
    assert_eq!(frame.source, Some(cortexlens::gpu_scene::Source3dRefs::Baked(open.id)));
    assert_eq!(app.viewer().volume3d.settings.transfer.range, (0.0, 100.0));

    let mut settings = cortexlens::ui::ScreenshotSettings::default();
    settings.options.colorbar = false;
    let shot = dir.join("ball.png");
    harness.state().save_screenshot(&shot, &settings).expect("screenshot");
    let img = image::open(&shot).unwrap().to_rgba8();
    let corner = *img.get_pixel(0, 0);
    let drawn = img.pixels().filter(|p| **p != corner).count();
    let (w, h) = img.dimensions();
    assert!(
        drawn > (w * h / 20) as usize,
        "the ball is drawn: {drawn} of {} pixels",
        w * h
    );

    // The window itself: the 3D view's paint callback composites its target into the view area.
    let window = harness.render().expect("render the window");
    let area = harness.state().view_area_rect();
    let ppp = harness.ctx.pixels_per_point();
    let (x0, y0) = ((area.min.x * ppp) as u32, (area.min.y * ppp) as u32);
    let (x1, y1) = ((area.max.x * ppp) as u32, (area.max.y * ppp) as u32);
    let background = *window.get_pixel(x0 + 2, y0 + 2);
    let ball = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .filter(|&(x, y)| *window.get_pixel(x, y) != background)
        .count();
    let view = ((x1 - x0) * (y1 - y0)) as usize;
    assert!(
        ball > view / 20 && ball < view,
        "the ball fills part of the 3D view: {ball} of {view} pixels"
    );
}

/// Caption models small enough for a test, written under `dir`: the tiny pool, decoder and one
/// picture per pool entry from `inference/tests/fixtures`, and an encoder with every voxel of a
/// 4×4×4 grid of 3 mm voxels centred from −6 to 3 mm (the returned affine), voxel `v` at grid
/// index `(v % 4, v / 4 % 4, v / 16)` weighted like pool entry `7·v mod 300`.
fn tiny_caption_models(dir: &Path) -> (cortexlens::captioning::ModelPaths, glam::DMat4) {
    use cortexlens_inference::encoder::Encoder;
    use cortexlens_inference::projection::EmbeddingPool;
    use glam::{DMat4, DVec3};

    let fixtures = repo().join("inference/tests/fixtures");
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    // One small picture per pool entry, named in pool order.
    let pool_path = fixtures.join("clip_tiny/pool.safetensors");
    let pool = EmbeddingPool::open(&pool_path).unwrap();
    for i in 0..pool.len() {
        image::RgbaImage::from_pixel(6, 4, image::Rgba([(i % 256) as u8, 40, 90, 255]))
            .save(images.join(format!("img{i:04}.png")))
            .unwrap();
    }
    let affine = DMat4::from_translation(DVec3::new(-6.0, -6.0, -6.0)) * DMat4::from_scale(DVec3::splat(3.0));
    let voxels: Vec<[u32; 3]> = (0..64u32).map(|v| [v % 4, v / 4 % 4, v / 16]).collect();
    let weight: Vec<f32> = (0..64).flat_map(|v| pool.embedding(7 * v % 300).unwrap()).collect();
    let encoder = Encoder::new(
        weight,
        vec![0.0; 64],
        pool.dim(),
        voxels,
        affine,
        [4, 4, 4],
        "tiny",
        true,
    )
    .unwrap();
    let encoder_path = dir.join("encoder.safetensors");
    cortexlens_inference::encoder::file::save_encoder(&encoder_path, &encoder).unwrap();
    let models = cortexlens::captioning::ModelPaths {
        encoder: Some(encoder_path),
        pool: Some(pool_path),
        decoder: Some(fixtures.join("clipcap_tiny")),
        images: Some(images),
    };
    (models, affine)
}

#[test]
fn captions_the_crosshair_voxel_and_a_shown_region() {
    use glam::DVec3;

    let dir = std::env::temp_dir().join(format!("cortexlens-captions-{}", std::process::id()));
    let (models, affine) = tiny_caption_models(&dir);
    // The layer: 5 in three voxels, 0 elsewhere.
    let mut data = vec![0.0f32; 64];
    for v in [5, 22, 63] {
        data[v] = 5.0;
    }
    let volume = cortexlens_data::Volume::from_f32("roi", [4, 4, 4, 1], affine, data);
    let roi = dir.join("roi.nii");
    cortexlens_data::formats::save_nifti(&roi, &volume).unwrap();

    let mut harness = harness(Startup::Files(vec![roi]));
    // The random tiny decoder writes arbitrary Unicode; the app draws tofu for glyphs its fonts lack
    // (egui's default policy), where kittest would panic.
    harness.ctx.set_missing_glyph_policy(egui::MissingGlyphPolicy::Tofu);
    step_until(&mut harness, "the layer", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    let app = harness.state_mut();
    captions(app).set_model_paths(models);
    // Voxel (1, 1, 1) = encoder voxel 21, weighted like pool entry 147.
    app.viewer_mut().set_crosshair(DVec3::new(-3.0, -3.0, -3.0));
    harness.run_steps(2);
    harness.get_by_label("Caption crosshair voxel").click_accesskit();
    step_until(&mut harness, "the voxel's caption", |app| caption_result(app).is_some());
    let outcome = caption_result(harness.state()).unwrap();
    let caption = &outcome.captions[0];
    assert_eq!((caption.voxel, caption.ijk), (21, [1, 1, 1]));
    assert!(!caption.caption.trim().is_empty());
    assert_eq!(
        outcome.top_images[0].file_name().unwrap(),
        "img0147.png",
        "the top image is the voxel's own pool entry"
    );
    assert_eq!(outcome.thumbnails.len(), outcome.top_images.len());
    assert_eq!(
        outcome.thumbnails[0].1.dimensions(),
        (6, 4),
        "small pictures are not enlarged"
    );
    let shown = harness.state().panel::<CaptionsPanel>().unwrap().thumbnail_count();
    assert_eq!(shown, outcome.top_images.len());
    assert!(
        harness.state().messages().is_empty(),
        "{:?}",
        harness.state().messages()
    );

    // The region the selected layer shows: its voxels above the threshold.
    let app = harness.state_mut();
    let layer = &mut app.viewer_mut().layers[0];
    layer.style.threshold = Some(1.0);
    let id = layer.id;
    app.viewer_mut().selected = Some(id);
    harness.run_steps(2);
    harness.get_by_label("Caption region of roi.nii").click_accesskit();
    step_until(&mut harness, "the region's captions", |app| {
        caption_result(app).is_some_and(|o| matches!(o.target, Region::Shown { .. }))
    });
    let outcome = caption_result(harness.state()).unwrap();
    let voxels: Vec<usize> = outcome.captions.iter().map(|c| c.voxel).collect();
    assert_eq!(voxels, [5, 22, 63]);

    // Following the crosshair: moving it captions the voxel under it; off the encoder's voxels the
    // panel says so without piling up error messages.
    harness.get_by_label("Follow the crosshair").click_accesskit();
    harness
        .state_mut()
        .viewer_mut()
        .set_crosshair(DVec3::new(0.0, -6.0, -3.0));
    step_until(&mut harness, "the followed voxel's caption", |app| {
        caption_result(app).is_some_and(|o| o.captions[0].ijk == [2, 0, 1])
    });
    harness
        .state_mut()
        .viewer_mut()
        .set_crosshair(DVec3::new(50.0, 50.0, 50.0));
    let status = |app: &CortexApp| app.panel::<CaptionsPanel>().unwrap().status().map(str::to_owned);
    step_until(&mut harness, "the follow status", |app| status(app).is_some());
    assert!(status(harness.state()).unwrap().contains("not on one of the encoder's"));
    assert!(
        harness.state().messages().is_empty(),
        "{:?}",
        harness.state().messages()
    );
}

#[test]
fn a_label_shows_as_a_region_and_captions_take_the_encoder_voxels_at_its_vertices() {
    use cortexlens::viewer::RegionDraw;

    let labels = repo().join("tests/data/generated/labels");
    let files = vec![labels.join("lh.grid_uint32.gii"), labels.join("lh.square.label")];
    let mut harness = harness(Startup::Files(files));
    harness.ctx.set_missing_glyph_policy(egui::MissingGlyphPolicy::Tofu);
    step_until(&mut harness, "the mesh and its label", |app| {
        app.viewer().surfaces.regions.len() == 1 && !app.is_loading()
    });
    harness.state_mut().viewer_mut().layout = cortexlens::viewer::Layout::Surface;
    // The crosshair starts on vertex 10, which it highlights over any region: move it away.
    harness
        .state_mut()
        .viewer_mut()
        .set_crosshair(glam::DVec3::new(50.0, 50.0, 50.0));
    harness.run_steps(2);
    assert!(
        harness.state().messages().is_empty(),
        "{:?}",
        harness.state().messages()
    );
    assert!(harness.state().viewer().surfaces.highlight.is_none());

    // The 3×3 corner of the pycortex-style (uint32 triangles) grid, outlined: the vertices with a
    // neighbour outside it (0, 1 and 4 lie on the grid's border, 5 inside).
    let scene = &harness.state().viewer().surfaces;
    let region = &scene.regions[0];
    assert_eq!(region.surface, scene.hemispheres[0].id);
    assert_eq!(region.vertices, [0, 1, 2, 4, 5, 6, 8, 9, 10]);
    assert_eq!(region.outline, [2, 6, 8, 9, 10]);
    assert_eq!((region.style.draw, region.style.visible), (RegionDraw::Outline, true));
    let colour = region.style.colour;
    let painted = |app: &CortexApp| -> Vec<usize> {
        let scene = &app.viewer().surfaces;
        let colours = cortexlens::gpu_scene::surface_colors(scene, &scene.hemispheres[0]);
        (0..16).filter(|&v| colours[v][..3] == colour).collect()
    };
    assert_eq!(painted(harness.state()), [2, 6, 8, 9, 10]);
    harness.get_by_label_contains("lh.square.label (9 vertices)");

    // Filled from the surfaces panel: every vertex of the region; hidden: none.
    harness.get_by_label("fill").click();
    harness.run_steps(2);
    assert_eq!(
        harness.state().viewer().surfaces.regions[0].style.draw,
        RegionDraw::Fill
    );
    assert_eq!(painted(harness.state()), [0, 1, 2, 4, 5, 6, 8, 9, 10]);
    harness.get_by_label("Show lh.square.label").click();
    harness.run_steps(2);
    assert!(painted(harness.state()).is_empty());

    // Captioned: the encoder voxels under the region's vertices. Vertex i + 4j sits at
    // (−6 + 3i, −6 + 3j, 0), the centre of encoder voxel (i, j, 2), row i + 4j + 32.
    let dir = std::env::temp_dir().join(format!("cortexlens-label-captions-{}", std::process::id()));
    let (models, _) = tiny_caption_models(&dir);
    captions(harness.state_mut()).set_model_paths(models);
    harness.run_steps(2);
    harness
        .get_by_label("Caption the region of lh.square.label")
        .click_accesskit();
    step_until(&mut harness, "the region's captions", |app| {
        caption_result(app).is_some()
    });
    let outcome = caption_result(harness.state()).unwrap();
    assert!(
        matches!(&outcome.target, Region::Surface { name, points } if name == "lh.square.label" && points.len() == 9)
    );
    let voxels: Vec<usize> = outcome.captions.iter().map(|c| c.voxel).collect();
    assert_eq!(voxels, [32, 33, 34, 36, 37, 38, 40, 41, 42]);
    assert_eq!(outcome.captions[4].ijk, [1, 1, 2]);
    assert!(
        harness.state().messages().is_empty(),
        "{:?}",
        harness.state().messages()
    );
    harness.get_by_label_contains("9 voxels captioned at the 9 vertices of lh.square.label");
    let _ = std::fs::remove_dir_all(dir);
}

fn encoder_form(app: &mut CortexApp) -> &mut cortexlens::panels::EncoderFitForm {
    app.panel_mut::<EncoderFitPanel>()
        .expect("the encoder-fit panel")
        .form_mut()
}

fn captions(app: &mut CortexApp) -> &mut CaptionsPanel {
    app.panel_mut::<CaptionsPanel>().expect("the captions panel")
}

fn caption_result(app: &CortexApp) -> Option<&cortexlens::captioning::CaptionOutcome> {
    app.panel::<CaptionsPanel>().and_then(CaptionsPanel::result)
}

#[test]
fn fitting_a_layer_opens_the_field_in_the_3d_view() {
    let anatomy = repo().join("tests/data/volumes/nibabel_anatomical.nii");
    let mut harness = harness(Startup::Files(vec![anatomy]));
    step_until(&mut harness, "the volume", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    let id = harness.state().viewer().layers[0].id;
    let mut config = cortexlens_inference::FitConfig::default_dense(true);
    config.encoding = cortexlens_inference::EncodingConfig::Dense {
        resolution: [8, 8, 8],
        features: 4,
    };
    config.hidden = vec![16];
    config.cam_resolution = [4, 4, 4];
    (config.steps, config.batch) = (30, 256);
    let app = harness.state_mut();
    app.panel_mut::<NeuralFieldPanel>().unwrap().set_config(config);
    app.viewer_mut().selected = Some(id);
    harness.run_steps(2);
    harness.get_by_label("Fit neural field").click_accesskit();
    harness.run_steps(1);
    let fitting = |app: &CortexApp| app.panel::<NeuralFieldPanel>().unwrap().is_fitting();
    assert!(fitting(harness.state()), "the button starts a fit");
    step_until(&mut harness, "the fitted field", |app| {
        !fitting(app) && !app.viewer().volume3d.fields.is_empty()
    });
    let app = harness.state();
    assert_eq!(app.viewer().layout, cortexlens::viewer::Layout::Volume3d);
    assert!(
        matches!(app.messages(), [cortexlens::messages::UserMessage::Info(m)] if m.starts_with("Fitted a neural field") && m.contains("PSNR")),
        "{:?}",
        app.messages()
    );
    let field = &app.viewer().volume3d.fields[0].field;
    assert!(field.cam.is_some() && field.occupancy.is_some());
    // Drawn from a grid (the default on a software GPU, chosen here so any GPU bakes it).
    harness.state_mut().viewer_mut().volume3d.field_drawing = cortexlens::viewer::FieldDrawing::Baked;
    step_until(&mut harness, "the field's baked grid", |app| {
        app.viewer().volume3d.fields[0].baked.is_some()
    });
}

#[test]
fn fitting_an_encoder_opens_its_maps_and_sets_the_caption_encoder() {
    use cortexlens::messages::UserMessage;
    use cortexlens_data::formats::{load_volume, save_nifti};
    use cortexlens_inference::clip::Clip;
    use cortexlens_inference::encoder::fit::embed_images;
    use std::sync::atomic::AtomicBool;

    let clip_dir = repo().join("inference/tests/fixtures/clip_tiny");
    let dir = std::env::temp_dir().join(format!("cortexlens-encoder-fit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // 60 generated stimuli and their list.
    let stimuli: Vec<PathBuf> = (0..60u32)
        .map(|s| {
            let path = dir.join(format!("s{s:02}.png"));
            image::RgbImage::from_fn(34 + s % 7, 32, |x, y| {
                image::Rgb([
                    (x * 7 + s * 13) as u8,
                    (y * 5 + s * 29) as u8,
                    ((x * y) % 251 + s * 3) as u8,
                ])
            })
            .save(&path)
            .unwrap();
            path
        })
        .collect();
    let list = dir.join("stimuli.tsv");
    let names: Vec<String> = (0..60).map(|s| format!("s{s:02}.png")).collect();
    std::fs::write(&list, format!("path\n{}\n", names.join("\n"))).unwrap();
    // Responses linear in the stimuli's CLIP embeddings at the mask's voxels, 0 elsewhere.
    let clip = Clip::load_dir(&clip_dir, &cortexlens_inference::device()).unwrap();
    let features = embed_images(&clip, &stimuli, 16, &AtomicBool::new(false), &mut |_, _| {}).unwrap();
    let d = clip.projection_dim();
    let mask_path = clip_dir.join("mask.nii");
    let mask = load_volume(&mask_path, &mut |_| {}).unwrap();
    let frame = mask.frame_len();
    let mut data = vec![0.0f32; 60 * frame];
    for (s, feature) in features.chunks(d).enumerate() {
        for v in (0..frame).filter(|&v| mask.data[v] != 0.0) {
            let weight = |k: usize| (((v * 31 + k * 17) % 13) as f32 - 6.0) / 6.0;
            data[s * frame + v] = feature.iter().enumerate().map(|(k, f)| weight(k) * f).sum::<f32>() + 0.5;
        }
    }
    let [nx, ny, nz, _] = mask.shape;
    let responses = cortexlens_data::Volume::from_f32("responses", [nx, ny, nz, 60], mask.affine, data);
    let responses_path = dir.join("responses.nii.gz");
    save_nifti(&responses_path, &responses).unwrap();

    let mut harness = harness(Startup::Files(vec![responses_path, mask_path]));
    step_until(&mut harness, "responses and mask", |app| {
        app.viewer().layers.len() == 2 && !app.is_loading()
    });
    let app = harness.state_mut();
    let (responses_id, mask_id) = (app.viewer().layers[0].id, app.viewer().layers[1].id);
    app.viewer_mut().selected = Some(responses_id);
    let out = dir.join("models/enc.safetensors");
    let form = encoder_form(app);
    form.stimuli = Some(list.clone());
    form.clip = clip_dir.display().to_string();
    form.out = Some(out.clone());
    form.mask = Some(mask_id);
    form.folds = 3;
    harness.run_steps(2);
    // The button, pressed as assistive technology does (accesskit's click action).
    harness
        .get_by_label("Fit encoder to responses.nii.gz")
        .click_accesskit();
    harness.run_steps(1);
    let fitting = |app: &CortexApp| app.panel::<EncoderFitPanel>().unwrap().is_fitting();
    assert!(fitting(harness.state()), "the button starts a fit");
    step_until(&mut harness, "the fit and its maps", |app| {
        !fitting(app) && app.viewer().layers.len() == 4 && !app.is_loading()
    });

    let app = harness.state();
    let fitted = mask.data.iter().filter(|v| **v != 0.0).count();
    let [UserMessage::Info(message)] = app.messages() else {
        panic!("{:?}", app.messages());
    };
    assert!(
        message.starts_with(&format!("Fitted an encoder to {fitted} voxels of responses.nii.gz")),
        "{message}"
    );
    let median: f32 = message
        .split("median held-out R² ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(
        median > 0.9,
        "noise-free linear responses are predicted on held-out stimuli: {message}"
    );
    let caption_encoder = |app: &CortexApp| app.panel::<CaptionsPanel>().unwrap().model_paths().encoder.clone();
    assert_eq!(
        caption_encoder(app).as_ref(),
        Some(&out),
        "the captions use the new encoder"
    );
    let encoder = cortexlens_inference::encoder::file::load_encoder(&out).unwrap();
    assert_eq!(encoder.voxel_count(), fitted);
    let names: Vec<&str> = app.viewer().layers.iter().map(|l| l.name()).collect();
    assert_eq!(
        names[2..],
        ["enc_r2.nii.gz", "enc_pearson.nii.gz"],
        "the maps open as overlays"
    );
    for layer in &app.viewer().layers[2..] {
        let finite = layer.volume.data.iter().filter(|v| v.is_finite()).count();
        assert_eq!(finite, fitted, "{}: values at the fitted voxels only", layer.name());
    }

    // Cancelled before its first batch (the stimulus list is a FIFO that the worker blocks on
    // until the cancel flag is up); a stimulus list that does not match the frames is an error;
    // neither touches the open layers or the captions' encoder.
    let fifo = dir.join("stimuli.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let app = harness.state_mut();
    app.clear_messages();
    app.viewer_mut().selected = Some(responses_id);
    let form = encoder_form(app);
    form.stimuli = Some(fifo.clone());
    form.out = Some(dir.join("models/other.safetensors"));
    harness.run_steps(2);
    harness
        .get_by_label("Fit encoder to responses.nii.gz")
        .click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Cancel").click_accesskit();
    harness.run_steps(1);
    std::fs::write(&fifo, std::fs::read(&list).unwrap()).unwrap();
    step_until(&mut harness, "the cancelled fit", |app| !fitting(app));
    let short = dir.join("short.tsv");
    std::fs::write(&short, "s00.png\ns01.png\n").unwrap();
    encoder_form(harness.state_mut()).stimuli = Some(short);
    harness.run_steps(2);
    harness
        .get_by_label("Fit encoder to responses.nii.gz")
        .click_accesskit();
    harness.run_steps(1);
    step_until(&mut harness, "the failed fit", |app| !fitting(app));
    let app = harness.state();
    assert!(
        matches!(app.messages(), [UserMessage::Info(a), UserMessage::Error(b)]
            if a.ends_with("cancelled") && b.contains("2 stimuli listed for 60 responses")),
        "{:?}",
        app.messages()
    );
    assert_eq!(app.viewer().layers.len(), 4);
    assert_eq!(caption_encoder(app).as_ref(), Some(&out));
    assert!(!dir.join("models/other.safetensors").exists());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn clip_missing_from_the_cache_downloads_in_the_app_with_progress_and_cancel() {
    use cortexlens::messages::UserMessage;
    use cortexlens_data::formats::save_nifti;
    use cortexlens_inference::hub::Hub;
    use cortexlens_inference::hub::mirror::LocalMirror;

    let clip_dir = repo().join("inference/tests/fixtures/clip_tiny");
    let served = |file: &str| std::fs::read(clip_dir.join(file)).unwrap();
    let mirror = LocalMirror::serve(vec![
        ("tiny/remote-clip", "config.json", served("config.json")),
        ("tiny/remote-clip", "model.safetensors", served("model.safetensors")),
    ])
    .unwrap();
    let dir = std::env::temp_dir().join(format!("cortexlens-clip-download-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let responses = cortexlens_data::Volume::from_f32(
        "responses",
        [2, 2, 2, 3],
        glam::DMat4::IDENTITY,
        (0..24).map(|v| v as f32).collect(),
    );
    let responses_path = dir.join("responses.nii.gz");
    save_nifti(&responses_path, &responses).unwrap();

    let mut harness = harness(Startup::Files(vec![responses_path]));
    step_until(&mut harness, "the responses", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    let app = harness.state_mut();
    let id = app.viewer().layers[0].id;
    app.viewer_mut().selected = Some(id);
    let panel = app.panel_mut::<EncoderFitPanel>().unwrap();
    panel.set_hub(Hub {
        cache_dir: dir.join("hf/hub"),
        endpoint: mirror.endpoint(),
    });
    let form = panel.form_mut();
    form.clip = "tiny/remote-clip".into();
    form.stimuli = Some(dir.join("stimuli.tsv"));
    form.out = Some(dir.join("enc.safetensors"));
    harness.run_steps(2);
    harness.get_by_label("not in the Hugging Face cache: config.json, model.safetensors");
    assert!(
        harness
            .get_by_label("Fit encoder to responses.nii.gz")
            .accesskit_node()
            .is_disabled(),
        "no fit without CLIP on disk"
    );

    // Held by the hub after 4 KiB of the model: the progress shows, and Cancel ends the download
    // mid-file although the connection has stalled.
    mirror.hold_after(4096);
    harness.get_by_label("Download").click_accesskit();
    let download = |app: &CortexApp| app.panel::<EncoderFitPanel>().unwrap().download();
    step_until(&mut harness, "the first bytes of the model", |app| {
        download(app)
            .and_then(|job| app.jobs().progress(job))
            .is_some_and(|p| matches!(p, Progress::Download(p) if p.file == "model.safetensors" && p.bytes > 0))
    });
    harness.get_by_label("Cancel").click_accesskit();
    step_until(&mut harness, "the cancelled download", |app| download(app).is_none());
    mirror.release();
    assert!(
        matches!(harness.state().messages(), [UserMessage::Info(m)] if m.ends_with("the next download resumes it")),
        "{:?}",
        harness.state().messages()
    );
    harness.get_by_label("not in the Hugging Face cache: model.safetensors");

    // Downloaded in full: the model is in the cache and the fit can start.
    harness.get_by_label("Download").click_accesskit();
    harness.run_steps(1);
    assert!(download(harness.state()).is_some(), "the button starts the download");
    step_until(&mut harness, "the download", |app| download(app).is_none());
    let app = harness.state();
    assert!(
        matches!(&app.messages()[1..], [UserMessage::Info(m)] if m.starts_with("Downloaded tiny/remote-clip into")),
        "{:?}",
        app.messages()
    );
    let folder = app
        .panel::<EncoderFitPanel>()
        .and_then(EncoderFitPanel::hub)
        .unwrap()
        .locate("tiny/remote-clip", &["config.json", "model.safetensors"])
        .unwrap();
    assert_eq!(
        std::fs::read(folder.join("model.safetensors")).unwrap(),
        served("model.safetensors")
    );
    assert!(
        !harness
            .get_by_label("Fit encoder to responses.nii.gz")
            .accesskit_node()
            .is_disabled()
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn choosing_the_labels_colormap_shows_labels_as_they_are() {
    let mut harness = harness(Startup::Files(vec![
        repo().join("tests/data/volumes/nibabel_anatomical.nii"),
    ]));
    step_until(&mut harness, "the volume", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    let app = harness.state_mut();
    let id = app.viewer().layers[0].id;
    app.viewer_mut().selected = Some(id);
    harness.run_steps(2);
    harness.get_by_label("Colormap").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("labels").click_accesskit();
    harness.run_steps(2);
    let style = harness.state().viewer().layers[0].style;
    assert_eq!(style.colormap, cortexlens_data::Colormap::Labels);
    assert_eq!(style.interpolation, cortexlens_data::Interpolation::Nearest);
    assert_eq!(style.threshold, Some(0.5), "label 0 (the background) is transparent");
}

#[test]
fn a_segmentation_with_a_bids_sidecar_shows_label_names() {
    use cortexlens_data::formats::save_nifti;
    let dir = std::env::temp_dir().join(format!("cortexlens-dseg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Labels 0..3 by x: i = 0 background, 1 and 2 Left-Hippocampus, 3 Cortex.
    let data: Vec<f32> = (0..64).map(|v| [0.0, 17.0, 17.0, 3.0][v % 4]).collect();
    let seg = cortexlens_data::Volume::from_f32("seg", [4, 4, 4, 1], glam::DMat4::IDENTITY, data);
    let path = dir.join("sub-01_dseg.nii.gz");
    save_nifti(&path, &seg).unwrap();
    std::fs::write(
        dir.join("sub-01_dseg.tsv"),
        "index\tname\n0\tBackground\n3\tCortex\n17\tLeft-Hippocampus\n",
    )
    .unwrap();
    let mut harness = harness(Startup::Files(vec![path]));
    step_until(&mut harness, "the segmentation", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    let layer = &harness.state().viewer().layers[0];
    assert_eq!(layer.style.colormap, cortexlens_data::Colormap::Labels);
    assert_eq!(layer.label_names.as_ref().map(|n| n.len()), Some(3));
    harness
        .state_mut()
        .viewer_mut()
        .set_crosshair(glam::DVec3::new(1.0, 1.0, 1.0));
    harness.run_steps(2);
    harness.get_by_label("17  Left-Hippocampus");
    harness
        .state_mut()
        .viewer_mut()
        .set_crosshair(glam::DVec3::new(3.0, 1.0, 1.0));
    harness.run_steps(2);
    harness.get_by_label("3  Cortex");
    harness.get_by_label("Label names: 3");

    // A broken sidecar: the volume opens, without names, and the error is shown.
    std::fs::write(dir.join("sub-02_dseg.tsv"), "index\tname\nseventeen\tX\n").unwrap();
    let broken = dir.join("sub-02_dseg.nii.gz");
    save_nifti(&broken, &seg).unwrap();
    harness.state_mut().open(&broken);
    step_until(&mut harness, "the second segmentation", |app| {
        app.viewer().layers.len() == 2 && !app.is_loading()
    });
    let app = harness.state();
    assert!(app.viewer().layers[1].label_names.is_none());
    assert!(
        matches!(app.messages(), [cortexlens::messages::UserMessage::Error(e)] if e.contains("sub-02_dseg.tsv") && e.contains("line 2")),
        "{:?}",
        app.messages()
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn an_overlays_zeros_show_the_base_by_default() {
    let dir = std::env::temp_dir().join(format!("cortexlens-window-zeros-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let map = common::sparse_positive_map(&dir);
    let mni = repo().join("assets/mni152_t1_1mm.nii.gz");
    let mut harness = harness(Startup::Files(vec![mni, map]));
    step_until(&mut harness, "the template and the map", |app| {
        app.viewer().layers.len() == 2 && !app.is_loading()
    });
    let viewer = harness.state_mut().viewer_mut();
    viewer.layout = cortexlens::viewer::Layout::Single(Plane::Axial);
    viewer.set_crosshair(glam::DVec3::new(40.0, -20.0, 50.0));
    harness.run_steps(2);
    let settings = cortexlens::ui::ScreenshotSettings {
        options: cortexlens::gpu_scene::picture::PictureOptions {
            colorbar: false,
            crosshair: false,
        },
        ..Default::default()
    };
    let shot = |harness: &Harness<'static, CortexApp>, name: &str| {
        let path = dir.join(name);
        harness.state().save_screenshot(&path, &settings).expect("screenshot");
        image::open(&path).unwrap().to_rgba8()
    };
    let with_map = shot(&harness, "with.png");
    harness.state_mut().viewer_mut().layers[1].style.visible = false;
    harness.run_steps(2);
    let without = shot(&harness, "without.png");
    let changed = with_map.pixels().zip(without.pixels()).filter(|(a, b)| a != b).count();
    // The view shows the ≈ 200 mm template over the view's smaller side; the ball of radius 10 mm
    // is a small part of it.
    let (w, h) = with_map.dimensions();
    let ball = std::f64::consts::PI * (10.0 * w.min(h) as f64 / 200.0).powi(2);
    assert!(
        changed as f64 > 0.5 * ball && (changed as f64) < 1.3 * ball,
        "only the ball covers the template: {changed} pixels changed, the ball ≈ {ball:.0}"
    );
}

#[test]
fn without_a_desktop_dialog_the_in_window_browser_opens_files() {
    let dir = std::env::temp_dir().join(format!("cortexlens-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        repo().join("tests/data/volumes/nibabel_standard.nii.gz"),
        dir.join("standard.nii.gz"),
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not brain data").unwrap();
    let mut harness = harness(Startup::Files(Vec::new()));
    // As on a plain X11 session: no desktop portal and no zenity.
    harness.state_mut().use_builtin_file_dialogs(Some(dir.clone()));
    harness.run_steps(2);
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Open… Ctrl+O").click_accesskit();
    harness.run_steps(3);
    // The browser lists the folder's brain data, not the other files.
    assert!(harness.query_by_label("🗋 notes.txt").is_none(), "filtered out");
    harness.get_by_label("🗋 standard.nii.gz").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Open").click_accesskit();
    step_until(&mut harness, "the chosen volume", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    assert_eq!(harness.state().viewer().layers[0].name(), "standard.nii.gz");
    assert!(
        harness.state().messages().is_empty(),
        "{:?}",
        harness.state().messages()
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_cluster_table_names_its_peaks_and_jumps_to_them() {
    use cortexlens::panels::ClustersPanel;
    use cortexlens_data::clusters::{ClusterOptions, clusters};
    let dir = std::env::temp_dir().join(format!("cortexlens-clusters-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A coarse atlas of the two hemispheres (20 mm voxels from −100 mm), with its BIDS table.
    let affine =
        glam::DMat4::from_translation(glam::DVec3::splat(-90.0)) * glam::DMat4::from_scale(glam::DVec3::splat(20.0));
    let halves: Vec<f32> = (0..1000).map(|v| if v % 10 < 5 { 1.0 } else { 2.0 }).collect();
    let atlas = cortexlens_data::Volume::from_f32("hemispheres", [10, 10, 10, 1], affine, halves);
    cortexlens_data::formats::save_nifti(&dir.join("hemispheres.nii.gz"), &atlas).unwrap();
    std::fs::write(dir.join("hemispheres.tsv"), "index\tname\n1\tLeft\n2\tRight\n").unwrap();
    let files = vec![
        repo().join("assets/mni152_t1_1mm.nii.gz"),
        dir.join("hemispheres.nii.gz"),
        repo().join("assets/motor_stat_map.nii.gz"),
    ];
    let mut harness = harness(Startup::Files(files));
    step_until(&mut harness, "the template, the atlas and the map", |app| {
        app.viewer().layers.len() == 3 && !app.is_loading()
    });
    let map = harness.state().viewer().layers[2].id;
    assert_eq!(
        harness.state().viewer().selected,
        Some(map),
        "the map, opened last, is selected"
    );
    harness.run_steps(2);
    harness.get_by_label("Find clusters").click_accesskit();
    harness.run_steps(2);
    let app = harness.state();
    let table = app
        .panel::<ClustersPanel>()
        .unwrap()
        .table(map)
        .expect("a table")
        .to_vec();
    // The window's defaults: the map's threshold, both signs (a signed map), nilearn's rest.
    let layer = &app.viewer().layers[2];
    let options = ClusterOptions {
        two_sided: true,
        ..ClusterOptions::at(layer.style.threshold.unwrap())
    };
    let expected = clusters(&layer.volume, 0, &options);
    assert_eq!(table, expected);
    let first = table[0].peak.mm;
    let side = if first.x < 0.0 { "Left" } else { "Right" };
    assert_eq!(app.viewer().label_at(first).as_deref(), Some(side));
    harness
        .get_all_by_label(side)
        .next()
        .expect("the peak's atlas label in the table");
    harness
        .get_by_label(&format!("{:.0}, {:.0}, {:.0}", first.x, first.y, first.z))
        .click_accesskit();
    harness.run_steps(2);
    assert_eq!(
        harness.state().viewer().crosshair,
        first,
        "a row's peak is a link to it"
    );
    std::fs::remove_dir_all(dir).ok();
}

fn cifti_fixture(name: &str) -> PathBuf {
    repo().join("tests/data/generated/cifti").join(name)
}

/// Pixels of the view area whose channels differ (a map's colours; grey shading has equal ones).
fn coloured_in_view(harness: &mut Harness<'static, CortexApp>) -> usize {
    let window = harness.render().expect("render the window");
    let area = harness.state().view_area_rect();
    let ppp = harness.ctx.pixels_per_point();
    let (x0, y0) = ((area.min.x * ppp) as u32, (area.min.y * ppp) as u32);
    let (x1, y1) = ((area.max.x * ppp) as u32, (area.max.y * ppp) as u32);
    (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .map(|(x, y)| window.get_pixel(x, y).0)
        .filter(|p| (p[0] as i32 - p[2] as i32).abs() > 40 || (p[1] as i32 - p[2] as i32).abs() > 40)
        .count()
}

#[test]
fn a_dscalar_opens_its_maps_on_the_surfaces_and_a_dconn_follows_the_crosshair() {
    use cortexlens::messages::UserMessage;
    // The dscalar before its meshes: its maps wait for them, then attach.
    let files = vec![
        cifti_fixture("mini.dscalar.nii"),
        cifti_fixture("mini.L.sphere.surf.gii"),
        cifti_fixture("mini.R.sphere.surf.gii"),
    ];
    let mut harness = harness(Startup::Files(files));
    step_until(&mut harness, "the files", |app| {
        app.viewer().surfaces.hemispheres.len() == 2 && !app.is_loading()
    });
    let app = harness.state();
    let scene = &app.viewer().surfaces;
    assert_eq!(scene.maps.len(), 2, "one map per hemisphere");
    for (map, group) in scene.maps.iter().zip(&scene.hemispheres) {
        assert_eq!(map.surface, group.id);
        assert_eq!(map.name, "mini.dscalar.nii");
        assert_eq!(map.frames.len(), 2, "the two scalar maps are its frames");
        assert_eq!(map.frames[0].len(), 162);
    }
    assert_eq!(app.viewer().layers.len(), 1, "the thalamus voxels are a layer");
    assert!(app.viewer().waiting_cifti().is_empty());
    let infos: Vec<&str> = app
        .messages()
        .iter()
        .filter_map(|m| match m {
            UserMessage::Info(text) => Some(text.as_str()),
            UserMessage::Error(_) => None,
        })
        .collect();
    assert!(
        infos
            .iter()
            .any(|m| m.contains("CORTEX_LEFT waits for a left surface mesh of 162 vertices")),
        "{infos:?}"
    );
    assert!(
        infos
            .iter()
            .any(|m| m.starts_with("mini.R.sphere.surf.gii shows mini.dscalar.nii")),
        "{infos:?}"
    );
    harness.state_mut().viewer_mut().layout = cortexlens::viewer::Layout::Surface;
    harness
        .state_mut()
        .viewer_mut()
        .surfaces
        .look_from(cortexlens_data::camera::CameraPreset::Dorsal);
    harness.run_steps(2);
    let coloured = coloured_in_view(&mut harness);
    assert!(coloured > 2000, "the maps colour the spheres: {coloured} pixels");

    // A dconn: the row of the vertex under the crosshair, recoloured as the crosshair moves.
    harness.state_mut().clear_messages();
    drop_file(&mut harness, cifti_fixture("mini.dconn.nii"));
    step_until(&mut harness, "the dconn", |app| {
        app.viewer().cifti.len() == 2 && !app.is_loading()
    });
    let (file, world) = {
        let viewer = harness.state().viewer();
        let file = viewer.cifti[1].file.clone();
        let cortexlens_data::cifti::IndexMap::BrainModels(rows) = &file.maps[0] else {
            panic!("dense rows")
        };
        let cortexlens_data::cifti::ModelKind::Surface { vertices, .. } = &rows.models[1].kind else {
            panic!("right cortex")
        };
        let mesh = viewer.surfaces.hemispheres[1].anatomical().unwrap();
        let v = mesh.vertices[vertices[3] as usize];
        (file.clone(), glam::DVec3::new(v[0] as f64, v[1] as f64, v[2] as f64))
    };
    let before = coloured_in_view(&mut harness);
    harness.state_mut().viewer_mut().set_crosshair(world);
    harness.run_steps(2);
    let viewer = harness.state().viewer();
    let right_start = match &file.maps[0] {
        cortexlens_data::cifti::IndexMap::BrainModels(b) => b.models[1].offset,
        _ => unreachable!(),
    };
    assert_eq!(viewer.cifti[1].row, Some(right_start + 3));
    let map = viewer
        .surfaces
        .maps
        .iter()
        .find(|m| m.name.starts_with("mini.dconn.nii [CORTEX_RIGHT vertex"))
        .expect("the dconn map names the row it shows");
    assert_eq!(map.revision, 1);
    let after = coloured_in_view(&mut harness);
    assert_ne!(before, after, "the surfaces are recoloured with the new row");
}

#[test]
fn a_mosaic_in_the_window_shows_its_slices_and_a_click_goes_to_one() {
    use cortexlens::viewer::{Layout, Mosaic};
    let mut harness = harness(Startup::Files(vec![repo().join("assets/mni152_t1_1mm.nii.gz")]));
    step_until(&mut harness, "the template", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    let mosaic = Mosaic::parse("axial:-20:40:20", 2).unwrap();
    harness.state_mut().viewer_mut().layout = Layout::Mosaic(mosaic);
    harness.run_steps(2);
    let area = harness.state().view_area_rect();
    // Each tile's label names its slice.
    for z in [-20, 0, 20, 40] {
        harness.get_by_label(&format!("z = {z}"));
    }
    // The bottom right tile is z = 40: a click there moves the crosshair onto that slice.
    let bottom_right = area.min + egui::vec2(area.width() * 0.75, area.height() * 0.75);
    click(&mut harness, bottom_right);
    assert_eq!(harness.state().viewer().crosshair.z, 40.0);
    let window = harness.render().expect("render the window");
    let ppp = harness.ctx.pixels_per_point();
    let at = |p: egui::Pos2| *window.get_pixel((p.x * ppp) as u32, (p.y * ppp) as u32);
    // (Beside the mouse pointer, which the picture shows.)
    assert!(
        at(bottom_right - egui::vec2(20.0, 0.0)).0[0] > 40,
        "the template is drawn in the tile"
    );
}

#[test]
fn preferred_images_appear_in_the_gallery_and_beat_their_unguided_twins() {
    use cortexlens::panels::{PreferredImagesPanel, save_gallery};
    use cortexlens_inference::synthesis::SynthesisMode;
    let tiny = repo().join("inference/tests/fixtures/synthesis_tiny");
    // The region: label 1 of the tiny encoder's region volume, shown as labels above 0.5…
    let mut harness = harness(Startup::Files(vec![tiny.join("roi.nii.gz")]));
    step_until(&mut harness, "the region volume", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    let app = harness.state_mut();
    let id = app.viewer().layers[0].id;
    app.viewer_mut().selected = Some(id);
    // … up to 1.5, so only label 1.
    let style = &mut app.viewer_mut().layers[0].style;
    (style.threshold, style.range) = (Some(0.5), (0.5, 1.5));
    let panel = app.panel_mut::<PreferredImagesPanel>().unwrap();
    panel.set_models(
        tiny.join("encoder.safetensors"),
        tiny.join("sd_turbo").display().to_string(),
        tiny.join("clip").display().to_string(),
    );
    panel.config_mut().mode = SynthesisMode::Fast;
    panel.set_run(2, 11, true);
    harness.run_steps(2);
    harness.get_by_label("fast").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Generate").click_accesskit();
    harness.run_steps(1);
    let running = |app: &CortexApp| app.panel::<PreferredImagesPanel>().unwrap().is_running();
    assert!(running(harness.state()), "Generate starts a run");
    step_until(&mut harness, "two preferred images", |app| !running(app));
    let app = harness.state();
    assert!(
        matches!(app.messages(), [cortexlens::messages::UserMessage::Info(m)] if m.ends_with("2 images")),
        "{:?}",
        app.messages()
    );
    let gallery = app.panel::<PreferredImagesPanel>().unwrap().gallery();
    assert_eq!(gallery.iter().map(|g| g.row.seed).collect::<Vec<_>>(), [11, 12]);
    for item in &gallery {
        let unguided = item.row.unguided_roi_mean.expect("the unguided twin's response");
        assert!(item.unguided.is_some());
        assert!(
            item.row.roi_mean > unguided,
            "seed {}: {} ≤ {unguided}",
            item.row.seed,
            item.row.roi_mean
        );
    }
    harness.get_by_label(&format!(
        "seed 11: {:.3} (unguided {:.3})",
        gallery[0].row.roi_mean,
        gallery[0].row.unguided_roi_mean.unwrap()
    ));
    // Saving writes the images and the table.
    let dir = std::env::temp_dir().join(format!("cortexlens-gallery-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(save_gallery(&dir, &gallery).unwrap(), 2);
    let table = std::fs::read_to_string(dir.join("images.tsv")).unwrap();
    assert!(
        table.starts_with("seed\tfile\troi_mean\tunguided_roi_mean\n11\tseed_00011.png\t"),
        "{table}"
    );
    assert!(dir.join("seed_00012_unguided.png").is_file());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn preferred_images_of_the_atlas_label_under_the_crosshair() {
    use cortexlens::panels::PreferredImagesPanel;
    use cortexlens::viewer::label_style;
    use cortexlens_inference::encoder::file::load_encoder;
    use cortexlens_inference::encoder::select::MaskRule;
    use cortexlens_inference::synthesis::{SynthesisMode, SynthesisModels, roi_mean};
    use egui::accesskit::Role;
    let tiny = repo().join("inference/tests/fixtures/synthesis_tiny");
    let mut harness = harness(Startup::Files(vec![tiny.join("roi.nii.gz")]));
    step_until(&mut harness, "the region volume", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    // The region volume drawn as an atlas, the crosshair on a voxel of label 2.
    let app = harness.state_mut();
    let layer = &mut app.viewer_mut().layers[0];
    layer.style = label_style(true);
    let (id, roi) = (layer.id, layer.volume.clone());
    let [nx, ny, nz, _] = roi.shape;
    let at = (0..nx * ny * nz)
        .map(|n| [n % nx, n / nx % ny, n / (nx * ny)].map(|i| i as i64))
        .find(|&ijk| roi.value_at(ijk, 0) == Some(2.0))
        .unwrap();
    let viewer = app.viewer_mut();
    viewer.selected = Some(id);
    viewer.crosshair = roi.voxel_to_world(glam::DVec3::new(at[0] as f64, at[1] as f64, at[2] as f64));
    let panel = app.panel_mut::<PreferredImagesPanel>().unwrap();
    panel.set_models(
        tiny.join("encoder.safetensors"),
        tiny.join("sd_turbo").display().to_string(),
        tiny.join("clip").display().to_string(),
    );
    panel.config_mut().mode = SynthesisMode::Fast;
    panel.config_mut().steps = 1;
    panel.set_run(1, 5, false);
    harness.run_steps(2);
    harness
        .get_by_role_and_label(Role::ComboBox, "Region")
        .click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("label 2 under the crosshair").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Generate").click_accesskit();
    harness.run_steps(1);
    let running = |app: &CortexApp| app.panel::<PreferredImagesPanel>().unwrap().is_running();
    step_until(&mut harness, "the image", |app| !running(app));
    let gallery = harness.state().panel::<PreferredImagesPanel>().unwrap().gallery();
    assert_eq!(gallery.len(), 1, "{:?}", harness.state().messages());
    // Its score is the encoder's mean over exactly label 2's voxels.
    let encoder = load_encoder(&tiny.join("encoder.safetensors")).unwrap();
    let models = SynthesisModels::load(
        &tiny.join("sd_turbo"),
        &tiny.join("clip"),
        &cortexlens_inference::device(),
    )
    .unwrap();
    let score = |label: f32| {
        let voxels = encoder
            .voxels_in_mask(&roi, |v| MaskRule::Label(label).keeps(v))
            .unwrap();
        roi_mean(&models, &encoder, &voxels, &gallery[0].image).unwrap()
    };
    assert!((gallery[0].row.roi_mean - score(2.0)).abs() < 1e-5);
    assert!((gallery[0].row.roi_mean - score(1.0)).abs() > 1e-4);
}

fn pointer(harness: &mut Harness<'static, CortexApp>, pos: Pos2, pressed: Option<bool>) {
    let input = harness.input_mut();
    input.events.push(Event::PointerMoved(pos));
    if let Some(pressed) = pressed {
        input.events.push(Event::PointerButton {
            pos,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
    }
    harness.step();
}

#[test]
fn a_region_drawn_in_a_slice_view_fills_undoes_and_saves() {
    use cortexlens::viewer::Layout;
    let example = repo().join("tests/data/volumes/nibabel_example4d.nii.gz");
    let mut harness = harness(Startup::Files(vec![example]));
    harness.state_mut().viewer_mut().layout = Layout::Single(Plane::Axial);
    step_until(&mut harness, "the volume", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    harness.get_by_label("New region layer").click_accesskit();
    harness.run_steps(2);
    let app = harness.state();
    assert_eq!(app.viewer().layers.len(), 2);
    let region = app.viewer().drawings.target.expect("drawing into the new layer");
    assert!(app.viewer().drawings.active(), "drawing is on");
    let crosshair = app.viewer().crosshair;

    // A drag from left to right paints one stroke into the axial slice under the crosshair.
    let area = harness.state().view_area_rect();
    let (from, to) = (
        area.center() + egui::vec2(-60.0, 20.0),
        area.center() + egui::vec2(60.0, 20.0),
    );
    pointer(&mut harness, from, Some(true));
    for step in 1..=6 {
        pointer(&mut harness, from + (to - from) * (step as f32 / 6.0), None);
    }
    pointer(&mut harness, to, Some(false));
    harness.run_steps(2);
    let app = harness.state();
    assert_eq!(app.viewer().crosshair, crosshair, "drawing leaves the crosshair");
    let volume = app.viewer().layer(region).unwrap().volume.clone();
    let [nx, ny, _, _] = volume.shape;
    let stroke: Vec<usize> = (0..volume.data.len()).filter(|&n| volume.data[n] == 1.0).collect();
    let k = volume.nearest_voxel(crosshair)[2] as usize;
    assert!(stroke.iter().all(|&n| n / (nx * ny) == k), "in the crosshair's slice");
    let geometry = app
        .viewer()
        .geometry(Plane::Axial, area.width().round() as u32, area.height().round() as u32);
    for end in [from, to] {
        let world = geometry.pixel_to_world(DVec2::new((end.x - area.min.x) as f64, (end.y - area.min.y) as f64));
        let [i, j, kk] = volume.nearest_voxel(world);
        assert_eq!(
            volume.value_at([i, j, kk], 0),
            Some(1.0),
            "painted under the pointer at {end:?}"
        );
    }
    // 120 points at the view's scale span this many voxels, each painted once, without gaps.
    let mm = 120.0 * geometry.mm_per_px;
    assert!(
        stroke.len() as f64 >= mm / 2.0 * 0.9,
        "{} voxels over {mm} mm",
        stroke.len()
    );

    // Ctrl+Z undoes the stroke, Ctrl+Shift+Z redoes it.
    let key = |harness: &mut Harness<'static, CortexApp>, shift: bool| {
        let modifiers = if shift {
            Modifiers::COMMAND | Modifiers::SHIFT
        } else {
            Modifiers::COMMAND
        };
        harness.input_mut().events.push(Event::Key {
            key: egui::Key::Z,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers,
        });
        harness.run_steps(2);
    };
    let painted = |app: &CortexApp| {
        let v = &app.viewer().layer(region).unwrap().volume;
        v.data.iter().filter(|&&x| x != 0.0).count()
    };
    key(&mut harness, false);
    assert_eq!(painted(harness.state()), 0);
    key(&mut harness, true);
    assert_eq!(painted(harness.state()), stroke.len());

    // Fill: a click above the stroke fills the rest of the voxel slice under it (the stroke does
    // not split a slice). The grid is oblique: that slice may be a neighbour of the stroke's.
    harness.get_by_label("Fill").click_accesskit();
    harness.run_steps(1);
    let spot = area.center() + egui::vec2(0.0, -40.0);
    click(&mut harness, spot);
    let world = geometry.pixel_to_world(DVec2::new((spot.x - area.min.x) as f64, (spot.y - area.min.y) as f64));
    let filled_slice = volume.nearest_voxel(world)[2] as usize;
    let expected = if filled_slice == k {
        nx * ny
    } else {
        nx * ny + stroke.len()
    };
    assert_eq!(painted(harness.state()), expected);
    harness.get_by_label("Undo").click_accesskit();
    harness.run_steps(2);
    assert_eq!(painted(harness.state()), stroke.len());

    // Saved, it reads back as the same labels on the base's grid, as uint8.
    let path = std::env::temp_dir().join(format!("cortexlens-drawn-{}.nii.gz", std::process::id()));
    harness.state().viewer().save_drawn(region, &path).unwrap();
    let Ok(cortexlens_data::Loaded::Volume(back)) = cortexlens_data::load_path(&path, &mut |_| {}) else {
        panic!("the saved region loads");
    };
    assert_eq!(back.datatype, "uint8");
    assert_eq!(back.data, harness.state().viewer().layer(region).unwrap().volume.data);
    assert_eq!(back.affine, harness.state().viewer().layers[0].volume.affine);
    std::fs::remove_file(path).ok();
}

/// `cortexlens render SESSION --out PNG`, and the picture it wrote.
fn render_session(session: &Path, png: &Path) -> image::RgbaImage {
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_cortexlens"))
        .args([
            "render".as_ref(),
            session.as_os_str(),
            "--out".as_ref(),
            png.as_os_str(),
        ])
        .status()
        .unwrap();
    assert!(status.success(), "cortexlens render {}", session.display());
    image::open(png).unwrap().to_rgba8()
}

#[test]
fn a_session_reopens_in_the_window_and_renders_the_same_on_the_command_line() {
    use cortexlens::messages::UserMessage;
    let mut window = harness(Startup::Demo);
    step_until(&mut window, "the demo scene", |app| {
        app.viewer().surfaces.maps.len() == 2 && !app.is_loading()
    });
    // Change what a user changes: the overlay's threshold and colormap, the crosshair, the
    // surfaces' geometry, the convention, a view's zoom; and draw a region.
    let viewer = window.state_mut().viewer_mut();
    viewer.layers[1].style.threshold = Some(4.5);
    viewer.layers[1].style.colormap = cortexlens_data::Colormap::Hot;
    viewer.set_crosshair(glam::DVec3::new(-38.0, -22.0, 56.0));
    viewer.surfaces.geometry = cortexlens_data::mesh::GeometryKind::Inflated;
    viewer.radiological = true;
    viewer.camera_mut(Plane::Axial).zoom = 1.6;
    let base = viewer.layers[0].id;
    let region = viewer.new_drawn_layer(base).unwrap();
    viewer.drawings.settings.ball = true;
    viewer.drawings.settings.size = 9;
    viewer.drawings.settings.label = 3;
    viewer.draw_at(glam::DVec3::new(-38.0, -22.0, 56.0), Plane::Axial);
    viewer.end_stroke();
    viewer.drawings.settings.enabled = false;
    viewer.selected = Some(region);
    window.run_steps(3);

    let dir = std::env::temp_dir().join(format!("cortexlens-session-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let session = dir.join("figure.json");
    window.state_mut().save_session(&session);
    assert!(
        dir.join("figure_region1.nii.gz").is_file(),
        "the drawn region is saved beside it"
    );
    let text = std::fs::read_to_string(&session).unwrap();
    assert!(text.contains("\"format\": \"cortexlens-session\""), "{text}");
    let mut settings = cortexlens::ui::ScreenshotSettings::default();
    settings.options.colorbar = false;
    let window_png = dir.join("window.png");
    window.state().save_screenshot(&window_png, &settings).unwrap();
    let saved = snapshot_of(window.state().viewer());

    // The command line draws the same picture from the session.
    let (window, cli) = (
        image::open(&window_png).unwrap().to_rgba8(),
        render_session(&session, &dir.join("cli.png")),
    );
    assert_eq!(window.dimensions(), cli.dimensions());
    let differing = window.pixels().zip(cli.pixels()).filter(|(a, b)| a != b).count();
    assert_eq!(
        differing, 0,
        "pixels differ between the window's screenshot and the CLI's render"
    );

    // Opened in a new window, the session shows the same state.
    let mut reopened = harness(Startup::Files(vec![session.clone()]));
    step_until(&mut reopened, "the session", |app| {
        !app.is_opening_session() && !app.is_loading()
    });
    let app = reopened.state();
    assert_eq!(snapshot_of(app.viewer()), saved);
    assert!(
        matches!(app.messages(), [UserMessage::Info(m)] if m.starts_with("Opened the session")),
        "{:?}",
        app.messages()
    );
    let drawn = app.viewer().drawings.target.expect("the region is drawn into again");
    assert_eq!(app.viewer().layer(drawn).unwrap().name(), "region 1");

    // Moved files are named; what does not need them is restored, and a session that is not
    // one leaves the window as it was.
    let elsewhere = dir.join("moved");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::copy(&session, elsewhere.join("figure.json")).unwrap();
    std::fs::copy(
        dir.join("figure_region1.nii.gz"),
        elsewhere.join("figure_region1.nii.gz"),
    )
    .unwrap();
    reopened.state_mut().clear_messages();
    reopened.state_mut().open(&elsewhere.join("figure.json"));
    step_until(&mut reopened, "the moved session", |app| {
        !app.is_opening_session() && !app.is_loading()
    });
    let app = reopened.state();
    let missing: Vec<&str> = app
        .messages()
        .iter()
        .filter_map(|m| match m {
            UserMessage::Error(e) if e.contains("is missing") => Some(e.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(missing.len(), 8, "the 8 demo files: {:?}", app.messages());
    assert!(missing[0].contains("mni152_t1_1mm.nii.gz"), "{missing:?}");
    assert_eq!(app.viewer().layers.len(), 1, "the drawn region alone is restored");
    let not_a_session = dir.join("other.json");
    std::fs::write(&not_a_session, "{\"format\": \"something else\"}").unwrap();
    reopened.state_mut().clear_messages();
    reopened.state_mut().open(&not_a_session);
    reopened.run_steps(2);
    let app = reopened.state();
    assert_eq!(app.viewer().layers.len(), 1, "nothing was lost");
    assert!(
        matches!(app.messages(), [UserMessage::Error(m)] if m.contains("is not a cortexlens session")),
        "{:?}",
        app.messages()
    );
    std::fs::remove_dir_all(dir).ok();
}

/// What a session restores, comparably.
fn snapshot_of(viewer: &cortexlens::viewer::Viewer) -> String {
    let layers: Vec<String> = viewer
        .layers
        .iter()
        .map(|l| {
            let sum: f64 = l.volume.data.iter().map(|&v| f64::from(v)).sum();
            format!("{} {:?} frame {} sum {sum}", l.name(), l.style, l.frame)
        })
        .collect();
    let maps: Vec<String> = viewer
        .surfaces
        .maps
        .iter()
        .map(|m| format!("{} {:?} {}", m.name, m.style, m.frame))
        .collect();
    let selected = viewer
        .selected
        .and_then(|id| viewer.layer(id))
        .map(|l| l.name().to_owned());
    format!(
        "{layers:#?}\n{maps:#?}\nselected {selected:?}\ncrosshair {:?}\nlayout {:?} radiological {}\ncameras {:?}\n{:?} {:?} {:?}\n{:?}",
        viewer.crosshair,
        viewer.layout,
        viewer.radiological,
        viewer.cameras,
        viewer.surfaces.geometry,
        viewer.surfaces.shading,
        viewer.surfaces.camera,
        viewer.volume3d.settings,
    )
}

#[test]
fn atlases_name_the_regions_under_the_crosshair_and_the_search_goes_to_them() {
    let atlases = repo().join("tests/data/generated/atlases");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/data/generated/atlases.json")).unwrap())
            .unwrap();
    let mm = |v: &serde_json::Value| {
        let v: Vec<f64> = v.as_array().unwrap().iter().map(|c| c.as_f64().unwrap()).collect();
        glam::DVec3::new(v[0], v[1], v[2])
    };
    // A 4D probabilistic volume with a name per frame (its BIDS table), then two FSL atlases.
    let files = ["blobs_fractions.nii.gz", "Blobs.xml", "Lobes.xml"].map(|f| atlases.join(f));
    let mut harness = harness(Startup::Files(files.to_vec()));
    step_until(&mut harness, "the atlases", |app| {
        app.viewer().layers.len() == 3 && !app.is_loading()
    });
    let app = harness.state();
    assert_eq!(app.viewer().atlases().count(), 3);
    let shown: Vec<bool> = app.viewer().layers.iter().map(|l| l.style.visible).collect();
    assert_eq!(
        shown,
        [true, false, false],
        "atlases over a layer are looked up, not drawn"
    );
    assert!(
        app.messages()
            .iter()
            .all(|m| matches!(m, cortexlens::messages::UserMessage::Info(_))),
        "{:?}",
        app.messages()
    );

    // The readout lists each atlas's regions with their probabilities, as numpy has them.
    let point = &reference["blobs"]["points"][4];
    let lobe = &reference["lobes"]["points"][4];
    assert_eq!(point["mm"], lobe["mm"]);
    harness.state_mut().viewer_mut().set_crosshair(mm(&point["mm"]));
    harness.run_steps(2);
    let text = point["text"].as_str().unwrap();
    assert!(text.contains(", "), "several regions there: {text}");
    harness.get_by_label(&format!("{}  {text}", point["summary_value"]));
    harness.get_by_label(&format!("{}  {}", lobe["value"], lobe["name"].as_str().unwrap()));
    let top = text.split(", ").next().unwrap();
    assert_eq!(
        harness.state().viewer().label_at(mm(&point["mm"])).as_deref(),
        Some("Frontal Lobe")
    );
    harness.state_mut().viewer_mut().layers.pop();
    assert_eq!(
        harness.state().viewer().label_at(mm(&point["mm"])).as_deref(),
        Some(top)
    );
    drop_file(&mut harness, atlases.join("Lobes.xml"));
    step_until(&mut harness, "Lobes dropped again", |app| {
        app.viewer().layers.len() == 3 && !app.is_loading()
    });

    // The search lists matching regions of every atlas (top first); a click goes to the centre.
    let search = harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "Search regions");
    search.focus();
    harness.run_steps(1);
    harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Search regions")
        .type_text("occipital");
    harness.run_steps(2);
    let caps: Vec<_> = harness.get_all_by_label("Occipital Cap").collect();
    assert_eq!(caps.len(), 2, "in Blobs.xml and in the 4D volume");
    caps[0].click_accesskit();
    harness.run_steps(2);
    let want = mm(&reference["blobs"]["centres"][2]["mm"]);
    let got = harness.state().viewer().crosshair;
    assert!(
        (got - want).length() < 1e-6,
        "Blobs' Occipital Cap: {got}, numpy {want}"
    );
    harness.get_by_label("Occipital Lobe").click_accesskit();
    harness.run_steps(2);
    let want = mm(&reference["lobes"]["centres"][2]["mm"]);
    assert!(
        (harness.state().viewer().crosshair - want).length() < 1e-9,
        "its reference point"
    );
    harness.get_by_label(&format!("9  {}", "Occipital Lobe"));
}

/// A head scan as a splat scene in its own coordinates: a green scalp (an ellipsoid around the
/// MNI brain) with red markers at the nasion and the preauricular points. Returns the scene's
/// file, its true scene → world transform, and the markers' world positions and outward normals.
fn head_scan(dir: &Path) -> (PathBuf, glam::DMat4, Vec<(glam::DVec3, glam::DVec3)>) {
    use glam::{DMat4, DQuat, DVec3};
    let (centre, axes) = (DVec3::new(0.0, -15.0, 5.0), DVec3::new(80.0, 102.0, 95.0));
    // The scanner's frame: rotated, shifted and in slightly different units than the brain's.
    let truth = DMat4::from_scale_rotation_translation(
        DVec3::splat(1.05),
        DQuat::from_axis_angle(DVec3::new(0.3, 1.0, 0.2).normalize(), 70f64.to_radians()),
        DVec3::new(12.0, -30.0, 25.0),
    );
    let to_scene = truth.inverse();
    let on_scalp = |u: DVec3| centre + u / (u / axes).length();
    let count = 1500;
    let mut world: Vec<DVec3> = (0..count)
        .map(|i| {
            // Fibonacci sphere.
            let z = 1.0 - 2.0 * (i as f64 + 0.5) / count as f64;
            let phi = i as f64 * std::f64::consts::PI * (3.0 - 5f64.sqrt());
            let r = (1.0 - z * z).sqrt();
            on_scalp(DVec3::new(r * phi.cos(), r * phi.sin(), z))
        })
        .collect();
    let mut colours = vec![[0.2, 0.75, 0.3]; count];
    let markers: Vec<(DVec3, DVec3)> = [
        DVec3::new(0.0, 1.0, -0.35),
        DVec3::new(-1.0, -0.1, -0.4),
        DVec3::new(1.0, -0.1, -0.4),
    ]
    .into_iter()
    .map(|direction| {
        let scalp = on_scalp(direction);
        let normal = ((scalp - centre) / (axes * axes)).normalize();
        (scalp + normal * 12.0, normal)
    })
    .collect();
    for (marker, _) in &markers {
        world.push(*marker);
        colours.push([0.95, 0.1, 0.1]);
    }
    let n = world.len();
    let scan = cortexlens_data::splats::Splats {
        name: "head.ply".into(),
        positions: world
            .iter()
            .map(|&w| to_scene.transform_point3(w).as_vec3().to_array())
            .collect(),
        scales: vec![[5.0 / 1.05; 3]; n],
        rotations: vec![[1.0, 0.0, 0.0, 0.0]; n],
        opacities: vec![0.95; n],
        sh_degree: 0,
        // colour = 0.5 + C0 · DC.
        sh: colours
            .iter()
            .map(|c: &[f32; 3]| c.map(|v| (v - 0.5) / cortexlens_data::splats::SH_C0))
            .collect(),
    };
    let path = dir.join("head.ply");
    cortexlens_data::formats::save_splats_ply(&path, &scan).unwrap();
    (path, truth, markers)
}

/// Point the 3D view's camera at `target` from `distance` mm along `outward`.
fn look_at(viewer: &mut cortexlens::viewer::Viewer, target: glam::DVec3, outward: glam::DVec3, distance: f32) {
    let camera = &mut viewer.volume3d.camera;
    let outward = outward.normalize().as_vec3();
    camera.target = target.as_vec3();
    camera.yaw = outward.y.atan2(outward.x);
    camera.pitch = outward.z.asin();
    camera.distance = distance;
    viewer.volume3d.camera_placed = true;
}

#[test]
fn a_head_scan_registered_by_three_point_pairs_shows_with_the_t1() {
    use cortexlens_data::camera::{CameraPreset, OrbitCamera};
    use cortexlens_data::splats::placement::{read_transform, sidecar_path};
    let dir = std::env::temp_dir().join(format!("cortexlens-head-scan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (scene_path, truth, markers) = head_scan(&dir);
    let t1 = repo().join("assets/mni152_t1_1mm.nii.gz");
    let mut harness = harness(Startup::Files(vec![t1]));
    step_until(&mut harness, "the T1", |app| {
        app.viewer().layers.len() == 1 && !app.is_loading()
    });
    drop_file(&mut harness, scene_path.clone());
    step_until(&mut harness, "the head scan", |app| {
        app.viewer().volume3d.splats.len() == 1 && !app.is_loading()
    });
    assert_eq!(harness.state().viewer().layout, cortexlens::viewer::Layout::Volume3d);
    harness.get_by_label_contains("head.ply (1503 splats, SH 0)");
    harness.get_by_label("Register by point pairs").click_accesskit();
    harness.run_steps(2);

    // Each marker: pick it on the scan (a click in the 3D view while picking), put the
    // crosshair where it belongs on the T1, pair them. (The side panel widens as pairs are
    // listed, so the view's rectangle is read before each click.)
    for (i, &(world, normal)) in markers.iter().enumerate() {
        let shown = harness.state().viewer().volume3d.splats[0].transform;
        // Where the marker is shown now, and which way is outward there.
        let scene_point = truth.inverse().transform_point3(world);
        let to_shown = shown * truth.inverse();
        let shown_normal = glam::DMat3::from_mat4(to_shown) * normal;
        look_at(
            harness.state_mut().viewer_mut(),
            shown.transform_point3(scene_point),
            shown_normal,
            300.0,
        );
        harness.get_by_label("Pick scene point").click_accesskit();
        harness.run_steps(2);
        let view = harness.state().view_area_rect();
        click(&mut harness, view.center());
        let registration = &harness.state().viewer().volume3d.splats[0].registration;
        let picked = registration.pending.expect("the click picked a splat");
        assert!(
            (picked - scene_point).length() < 1e-3,
            "marker {i}: picked {picked} instead of {scene_point}"
        );
        assert!(!registration.picking);
        harness.state_mut().viewer_mut().set_crosshair(world);
        harness.run_steps(1);
        harness.get_by_label("Pair with crosshair").click_accesskit();
        harness.run_steps(2);
        assert_eq!(
            harness.state().viewer().volume3d.splats[0].registration.pairs.len(),
            i + 1
        );
    }
    harness.get_by_label("Fit placement").click_accesskit();
    harness.run_steps(2);
    let fitted = harness.state().viewer().volume3d.splats[0].transform;
    for (got, want) in fitted.to_cols_array().iter().zip(truth.to_cols_array()) {
        assert!((got - want).abs() < 1e-3, "fitted {fitted} vs true {truth}");
    }
    harness.get_by_label_contains("RMS residual 0.00 mm");

    // Placed, a click on a marker moves the crosshair to it.
    let (nasion, outward) = markers[0];
    harness.state_mut().viewer_mut().set_crosshair(glam::DVec3::ZERO);
    look_at(harness.state_mut().viewer_mut(), nasion, outward, 300.0);
    harness.run_steps(2);
    let view = harness.state().view_area_rect();
    click(&mut harness, view.center());
    assert!((harness.state().viewer().crosshair - nasion).length() < 1e-3);

    // Saved beside the scan, the placement is read when it opens again, by the window and the CLI.
    harness.get_by_label("Save placement").click_accesskit();
    harness.run_steps(2);
    let sidecar = sidecar_path(&scene_path);
    let saved = read_transform(&sidecar).unwrap();
    assert!(saved.abs_diff_eq(fitted, 1e-9), "{saved} vs {fitted}");

    // A session keeps the placement and how the scan is drawn (opened without its sidecar).
    harness.state_mut().viewer_mut().volume3d.splats[0].opacity = 0.6;
    let session = dir.join("scan.json");
    harness.state_mut().save_session(&session);
    std::fs::remove_file(&sidecar).unwrap();
    let mut reopened = self::harness(Startup::Files(vec![session]));
    step_until(&mut reopened, "the session", |app| {
        !app.is_opening_session() && !app.is_loading() && app.viewer().volume3d.splats.len() == 1
    });
    let scan = &reopened.state().viewer().volume3d.splats[0];
    assert!(scan.transform.abs_diff_eq(fitted, 1e-9) && scan.opacity == 0.6);
    assert_eq!(reopened.state().viewer().layers.len(), 1, "the T1 came back too");
    drop(reopened);
    harness.state_mut().viewer_mut().volume3d.splats[0].opacity = 1.0;
    harness.get_by_label("Save placement").click_accesskit();
    harness.run_steps(2);

    // With the right half cut away (a clip plane through the crosshair), the screenshot shows
    // the brain's cut face inside the scalp: the brain hides the scalp's far half behind it.
    let viewer = harness.state_mut().viewer_mut();
    viewer.set_crosshair(glam::DVec3::new(0.0, -18.0, 10.0));
    viewer.volume3d.clips.x = true;
    let box_around = ([-90.0, -125.0, -95.0], [90.0, 95.0, 105.0]);
    viewer.volume3d.camera = OrbitCamera::preset(CameraPreset::LateralRight, box_around);
    harness.run_steps(3);
    let png = dir.join("window.png");
    let mut settings = cortexlens::ui::ScreenshotSettings::default();
    settings.options.colorbar = false;
    harness.state().save_screenshot(&png, &settings).unwrap();
    let picture = image::open(&png).unwrap().to_rgba8();
    let green = picture
        .pixels()
        .filter(|p| p[1] > 120 && p[1] as i32 > p[0] as i32 + 50)
        .count();
    let grey = picture
        .pixels()
        .filter(|p| p[0] > 60 && p[0].abs_diff(p[1]) < 12 && p[1].abs_diff(p[2]) < 12)
        .count();
    let all = picture.width() as usize * picture.height() as usize;
    assert!(
        green > all / 50 && grey > all / 20,
        "scalp and brain both show: {green} green and {grey} grey of {all} pixels"
    );

    // The command line places the scan by its sidecar, or by --transform: the same picture.
    let render = |scene: &Path, transform: Option<&Path>, out: &Path| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "render".as_ref(),
            scene.as_os_str(),
            "--view".as_ref(),
            "3d".as_ref(),
            "--camera".as_ref(),
            "lateral-left".as_ref(),
            "--size".as_ref(),
            "160x120".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ];
        if let Some(transform) = transform {
            args.extend(["--transform".as_ref(), transform.as_os_str()]);
        }
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_cortexlens"))
            .args(args)
            .status()
            .unwrap();
        assert!(status.success());
        image::open(out).unwrap().to_rgba8()
    };
    let elsewhere = dir.join("copy");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let copy = elsewhere.join("head.ply");
    std::fs::copy(&scene_path, &copy).unwrap();
    let by_sidecar = render(&scene_path, None, &dir.join("sidecar.png"));
    let by_flag = render(&copy, Some(&sidecar), &dir.join("flag.png"));
    let unplaced = render(&copy, None, &dir.join("unplaced.png"));
    assert!(by_sidecar == by_flag, "--transform places the scan as its sidecar does");
    assert!(by_sidecar != unplaced, "the placement changes the picture");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn pial_surfaces_show_in_the_3d_view_with_the_t1_and_a_session_keeps_them() {
    use cortexlens_render::RenderMode;
    let dir = std::env::temp_dir().join(format!("cortexlens-surfaces-3d-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = vec![
        repo().join("assets/mni152_t1_1mm.nii.gz"),
        repo().join("assets/fsaverage5_pial_left.gii.gz"),
        repo().join("assets/fsaverage5_infl_left.gii.gz"),
    ];
    let mut harness = harness(Startup::Files(files));
    step_until(&mut harness, "the T1 and the surfaces", |app| {
        let surfaces = &app.viewer().surfaces.hemispheres;
        app.viewer().layers.len() == 1 && surfaces.first().is_some_and(|h| h.meshes.len() == 2) && !app.is_loading()
    });
    harness.state_mut().viewer_mut().surfaces.geometry = cortexlens_data::mesh::GeometryKind::Pial;
    let viewer = harness.state_mut().viewer_mut();
    viewer.layout = cortexlens::viewer::Layout::Volume3d;
    // MIP: without the surface the brightest voxel along each ray shows a smooth blob; with it,
    // each ray ends at the cortex, so the folds show.
    viewer.volume3d.settings.mode = RenderMode::Mip;
    harness.run_steps(3);
    let mut settings = cortexlens::ui::ScreenshotSettings::default();
    settings.options.colorbar = false;
    let picture = |harness: &mut Harness<'static, CortexApp>, name: &str| {
        harness.run_steps(2);
        let png = dir.join(name);
        harness.state().save_screenshot(&png, &settings).unwrap();
        image::open(&png).unwrap().to_rgba8()
    };
    let with = picture(&mut harness, "with.png");
    harness.get_by_label("Surfaces in the 3D view").click_accesskit();
    let without = picture(&mut harness, "without.png");
    assert!(!harness.state().viewer().volume3d.surfaces);
    let differing = with.pixels().zip(without.pixels()).filter(|(a, b)| a != b).count();
    let all = with.width() as usize * with.height() as usize;
    assert!(
        differing > all / 20,
        "the surface changes the 3D picture: {differing} of {all} pixels differ"
    );
    // Inflated surfaces are not where the brain is: the 3D view leaves them out.
    harness.get_by_label("Surfaces in the 3D view").click_accesskit();
    harness.run_steps(2);
    assert!(harness.state().viewer().volume3d.surfaces);
    harness.state_mut().viewer_mut().surfaces.geometry = cortexlens_data::mesh::GeometryKind::Inflated;
    let inflated = picture(&mut harness, "inflated.png");
    assert!(inflated == without, "an inflated surface is not drawn in the 3D view");
    harness.state_mut().viewer_mut().surfaces.geometry = cortexlens_data::mesh::GeometryKind::Pial;
    assert!(picture(&mut harness, "again.png") == with);

    // A session keeps the choice, and the command line draws the same picture from it.
    let session = dir.join("surfaces3d.json");
    harness.state_mut().save_session(&session);
    let cli = render_session(&session, &dir.join("cli.png"));
    assert_eq!(cli.dimensions(), with.dimensions());
    let differing = cli.pixels().zip(with.pixels()).filter(|(a, b)| a != b).count();
    assert_eq!(differing, 0, "the command line draws the window's picture");
    std::fs::remove_dir_all(&dir).ok();
}

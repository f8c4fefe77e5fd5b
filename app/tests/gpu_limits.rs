//! GPU trouble is a message, not a crash: on a device created with small limits, a volume larger
//! than its textures is drawn downsampled, a mesh larger than its buffers is refused with a
//! message while the rest is drawn, a picture larger than its targets is an error, a validation
//! error no scope caught is recorded, and a lost device is noticed.

use std::path::{Path, PathBuf};

use cortexlens::gpu_scene::health::GpuHealth;
use cortexlens::gpu_scene::picture::{PictureOptions, render_picture};
use cortexlens::gpu_scene::{GpuScene, SyncNotice};
use cortexlens::viewer::{Layer, Layout, Viewer, default_style};
use cortexlens_data::mesh::{GeometryKind, Hemisphere, Mesh};
use cortexlens_data::{Loaded, Plane, load_path};
use cortexlens_render::{GpuContext, RenderError, SLICE_FORMAT};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A flat grid of `n × n` vertices, 1 mm apart, around the origin.
fn grid_mesh(n: u32) -> Mesh {
    let vertices = (0..n * n)
        .map(|v| [(v % n) as f32 * 0.1 - 50.0, (v / n) as f32 * 0.1 - 50.0, 0.0])
        .collect();
    let triangles = (0..(n - 1) * (n - 1))
        .map(|q| {
            let (i, j) = (q % (n - 1), q / (n - 1));
            [i + j * n, i + 1 + j * n, i + (j + 1) * n]
        })
        .collect();
    Mesh { vertices, triangles }
}

#[test]
fn small_device_limits_are_messages_and_the_rest_is_drawn() {
    if std::env::var_os("WGPU_BACKEND").is_none() {
        // SAFETY: set before any thread of this test process reads the environment.
        unsafe { std::env::set_var("WGPU_BACKEND", "vulkan") };
    }
    let limits = wgpu::Limits {
        max_texture_dimension_2d: 512,
        max_texture_dimension_3d: 64,
        max_buffer_size: 4 << 20,
        max_storage_buffer_binding_size: 4 << 20,
        ..wgpu::Limits::downlevel_defaults()
    };
    let gpu = GpuContext::headless_with_limits(limits).expect("a device with small limits");
    let health = GpuHealth::watch(&gpu.device);

    let mut viewer = Viewer::default();
    let Loaded::Volume(mni) = load_path(&repo().join("assets/mni152_t1_1mm.nii.gz"), &mut |_| {}).unwrap() else {
        panic!("a volume");
    };
    let id = viewer.new_layer_id();
    let style = default_style(&mni, true);
    viewer.push_layer(Layer::new(id, mni, style));
    // 600² vertices: 4.3 MB of positions, over the 4 MiB buffers; and a small mesh beside it.
    viewer
        .surfaces
        .add_mesh(
            Some(Hemisphere::Left),
            GeometryKind::Pial,
            "huge.gii".into(),
            grid_mesh(600),
        )
        .unwrap();
    viewer
        .surfaces
        .add_mesh(
            Some(Hemisphere::Right),
            GeometryKind::Pial,
            "small.gii".into(),
            grid_mesh(30),
        )
        .unwrap();
    viewer.layout = Layout::Ortho;

    let mut scene = GpuScene::new(&gpu.device, SLICE_FORMAT);
    let notices = scene.sync(&gpu.device, &gpu.queue, &viewer);
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, SyncNotice::Downsampled { layer, .. } if *layer == id)),
        "the volume is downsampled to 64 voxels a side"
    );
    let refused: Vec<&String> = notices
        .iter()
        .filter_map(|n| match n {
            SyncNotice::MeshRefused { error } => Some(error),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 1, "{notices:?}");
    assert!(
        refused[0].contains("huge.gii") && refused[0].contains("this GPU allows 4194304"),
        "{}",
        refused[0]
    );
    // Refused once, not again every frame.
    assert!(scene.sync(&gpu.device, &gpu.queue, &viewer).is_empty());

    // The rest is drawn: slices of the downsampled volume and the small mesh.
    let picture = render_picture(
        &mut scene,
        &gpu.device,
        &gpu.queue,
        &viewer,
        (480, 480),
        PictureOptions::default(),
    )
    .expect("a picture within the limits");
    let lit = picture.pixels().filter(|p| p.0[..3].iter().any(|&c| c > 40)).count();
    assert!(lit > 10_000, "{lit} lit pixels");
    // A picture over the device's 2D limit is an error, not a crash.
    viewer.layout = Layout::Single(Plane::Axial);
    let error = render_picture(
        &mut scene,
        &gpu.device,
        &gpu.queue,
        &viewer,
        (1024, 600),
        PictureOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(error, RenderError::TooLarge { limit: 512, .. }), "{error}");
    assert!(health.take_errors().is_empty(), "nothing reached wgpu's error handler");

    // An error no scope caught is recorded instead of aborting, and drawing goes on.
    let _ = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("too large on purpose"),
        size: 64 << 20,
        usage: wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let errors = health.take_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    render_picture(
        &mut scene,
        &gpu.device,
        &gpu.queue,
        &viewer,
        (256, 256),
        PictureOptions::default(),
    )
    .expect("still drawing");

    // A lost device is noticed.
    assert!(health.lost().is_none());
    gpu.device.destroy();
    let _ = gpu.device.poll(wgpu::PollType::wait_indefinitely());
    assert!(health.lost().is_some(), "the loss was reported");
}

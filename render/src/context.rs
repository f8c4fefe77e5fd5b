//! Headless GPU setup: instance, adapter policy and device, in one place.

use crate::error::RenderError;

/// What the renderer needs from a device: no optional features, and downlevel limits.
///
/// Volumes are `R32Float` 3D textures read with `textureLoad` and filtered by hand in the
/// shader, so `FLOAT32_FILTERABLE` is not needed; colour tables travel in uniform buffers.
/// A device with a smaller `max_texture_dimension_3d` still works: volumes over it are
/// downsampled on upload (see [`crate::VolumeTexture::upload`]).
pub fn device_requirements() -> (wgpu::Features, wgpu::Limits) {
    let limits = wgpu::Limits {
        // The splat projection reads 3 and writes 4 storage buffers.
        max_storage_buffers_per_shader_stage: 8,
        ..wgpu::Limits::downlevel_defaults()
    };
    (wgpu::Features::empty(), limits)
}

/// The limits to ask `adapter` for: [`device_requirements`] raised to the adapter's texture sizes
/// (large volumes need no downsampling) and buffer sizes (large splat scenes keep their SH
/// degree). Used by the window and by [`GpuContext::headless`].
pub fn device_limits(adapter: &wgpu::Limits) -> wgpu::Limits {
    let (_, required) = device_requirements();
    wgpu::Limits {
        max_buffer_size: adapter.max_buffer_size,
        max_storage_buffer_binding_size: adapter.max_storage_buffer_binding_size,
        ..required.using_resolution(adapter.clone())
    }
}

/// A device and queue of its own, for the CLI, screenshots and tests (the app uses eframe's).
pub struct GpuContext {
    /// The adapter the device came from.
    pub adapter: wgpu::Adapter,
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
}

impl GpuContext {
    /// Create a device without any window.
    ///
    /// Backends come from `WGPU_BACKEND` (e.g. `vulkan`), else all. When the environment
    /// variable `CI` is set, only a Vulkan adapter of [`wgpu::DeviceType::Cpu`] (lavapipe) is
    /// accepted, so that a missing software driver fails loudly instead of silently picking
    /// another rasterizer. The chosen adapter is logged with `tracing`.
    pub fn headless() -> Result<GpuContext, RenderError> {
        pollster::block_on(Self::headless_async(None))
    }

    /// [`GpuContext::headless`] with these limits instead of the adapter's (tests of what happens
    /// on a smaller device).
    pub fn headless_with_limits(limits: wgpu::Limits) -> Result<GpuContext, RenderError> {
        pollster::block_on(Self::headless_async(Some(limits)))
    }

    async fn headless_async(limits: Option<wgpu::Limits>) -> Result<GpuContext, RenderError> {
        let backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all());
        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        descriptor.backends = backends;
        let instance = wgpu::Instance::new(descriptor);

        let adapter = if std::env::var_os("CI").is_some() {
            let adapters = instance.enumerate_adapters(backends).await;
            let found: Vec<String> = adapters.iter().map(|a| describe(&a.get_info())).collect();
            adapters
                .into_iter()
                .find(|a| {
                    let info = a.get_info();
                    info.backend == wgpu::Backend::Vulkan && info.device_type == wgpu::DeviceType::Cpu
                })
                .ok_or_else(|| {
                    RenderError::NoAdapter(format!(
                        "CI is set, so a Vulkan CPU adapter (lavapipe, package mesa-vulkan-drivers) is required; found [{}]",
                        found.join("; ")
                    ))
                })?
        } else {
            let options = wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::from_env().unwrap_or(wgpu::PowerPreference::HighPerformance),
                force_fallback_adapter: false,
                compatible_surface: None,
                apply_limit_buckets: false,
            };
            instance
                .request_adapter(&options)
                .await
                .map_err(|e| RenderError::NoAdapter(format!("{e} (backends {backends:?})")))?
        };

        let info = adapter.get_info();
        tracing::info!("GPU adapter: {}", describe(&info));
        if info.backend == wgpu::Backend::Gl && info.device_type == wgpu::DeviceType::Cpu {
            tracing::warn!("GL on a software rasterizer is known to be fragile; prefer WGPU_BACKEND=vulkan (lavapipe)");
        }

        let (features, _) = device_requirements();
        let limits = limits.unwrap_or_else(|| device_limits(&adapter.limits()));
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("cortexlens headless"),
                required_features: features,
                required_limits: limits,
                ..Default::default()
            })
            .await?;
        Ok(GpuContext { adapter, device, queue })
    }
}

fn describe(info: &wgpu::AdapterInfo) -> String {
    format!(
        "{} ({:?}, {:?}, driver {} {})",
        info.name, info.backend, info.device_type, info.driver, info.driver_info
    )
}

//! Offscreen colour targets of slice views, and reading them back to the CPU.

use std::sync::mpsc;
use std::time::Duration;

use crate::error::RenderError;

/// Format of every [`SliceTarget`]: straight 8-bit RGBA, not sRGB-encoded.
pub const SLICE_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// How long a readback waits for the GPU (lavapipe on two cores can be slow).
const READBACK_TIMEOUT: Duration = Duration::from_secs(60);

/// An offscreen `Rgba8Unorm` colour target (render attachment, texture binding, copy source).
pub struct SliceTarget {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    size: (u32, u32),
}

impl SliceTarget {
    /// A `width × height` target, each side clamped to `1..=max_texture_dimension_2d`.
    pub fn new(device: &wgpu::Device, width: u32, height: u32) -> SliceTarget {
        let max = device.limits().max_texture_dimension_2d;
        let size = (width.clamp(1, max), height.clamp(1, max));
        if size != (width, height) {
            tracing::warn!("slice target {width}×{height} clamped to {}×{}", size.0, size.1);
        }
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("slice target"),
            size: wgpu::Extent3d {
                width: size.0,
                height: size.1,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: SLICE_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        SliceTarget { texture, view, size }
    }

    /// `(width, height)` in pixels.
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// The texture (for copies).
    pub fn texture(&self) -> &wgpu::Texture {
        &self.texture
    }

    /// The view rendered into and sampled by the [`crate::Compositor`].
    pub fn view(&self) -> &wgpu::TextureView {
        &self.view
    }

    /// Copy the picture to the CPU: tightly packed RGBA8, row-major, top row first.
    ///
    /// Submits a copy and blocks until it is done, so everything submitted before is included.
    ///
    /// # Panics
    /// When the GPU cannot be waited for (device lost, or no answer within a minute); use
    /// [`SliceTarget::try_read_rgba`] to handle that.
    pub fn read_rgba(&self, device: &wgpu::Device, queue: &wgpu::Queue) -> Vec<u8> {
        self.try_read_rgba(device, queue)
            .unwrap_or_else(|e| panic!("slice target readback: {e}"))
    }

    /// [`SliceTarget::read_rgba`], reporting failures instead of panicking.
    pub fn try_read_rgba(&self, device: &wgpu::Device, queue: &wgpu::Queue) -> Result<Vec<u8>, RenderError> {
        read_texture(device, queue, &self.texture)
    }
}

/// Copy a 2D texture of 4 bytes per pixel (mip 0, layer 0) to the CPU: tightly packed rows,
/// top row first. Submits a copy and blocks until it is done.
pub fn read_texture(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    texture: &wgpu::Texture,
) -> Result<Vec<u8>, RenderError> {
    let (width, height) = (texture.width(), texture.height());
    if texture.format().block_copy_size(None) != Some(4) {
        return Err(RenderError::Readback(format!(
            "{:?} is not 4 bytes per pixel",
            texture.format()
        )));
    }
    let row = width as usize * 4;
    let padded_row = row.next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT as usize);
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: (padded_row * height as usize) as u64,
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("readback"),
    });
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded_row as u32),
                rows_per_image: Some(height),
            },
        },
        wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
    );
    let submission = queue.submit([encoder.finish()]);
    let (sender, receiver) = mpsc::channel();
    buffer.map_async(wgpu::MapMode::Read, .., move |result| {
        // The receiver outlives the poll below, so sending cannot fail.
        let _ = sender.send(result);
    });
    device.poll(wgpu::PollType::Wait {
        submission_index: Some(submission),
        timeout: Some(READBACK_TIMEOUT),
    })?;
    receiver
        .recv_timeout(READBACK_TIMEOUT)
        .map_err(|e| RenderError::Readback(format!("map callback did not run: {e}")))?
        .map_err(|e| RenderError::Readback(e.to_string()))?;
    let mut pixels = Vec::with_capacity(row * height as usize);
    {
        let mapped = buffer
            .get_mapped_range(..)
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        for line in mapped.chunks_exact(padded_row) {
            pixels.extend_from_slice(&line[..row]);
        }
    }
    buffer.unmap();
    Ok(pixels)
}

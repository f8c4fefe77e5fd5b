//! Copying GPU buffers and textures back to the CPU.

use std::sync::mpsc;
use std::time::Duration;

use crate::error::RenderError;

/// How long a readback waits for the GPU (lavapipe on two cores can be slow).
const READBACK_TIMEOUT: Duration = Duration::from_secs(120);

/// Copy a whole buffer (usage `COPY_SRC`) to the CPU. Submits the copy and blocks until it is
/// done, so everything submitted before is included.
pub fn read_buffer(device: &wgpu::Device, queue: &wgpu::Queue, buffer: &wgpu::Buffer) -> Result<Vec<u8>, RenderError> {
    let size = buffer.size();
    let staging = staging_buffer(device, size);
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("buffer readback"),
    });
    encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
    read_staging(device, queue, encoder, &staging, |bytes| bytes.to_vec())
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
    let staging = staging_buffer(device, (padded_row * height as usize) as u64);
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("texture readback"),
    });
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &staging,
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
    read_staging(device, queue, encoder, &staging, |bytes| {
        let mut pixels = Vec::with_capacity(row * height as usize);
        for line in bytes.chunks_exact(padded_row) {
            pixels.extend_from_slice(&line[..row]);
        }
        pixels
    })
}

fn staging_buffer(device: &wgpu::Device, size: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback staging"),
        size,
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    })
}

/// Submit `encoder` (which copies into `staging`), wait for it, map `staging` and hand its bytes
/// to `take`.
fn read_staging(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    encoder: wgpu::CommandEncoder,
    staging: &wgpu::Buffer,
    take: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Result<Vec<u8>, RenderError> {
    let submission = queue.submit([encoder.finish()]);
    let (sender, receiver) = mpsc::channel();
    staging.map_async(wgpu::MapMode::Read, .., move |result| {
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
    let bytes = take(
        &staging
            .get_mapped_range(..)
            .map_err(|e| RenderError::Readback(e.to_string()))?,
    );
    staging.unmap();
    Ok(bytes)
}

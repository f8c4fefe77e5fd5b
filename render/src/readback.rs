//! Copying GPU buffers back to the CPU.

use std::sync::mpsc;
use std::time::Duration;

use crate::error::RenderError;

/// How long a readback waits for the GPU (lavapipe on two cores can be slow).
const READBACK_TIMEOUT: Duration = Duration::from_secs(120);

/// Copy a whole buffer (usage `COPY_SRC`) to the CPU. Submits the copy and blocks until it is
/// done, so everything submitted before is included.
pub fn read_buffer(device: &wgpu::Device, queue: &wgpu::Queue, buffer: &wgpu::Buffer) -> Result<Vec<u8>, RenderError> {
    let size = buffer.size();
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("buffer readback"),
        size,
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("buffer readback"),
    });
    encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
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
    let bytes = staging
        .get_mapped_range(..)
        .map_err(|e| RenderError::Readback(e.to_string()))?
        .to_vec();
    staging.unmap();
    Ok(bytes)
}

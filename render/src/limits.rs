//! What fits the device: checks made before asking wgpu for a buffer or texture it would refuse
//! (wgpu reports such a request as a validation error, which is fatal unless handled).

use cortexlens_data::mesh::Mesh;

use crate::error::RenderError;

/// Bytes per pixel of the RGBA8 targets read back.
const RGBA_BYTES: u64 = 4;

/// Whether a `width × height` RGBA8 target, and the buffer it is read back through, fit.
pub fn check_target(device: &wgpu::Device, width: u32, height: u32) -> Result<(), RenderError> {
    let limits = device.limits();
    let max = limits.max_texture_dimension_2d;
    if width > max || height > max {
        return Err(RenderError::TooLarge {
            what: format!("a {width}×{height} picture"),
            size: u64::from(width.max(height)),
            limit: u64::from(max),
            unit: "pixels on a side",
        });
    }
    // Rows are padded to 256 bytes for the copy.
    let row = (u64::from(width) * RGBA_BYTES).next_multiple_of(256);
    let bytes = row * u64::from(height);
    if bytes > limits.max_buffer_size {
        return Err(RenderError::TooLarge {
            what: format!("reading back a {width}×{height} picture"),
            size: bytes,
            limit: limits.max_buffer_size,
            unit: "bytes",
        });
    }
    Ok(())
}

/// Whether a mesh's vertex and index buffers fit (12 bytes per vertex position or normal, 12 per
/// triangle).
pub fn check_mesh(device: &wgpu::Device, mesh: &Mesh, name: &str) -> Result<(), RenderError> {
    let limit = device.limits().max_buffer_size;
    let bytes = (mesh.vertices.len() as u64 * 12).max(mesh.triangles.len() as u64 * 12);
    if bytes > limit {
        return Err(RenderError::TooLarge {
            what: format!(
                "the mesh {name} ({} vertices, {} triangles)",
                mesh.vertices.len(),
                mesh.triangles.len()
            ),
            size: bytes,
            limit,
            unit: "bytes in one buffer",
        });
    }
    Ok(())
}

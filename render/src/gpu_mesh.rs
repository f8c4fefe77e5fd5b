//! A surface mesh on the GPU: vertex positions, normals and colours, and its triangles.

use cortexlens_data::mesh::Mesh;
use cortexlens_data::vertex_colors::PLAIN_GRAY;
use wgpu::util::DeviceExt;

use crate::error::RenderError;

/// Positions, normals (`Float32x3` each) and colours (`Unorm8x4`) in three vertex buffers, and
/// a `u32` index buffer. Geometry and colours are replaced separately, so switching between
/// pial, white, inflated, sphere and flat keeps the maps, and changing a map keeps the geometry.
pub struct GpuMesh {
    positions: wgpu::Buffer,
    normals: wgpu::Buffer,
    colors: wgpu::Buffer,
    indices: wgpu::Buffer,
    vertex_count: usize,
    index_count: u32,
}

/// Bytes per vertex of the position and normal buffers.
const VEC3_BYTES: u64 = 12;

impl GpuMesh {
    /// Upload `mesh` (normals from [`Mesh::vertex_normals`]) with one colour per vertex (see
    /// [`cortexlens_data::vertex_colors::vertex_colors`]). Missing colours are drawn in
    /// [`PLAIN_GRAY`], extra ones are ignored. Every triangle index must be below the vertex
    /// count, as [`Mesh`] requires.
    pub fn upload(device: &wgpu::Device, queue: &wgpu::Queue, mesh: &Mesh, colors: &[[u8; 4]]) -> GpuMesh {
        let n = mesh.vertices.len();
        let vertex_buffer = |label, contents: &[u8]| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: non_empty(contents),
                usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
            })
        };
        let normals = mesh.vertex_normals();
        let indices = &mesh.triangles;
        let gpu = GpuMesh {
            positions: vertex_buffer("mesh positions", bytemuck::cast_slice(&mesh.vertices)),
            normals: vertex_buffer("mesh normals", bytemuck::cast_slice(&normals)),
            colors: vertex_buffer("mesh colours", &vec![0; 4 * n]),
            indices: index_buffer(device, indices),
            vertex_count: n,
            index_count: (indices.len() * 3) as u32,
        };
        gpu.set_colors(queue, colors);
        gpu
    }

    /// Replace the geometry by another of the same vertex count (pial ↔ inflated ↔ flat …),
    /// keeping the colours. The triangle count may differ (a flat patch has fewer).
    ///
    /// # Errors
    /// [`RenderError::VertexCount`] when `mesh` has another number of vertices; nothing changes.
    pub fn set_geometry(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, mesh: &Mesh) -> Result<(), RenderError> {
        if mesh.vertices.len() != self.vertex_count {
            return Err(RenderError::VertexCount {
                expected: self.vertex_count,
                got: mesh.vertices.len(),
            });
        }
        if self.vertex_count > 0 {
            queue.write_buffer(&self.positions, 0, bytemuck::cast_slice(&mesh.vertices));
            let normals = mesh.vertex_normals();
            queue.write_buffer(&self.normals, 0, bytemuck::cast_slice(&normals));
        }
        let indices = &mesh.triangles;
        let bytes = (indices.len() * 12) as u64;
        if bytes > 0 && bytes <= self.indices.size() {
            queue.write_buffer(&self.indices, 0, bytemuck::cast_slice(indices));
        } else {
            self.indices = index_buffer(device, indices);
        }
        self.index_count = (indices.len() * 3) as u32;
        Ok(())
    }

    /// Replace the colours (one per vertex; missing ones [`PLAIN_GRAY`], extra ones ignored).
    /// Takes effect with the next submission.
    pub fn set_colors(&self, queue: &wgpu::Queue, colors: &[[u8; 4]]) {
        let n = self.vertex_count;
        if n == 0 {
            return;
        }
        if colors.len() != n {
            tracing::warn!("{} colours for {n} vertices", colors.len());
        }
        let mut fitted = colors[..colors.len().min(n)].to_vec();
        fitted.resize(n, [PLAIN_GRAY, PLAIN_GRAY, PLAIN_GRAY, 255]);
        queue.write_buffer(&self.colors, 0, bytemuck::cast_slice(&fitted));
    }

    /// Number of vertices.
    pub fn vertex_count(&self) -> usize {
        self.vertex_count
    }

    /// Number of triangles drawn.
    pub fn triangle_count(&self) -> usize {
        self.index_count as usize / 3
    }

    /// Bind the vertex buffers to slots 0 (positions), 1 (normals) and 2 (colours) and the
    /// index buffer; returns the number of indices to draw.
    pub(crate) fn bind(&self, pass: &mut wgpu::RenderPass<'_>) -> u32 {
        if self.index_count == 0 {
            return 0;
        }
        pass.set_vertex_buffer(0, self.positions.slice(..));
        pass.set_vertex_buffer(1, self.normals.slice(..));
        pass.set_vertex_buffer(2, self.colors.slice(..));
        pass.set_index_buffer(self.indices.slice(..), wgpu::IndexFormat::Uint32);
        self.index_count
    }

    /// Vertex buffer layouts of slots 0..=2, starting at shader location 0.
    pub(crate) fn layouts() -> [wgpu::VertexBufferLayout<'static>; 3] {
        const POSITION: [wgpu::VertexAttribute; 1] = wgpu::vertex_attr_array![0 => Float32x3];
        const NORMAL: [wgpu::VertexAttribute; 1] = wgpu::vertex_attr_array![1 => Float32x3];
        const COLOR: [wgpu::VertexAttribute; 1] = wgpu::vertex_attr_array![2 => Unorm8x4];
        [
            wgpu::VertexBufferLayout {
                array_stride: VEC3_BYTES,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &POSITION,
            },
            wgpu::VertexBufferLayout {
                array_stride: VEC3_BYTES,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &NORMAL,
            },
            wgpu::VertexBufferLayout {
                array_stride: 4,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &COLOR,
            },
        ]
    }
}

fn index_buffer(device: &wgpu::Device, indices: &[[u32; 3]]) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("mesh indices"),
        contents: non_empty(bytemuck::cast_slice(indices)),
        usage: wgpu::BufferUsages::INDEX | wgpu::BufferUsages::COPY_DST,
    })
}

/// Buffers are never empty (an empty mesh still gets valid, unused buffers).
fn non_empty(contents: &[u8]) -> &[u8] {
    if contents.is_empty() { &[0; 16] } else { contents }
}

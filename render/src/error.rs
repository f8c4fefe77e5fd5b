//! Errors of the renderer.

/// What can go wrong setting up the GPU or reading pictures back.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// No adapter fits the request (none at all, or none that the policy accepts).
    #[error("no suitable GPU adapter: {0}")]
    NoAdapter(String),
    /// The adapter refused to create a device.
    #[error("could not create a GPU device: {0}")]
    RequestDevice(#[from] wgpu::RequestDeviceError),
    /// Waiting for the GPU failed (device lost or timed out).
    #[error("waiting for the GPU failed: {0}")]
    Poll(#[from] wgpu::PollError),
    /// Mapping a readback buffer failed.
    #[error("reading back from the GPU failed: {0}")]
    Readback(String),
    /// A geometry of another vertex count was given for a mesh on the GPU.
    #[error("the geometry has {got} vertices, the mesh on the GPU {expected}")]
    VertexCount {
        /// Vertices of the mesh on the GPU.
        expected: usize,
        /// Vertices of the geometry given.
        got: usize,
    },
    /// More than the device allows.
    #[error("{what} needs {size} {unit}; this GPU allows {limit}")]
    TooLarge {
        /// What was asked for.
        what: String,
        /// Its size.
        size: u64,
        /// The device's limit.
        limit: u64,
        /// The unit of both.
        unit: &'static str,
    },
    /// A neural field that the GPU evaluator cannot hold (sizes, limits).
    #[error("the neural field cannot be drawn: {0}")]
    Field(String),
}

//! [`OffscreenTarget`], what every renderer draws into, and the slice views' [`SliceTarget`].

use crate::error::RenderError;
pub use crate::readback::read_texture;
use crate::setup;

/// Format of every [`SliceTarget`]: straight 8-bit RGBA, not sRGB-encoded.
pub const SLICE_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// An offscreen `Rgba8Unorm` colour target of a given size that a renderer draws into
/// ([`crate::Renderer::Target`]) and a [`crate::Compositor`] can show
/// ([`crate::composite::Composited`]).
pub trait OffscreenTarget {
    /// A `width × height` target, each side clamped to `1..=max_texture_dimension_2d`.
    fn create(device: &wgpu::Device, width: u32, height: u32) -> Self;
    /// `(width, height)` in pixels.
    fn size(&self) -> (u32, u32);
    /// The colour view, rendered into and sampled by the compositor.
    fn view(&self) -> &wgpu::TextureView;
    /// The colour texture (for copies).
    fn texture(&self) -> &wgpu::Texture;

    /// Width / height.
    fn aspect(&self) -> f32 {
        let (width, height) = self.size();
        width as f32 / height as f32
    }

    /// Replace the target when `(width, height)` differs from its size. Returns whether it was
    /// replaced (then bind groups made from [`OffscreenTarget::view`] are stale).
    fn resize(&mut self, device: &wgpu::Device, width: u32, height: u32) -> bool
    where
        Self: Sized,
    {
        if (width, height) == self.size() {
            return false;
        }
        *self = Self::create(device, width, height);
        true
    }

    /// Copy the picture to the CPU: tightly packed RGBA8, row-major, top row first. Submits a
    /// copy and blocks until it is done, so everything submitted before is included.
    fn read_rgba(&self, device: &wgpu::Device, queue: &wgpu::Queue) -> Result<Vec<u8>, RenderError> {
        read_texture(device, queue, self.texture())
    }
}

/// Implements [`OffscreenTarget`] with the type's own `new`, `size`, `view` and `texture`.
macro_rules! offscreen_target {
    ($target:ty) => {
        impl $crate::target::OffscreenTarget for $target {
            fn create(device: &wgpu::Device, width: u32, height: u32) -> Self {
                <$target>::new(device, width, height)
            }
            fn size(&self) -> (u32, u32) {
                <$target>::size(self)
            }
            fn view(&self) -> &wgpu::TextureView {
                <$target>::view(self)
            }
            fn texture(&self) -> &wgpu::Texture {
                <$target>::texture(self)
            }
        }
    };
}
pub(crate) use offscreen_target;

offscreen_target!(SliceTarget);

/// An offscreen `Rgba8Unorm` colour target (render attachment, texture binding, copy source).
pub struct SliceTarget {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    size: (u32, u32),
}

impl SliceTarget {
    /// A `width × height` target, each side clamped to `1..=max_texture_dimension_2d`.
    pub fn new(device: &wgpu::Device, width: u32, height: u32) -> SliceTarget {
        let size = setup::clamp_target_size(device, width, height, "slice target");
        let usage = wgpu::TextureUsages::RENDER_ATTACHMENT
            | wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::COPY_SRC;
        let texture = setup::texture_2d(device, "slice target", size, SLICE_FORMAT, usage);
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
}

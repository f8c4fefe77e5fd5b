//! Draws a [`crate::SliceTarget`] or [`crate::MeshTarget`] into someone else's render pass (egui's, in
//! the app).

use crate::setup;
use crate::target::OffscreenTarget;

/// A textured quad covering the pass's current viewport, for a pass of a given colour format
/// with no depth buffer and one sample per pixel.
///
/// Nearest sampling ([`Compositor::bind_view`]): when the viewport has the target's pixel size,
/// pixels are copied exactly. Linear sampling ([`Compositor::bind_view_smooth`]) for targets drawn
/// at a lower resolution than the viewport (the 3D view's preview while the camera moves).
/// For an sRGB pass the shader decodes first, so the stored bytes still equal the target's.
pub struct Compositor {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    nearest: wgpu::Sampler,
    linear: wgpu::Sampler,
}

impl Compositor {
    /// Build the pipeline for passes rendering to `format`.
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Compositor {
        let shader = setup::wgsl(device, "composite.wgsl", include_str!("../shaders/composite.wgsl"));
        let fragment = wgpu::ShaderStages::FRAGMENT;
        let texture = setup::texture(
            0,
            fragment,
            wgpu::TextureSampleType::Float { filterable: true },
            wgpu::TextureViewDimension::D2,
        );
        let layout = setup::bind_group_layout(device, "composite", &[texture, setup::sampler(1, fragment)]);
        let pipeline = setup::fullscreen_pipeline(
            device,
            "composite",
            &setup::pipeline_layout(device, "composite", &[Some(&layout)]),
            &shader,
            if format.is_srgb() { "fs_main_srgb" } else { "fs_main" },
            &[setup::opaque(format)],
        );
        let sampler = |filter| {
            device.create_sampler(&wgpu::SamplerDescriptor {
                label: Some("composite"),
                address_mode_u: wgpu::AddressMode::ClampToEdge,
                address_mode_v: wgpu::AddressMode::ClampToEdge,
                address_mode_w: wgpu::AddressMode::ClampToEdge,
                mag_filter: filter,
                min_filter: filter,
                ..Default::default()
            })
        };
        Compositor {
            pipeline,
            layout,
            nearest: sampler(wgpu::FilterMode::Nearest),
            linear: sampler(wgpu::FilterMode::Linear),
        }
    }

    /// The bind group that shows any 2D colour view with a float sample type (e.g. a
    /// [`crate::MeshTarget::view`]); make it again when the texture is replaced.
    pub fn bind_view(&self, device: &wgpu::Device, view: &wgpu::TextureView) -> wgpu::BindGroup {
        self.bind_with(device, view, &self.nearest)
    }

    /// Like [`Compositor::bind_view`], sampled bilinearly: for a target smaller than the viewport.
    pub fn bind_view_smooth(&self, device: &wgpu::Device, view: &wgpu::TextureView) -> wgpu::BindGroup {
        self.bind_with(device, view, &self.linear)
    }

    fn bind_with(&self, device: &wgpu::Device, view: &wgpu::TextureView, sampler: &wgpu::Sampler) -> wgpu::BindGroup {
        setup::bind_group(
            device,
            "composite",
            &self.layout,
            &[
                wgpu::BindingResource::TextureView(view),
                wgpu::BindingResource::Sampler(sampler),
            ],
        )
    }

    /// Draw the bound target over the pass's current viewport (opaque, no blending).
    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>, bind: &wgpu::BindGroup) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, bind, &[]);
        pass.draw(0..6, 0..1);
    }

    /// Keep `slot` holding a target of `size` with its binding: made when absent or of another size.
    pub fn keep_size<T: OffscreenTarget>(
        &self,
        device: &wgpu::Device,
        slot: &mut Option<Composited<T>>,
        size: (u32, u32),
        sampling: Sampling,
    ) {
        if slot.as_ref().is_some_and(|shown| shown.target.size() == size) {
            return;
        }
        let target = T::create(device, size.0, size.1);
        let bind = match sampling {
            Sampling::Nearest => self.bind_view(device, target.view()),
            Sampling::Linear => self.bind_view_smooth(device, target.view()),
        };
        *slot = Some(Composited { target, bind });
    }

    /// Draw a composited target over the pass's current viewport.
    pub fn paint_target<T>(&self, pass: &mut wgpu::RenderPass<'_>, shown: &Composited<T>) {
        self.paint(pass, &shown.bind);
    }
}

/// How the compositor samples a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// Pixel for pixel (the target has the viewport's size).
    Nearest,
    /// Bilinear (a target smaller than the viewport).
    Linear,
}

/// An offscreen target with the bind group that shows it through a [`Compositor`]
/// ([`Compositor::keep_size`], [`Compositor::paint_target`]).
pub struct Composited<T> {
    target: T,
    bind: wgpu::BindGroup,
}

impl<T> Composited<T> {
    /// The target, to render into.
    pub fn target(&self) -> &T {
        &self.target
    }
}

//! What the machine lacks to show a window or draw on a GPU, said in words a user can act on
//! (shared by the window and the CLI).

/// What to install when wgpu finds no GPU driver it can use.
pub const GPU_DRIVER_ADVICE: &str = "cortexlens draws with Vulkan (or Metal/DirectX where they are the system's API): \
install your GPU vendor's driver, or without a GPU Mesa's software driver — Debian/Ubuntu: \
`sudo apt-get install mesa-vulkan-drivers libvulkan1`, Fedora: `sudo dnf install mesa-vulkan-drivers vulkan-loader`; \
WGPU_BACKEND=gl tries OpenGL instead";

/// A GPU set-up failure (`detail`) followed by what to install.
pub fn no_gpu(detail: &str) -> String {
    format!("no usable GPU driver ({detail}). {GPU_DRIVER_ADVICE}")
}

/// Why the window could not open, with what to do about it.
pub fn window_failed(error: &eframe::Error) -> String {
    match error {
        eframe::Error::Wgpu(e) => no_gpu(&e.to_string()),
        eframe::Error::WinitEventLoop(e) => format!(
            "the window cannot open: no display to show it on ({e}). Run it on a desktop (X11 or \
             Wayland; over SSH with `ssh -X` or in a VNC session), or draw pictures without a window \
             with `cortexlens render`"
        ),
        other => format!("the window cannot open: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gpu_failure_of_the_window_says_what_to_install() {
        let error = eframe::Error::Wgpu(egui_wgpu::WgpuError::NoSurfaceFormatsAvailable);
        let text = window_failed(&error);
        assert!(
            text.starts_with("no usable GPU driver (There was no valid format"),
            "{text}"
        );
        assert!(text.contains("mesa-vulkan-drivers"), "{text}");
    }
}

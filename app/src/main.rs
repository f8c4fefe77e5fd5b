//! The `cortexlens` binary: the window, or a headless command.

/// mimalloc instead of the system allocator: models allocate temporaries of tens to hundreds of MB
/// per layer, which glibc maps, faults in and unmaps each time; mimalloc reuses them (CLIP at batch
/// 256 ran 1.9× faster, BENCHMARKS.md). The inference benches use it too
/// (`inference/benches/common/allocator.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    cortexlens::cli::main()
}

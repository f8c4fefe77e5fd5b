//! The allocator of the `cortexlens` binary (mimalloc, see app/src/main.rs), so that the benches
//! measure the model work as the app runs it.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

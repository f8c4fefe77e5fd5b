#![no_main]

use cortexlens_fuzz::*;
use libfuzzer_sys::fuzz_target;

// Gaussian splats, told apart by content as load_path does for a name it does not know: `ply`
// (3DGS or SuperSplat compressed), `NGSP` (SPZ version 4) or gzip holding `NGSP` (versions 1–3).
fuzz_target!(|data: &[u8]| {
    load_as("fuzz.splats", data);
});

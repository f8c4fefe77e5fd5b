#![no_main]

use cortexlens_fuzz::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    encoder(data);
});

//! Decompression bombs are harmless: a small compressed file whose stream (and gzip trailer)
//! claims hundreds of megabytes after a tiny volume, mesh, snapshot or splat scene is read only as far as its
//! header says, or its XML or MessagePack value goes. Peak heap use is measured with a counting
//! global allocator, so this file holds one test that runs the cases one after the other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use cortexlens_data::field::load_field;
use cortexlens_data::formats::{save_nifti, save_vertex_values_gifti};
use cortexlens_data::{Loaded, Volume, load_path};
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};

/// Counts the bytes allocated now and at most since the last reset.
struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's layout is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The zeros a bomb inflates to after its payload.
const BOMB: usize = 256 << 20;

/// Heap the loaders may use for a bomb whose payload is tiny: buffers and decoder state.
const MODEST: usize = 24 << 20;

/// `payload` then [`BOMB`] zeros, compressed by `encoder`, written to `path`.
fn bomb<W: Write>(mut encoder: W, payload: &[u8], finish: impl FnOnce(W) -> Vec<u8>, path: &Path) -> PathBuf {
    encoder.write_all(payload).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..BOMB >> 20 {
        encoder.write_all(&zeros).unwrap();
    }
    std::fs::write(path, finish(encoder)).unwrap();
    path.to_owned()
}

fn gzip_bomb(payload: &[u8], path: &Path) -> PathBuf {
    bomb(
        GzEncoder::new(Vec::new(), Compression::fast()),
        payload,
        |e| e.finish().unwrap(),
        path,
    )
}

/// Runs `load`, asserting it uses at most [`MODEST`] bytes of heap and a few seconds.
fn harmless<T>(what: &str, load: impl FnOnce() -> T) -> T {
    let before = NOW.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let start = Instant::now();
    let out = load();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    // A hang would show as minutes; the bound only excludes inflating the bomb.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{what}: {:?}",
        start.elapsed()
    );
    assert!(peak < MODEST, "{what}: {} MiB of heap for a tiny payload", peak >> 20);
    out
}

fn tiny_volume() -> Volume {
    let data: Vec<f32> = (0..1000).map(|v| (v % 7) as f32).collect();
    Volume::from_f32("tiny", [10, 10, 10, 1], glam::DMat4::IDENTITY, data)
}

#[test]
fn bombs_are_read_no_further_than_their_data() {
    let dir = std::env::temp_dir().join(format!("cortexlens-bombs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // NIfTI: a 10×10×10 volume, then 256 MiB of zeros in the same gzip member.
    let plain = dir.join("tiny.nii");
    save_nifti(&plain, &tiny_volume()).unwrap();
    let nii = std::fs::read(&plain).unwrap();
    let path = gzip_bomb(&nii, &dir.join("bomb.nii.gz"));
    let loaded = harmless("nii.gz", || load_path(&path, &mut |_| {}).unwrap());
    let Loaded::Volume(volume) = loaded else { panic!() };
    assert_eq!(volume.data, tiny_volume().data, "the volume itself reads as it was");

    // NIfTI pair: the header beside an image file that is a bomb.
    let mut hdr = nii[..348].to_vec();
    hdr[344..348].copy_from_slice(b"ni1\0");
    hdr[108..112].copy_from_slice(&0f32.to_le_bytes());
    std::fs::write(dir.join("pair.hdr"), &hdr).unwrap();
    gzip_bomb(&nii[352..], &dir.join("pair.img.gz"));
    let loaded = harmless("img.gz", || load_path(&dir.join("pair.hdr"), &mut |_| {}).unwrap());
    assert!(matches!(loaded, Loaded::Volume(v) if v.data == tiny_volume().data));

    // MGZ: a 10×10×10 uchar header and voxels, then the zeros.
    let mut mgh = Vec::new();
    for v in [1i32, 10, 10, 10, 1, 0, 0] {
        mgh.extend(v.to_be_bytes());
    }
    mgh.resize(284, 0);
    mgh.extend((0..1000).map(|v| (v % 7) as u8));
    let path = gzip_bomb(&mgh, &dir.join("bomb.mgz"));
    let loaded = harmless("mgz", || load_path(&path, &mut |_| {}).unwrap());
    assert!(matches!(loaded, Loaded::Volume(v) if v.data.len() == 1000));

    // GIFTI gzipped whole: the document, then zeros (read up to </GIFTI>); zeros alone are no XML.
    let gii = dir.join("values.gii");
    save_vertex_values_gifti(&gii, &[1.0, 2.0, 3.0]).unwrap();
    let path = gzip_bomb(&std::fs::read(&gii).unwrap(), &dir.join("bomb.gii.gz"));
    let loaded = harmless("gii.gz", || load_path(&path, &mut |_| {}).unwrap());
    assert!(matches!(loaded, Loaded::Surface(s) if s.arrays.len() == 1));
    let path = gzip_bomb(b"", &dir.join("zeros.gii.gz"));
    harmless("zeros.gii.gz", || load_path(&path, &mut |_| {}).unwrap_err());

    // A GZipBase64Binary array of 3 floats whose zlib stream inflates to 256 MiB.
    let zlib = bomb(
        ZlibEncoder::new(Vec::new(), Compression::fast()),
        &[0u8; 12],
        |e| e.finish().unwrap(),
        &dir.join("array.z"),
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(std::fs::read(zlib).unwrap());
    let xml = format!(
        "<?xml version=\"1.0\"?><GIFTI Version=\"1.0\" NumberOfDataArrays=\"1\"><DataArray Intent=\"NIFTI_INTENT_SHAPE\" \
         DataType=\"NIFTI_TYPE_FLOAT32\" ArrayIndexingOrder=\"RowMajorOrder\" Dimensionality=\"1\" Dim0=\"3\" \
         Encoding=\"GZipBase64Binary\" Endian=\"LittleEndian\" ExternalFileName=\"\" ExternalFileOffset=\"\">\
         <Data>{encoded}</Data></DataArray></GIFTI>"
    );
    let path = dir.join("array_bomb.gii");
    std::fs::write(&path, xml).unwrap();
    harmless("GZipBase64Binary array", || load_path(&path, &mut |_| {}).unwrap_err());

    // instant-ngp snapshot gzipped: a MessagePack map, then zeros (inflated only as far as the map).
    let path = gzip_bomb(&[0x81, 0xa1, b'a', 0x01], &dir.join("bomb.ingp"));
    harmless("ingp", || load_field(&path).unwrap_err());

    // SPZ (versions 1–3 are one gzip stream): 10 splats of degree 0, then the zeros.
    let mut spz = b"NGSP".to_vec();
    spz.extend(3u32.to_le_bytes());
    spz.extend(10u32.to_le_bytes());
    spz.extend([0, 12, 0, 0]);
    spz.extend([0u8; 90]); // positions
    spz.extend([255u8; 10]); // alphas
    spz.extend([128u8; 30]); // colours
    spz.extend([64u8; 30]); // scales
    spz.extend([0, 0, 0, 0xC0].repeat(10)); // rotations: w largest, the rest 0
    let path = gzip_bomb(&spz, &dir.join("bomb.spz"));
    let loaded = harmless("spz", || load_path(&path, &mut |_| {}).unwrap());
    assert!(matches!(loaded, Loaded::Splats(s) if s.len() == 10 && s.rotations[0] == [1.0, 0.0, 0.0, 0.0]));

    // A 3DGS .ply gzipped whole: 2 splats, then the zeros.
    let names = [
        "x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1",
        "rot_2", "rot_3",
    ];
    let mut ply = b"ply\nformat binary_little_endian 1.0\nelement vertex 2\n".to_vec();
    for n in names {
        ply.extend(format!("property float {n}\n").as_bytes());
    }
    ply.extend(b"end_header\n");
    for _ in 0..2 {
        for n in names {
            ply.extend((if n == "rot_0" { 1f32 } else { 0.0 }).to_le_bytes());
        }
    }
    let path = gzip_bomb(&ply, &dir.join("bomb.ply.gz"));
    let loaded = harmless("ply.gz", || load_path(&path, &mut |_| {}).unwrap());
    assert!(matches!(loaded, Loaded::Splats(s) if s.len() == 2));

    std::fs::remove_dir_all(dir).ok();
}

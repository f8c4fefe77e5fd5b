"""Seed corpora for the fuzz targets (fuzz/targets.txt), from the repository's test files.

    python3 tools/fuzz/seeds.py CORPUS_DIR

Every seed is at most 64 KiB (longer files are cut: a cut file is a useful input too). Files that
no test ships (a small `.nfield`, an instant-ngp msgpack) are written here with numpy only.
"""

import glob
import gzip
import json
import os
import struct
import sys

import numpy as np

LIMIT = 65536
out = sys.argv[1]


def put(target, name, data):
    folder = os.path.join(out, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name.replace("/", "_")), "wb") as f:
        f.write(data[:LIMIT])


def files(target, patterns, transform=lambda b: b):
    for pattern in patterns:
        for path in sorted(glob.glob(pattern, recursive=True)):
            with open(path, "rb") as f:
                put(target, os.path.relpath(path), transform(f.read()))


def safetensors(tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, array in tensors.items():
        blob = np.ascontiguousarray(array, np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


small_gz = [p for p in glob.glob("tests/data/**/*.nii.gz", recursive=True) if os.path.getsize(p) < 200_000]
files("nifti", ["tests/data/**/*.nii"])
for path in small_gz[:20]:
    with gzip.open(path) as f:
        put("nifti", path + ".raw", f.read(LIMIT))
files("nifti_gz", small_gz)
files("nifti_pair", ["tests/data/**/*.nii"])
files("mgz", ["tests/data/**/*.mgz"])
for path in glob.glob("tests/data/**/*.mgz", recursive=True):
    with gzip.open(path) as f:
        put("mgh", path + ".raw", f.read(LIMIT))
files("gifti", ["tests/data/**/*.gii"])
files("freesurfer_surface", ["tests/data/freesurfer/?h.pial", "tests/data/freesurfer/?h.white"])
files("freesurfer_curv", ["tests/data/freesurfer/?h.curv", "tests/data/freesurfer/?h.sulc"])
files("freesurfer_annot", ["tests/data/**/*.annot"])
files("freesurfer_label", ["tests/data/**/*.label"])
files("cifti", ["tests/data/generated/cifti/*.nii"])
files("fsl_atlas", ["tests/data/generated/atlases/*.xml"])
files("label_table", ["tests/data/**/*.tsv", "tests/data/**/*.txt"])
put("label_table", "lut.txt", b"0 Unknown 0 0 0 0\n17 Left-Hippocampus 220 216 20 0\n")
files("splats", ["tests/data/generated/splats/*.ply", "tests/data/generated/splats/*.spz"])
for path in sorted(glob.glob("tests/data/generated/splats/*.spz")):
    with gzip.open(path) as f:  # the stream inside, as version 4 files start (NGSP)
        put("splats", path + ".raw", f.read(LIMIT))
files("encoder", ["inference/tests/fixtures/**/encoder*.safetensors"])
files("pool", ["inference/tests/fixtures/**/*pool*.safetensors", "inference/tests/fixtures/**/encoder*.safetensors"])

# A small dense-grid intensity field (docs/nfield.md), and one with a hash grid and occupancy.
rng = np.random.default_rng(0)
dense = {
    "version": 1, "bounds_min": [-9.0, -9.0, -9.0], "bounds_max": [9.0, 9.0, 9.0],
    "encoding": {"type": "dense", "resolution": [4, 4, 4], "features": 2},
    "layers": [{"inputs": 2, "outputs": 4, "activation": "relu"}, {"inputs": 4, "outputs": 1, "activation": "none"}],
    "cam": {"resolutions": [[2, 2, 2]]}, "output": {"type": "intensity", "scale": 1.0, "offset": 0.0}, "occupancy": None,
}
put("nfield", "dense.nfield", safetensors({
    "encoding.values": rng.standard_normal((4, 4, 4, 2)),
    "layers.0.weight": rng.standard_normal((4, 2)), "layers.0.bias": np.zeros(4),
    "layers.1.weight": rng.standard_normal((1, 4)), "layers.1.bias": np.zeros(1),
    "cam.0.scale": np.ones((2, 2, 2)), "cam.0.shift": np.zeros((2, 2, 2)),
}, {"nfield": json.dumps(dense)}))

# instant-ngp snapshots are msgpack maps; a skeleton with the keys the reader looks for.
def msgpack(value):
    if isinstance(value, dict):
        return bytes([0x80 | len(value)]) + b"".join(msgpack(k) + msgpack(v) for k, v in value.items())
    if isinstance(value, str):
        data = value.encode()
        return bytes([0xA0 | len(data)]) + data
    if isinstance(value, bool):
        return b"\xc3" if value else b"\xc2"
    if isinstance(value, int):
        return b"\xcd" + struct.pack(">H", value)
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, bytes):
        return b"\xc5" + struct.pack(">H", len(value)) + value
    if isinstance(value, list):
        return bytes([0x90 | len(value)]) + b"".join(msgpack(v) for v in value)
    raise TypeError(value)


put("ingp", "skeleton.msgpack", msgpack({
    "encoding": {"otype": "HashGrid", "n_levels": 2, "n_features_per_level": 2, "log2_hashmap_size": 4,
                 "base_resolution": 4, "per_level_scale": 2.0},
    "network": {"otype": "FullyFusedMLP", "n_neurons": 16, "n_hidden_layers": 1},
    "snapshot": {"params_binary": b"\0" * 64, "density_grid_binary": b"", "aabb": [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]},
}))
for target in open("fuzz/targets.txt").read().split():
    os.makedirs(os.path.join(out, target), exist_ok=True)
print("seeds:", {t: len(os.listdir(os.path.join(out, t))) for t in sorted(os.listdir(out))})

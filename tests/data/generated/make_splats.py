#!/usr/bin/env python3
"""Generates splats/ (one synthetic Gaussian-splat scene in every format cortexlens reads) and
splats.json (the scene's activated values, computed here in float64 from the float32 values
written).

Run from this folder with the packages of requirements.txt (numpy 2.4.6, plyfile 1.1.5):

    python3 make_splats.py

The scene: 260 splats of SH degree 3 on a head-sized ellipsoid (scene units, as a photogrammetry
scan in metres), with random colours, SH, opacities, anisotropic scales and unnormalised
quaternions (some with negative w). 260 = one full chunk of 256 and a partial one in the
compressed PLY.

Files (see ../README.md for what each tests):

- scene_le.ply, scene_be.ply, scene_ascii.ply: the INRIA 3DGS layout as the reference code's
  `save_ply` writes it (plyfile; `x y z nx ny nz f_dc_0..2 f_rest_0..44 opacity scale_0..2
  rot_0..3`, float32), binary little-endian, big-endian and ASCII.
- scene_mixed.ply: the same scene cut to SH degree 1, properties in another order and of other
  types (double positions and f_rest, float everything else), an extra uchar colour and an int
  property, a comment, and an element before the vertices.
- scene_v3.spz, scene_v2.spz: SPZ versions 3 and 2 (gzip), packed as Niantic's `packGaussians`
  packs (load-spz.cc: RUB axes, 12 fractional bits, SH at 5 bits for degree 1 and 4 bits above).
- scene.compressed.ply: SuperSplat's compressed PLY, packed as PlayCanvas splat-transform's
  `CompressedChunk.pack` does (chunk colour bounds, sh element), without its Morton sort, so rows
  keep the scene's order; scene_nocolor.compressed.ply: the older 12-property chunks (colours
  stored directly) and no sh element.
"""

import gzip
import json
import os

import numpy as np
from plyfile import PlyData, PlyElement

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)
os.makedirs('splats', exist_ok=True)

N = 260
SH_C0 = 0.28209479177387814
rng = np.random.default_rng(13)

# --- the scene (float32, as files store it) -------------------------------------------------
theta = rng.uniform(0, np.pi, N)
phi = rng.uniform(0, 2 * np.pi, N)
radii = np.array([0.08, 0.1, 0.12])
unit = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=1)
xyz = (unit * radii + rng.normal(0, 0.002, (N, 3)) + [0.02, -0.01, 0.35]).astype(np.float32)
f_dc = np.clip(rng.normal(0, 0.8, (N, 3)), -1.7, 1.7).astype(np.float32)
# SH beyond DC: [n, 15 coefficients, 3 channels], small as trained scenes have them.
rest = np.clip(rng.normal(0, 0.2, (N, 15, 3)), -0.9, 0.9).astype(np.float32)
opacity = np.clip(rng.normal(0, 2, N), -6, 6).astype(np.float32)
log_scale = rng.uniform(-7, -3, (N, 3)).astype(np.float32)
rot = rng.normal(0, 1, (N, 4))
rot *= rng.uniform(0.5, 2.0, (N, 1)) / np.linalg.norm(rot, axis=1, keepdims=True)
rot = rot.astype(np.float32)

# f_rest_* are channel-major: R's 15 coefficients, then G's, then B's.
f_rest = rest.transpose(0, 2, 1).reshape(N, 45)


def inria_vertex(sh_rest, extra=()):
    names = (['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2']
             + [f'f_rest_{i}' for i in range(sh_rest.shape[1])]
             + ['opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3'])
    columns = ([xyz[:, 0], xyz[:, 1], xyz[:, 2]] + [np.zeros(N, np.float32)] * 3
               + [f_dc[:, i] for i in range(3)] + [sh_rest[:, i] for i in range(sh_rest.shape[1])]
               + [opacity] + [log_scale[:, i] for i in range(3)] + [rot[:, i] for i in range(4)])
    data = np.empty(N, dtype=[(n, 'f4') for n in names])
    for n, c in zip(names, columns):
        data[n] = c
    return PlyElement.describe(data, 'vertex')


vertex = inria_vertex(f_rest)
PlyData([vertex], byte_order='<').write('splats/scene_le.ply')
PlyData([vertex], byte_order='>').write('splats/scene_be.ply')
PlyData([vertex], text=True).write('splats/scene_ascii.ply')

# Degree 1, other order and types, extras, and an element before the vertices.
rest1 = rest[:, :3, :]
mixed_fields = ([('rot_0', 'f4'), ('rot_1', 'f4'), ('rot_2', 'f4'), ('rot_3', 'f4'), ('red', 'u1'),
                 ('green', 'u1'), ('blue', 'u1'), ('x', 'f8'), ('y', 'f8'), ('z', 'f8'), ('segment', 'i4')]
                + [(f'f_rest_{i}', 'f8') for i in range(9)]
                + [('opacity', 'f4'), ('f_dc_0', 'f4'), ('f_dc_1', 'f4'), ('f_dc_2', 'f4'),
                   ('scale_0', 'f4'), ('scale_1', 'f4'), ('scale_2', 'f4')])
mixed = np.zeros(N, dtype=mixed_fields)
for i in range(4):
    mixed[f'rot_{i}'] = rot[:, i]
for i, c in enumerate('xyz'):
    mixed[c] = xyz[:, i]
for i in range(3):
    mixed[f'f_dc_{i}'] = f_dc[:, i]
    mixed[f'scale_{i}'] = log_scale[:, i]
for i, f in enumerate(rest1.transpose(0, 2, 1).reshape(N, 9).T):
    mixed[f'f_rest_{i}'] = f
mixed['opacity'] = opacity
mixed['red'] = np.arange(N) % 256
mixed['segment'] = -np.arange(N)
camera = np.array([(1.0, 2.0, 3.0)], dtype=[('px', 'f4'), ('py', 'f4'), ('pz', 'f4')])
PlyData([PlyElement.describe(camera, 'camera'), PlyElement.describe(mixed, 'vertex')], byte_order='<',
        comments=['a scene with extra properties in another order']).write('splats/scene_mixed.ply')

# --- the reference: activated values, float64 from the float32 stored --------------------------
def rounded(a):
    return [float(f'{v:.9g}') for v in np.asarray(a, dtype=np.float64).ravel()]


r64 = rot.astype(np.float64)
reference = {
    'generator': f'numpy {np.__version__}, plyfile 1.1.5',
    'count': N,
    'sh_degree': 3,
    'positions': rounded(xyz),
    'scales': rounded(np.exp(log_scale.astype(np.float64))),
    'opacities': rounded(1 / (1 + np.exp(-opacity.astype(np.float64)))),
    'rotations': rounded(r64 / np.linalg.norm(r64, axis=1, keepdims=True)),
    # splat-major: per splat 16 coefficients of [r, g, b]; coefficient 0 is f_dc.
    'sh': rounded(np.concatenate([f_dc[:, None, :], rest], axis=1)),
    'bounds': [rounded(xyz.min(axis=0)), rounded(xyz.max(axis=0))],
}


# --- SPZ (Niantic load-spz.cc, packGaussians) -------------------------------------------------
def to_u8(x):
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def quantize_sh(x, bucket):
    q = np.round(x * 128.0).astype(np.int32) + 128
    q = (q + bucket // 2) // bucket * bucket
    return np.clip(q, 0, 255).astype(np.uint8)


def spz(version):
    # PLY's RDF axes to SPZ's RUB: flip y and z of positions, of the quaternion's vector part
    # (flipQ = (y*z, x*z, x*y) = (1, -1, -1)) and of the SH (flipSh).
    flip_p = np.array([1.0, -1.0, -1.0])
    x, y, z = flip_p
    flip_sh = np.array([y, z, x, x * y, y * z, 1, x * z, 1, y, x * y * z, y, z, x, z, x])
    positions = np.round(xyz.astype(np.float64) * flip_p * 4096).astype(np.int32)
    pos_bytes = np.stack([positions & 0xff, (positions >> 8) & 0xff, (positions >> 16) & 0xff], axis=-1)
    alphas = to_u8(1 / (1 + np.exp(-opacity.astype(np.float32))) * 255.0)
    colors = to_u8(f_dc * (0.15 * 255.0) + 0.5 * 255.0)
    scales = to_u8((log_scale + 10.0) * 16.0)
    # Quaternion x y z w, normalised, flipped.
    q = np.concatenate([rot[:, 1:], rot[:, :1]], axis=1).astype(np.float32)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    q[:, :3] *= np.array([1.0, -1.0, -1.0], np.float32)
    if version >= 3:
        rotations = np.zeros((N, 4), np.uint8)
        for i in range(N):
            largest = int(np.argmax(np.abs(q[i])))
            negate = q[i, largest] < 0
            comp = largest
            for k in range(4):
                if k != largest:
                    negbit = int((q[i, k] < 0) ^ negate)
                    mag = int(np.float32(511.0) * (abs(q[i, k]) / np.float32(0.7071067811865476)) + np.float32(0.5))
                    comp = (comp << 10) | (negbit << 9) | mag
            rotations[i] = np.frombuffer(np.uint32(comp).tobytes(), np.uint8)
    else:
        sign = np.where(q[:, 3:4] < 0, -127.5, 127.5)
        rotations = to_u8(q[:, :3] * sign + 127.5)
    sh = rest * flip_sh[None, :, None]
    sh_bytes = np.concatenate([quantize_sh(sh[:, :3, :], 8), quantize_sh(sh[:, 3:, :], 16)], axis=1)
    header = np.array([0x5053474E, version, N], '<u4').tobytes() + bytes([3, 12, 0, 0])
    body = (pos_bytes.astype(np.uint8).tobytes() + alphas.tobytes() + colors.tobytes() + scales.tobytes()
            + rotations.tobytes() + sh_bytes.tobytes())
    with open(f'splats/scene_v{version}.spz', 'wb') as f:
        f.write(gzip.compress(header + body, mtime=0))


spz(3)
spz(2)


# --- SuperSplat compressed PLY (splat-transform CompressedChunk.pack) --------------------------
def pack_unorm(v, bits):
    t = (1 << bits) - 1
    return np.clip(np.floor(v * t + 0.5), 0, t).astype(np.uint32)


def normalize(v, lo, hi):
    out = np.where(hi - lo < 0.00001, 0.0, (v - lo) / np.where(hi - lo == 0, 1, hi - lo))
    return np.where(v <= lo, 0.0, np.where(v >= hi, 1.0, out))


def compressed(path, chunk_colors, with_sh):
    chunks, packed = [], np.zeros((N, 4), np.uint32)
    for c0 in range(0, N, 256):
        idx = np.arange(c0, min(N, c0 + 256))
        p, s = xyz[idx].astype(np.float64), log_scale[idx].astype(np.float64)
        col = f_dc[idx].astype(np.float64) * SH_C0 + 0.5
        plo, phi_ = p.min(0), p.max(0)
        slo, shi = np.clip(s.min(0), -20, 20), np.clip(s.max(0), -20, 20)
        clo, chi = (col.min(0), col.max(0)) if chunk_colors else (np.zeros(3), np.ones(3))
        tp, ts, tc = normalize(p, plo, phi_), normalize(s, slo, shi), normalize(col, clo, chi)
        packed[idx, 0] = pack_unorm(tp[:, 0], 11) << 21 | pack_unorm(tp[:, 1], 10) << 11 | pack_unorm(tp[:, 2], 11)
        packed[idx, 2] = pack_unorm(ts[:, 0], 11) << 21 | pack_unorm(ts[:, 1], 10) << 11 | pack_unorm(ts[:, 2], 11)
        alpha = 1 / (1 + np.exp(-opacity[idx].astype(np.float64)))
        packed[idx, 3] = (pack_unorm(tc[:, 0], 8) << 24 | pack_unorm(tc[:, 1], 8) << 16
                          | pack_unorm(tc[:, 2], 8) << 8 | pack_unorm(alpha, 8))
        q = rot[idx].astype(np.float64)
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        for j, i in enumerate(idx):
            a = q[j].copy()
            largest = int(np.argmax(np.abs(a)))
            if a[largest] < 0:
                a = -a
            v = largest
            for k in range(4):
                if k != largest:
                    v = (v << 10) | int(pack_unorm(a[k] * np.sqrt(2) * 0.5 + 0.5, 10))
            packed[i, 1] = v
        row = list(plo) + list(phi_) + list(slo) + list(shi)
        if chunk_colors:
            row += list(clo) + list(chi)
        chunks.append(tuple(row))
    names = ['min_x', 'min_y', 'min_z', 'max_x', 'max_y', 'max_z', 'min_scale_x', 'min_scale_y', 'min_scale_z',
             'max_scale_x', 'max_scale_y', 'max_scale_z']
    if chunk_colors:
        names += ['min_r', 'min_g', 'min_b', 'max_r', 'max_g', 'max_b']
    chunk_el = PlyElement.describe(np.array(chunks, dtype=[(n, 'f4') for n in names]), 'chunk')
    vert = np.zeros(N, dtype=[(n, 'u4') for n in ['packed_position', 'packed_rotation', 'packed_scale',
                                                  'packed_color']])
    for k, n in enumerate(vert.dtype.names):
        vert[n] = packed[:, k]
    elements = [chunk_el, PlyElement.describe(vert, 'vertex')]
    if with_sh:
        sh = np.zeros(N, dtype=[(f'f_rest_{i}', 'u1') for i in range(45)])
        values = np.clip(np.trunc((f_rest.astype(np.float64) / 8 + 0.5) * 256), 0, 255).astype(np.uint8)
        for i in range(45):
            sh[f'f_rest_{i}'] = values[:, i]
        elements.append(PlyElement.describe(sh, 'sh'))
    PlyData(elements, byte_order='<', comments=['Generated by make_splats.py (splat-transform layout)']).write(path)


compressed('splats/scene.compressed.ply', True, True)
compressed('splats/scene_nocolor.compressed.ply', False, False)

with open('splats.json', 'w') as f:
    json.dump(reference, f, separators=(',', ':'))
    f.write('\n')
print({name: os.path.getsize(os.path.join('splats', name)) for name in sorted(os.listdir('splats'))})

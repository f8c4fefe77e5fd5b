#!/usr/bin/env python3
"""Generates labels/ (GIFTI files in datatypes beyond GIFTI's three, FreeSurfer .label files) and
labels.json, what nibabel reads back from each.

Run from this folder with the packages of requirements.txt (nibabel 5.4.2, numpy 2.4.6):

    python3 make_labels.py

Inputs: ../freesurfer/lh.white (fsaverage5, for a label on a real mesh). Everything else is
synthesised here. The GIFTI files are written by nibabel (`mode='force'` keeps the datatypes GIFTI
does not list: nibabel reads every NIfTI datatype, pycortex writes its triangles as uint32). nibabel
has no label writer, so the .label files are written in FreeSurfer's own layout
(`#!ascii label …`, the row count, then `vertex x y z value` rows, as FreeSurfer's LabelWrite
formats them). The reference values come from nibabel reading the written files
(`nib.load`, `nib.freesurfer.read_label(..., read_scalars=True)`), not from the values put in.
"""

import json
import os

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)
os.makedirs('labels', exist_ok=True)

reference = {'generator': f'nibabel {nib.__version__}, numpy {np.__version__}', 'gifti': [], 'labels': []}


def array_ref(da):
    data = np.asarray(da.data)
    if data.dtype.names is not None:  # RGB24 / RGBA32: numpy structured, read as its uint8 components
        data = data.view(np.uint8).reshape(data.shape + (len(data.dtype.names),))
    values = data.ravel(order='C')
    if data.dtype.kind == 'c':  # JSON has no complex numbers: [re, im] pairs
        values = np.stack([values.real, values.imag], axis=-1)
    return {
        'intent': nib.nifti1.intent_codes.niistring[da.intent],
        'datatype': nib.nifti1.data_type_codes.niistring[da.datatype],
        'dtype': data.dtype.name,
        'shape': list(data.shape),
        # Integers stay exact JSON integers (uint64 beyond 2^63 included).
        'values_row_major': values.tolist(),
    }


def gifti_ref(path):
    img = nib.load(path)
    reference['gifti'].append({'file': path, 'arrays': [array_ref(da) for da in img.darrays]})


def save_forced(arrays, path):
    img = nib.gifti.GiftiImage()
    for da in arrays:
        img.add_gifti_data_array(da)
    nib.save(img, path, mode='force')
    gifti_ref(path)


# A 4×4 grid of vertices 3 mm apart in the plane z = 0, x and y from −6 to 3 (vertex v = i + 4j at
# (−6 + 3i, −6 + 3j, 0)), two triangles per cell wound counter-clockwise seen from +z.
GRID_COORDS = np.array([[-6.0 + 3 * (v % 4), -6.0 + 3 * (v // 4), 0.0] for v in range(16)], dtype=np.float32)
GRID_TRIS = np.array([t for j in range(3) for i in range(3)
                      for t in ([i + 4 * j, i + 1 + 4 * j, i + 5 + 4 * j], [i + 4 * j, i + 5 + 4 * j, i + 4 + 4 * j])])


def gifti_files():
    # pycortex's way: float32 coordinates, uint32 triangles (nibabel's default GZipBase64Binary).
    save_forced([
        nib.gifti.GiftiDataArray(GRID_COORDS, intent='NIFTI_INTENT_POINTSET'),
        nib.gifti.GiftiDataArray(GRID_TRIS.astype(np.uint32), intent='NIFTI_INTENT_TRIANGLE', datatype='uint32'),
    ], 'labels/lh.grid_uint32.gii')

    # Every other real datatype nibabel writes, in each encoding, one array column-major; float64
    # coordinates and int64 triangles (ASCII) make a mesh too; an RGB24 colour per vertex.
    v = np.arange(16)
    rgb = np.zeros(16, dtype=[('R', 'u1'), ('G', 'u1'), ('B', 'u1')])
    rgb['R'], rgb['G'], rgb['B'] = v * 16, 255 - v, 7
    save_forced([
        nib.gifti.GiftiDataArray(GRID_COORDS.astype(np.float64), intent='NIFTI_INTENT_POINTSET', datatype='float64'),
        nib.gifti.GiftiDataArray(GRID_TRIS.astype(np.int64), intent='NIFTI_INTENT_TRIANGLE', datatype='int64',
                                 encoding='ASCII'),
        nib.gifti.GiftiDataArray((v - 8).astype(np.int8), intent='NIFTI_INTENT_SHAPE', datatype='int8',
                                 encoding='GIFTI_ENCODING_B64BIN'),
        nib.gifti.GiftiDataArray(((v - 8) * 1000).astype(np.int16), datatype='int16', encoding='ASCII'),
        nib.gifti.GiftiDataArray((v * 4000).astype(np.uint16), datatype='uint16'),
        nib.gifti.GiftiDataArray((v * 250_000_000).astype(np.uint32), datatype='uint32',
                                 encoding='GIFTI_ENCODING_B64BIN'),
        nib.gifti.GiftiDataArray(((v - 8) * 10**12).astype(np.int64), datatype='int64'),
        nib.gifti.GiftiDataArray(np.array([2**64 - 1 - x for x in range(16)], dtype=np.uint64), datatype='uint64',
                                 encoding='ASCII'),
        nib.gifti.GiftiDataArray((v * 0.1 - 1e-300), intent='NIFTI_INTENT_TTEST', datatype='float64'),
        nib.gifti.GiftiDataArray(np.arange(32, dtype=np.uint16).reshape(16, 2), datatype='uint16', ordering='F'),
        nib.gifti.GiftiDataArray(rgb, intent='NIFTI_INTENT_RGB_VECTOR', datatype='RGB',
                                 encoding='GIFTI_ENCODING_B64BIN'),
    ], 'labels/dtypes.gii')

    # What nibabel reads but cortexlens refuses: a triangle index past the vertex count in uint64
    # (read, then a typed error when made a mesh), complex values (refused when read).
    bad = GRID_TRIS.astype(np.uint64)
    bad[5, 1] = 2**40
    save_forced([
        nib.gifti.GiftiDataArray(GRID_COORDS, intent='NIFTI_INTENT_POINTSET'),
        nib.gifti.GiftiDataArray(bad, intent='NIFTI_INTENT_TRIANGLE', datatype='uint64'),
    ], 'labels/lh.grid_bad_uint64.gii')
    save_forced([
        nib.gifti.GiftiDataArray((v + 1j * v).astype(np.complex64), datatype='complex64'),
    ], 'labels/complex64.gii')


def write_label(path, vertices, coords, values, subject, count=None):
    """FreeSurfer's LabelWrite layout; `count` overrides the row count of the header."""
    with open(path, 'w') as f:
        f.write(f'#!ascii label  , from subject {subject} vox2ras=TkReg\n')
        f.write(f'{len(vertices) if count is None else count}\n')
        for v, (x, y, z), s in zip(vertices, coords, values):
            f.write(f'{v}  {x:.3f}  {y:.3f}  {z:.3f} {s:.10f}\n')
    vertices_read, values_read = nib.freesurfer.read_label(path, read_scalars=True)
    rows = np.loadtxt(path, skiprows=2, ndmin=2)
    with open(path) as f:
        f.readline()
        header_count = int(f.readline())
    reference['labels'].append({
        'file': path,
        'header_count': header_count,
        'vertices': np.atleast_1d(vertices_read).tolist(),
        'coords': rows[:, 1:4].tolist(),
        'values': np.atleast_1d(values_read).tolist(),
    })


def label_files():
    # The 3×3 corner of the grid: vertices 0–2, 4–6, 8–10 (0, 1 and 4 lie on the grid's border and
    # 5 inside, so its outline is 2, 6, 8, 9, 10).
    square = [0, 1, 2, 4, 5, 6, 8, 9, 10]
    write_label('labels/lh.square.label', square, GRID_COORDS[square], [0.25 * v for v in square], 'grid')
    # The header counts 5 rows, 4 follow: nibabel reads the 4, cortexlens refuses the file.
    write_label('labels/lh.mismatch.label', [1, 2, 5, 6], GRID_COORDS[[1, 2, 5, 6]], [0, 0, 0, 0], 'grid',
                count=5)
    # A region of the fsaverage5 left hemisphere: the white-surface vertices within 12 mm (in y) of
    # the occipital pole, a stand-in for V1, with their white coordinates as FreeSurfer stores them.
    coords, _ = nib.freesurfer.read_geometry(os.path.join(HERE, '..', 'freesurfer', 'lh.white'))
    pole = coords[:, 1].min()
    occipital = np.flatnonzero(coords[:, 1] < pole + 12)
    write_label('labels/lh.occipital.label', occipital.tolist(), coords[occipital],
                (coords[occipital, 1] - pole) / 12, 'fsaverage5')


gifti_files()
label_files()
with open('labels.json', 'w') as f:
    json.dump(reference, f, indent=1)
    f.write('\n')
print('wrote', len(reference['gifti']), 'GIFTI files and', len(reference['labels']), 'labels')

#!/usr/bin/env python3
"""Generates the small CIFTI-2 test setup in `cifti/` and `cifti.json`, what nibabel reads back.

Run from this folder with the packages of requirements.txt (nibabel 5.4.2, numpy 2.4.6):

    python3 make_cifti.py

An fs_LR-like setup in miniature, everything synthesised here:

- `cifti/mini.L.sphere.surf.gii`, `cifti/mini.R.sphere.surf.gii`: icospheres of 162 vertices
  (radius 30 mm, centred at x = -40 and x = +40), GIFTI with `AnatomicalStructurePrimary`
  CortexLeft / CortexRight, as Workbench writes them.
- a 10x12x8 volume grid of 2 mm voxels with 8 subcortical voxels (thalamus left and right);
- dense files over the 150 cortical vertices per hemisphere that are not "medial wall"
  (the 12 vertices with the largest x on the left, the smallest x on the right) plus the 8 voxels:
  `mini.dscalar.nii` (2 maps, float32), `mini.dtseries.nii` (5 frames, int16 with scaling),
  `mini.dlabel.nii` (2 label maps with their tables), `mini.dconn.nii` (every 4th vertex and the
  voxels, to stay small);
- parcel files: `mini.pscalar.nii` (2 maps x 4 parcels) and `mini.pconn.nii` (4 x 4);
- malformed variants that must give typed errors: `bad_xml.dscalar.nii` (XML not well formed),
  `bad_count.dscalar.nii` (a brain model's IndexCount disagrees with the vertices it lists),
  `bad_shape.dscalar.nii` (the matrix has fewer columns than the brain models cover),
  `bad_vertices.dscalar.nii` (a structure lists more vertices than its surface has),
  `bad_voxel.dscalar.nii` (a voxel outside the volume), `no_xml.dscalar.nii` (a CIFTI intent
  without the CIFTI extension), `truncated.dscalar.nii` (the matrix cut short).

`cifti.json` holds what nibabel's `cifti2` module reads back from each good file (matrix shape,
index maps, values), not the values that were put in.
"""

import json
import os
import struct

import nibabel as nib
import numpy as np
from nibabel import cifti2 as ci

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'cifti')
os.makedirs(OUT, exist_ok=True)
os.chdir(OUT)
rng = np.random.default_rng(20240611)


def icosphere(level):
    t = (1 + 5 ** 0.5) / 2
    verts = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t),
             (0, -1, -t), (0, 1, -t), (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    verts = [np.array(v, float) / np.linalg.norm(v) for v in verts]
    faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4),
             (11, 10, 2), (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8),
             (3, 8, 9), (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    for _ in range(level):
        cache = {}

        def mid(a, b):
            key = (min(a, b), max(a, b))
            if key not in cache:
                m = verts[a] + verts[b]
                verts.append(m / np.linalg.norm(m))
                cache[key] = len(verts) - 1
            return cache[key]

        new = []
        for a, b, c in faces:
            ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
            new += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = new
    return np.array(verts), np.array(faces, dtype=np.int32)


unit, faces = icosphere(2)
NV = len(unit)  # 162
meshes = {}
for side, structure, cx in (('L', 'CortexLeft', -40.0), ('R', 'CortexRight', 40.0)):
    coords = (unit * 30.0 + [cx, 0.0, 10.0]).astype(np.float32)
    meta = nib.gifti.GiftiMetaData({'AnatomicalStructurePrimary': structure})
    points = nib.gifti.GiftiDataArray(coords, intent='NIFTI_INTENT_POINTSET', datatype='NIFTI_TYPE_FLOAT32',
                                      meta=nib.gifti.GiftiMetaData({'AnatomicalStructurePrimary': structure,
                                                                    'GeometricType': 'Spherical'}))
    tris = nib.gifti.GiftiDataArray(faces, intent='NIFTI_INTENT_TRIANGLE', datatype='NIFTI_TYPE_INT32')
    nib.save(nib.gifti.GiftiImage(meta=meta, darrays=[points, tris]), f'mini.{side}.sphere.surf.gii')
    meshes[side] = coords

# The medial wall: 12 vertices nearest the midline on each side.
order = np.argsort(unit[:, 0])
left_vertices = np.sort(order[:NV - 12])      # drop the 12 largest x (towards the midline)
right_vertices = np.sort(order[12:])          # drop the 12 smallest x

VOLUME_SHAPE = (10, 12, 8)
AFFINE = np.array([[2.0, 0, 0, -10.0], [0, 2.0, 0, -12.0], [0, 0, 2.0, -4.0], [0, 0, 0, 1]])
thal_l = np.array([[3, 5, 3], [3, 6, 3], [4, 5, 3], [3, 5, 4]])
thal_r = np.array([[6, 5, 3], [6, 6, 3], [5, 5, 3], [6, 5, 4]])


def brain_models(lv, rv):
    left = ci.BrainModelAxis.from_surface(lv, NV, 'CortexLeft')
    right = ci.BrainModelAxis.from_surface(rv, NV, 'CortexRight')
    mask_l = np.zeros(VOLUME_SHAPE, bool)
    mask_l[tuple(thal_l.T)] = True
    mask_r = np.zeros(VOLUME_SHAPE, bool)
    mask_r[tuple(thal_r.T)] = True
    vl = ci.BrainModelAxis.from_mask(mask_l, 'ThalamusLeft', AFFINE)
    vr = ci.BrainModelAxis.from_mask(mask_r, 'ThalamusRight', AFFINE)
    return left + right + vl + vr


dense = brain_models(left_vertices, right_vertices)
n_dense = len(dense)  # 308


def world_of(axis):
    """A world position per brainordinate: the left/right sphere vertex or the voxel centre."""
    out = np.zeros((len(axis), 3))
    for name, slc, bm in axis.iter_structures():
        idx = np.arange(len(axis))[slc]
        if bm.surface_mask.all():
            side = 'L' if 'LEFT' in name else 'R'
            out[idx] = meshes[side][bm.vertex[bm.surface_mask]]
        else:
            ijk = bm.voxel[bm.volume_mask]
            out[idx] = ijk @ AFFINE[:3, :3].T + AFFINE[:3, 3]
    return out


pos = world_of(dense)


def save(data, axes, name, intent, dtype=None, slope=None, inter=None):
    img = ci.Cifti2Image(data, ci.Cifti2Header.from_axes(axes))
    img.nifti_header.set_intent(intent)
    if dtype is not None:
        img.set_data_dtype(dtype)
    if slope is not None:
        img.nifti_header.set_slope_inter(slope, inter)
    img.to_filename(name)


# dscalar: two maps, a smooth gradient and a signed pattern.
scalars = np.stack([pos[:, 1] + 0.5 * pos[:, 2], np.sin(pos[:, 0] / 7.0) * 3.0]).astype(np.float32)
save(scalars, (ci.ScalarAxis(['gradient', 'signed']), dense), 'mini.dscalar.nii', 'ConnDenseScalar')

# dtseries: five frames, stored as int16 with a scale (nibabel picks slope/intercept on save).
t = np.arange(5)[:, None]
series = (np.cos(pos[None, :, 2] / 9.0 + t * 0.7) * 100.0).astype(np.float32)
save(series, (ci.SeriesAxis(start=0.0, step=0.72, size=5, unit='SECOND'), dense), 'mini.dtseries.nii',
     'ConnDenseSeries', dtype=np.int16)

# dlabel: two label maps (keys as float32, as Workbench writes them).
table_a = {0: ('???', (1.0, 1.0, 1.0, 0.0)), 1: ('anterior', (1.0, 0.0, 0.0, 1.0)),
           2: ('posterior', (0.0, 0.0, 1.0, 1.0)), 3: ('deep', (0.0, 0.8, 0.2, 1.0))}
table_b = {0: ('???', (1.0, 1.0, 1.0, 0.0)), 5: ('upper', (0.9, 0.6, 0.1, 1.0)),
           7: ('lower', (0.3, 0.3, 0.9, 1.0))}
labels_a = np.where(dense.volume_mask, 3, np.where(pos[:, 1] >= 0, 1, 2))
labels_b = np.where(pos[:, 2] >= 10.0, 5, 7)
labels_b[dense.volume_mask] = 0
label_data = np.stack([labels_a, labels_b]).astype(np.float32)
save(label_data, (ci.LabelAxis(['lobes', 'height'], [table_a, table_b]), dense), 'mini.dlabel.nii',
     'ConnDenseLabel')

# dconn: every 4th cortical vertex and the voxels; value = exp(-distance / 20 mm).
conn_axis = brain_models(left_vertices[::4], right_vertices[::4])
cpos = world_of(conn_axis)
dist = np.linalg.norm(cpos[:, None, :] - cpos[None, :, :], axis=2)
conn = np.exp(-dist / 20.0).astype(np.float32)
save(conn, (conn_axis, conn_axis), 'mini.dconn.nii', 'ConnDense')

# Parcels: left anterior / left posterior / right cortex / thalamus.
sub = dense
parcels_src = [
    ('L_anterior', sub[np.flatnonzero((pos[:, 0] < -5) & (pos[:, 1] >= 0) & dense.surface_mask)]),
    ('L_posterior', sub[np.flatnonzero((pos[:, 0] < -5) & (pos[:, 1] < 0) & dense.surface_mask)]),
    ('R_cortex', sub[np.flatnonzero((pos[:, 0] > 5) & dense.surface_mask)]),
    ('thalamus', sub[np.flatnonzero(dense.volume_mask)]),
]
parcels = ci.ParcelsAxis.from_brain_models(parcels_src)
pvals = np.array([[1.5, -2.0, 3.25, 0.5], [10.0, 20.0, 30.0, 40.0]], np.float32)
save(pvals, (ci.ScalarAxis(['effect', 'rank']), parcels), 'mini.pscalar.nii', 'ConnParcelScalr')
pconn = (np.arange(16, dtype=np.float32).reshape(4, 4) / 4.0)
save(pconn, (parcels, parcels), 'mini.pconn.nii', 'ConnParcels')


# ---- malformed variants, edited at the byte level from mini.dscalar.nii ----

def read_parts(path):
    raw = open(path, 'rb').read()
    vox_offset = struct.unpack_from('<q', raw, 168)[0]
    esize, ecode = struct.unpack_from('<ii', raw, 544)
    assert ecode == 32
    xml = raw[552:544 + esize].rstrip(b'\0')
    return raw[:540], xml, raw[vox_offset:]


def write_parts(path, header, xml, data, with_extension=True):
    header = bytearray(header)
    if with_extension:
        body = xml + b'\0' * ((-(len(xml) + 8)) % 16)
        ext = b'\x01\0\0\0' + struct.pack('<ii', len(body) + 8, 32) + body
    else:
        ext = b'\0\0\0\0'
    struct.pack_into('<q', header, 168, 540 + len(ext))
    open(path, 'wb').write(bytes(header) + ext + data)


hdr, xml, data = read_parts('mini.dscalar.nii')
write_parts('bad_xml.dscalar.nii', hdr, xml.replace(b'</Matrix>', b'</Matrx>'), data)
count_l = len(left_vertices)
tag = f'IndexCount="{count_l}"'.encode()
assert tag in xml
write_parts('bad_count.dscalar.nii', hdr, xml.replace(tag, f'IndexCount="{count_l - 10}"'.encode(), 1), data)
sv = f'SurfaceNumberOfVertices="{NV}"'.encode()
write_parts('bad_vertices.dscalar.nii', hdr, xml.replace(sv, b'SurfaceNumberOfVertices="100"', 1), data)
write_parts('bad_voxel.dscalar.nii', hdr, xml.replace(b'VolumeDimensions="10,12,8"', b'VolumeDimensions="10,12,3"'), data)
short = bytearray(hdr)
struct.pack_into('<q', short, 64, n_dense - 8)  # dim[6]: fewer columns than the brain models cover
write_parts('bad_shape.dscalar.nii', bytes(short), xml, data[: 2 * 4 * (n_dense - 8)])
write_parts('no_xml.dscalar.nii', hdr, b'', data, with_extension=False)
write_parts('truncated.dscalar.nii', hdr, xml, data[: len(data) // 2])


# ---- what nibabel reads back ----

def axis_ref(axis):
    if isinstance(axis, ci.BrainModelAxis):
        structures = []
        for name, slc, bm in axis.iter_structures():
            surface = bool(bm.surface_mask.all())
            entry = {'name': name, 'model_type': 'surface' if surface else 'voxels',
                     'offset': int(slc.start or 0), 'count': len(bm)}
            if surface:
                entry['surface_number_of_vertices'] = int(axis.nvertices[name])
                entry['vertices'] = bm.vertex.tolist()
            else:
                entry['voxels'] = bm.voxel.tolist()
            structures.append(entry)
        out = {'type': 'brain_models', 'count': len(axis), 'structures': structures}
        if axis.volume_shape is not None:
            out['volume_dimensions'] = list(axis.volume_shape)
            out['affine'] = axis.affine.tolist()
        return out
    if isinstance(axis, ci.SeriesAxis):
        return {'type': 'series', 'count': len(axis), 'start': float(axis.start), 'step': float(axis.step),
                'unit': axis.unit}
    if isinstance(axis, ci.ScalarAxis):
        return {'type': 'scalars', 'count': len(axis), 'names': axis.name.tolist()}
    if isinstance(axis, ci.LabelAxis):
        tables = [[{'key': int(k), 'name': v[0], 'rgba': [float(c) for c in v[1]]} for k, v in sorted(lab.items())]
                  for lab in axis.label]
        return {'type': 'labels', 'count': len(axis), 'names': axis.name.tolist(), 'tables': tables}
    if isinstance(axis, ci.ParcelsAxis):
        parcels = []
        for i in range(len(axis)):
            parcels.append({'name': str(axis.name[i]),
                            'vertices': {k: v.tolist() for k, v in axis.vertices[i].items()},
                            'voxels': np.asarray(axis.voxels[i]).reshape(-1, 3).tolist()})
        out = {'type': 'parcels', 'count': len(axis), 'parcels': parcels,
               'surfaces': {k: int(v) for k, v in axis.nvertices.items()}}
        if axis.volume_shape is not None:
            out['volume_dimensions'] = list(axis.volume_shape)
            out['affine'] = axis.affine.tolist()
        return out
    raise TypeError(axis)


reference = {'generator': f'nibabel {nib.__version__}, numpy {np.__version__}', 'files': [],
             'meshes': {'vertices': NV, 'triangles': len(faces)}}
for name in ['mini.dscalar.nii', 'mini.dtseries.nii', 'mini.dlabel.nii', 'mini.dconn.nii',
             'mini.pscalar.nii', 'mini.pconn.nii']:
    img = nib.load(name)
    values = np.asarray(img.get_fdata(dtype=np.float64))
    rows, cols = values.shape
    picks = sorted({(0, 0), (rows - 1, cols - 1)} | {(int(rng.integers(rows)), int(rng.integers(cols)))
                                                      for _ in range(24)})
    entry = {
        'file': name,
        'intent_code': int(img.nifti_header.get_intent('code')[0]),
        'on_disk_dtype': img.nifti_header.get_data_dtype().name,
        'shape': [rows, cols],
        'maps': [axis_ref(img.header.get_axis(i)) for i in range(2)],
        'row_sums': values.sum(axis=1).tolist(),
        'samples': [{'row': r, 'col': c, 'value': float(values[r, c])} for r, c in picks],
    }
    if rows <= 8:
        entry['values'] = values.tolist()
    if name == 'mini.dconn.nii':
        entry['rows'] = {str(r): values[r].tolist() for r in (0, 5, rows - 1)}
    reference['files'].append(entry)

with open(os.path.join(HERE, 'cifti.json'), 'w') as f:
    json.dump(reference, f, indent=1)
    f.write('\n')
print('wrote', sorted(os.listdir('.')))

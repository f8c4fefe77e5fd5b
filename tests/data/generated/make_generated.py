#!/usr/bin/env python3
"""Generates the small test files in this folder and `generated.json`, what nibabel reads back.

Run from this folder with nibabel 5.x and numpy (`pip install nibabel`):

    python3 make_generated.py

Inputs: ../volumes/nibabel_functional.nii and ../volumes/nibabel_anatomical.nii (nibabel's own
test data, MIT). Everything else is synthesised here. The reference values in generated.json
come from nibabel loading the written files, not from the values put in, so they check the
Rust readers against nibabel's reading.
"""

import base64
import gzip
import json
import os
import struct
import zlib

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
VOLUMES = os.path.join(HERE, '..', 'volumes')
os.chdir(HERE)

reference = {'generator': f'nibabel {nib.__version__}, numpy {np.__version__}', 'volumes': [], 'surfaces': []}


def vol_ref(path, all_values):
    img = nib.load(path)
    data = np.asarray(img.get_fdata(dtype=np.float64))
    hdr = img.header
    entry = {
        'file': path,
        'format': type(img).__name__,
        'shape': list(img.shape),
        'on_disk_dtype': hdr.get_data_dtype().name,
        'big_endian': hdr.endianness == '>',
        'zooms': [float(z) for z in hdr.get_zooms()],
        'affine': img.affine.tolist(),
        'scl_slope': float(img.dataobj.slope),
        'scl_inter': float(img.dataobj.inter),
        'sum': float(np.nansum(data)),
        'min': float(np.nanmin(data)),
        'max': float(np.nanmax(data)),
    }
    if all_values:
        entry['values_fortran_order'] = data.ravel(order='F').tolist()
    else:
        c = tuple(s // 2 for s in data.shape[:3])
        entry['samples'] = [{'ijk': list(ijk), 'value': float(data[ijk + (0,) * (data.ndim - 3)])}
                            for ijk in [(0, 0, 0), c, tuple(s - 1 for s in data.shape[:3])]]
    reference['volumes'].append(entry)


def write_nifti1(path, arr, big_endian, slope=1.0, inter=0.0, sform=None, qform=None, pixdim=None):
    """Writes a single-file NIfTI-1 by hand so that scl_slope/scl_inter stay exactly as given."""
    hdr = nib.Nifti1Header(endianness='>' if big_endian else '<')
    hdr.set_data_dtype(arr.dtype)
    hdr.set_data_shape(arr.shape)
    if pixdim is not None:
        hdr.set_zooms(pixdim)
    hdr['scl_slope'] = slope
    hdr['scl_inter'] = inter
    hdr['sform_code'] = 0
    hdr['qform_code'] = 0
    if sform is not None:
        hdr.set_sform(sform, code=2)
    if qform is not None:
        hdr.set_qform(qform, code=1)
    hdr['vox_offset'] = 352
    with open(path, 'wb') as f:
        hdr.write_to(f)  # 348 bytes and the 4-byte extension flag
        f.write(arr.astype(arr.dtype.newbyteorder('>' if big_endian else '<')).tobytes(order='F'))


def datatype_zoo():
    os.makedirs('dtypes', exist_ok=True)
    shape = (3, 4, 5)
    base = np.arange(60).reshape(shape, order='F')
    aff = np.array([[2.0, 0, 0, -3], [0, 2.5, 0, -4], [0, 0, 3, -5], [0, 0, 0, 1]])
    for name in ['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64']:
        dt = np.dtype(name)
        if dt.kind == 'f':
            arr = ((base - 30) * 0.37).astype(dt)
        elif dt.kind == 'i':
            arr = (base - 30).astype(dt) * (3 if dt.itemsize > 1 else 1)
        else:
            arr = (base * (4 if dt.itemsize > 1 else 1)).astype(dt)
        if dt.itemsize >= 4 and dt.kind in 'iu':
            arr = arr.astype(np.int64 if dt.kind == 'i' else np.uint64)
            arr[0, 0, 0] = np.iinfo(dt).max
            arr = arr.astype(dt)
        for big in (False, True):
            path = f'dtypes/{name}_{"be" if big else "le"}.nii'
            scaled = dt.kind in 'iu' and dt.itemsize <= 2
            write_nifti1(path, arr, big, slope=0.5 if scaled else 1.0, inter=-3.0 if scaled else 0.0, sform=aff)
            vol_ref(path, all_values=True)


def transforms():
    arr = np.arange(24, dtype=np.int16).reshape((2, 3, 4), order='F')
    # qform only: a rotation about an oblique axis, negative determinant (qfac = -1).
    theta = 0.3
    axis = np.array([1.0, 2.0, 2.0]) / 3.0
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rot = np.eye(3) + np.sin(theta) * k + (1 - np.cos(theta)) * k @ k
    q = np.eye(4)
    q[:3, :3] = rot @ np.diag([1.5, 2.0, -2.5])
    q[:3, 3] = [10.0, -20.0, 30.0]
    write_nifti1('qform_only.nii', arr, False, qform=q, pixdim=(1.5, 2.0, 2.5))
    vol_ref('qform_only.nii', all_values=True)
    # no transform at all: nibabel's base affine (x flipped, centred).
    write_nifti1('no_transform.nii', arr, True, pixdim=(1.5, 2.0, 2.5))
    vol_ref('no_transform.nii', all_values=True)


def nifti2():
    func = nib.load(os.path.join(VOLUMES, 'nibabel_functional.nii'))
    raw = np.asanyarray(func.dataobj.get_unscaled())
    hdr = nib.Nifti2Header()
    hdr.set_data_dtype(raw.dtype)
    img = nib.Nifti2Image(raw, func.affine, hdr)
    img.header.set_qform(func.affine, code=2)
    img.header.set_sform(func.affine, code=2)
    img.header.set_zooms(func.header.get_zooms())
    img.to_filename('nifti2_functional.nii')
    # Keep the scaling of the original: patch scl_slope/scl_inter (float64 at 176/184).
    slope, inter = func.dataobj.slope, func.dataobj.inter
    with open('nifti2_functional.nii', 'r+b') as f:
        f.seek(176)
        f.write(struct.pack('<dd', slope, inter))
    vol_ref('nifti2_functional.nii', all_values=False)

    anat = nib.load(os.path.join(VOLUMES, 'nibabel_anatomical.nii'))
    raw = np.asanyarray(anat.dataobj)
    hdr = nib.Nifti2Header(endianness='>')
    hdr.set_data_dtype(raw.dtype)
    img = nib.Nifti2Image(raw.astype(raw.dtype.newbyteorder('>')), anat.affine, hdr)
    img.header.set_qform(anat.affine, code=1)
    img.header['sform_code'] = 0
    img.to_filename('nifti2_anatomical_be.nii.gz')
    vol_ref('nifti2_anatomical_be.nii.gz', all_values=False)


def gifti_ref(path):
    img = nib.load(path)
    arrays = []
    for da in img.darrays:
        arrays.append({
            'intent': nib.nifti1.intent_codes.niistring[da.intent],
            'dtype': da.data.dtype.name,
            'shape': list(da.data.shape),
            'values_row_major': np.asarray(da.data).ravel(order='C').tolist(),
        })
    labels = [{'key': int(lab.key), 'name': lab.label, 'rgba': [float(c) for c in lab.rgba]}
              for lab in img.labeltable.labels]
    reference['surfaces'].append({'file': path, 'arrays': arrays, 'labels': labels})


def gifti():
    coords = (np.arange(15, dtype=np.float32).reshape(5, 3) * 1.25 - 7).astype(np.float32)
    tris = np.array([[0, 1, 2], [2, 3, 4]], dtype=np.int32)
    # Column-major, GZipBase64Binary (nibabel's default encoding), written by nibabel.
    img = nib.gifti.GiftiImage()
    img.add_gifti_data_array(nib.gifti.GiftiDataArray(coords, intent='NIFTI_INTENT_POINTSET', ordering='F'))
    img.add_gifti_data_array(nib.gifti.GiftiDataArray(tris, intent='NIFTI_INTENT_TRIANGLE', ordering='F'))
    nib.save(img, 'column_major_gzip.gii')
    gifti_ref('column_major_gzip.gii')

    # Labels and a uint8 array with another intent, ASCII, by nibabel.
    img = nib.gifti.GiftiImage()
    table = nib.gifti.GiftiLabelTable()
    for key, name, rgba in [(0, 'background', (0, 0, 0, 0)), (3, 'motor', (1, 0.5, 0, 1)), (9, 'visual', (0.2, 0.4, 0.6, 0.8))]:
        lab = nib.gifti.GiftiLabel(key=key, red=rgba[0], green=rgba[1], blue=rgba[2], alpha=rgba[3])
        lab.label = name
        table.labels.append(lab)
    img.labeltable = table
    img.add_gifti_data_array(nib.gifti.GiftiDataArray(np.array([0, 3, 3, 9, 0], dtype=np.int32),
                                                      intent='NIFTI_INTENT_LABEL', encoding='ASCII'))
    img.add_gifti_data_array(nib.gifti.GiftiDataArray(np.array([[1, 2], [3, 250], [7, 8]], dtype=np.uint8),
                                                      intent='NIFTI_INTENT_VECTOR', encoding='GIFTI_ENCODING_B64BIN'))
    nib.save(img, 'labels_ascii.gii')
    gifti_ref('labels_ascii.gii')

    # Big-endian, written by hand (nibabel always writes the machine's byte order).
    def da(intent, dtname, arr, enc, order='RowMajorOrder'):
        raw = arr.astype(arr.dtype.newbyteorder('>')).tobytes(order='F' if order == 'ColumnMajorOrder' else 'C')
        if enc == 'GZipBase64Binary':
            raw = zlib.compress(raw)
        text = base64.b64encode(raw).decode()
        text = '\n'.join(text[i:i + 60] for i in range(0, len(text), 60))
        dims = ' '.join(f'Dim{i}="{d}"' for i, d in enumerate(arr.shape))
        return (f'  <DataArray Intent="{intent}" DataType="{dtname}" ArrayIndexingOrder="{order}"\n'
                f'             Dimensionality="{arr.ndim}" {dims} Encoding="{enc}" Endian="BigEndian"\n'
                f'             ExternalFileName="" ExternalFileOffset="">\n'
                f'    <MetaData/>\n    <Data>{text}</Data>\n  </DataArray>\n')
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<!DOCTYPE GIFTI SYSTEM "http://www.nitrc.org/frs/download.php/115/gifti.dtd">\n'
           '<GIFTI Version="1.0" NumberOfDataArrays="3">\n  <MetaData/>\n  <LabelTable/>\n'
           + da('NIFTI_INTENT_POINTSET', 'NIFTI_TYPE_FLOAT32', coords, 'Base64Binary')
           + da('NIFTI_INTENT_TRIANGLE', 'NIFTI_TYPE_INT32', tris, 'GZipBase64Binary', 'ColumnMajorOrder')
           + da('NIFTI_INTENT_SHAPE', 'NIFTI_TYPE_FLOAT32', np.array([0.5, -1, 2, 1e-3, 4e5], dtype=np.float32),
                'GZipBase64Binary')
           + '</GIFTI>\n')
    with open('big_endian.gii', 'w') as f:
        f.write(xml)
    gifti_ref('big_endian.gii')


datatype_zoo()
transforms()
nifti2()
gifti()
with open('generated.json', 'w') as f:
    json.dump(reference, f, indent=1)
    f.write('\n')
print('wrote', len(reference['volumes']), 'volumes and', len(reference['surfaces']), 'surfaces')

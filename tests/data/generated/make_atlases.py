#!/usr/bin/env python3
"""Small atlases in FSL's format and the lookups numpy makes of them (`atlases.json`), for
data/tests/atlases.rs and the window and CLI tests.

Run from this folder with the versions of requirements.txt (nibabel 5.4.2, numpy 2.4.6):

    python3 make_atlases.py

Everything is synthesised here. Writes atlases/:

- Blobs.xml: a probabilistic atlas of four Gaussian blobs as FSL's descriptors describe theirs
  (`<type>Probabilistic</type>`, ISO-8859-1), in two resolutions listed coarse first as
  Harvard-Oxford lists 2 mm before 1 mm: Blobs/blobs-prob-{4,2}mm.nii.gz (4D uint8 percentages,
  frame i = label index i) and Blobs/blobs-maxprob-thr25-{4,2}mm.nii.gz (3D uint8: index + 1 of
  the most probable region where it reaches 25 %, else 0). Labels 0, 1 and 3 carry a reference
  point (x, y, z: voxel coordinates of the first image, the 4 mm one); label 2 has none.
- Lobes.xml: a label atlas (`<type>Label</type>`, index = voxel value 2, 5, 9, 11) over
  Lobes/lobes-2mm.nii.gz (int16), one name in Latin-1 (Schläfenlappen); label 11 has no
  reference point.
- blobs_fractions.nii.gz + blobs_fractions.tsv: the 2 mm probabilities as float32 fractions with a
  BIDS table (0 Background, 1–4 the blobs): a plain 4D probabilistic volume.
- bad_*.xml: broken descriptors (garbage bytes, another root element, no <images>, a missing
  image, a label index past the 4D image's frames, a 4D summary image).

atlases.json holds, per atlas, what numpy computes from the written files (read back with
nibabel): the regions at sampled points in world mm (the voxel nearest the point, np.round of the
inverse affine, as fslpy's coordValues; probabilities > 0 highest first, and their text as
FSLeyes shows it, "45% Left Frontal Blob, …"), the summary label there, and each region's centre
(the reference point through the first image's affine when the XML gives one, else the centre of
mass of the region's voxels or of its probability map in the finest image, as an affine of the
numpy index mean).
"""

import json
import os

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)
os.makedirs('atlases/Blobs', exist_ok=True)
os.makedirs('atlases/Lobes', exist_ok=True)

# MNI-like grids: x decreasing with i, both resolutions sharing the first voxel's centre.
A2 = np.array([[-2.0, 0, 0, 30], [0, 2.0, 0, -42], [0, 0, 2.0, -24], [0, 0, 0, 1]])
A4 = np.array([[-4.0, 0, 0, 30], [0, 4.0, 0, -42], [0, 0, 4.0, -24], [0, 0, 0, 1]])
SHAPE2 = (30, 36, 30)
SHAPE4 = (15, 18, 15)

BLOBS = [  # name, centre (mm), sigma (mm), reference point given
    ('Left Frontal Blob', (-14.0, 10.0, 8.0), 7.0, True),
    ('Right Frontal Blob', (14.0, 10.0, 8.0), 7.0, True),
    ('Occipital Cap', (0.0, -30.0, 6.0), 8.0, False),
    ('Central Ridge', (0.0, -6.0, 20.0), 6.0, True),
]


def world(affine, shape):
    """World mm of every voxel centre, shape + (3,)."""
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing='ij'), axis=-1).astype(float)
    return ijk @ affine[:3, :3].T + affine[:3, 3]


def save(data, affine, path):
    img = nib.Nifti1Image(data, affine)
    img.set_sform(affine, code=4)
    img.set_qform(affine, code=4)
    nib.save(img, path)


def blob_images(affine, shape, suffix):
    mm = world(affine, shape)
    raw = np.stack([np.exp(-((mm - c) ** 2).sum(-1) / (2 * s * s)) for _, c, s, _ in BLOBS], axis=-1)
    prob = np.round(90.0 * raw / np.maximum(1.0, raw.sum(-1, keepdims=True))).astype(np.uint8)
    summary = np.where(prob.max(-1) >= 25, prob.argmax(-1) + 1, 0).astype(np.uint8)
    save(prob, affine, f'atlases/Blobs/blobs-prob-{suffix}.nii.gz')
    save(summary, affine, f'atlases/Blobs/blobs-maxprob-thr25-{suffix}.nii.gz')


blob_images(A4, SHAPE4, '4mm')
blob_images(A2, SHAPE2, '2mm')


def voxel_of(affine, mm):
    return [int(v) for v in np.round(np.linalg.inv(affine) @ np.append(mm, 1.0))[:3]]


def xml_label(index, name, voxel):
    xyz = '' if voxel is None else ' x="{}" y="{}" z="{}"'.format(*voxel)
    return f'    <label index="{index}"{xyz}>{name}</label>\n'


def write_xml(path, name, shortname, kind, images, labels):
    body = ''.join(
        f'    <images>\n      <imagefile>{image}</imagefile>\n'
        f'      <summaryimagefile>{summary}</summaryimagefile>\n    </images>\n'
        for image, summary in images)
    text = (f'<?xml version="1.0" encoding="ISO-8859-1"?>\n<atlas version="1.0">\n  <header>\n'
            f'    <name>{name}</name>\n    <shortname>{shortname}</shortname>\n    <type>{kind}</type>\n'
            f'{body}  </header>\n  <data>\n{"".join(labels)}  </data>\n</atlas>\n')
    with open(path, 'w', encoding='latin-1') as f:
        f.write(text)


BLOB_IMAGES = [('/Blobs/blobs-prob-4mm', '/Blobs/blobs-maxprob-thr25-4mm'),
               ('/Blobs/blobs-prob-2mm', '/Blobs/blobs-maxprob-thr25-2mm')]
BLOB_LABELS = [xml_label(i, name, voxel_of(A4, c) if ref else None) for i, (name, c, _, ref) in enumerate(BLOBS)]
write_xml('atlases/Blobs.xml', 'Blobs Probabilistic Atlas', 'BLOBS', 'Probabilistic', BLOB_IMAGES, BLOB_LABELS)

# The label atlas: lobes of an ellipsoid "brain".
LOBES = [(2, 'Frontal Lobe', True), (5, 'Parietal Lobe', True), (9, 'Occipital Lobe', True),
         (11, 'Temporal Lobe (Schläfenlappen)', False)]
mm2 = world(A2, SHAPE2)
x, y, z = mm2[..., 0], mm2[..., 1], mm2[..., 2]
inside = (x / 26) ** 2 + ((y + 8) / 32) ** 2 + ((z - 4) / 26) ** 2 <= 1
lobes = np.select([~inside, y > 0, y < -25, z > 10], [0, 2, 9, 5], 11).astype(np.int16)
save(lobes, A2, 'atlases/Lobes/lobes-2mm.nii.gz')
LOBE_REFS = {2: (0.0, 12.0, 4.0), 5: (0.0, -12.0, 20.0), 9: (0.0, -32.0, 4.0)}
LOBE_LABELS = [xml_label(v, name, voxel_of(A2, LOBE_REFS[v]) if ref else None) for v, name, ref in LOBES]
write_xml('atlases/Lobes.xml', 'Lobes Label Atlas', 'LOBES', 'Label',
          [('/Lobes/lobes-2mm', '/Lobes/lobes-2mm')], LOBE_LABELS)

# A plain 4D probabilistic volume: fractions, with a BIDS table naming frame t as label t + 1.
prob2 = np.asanyarray(nib.load('atlases/Blobs/blobs-prob-2mm.nii.gz').dataobj)
save((prob2 / 100.0).astype(np.float32), A2, 'atlases/blobs_fractions.nii.gz')
with open('atlases/blobs_fractions.tsv', 'w') as f:
    f.write('index\tname\n0\tBackground\n' + ''.join(f'{i + 1}\t{b[0]}\n' for i, b in enumerate(BLOBS)))

# Broken descriptors.
with open('atlases/bad_garbage.xml', 'wb') as f:
    f.write(bytes(np.random.default_rng(19).integers(0, 256, 300, dtype=np.uint8)))
with open('atlases/bad_root.xml', 'w') as f:
    f.write('<?xml version="1.0"?>\n<GIFTI Version="1.0"></GIFTI>\n')
write_xml('atlases/bad_no_images.xml', 'No images', 'NI', 'Probabilistic', [], BLOB_LABELS)
write_xml('atlases/bad_missing_image.xml', 'Missing image', 'MI', 'Probabilistic',
          [BLOB_IMAGES[0], ('/Blobs/missing-prob-2mm', '/Blobs/blobs-maxprob-thr25-2mm')], BLOB_LABELS)
write_xml('atlases/bad_index.xml', 'Index past the frames', 'IX', 'Probabilistic', BLOB_IMAGES,
          BLOB_LABELS + [xml_label(4, 'Phantom Blob', None)])
write_xml('atlases/bad_summary.xml', '4D summary', 'S4', 'Probabilistic',
          [('/Blobs/blobs-prob-2mm', '/Blobs/blobs-prob-2mm')], BLOB_LABELS)


# The reference: what numpy reads from the written files.
def load(path):
    img = nib.load(path)
    return np.asanyarray(img.dataobj), img.affine


def nearest(affine, shape, mm):
    ijk = np.round(np.linalg.inv(affine) @ np.append(mm, 1.0))[:3].astype(int)
    return tuple(ijk) if all(0 <= v < n for v, n in zip(ijk, shape)) else None


def centre_of_mass(weights, affine):
    ijk = np.stack(np.nonzero(weights), axis=-1).astype(float)
    w = weights[np.nonzero(weights)].astype(float)
    return (affine[:3, :3] @ ((ijk * w[:, None]).sum(0) / w.sum()) + affine[:3, 3]).tolist()


def prob_text(value, name):
    return f'{value:.0f}% {name}' if value >= 0.5 else f'<1% {name}'


def probabilistic_reference(file, names, maps_path, summary_path, references, scale):
    maps, affine = load(maps_path)
    summary = load(summary_path)[0] if summary_path else None
    points = []
    for mm in POINTS:
        at = nearest(affine, maps.shape[:3], mm)
        hits = [] if at is None else [(float(maps[at][t]) * scale, t) for t in range(len(names)) if maps[at][t] > 0]
        hits.sort(key=lambda h: (-h[0], h[1]))
        entry = {
            'mm': list(mm),
            'regions': [{'name': names[t], 'value': v} for v, t in hits],
            'text': ', '.join(prob_text(v, names[t]) for v, t in hits) or None,
        }
        if summary is not None:
            value = None if at is None else int(summary[at])
            entry['summary_value'] = value
            entry['summary_name'] = names[value - 1] if value else None
        points.append(entry)
    centres = [{'name': name, 'mm': ref if ref is not None else centre_of_mass(maps[..., t], affine)}
               for t, (name, ref) in enumerate(zip(names, references))]
    return {'file': file, 'points': points, 'centres': centres}


POINTS = [(-14.3, 10.3, 8.3), (14.3, 9.7, 7.7), (0.3, -29.7, 6.3), (0.3, -6.3, 19.7),
          (-6.3, 2.3, 12.3), (0.3, -18.3, 14.3), (6.3, -12.3, 0.3), (22.3, 20.3, -20.3), (100.0, 0.0, 0.0)]
BLOB_NAMES = [b[0] for b in BLOBS]
BLOB_REFS = [(A4 @ np.append(voxel_of(A4, c), 1.0))[:3].tolist() if ref else None for _, c, _, ref in BLOBS]

reference = {
    'generator': f'nibabel {nib.__version__}, numpy {np.__version__}',
    'blobs': {
        **probabilistic_reference('atlases/Blobs.xml', BLOB_NAMES, 'atlases/Blobs/blobs-prob-2mm.nii.gz',
                                  'atlases/Blobs/blobs-maxprob-thr25-2mm.nii.gz', BLOB_REFS, 1.0),
        'name': 'Blobs Probabilistic Atlas',
        'shortname': 'BLOBS',
        'type': 'probabilistic',
        'loaded': 'blobs-prob-2mm.nii.gz',
        'images': [{'imagefile': f'{os.path.basename(i)}.nii.gz', 'summaryimagefile': f'{os.path.basename(s)}.nii.gz',
                    'shape': list(nib.load(f'atlases{i}.nii.gz').shape),
                    'zooms': [float(v) for v in nib.load(f'atlases{i}.nii.gz').header.get_zooms()[:3]]}
                   for i, s in BLOB_IMAGES],
    },
    'fractions': probabilistic_reference('atlases/blobs_fractions.nii.gz', BLOB_NAMES,
                                         'atlases/blobs_fractions.nii.gz', None, [None] * len(BLOBS), 100.0),
}

labels, affine = load('atlases/Lobes/lobes-2mm.nii.gz')
lobe_names = {v: name for v, name, _ in LOBES}
lobe_points = []
for mm in POINTS + [(0.3, 12.3, 4.3), (16.3, -12.3, -6.3), (0.3, -12.3, 22.3), (0.3, -34.3, 4.3)]:
    at = nearest(affine, labels.shape, mm)
    value = None if at is None else int(labels[at])
    lobe_points.append({'mm': list(mm), 'value': value, 'name': lobe_names.get(value)})
reference['lobes'] = {
    'file': 'atlases/Lobes.xml',
    'name': 'Lobes Label Atlas',
    'type': 'label',
    'points': lobe_points,
    'centres': [{'name': name, 'mm': (A2 @ np.append(voxel_of(A2, LOBE_REFS[v]), 1.0))[:3].tolist() if ref
                 else centre_of_mass(labels == v, affine)} for v, name, ref in LOBES],
}

with open('atlases.json', 'w') as f:
    json.dump(reference, f, indent=1, ensure_ascii=False)
    f.write('\n')

#!/usr/bin/env python3
"""Stat maps and the cluster tables nilearn makes of them (`clusters.json`), for data/tests/clusters.rs.

Run from this folder with the versions of requirements.txt plus nilearn 0.14.1
(`pip install -r requirements.txt nilearn==0.14.1`):

    python3 make_clusters.py

Writes clusters/smooth.nii.gz (smoothed Gaussian noise on an oblique-free 2 mm grid),
clusters/plateaus.nii.gz (flat clusters, one a ring whose centre of mass lies outside it) and
clusters.json: per case the map, the options and nilearn's get_clusters_table rows. The demo's
motor t-map (assets/motor_stat_map.nii.gz, see assets/README.md) is a case too.
"""

import json
import os

import nibabel as nib
import nilearn
import numpy as np
import scipy
from nilearn.reporting import get_clusters_table
from scipy.ndimage import gaussian_filter

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)
os.makedirs('clusters', exist_ok=True)

rng = np.random.default_rng(20261203)
affine = np.array([[2.0, 0, 0, -20], [0, 2.0, 0, -30], [0, 0, 2.0, -10], [0, 0, 0, 1]])
noise = rng.standard_normal((24, 28, 20))
smooth = gaussian_filter(noise, 1.6)
smooth = (smooth / smooth.std() * 1.5).astype(np.float32)
nib.save(nib.Nifti1Image(smooth, affine), 'clusters/smooth.nii.gz')

plateaus = np.zeros((16, 16, 8), dtype=np.float32)
plateaus[2:5, 2:5, 2:4] = 3.0                   # a flat block
yy, xx = np.mgrid[0:16, 0:16]
ring = ((xx - 10) ** 2 + (yy - 10) ** 2 <= 16) & ((xx - 10) ** 2 + (yy - 10) ** 2 >= 5)
plateaus[:, :, 5][ring] = 5.0                    # a flat ring: its centre is not in it
nib.save(nib.Nifti1Image(plateaus, np.diag([1.5, 1.5, 3.0, 1.0])), 'clusters/plateaus.nii.gz')

CASES = [
    ('generated/clusters/smooth.nii.gz', 'clusters/smooth.nii.gz', 2.0, True, 0),
    ('generated/clusters/smooth.nii.gz', 'clusters/smooth.nii.gz', 2.5, False, 5),
    ('generated/clusters/plateaus.nii.gz', 'clusters/plateaus.nii.gz', 1.0, False, 0),
    ('assets/motor_stat_map.nii.gz', '../../../assets/motor_stat_map.nii.gz', 3.0, True, 10),
]

reference = {
    'generator': f'nilearn {nilearn.__version__}, nibabel {nib.__version__}, numpy {np.__version__}, '
                 f'scipy {scipy.__version__}',
    'cases': [],
}
for name, path, threshold, two_sided, cluster_threshold in CASES:
    table = get_clusters_table(
        path,
        stat_threshold=threshold,
        cluster_threshold=cluster_threshold,
        two_sided=two_sided,
        min_distance=8.0,
    )
    rows = []
    for _, r in table.iterrows():
        size = r['Cluster Size (mm3)']
        rows.append({
            'id': str(r['Cluster ID']),
            'xyz': [float(r['X']), float(r['Y']), float(r['Z'])],
            'peak': float(r['Peak Stat']),
            'size_mm3': None if size == '' else int(size),
        })
    reference['cases'].append({
        'file': name,
        'threshold': threshold,
        'two_sided': two_sided,
        'cluster_threshold': cluster_threshold,
        'rows': rows,
    })

with open('clusters.json', 'w') as f:
    json.dump(reference, f, indent=1)
print('\n'.join(f"{c['file']} t={c['threshold']}: {len(c['rows'])} rows" for c in reference['cases']))

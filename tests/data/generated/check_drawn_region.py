"""What nibabel reads from a region drawn and saved by cortexlens.

`app/tests/drawing.rs` draws a fixed region on the grid of `volumes/nibabel_example4d.nii.gz`
(oblique, qform and sform codes 1, qfac -1) and saves it; with `CORTEXLENS_UPDATE_FIXTURES=1` it
writes `drawing/drawn_region.nii.gz`, which this script reads with nibabel into `drawing.json`.
The test then checks that every save is byte-for-byte that file (decompressed) and that its own
reader agrees with nibabel's values here. Run in this folder:

    python3 check_drawn_region.py   # nibabel 5.4.2, numpy 2.4.6 (requirements.txt)
"""

import json

import nibabel as nib
import numpy as np

base = nib.load("../volumes/nibabel_example4d.nii.gz")
drawn = nib.load("drawing/drawn_region.nii.gz")
bh, dh = base.header, drawn.header

# The grid and its spatial header fields are the base's.
assert drawn.shape == base.shape[:3], (drawn.shape, base.shape)
assert int(dh["qform_code"]) == int(bh["qform_code"])
assert int(dh["sform_code"]) == int(bh["sform_code"])
assert np.array_equal(drawn.affine, base.affine)
assert np.allclose(dh.get_qform(), bh.get_qform(), atol=1e-6)

data = np.asarray(drawn.dataobj)
ijk = np.argwhere(data != 0)  # C order: i slowest
out = {
    "nibabel": nib.__version__,
    "shape": list(drawn.shape),
    "dtype": str(dh.get_data_dtype()),
    "affine": drawn.affine.tolist(),
    "qform": dh.get_qform().tolist(),
    "qform_code": int(dh["qform_code"]),
    "sform_code": int(dh["sform_code"]),
    "xyzt_units": int(dh["xyzt_units"]),
    "labels": sorted(int(v) for v in np.unique(data[data != 0])),
    "voxels": ijk.tolist(),
    "values": [int(data[tuple(v)]) for v in ijk],
}
with open("drawing.json", "w") as f:
    json.dump(out, f, indent=1)
print(f"{len(ijk)} voxels, labels {out['labels']}")

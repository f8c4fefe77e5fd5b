//! Import of BrainSCUBA / BrainDiVE PyTorch checkpoints.
//!
//! The checkpoints are `torch.save({"network": state_dict})` files whose linear head is
//! `linear.weight` `[N, D]` / `linear.bias` `[N]` (BrainSCUBA) or `final_{S}_higher.weight` /
//! `.bias` (BrainDiVE). The rows are the non-zero voxels of a mask, listed in the mask's
//! [`VoxelOrder`]: by default C order over `[x, y, z]` (`k` fastest), which is what NumPy's boolean
//! indexing of a nibabel array gives, hence how both projects built their voxel lists. Both heads
//! work on unit-normalised CLIP features.

use std::path::Path;

use candle_core::{DType, Tensor};
use cortexlens_data::{Loaded, load_path};

use super::{Encoder, EncoderError, VoxelOrder, mask_voxels};
use crate::FileError;

/// The backbone of BrainSCUBA's encoders.
pub const BRAINSCUBA_BACKBONE: &str = "openai/clip-vit-base-patch32";

/// Reads the linear head of a PyTorch checkpoint: `(weight [N, D], bias [N], N, D)`.
///
/// `key` is the entry of the pickled dict holding the state dict (`Some("network")` for both
/// projects, `None` for a bare state dict).
pub fn read_linear_head(path: &Path, key: Option<&str>) -> Result<(Vec<f32>, Vec<f32>, usize, usize), EncoderError> {
    let format = |message: String| EncoderError::from(FileError::format(path, message));
    if !path.is_file() {
        let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        return Err(FileError::io(path)(missing).into());
    }
    let tensors = candle_core::pickle::read_all_with_key(path, key)
        .map_err(|e| format(format!("not a readable PyTorch checkpoint: {e}")))?;
    let find = |name: &str| tensors.iter().find(|(n, _)| n == name).map(|(_, t)| t);
    let (weight, bias) = if let (Some(w), Some(b)) = (find("linear.weight"), find("linear.bias")) {
        (w, b)
    } else {
        let higher: Vec<&String> = tensors
            .iter()
            .map(|(n, _)| n)
            .filter(|n| n.starts_with("final_") && n.ends_with("_higher.weight"))
            .collect();
        let [name] = higher.as_slice() else {
            let names: Vec<&str> = tensors.iter().map(|(n, _)| n.as_str()).collect();
            return Err(format(format!(
                "no linear.weight/linear.bias or single final_*_higher.weight/bias; tensors: {names:?}"
            )));
        };
        let bias_name = name.replace(".weight", ".bias");
        match (find(name), find(&bias_name)) {
            (Some(w), Some(b)) => (w, b),
            _ => return Err(format(format!("{name} without {bias_name}"))),
        }
    };
    let (n, d) = weight
        .dims2()
        .map_err(|_| format(format!("weight of shape {:?}, expected [N, D]", weight.dims())))?;
    if bias.dims() != [n] {
        return Err(format(format!("bias of shape {:?}, expected [{n}]", bias.dims())));
    }
    let to_vec =
        |t: &Tensor| -> Result<Vec<f32>, EncoderError> { Ok(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?) };
    Ok((to_vec(weight)?, to_vec(bias)?, n, d))
}

/// Imports a checkpoint with the voxel mask it was trained on (any volume cortexlens reads; its
/// non-zero voxels in `order` are the weight rows). The result is unit-normalised, on the mask's grid.
pub fn import_checkpoint(
    checkpoint: &Path,
    key: Option<&str>,
    mask: &Path,
    order: VoxelOrder,
    backbone: &str,
) -> Result<Encoder, EncoderError> {
    let (weight, bias, n, d) = read_linear_head(checkpoint, key)?;
    let volume = match load_path(mask, &mut |_| {})? {
        Loaded::Volume(volume) => volume,
        other => {
            let what = format!("a {} file, not a mask volume", other.kind());
            return Err(FileError::format(mask, &what).into());
        }
    };
    let shape = [volume.shape[0], volume.shape[1], volume.shape[2]];
    let voxels = mask_voxels(&volume.data[..volume.frame_len()], shape, order);
    if voxels.len() != n {
        return Err(EncoderError::Invalid(format!(
            "the checkpoint has {n} voxels but the mask {} has {} non-zero voxels",
            mask.display(),
            voxels.len()
        )));
    }
    Encoder::new(weight, bias, d, voxels, volume.affine, shape, backbone, true)
}

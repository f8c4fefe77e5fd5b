//! Index maps checked against the matrix and against themselves: every count a map implies must
//! equal its dimension's length, brain models must tile their dimension, and every vertex and
//! voxel index must lie within its surface's vertex count and its volume's dimensions.

use crate::cifti::{BrainModels, IndexMap, ModelKind, Parcels, VolumeSpace};
use crate::error::LoadError;
use crate::formats::MEMORY_BUDGET;

/// The largest surface a CIFTI file may declare (fs_LR 164k has 163,842 vertices; native meshes
/// a few hundred thousand).
const MAX_SURFACE_VERTICES: usize = 1 << 24;

/// Checks `maps` against a matrix of `shape` (`[rows, cols]`), and that every row painted on
/// each surface and on the volume grid fits the memory budget (what the viewer shows).
pub(crate) fn check(maps: &[IndexMap; 2], shape: [usize; 2]) -> Result<(), LoadError> {
    let painted = |what: String, values: u64| {
        let bytes = values.saturating_mul(shape[0] as u64).saturating_mul(4);
        if bytes > MEMORY_BUDGET {
            return Err(LoadError::too_large(format!(
                "{what} × {} rows exceed the memory budget of {} GiB as f32",
                shape[0],
                MEMORY_BUDGET >> 30
            )));
        }
        Ok(())
    };
    for (dim, (map, &len)) in maps.iter().zip(&shape).enumerate() {
        match map {
            IndexMap::BrainModels(b) => brain_models(b, dim)?,
            IndexMap::Parcels(p) => parcels(p, dim)?,
            _ => {}
        }
        for (structure, count) in map.surfaces() {
            if count > MAX_SURFACE_VERTICES {
                return Err(LoadError::too_large(format!(
                    "{structure}: a surface of {count} vertices (at most {MAX_SURFACE_VERTICES} are read)"
                )));
            }
            painted(format!("{structure}: {count} vertices"), count as u64)?;
        }
        if let Some((lo, hi)) = map.voxel_bounds() {
            let voxels: u64 = (0..3).map(|a| u64::from(hi[a] - lo[a]) + 1).product();
            painted(format!("a box of {voxels} voxels"), voxels)?;
        }
        if map.len() != len {
            return Err(LoadError::cifti(format!(
                "the {} map of dimension {dim} describes {} indices but the matrix has {len} {}",
                map.type_name(),
                map.len(),
                if dim == 0 { "rows" } else { "columns" }
            )));
        }
    }
    Ok(())
}

fn voxels_within(voxels: &[[u32; 3]], volume: Option<&VolumeSpace>, what: &str) -> Result<(), LoadError> {
    if voxels.is_empty() {
        return Ok(());
    }
    let Some(space) = volume else {
        return Err(LoadError::cifti(format!(
            "{what} has voxels but the map has no <Volume>"
        )));
    };
    match voxels
        .iter()
        .find(|v| v.iter().zip(&space.dims).any(|(&i, &n)| i as usize >= n))
    {
        Some(v) => Err(LoadError::cifti(format!(
            "{what}: voxel {v:?} lies outside the volume of {:?} voxels",
            space.dims
        ))),
        None => Ok(()),
    }
}

fn vertices_within(vertices: &[u32], count: usize, what: &str) -> Result<(), LoadError> {
    if vertices.len() > count {
        return Err(LoadError::cifti(format!(
            "{what} lists {} vertices but its surface has {count}",
            vertices.len()
        )));
    }
    match vertices.iter().find(|&&v| v as usize >= count) {
        Some(v) => Err(LoadError::cifti(format!(
            "{what}: vertex {v} is out of range for a surface of {count} vertices"
        ))),
        None => Ok(()),
    }
}

fn brain_models(b: &BrainModels, dim: usize) -> Result<(), LoadError> {
    let mut next = 0usize;
    let mut order: Vec<_> = b.models.iter().collect();
    order.sort_by_key(|m| m.offset);
    for m in order {
        let what = format!("dimension {dim}, {}", m.structure);
        if m.offset != next {
            return Err(LoadError::cifti(format!(
                "{what}: IndexOffset {} but the brain models before it end at {next}",
                m.offset
            )));
        }
        let listed = match &m.kind {
            ModelKind::Surface { vertex_count, vertices } => {
                vertices_within(vertices, *vertex_count, &what)?;
                vertices.len()
            }
            ModelKind::Voxels { voxels } => {
                voxels_within(voxels, b.volume.as_ref(), &what)?;
                voxels.len()
            }
        };
        if listed != m.count {
            return Err(LoadError::cifti(format!(
                "{what}: IndexCount {} but {listed} vertices or voxels are listed",
                m.count
            )));
        }
        next = next
            .checked_add(m.count)
            .ok_or_else(|| LoadError::cifti(format!("{what}: IndexCount overflows")))?;
    }
    Ok(())
}

fn parcels(p: &Parcels, dim: usize) -> Result<(), LoadError> {
    for parcel in &p.parcels {
        let what = format!("dimension {dim}, parcel {:?}", parcel.name);
        for (structure, vertices) in &parcel.vertices {
            let Some((_, count)) = p.surfaces.iter().find(|(s, _)| s == structure) else {
                return Err(LoadError::cifti(format!(
                    "{what}: vertices on {structure}, which no <Surface> of the map declares"
                )));
            };
            vertices_within(vertices, *count, &format!("{what} on {structure}"))?;
        }
        voxels_within(&parcel.voxels, p.volume.as_ref(), &what)?;
    }
    Ok(())
}

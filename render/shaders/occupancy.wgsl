// Occupancy grid of a volume texture (after voxel_sampling.wgsl): per cell of `cell`³ voxels, the (min, max) of the finite
// voxels that trilinear or nearest sampling anywhere in the cell can read. Cell c covers the
// continuous voxel coordinates [c·cell − 0.5, (c + 1)·cell − 0.5) on each axis, so it reads
// voxels c·cell − 1 ..= (c + 1)·cell (clamped to the grid). A cell without finite voxels stores
// min > max. The ray marcher classifies cells against the current transfer function, iso level
// or MIP threshold on the fly, so the grid does not depend on them.

struct Grid {
    // xyz: voxels per axis.
    dims: vec4<i32>,
    // xyz: cells per axis; w: voxels per cell edge.
    cells: vec4<i32>,
}

@group(0) @binding(0) var volume: texture_3d<f32>;
@group(0) @binding(1) var<storage, read_write> ranges: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> grid: Grid;

@compute @workgroup_size(4, 4, 4)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let c = vec3<i32>(id);
    if any(c >= grid.cells.xyz) {
        return;
    }
    let size = grid.cells.w;
    let last = grid.dims.xyz - vec3<i32>(1);
    let lo = clamp(c * size - vec3<i32>(1), vec3<i32>(0), last);
    let hi = clamp((c + vec3<i32>(1)) * size, vec3<i32>(0), last);
    var low = 3.0e38;
    var high = -3.0e38;
    for (var z = lo.z; z <= hi.z; z++) {
        for (var y = lo.y; y <= hi.y; y++) {
            for (var x = lo.x; x <= hi.x; x++) {
                let v = textureLoad(volume, vec3<i32>(x, y, z), 0).x;
                if is_finite(v) {
                    low = min(low, v);
                    high = max(high, v);
                }
            }
        }
    }
    let n = grid.cells.xyz;
    ranges[u32(c.x + n.x * (c.y + n.y * c.z))] = vec2<f32>(low, high);
}

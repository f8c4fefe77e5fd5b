// Gaussian splats, step 2 of 3: one stage `(k, j)` of a bitonic sort of (key, index) pairs,
// ascending; `count` (a power of two) entries, one invocation per compared pair.

struct Stage {
    k: u32,
    j: u32,
    count: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> stage: Stage;
@group(0) @binding(1) var<storage, read_write> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> values: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * 65535u * 256u;
    if i >= stage.count / 2u {
        return;
    }
    let j = stage.j;
    let l = (i / j) * 2u * j + (i % j);
    let r = l + j;
    let ascending = (l & stage.k) == 0u;
    let kl = keys[l];
    let kr = keys[r];
    if (kl > kr) == ascending {
        keys[l] = kr;
        keys[r] = kl;
        let v = values[l];
        values[l] = values[r];
        values[r] = v;
    }
}

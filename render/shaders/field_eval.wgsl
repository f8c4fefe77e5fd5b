// Evaluates the neural field (field.wgsl) at a list of world points: one invocation per point,
// 64 per workgroup, workgroups laid out in rows of `num_workgroups.x`.

@group(0) @binding(0) var<storage, read> points: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> results: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = id.x + id.y * groups.x * 64u;
    if i >= arrayLength(&points) {
        return;
    }
    results[i] = field_eval(points[i].xyz);
}

#!/usr/bin/env bash
# Every GPU check of issues #4 and #5 in one run on the NVIDIA machine (the device tool), from what
# tools/gpu/build.sh packed: the inference crate's parity tests on CUDA, the projection, caption,
# CLIP and fitting benchmarks on CUDA, a `cortexlens fit` of MNI152 with the CUDA binary, and the
# ray marcher's 1080p frame times on the NVIDIA Vulkan driver, the synthesis tests and benchmark, and
# the render crate's GPU tests (wgpu against the CPU references) on the NVIDIA Vulkan driver.
# Each step has its own time limit so that the whole run ends within about 12 minutes (about 3 when
# all goes well; the synthesis steps added 3 minutes to the worst case, so split the run if it nears
# the device tool's 10-minute call); logs go to $OUT (they come back even after a timeout).
#
#   device run: carry [".gpu", ".gl"], timeout_s 600, command "bash tools/gpu/check.sh"
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/cortexlens-gpu}
mkdir -p "$out"

for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
# CUDA 13 libraries from the machine's PyTorch installation; libcuda from the driver.
libs=$(find / -xdev \( -name 'libcublas.so.13*' -o -name 'libcurand.so.10*' -o -name 'libnvrtc.so.13*' \
  -o -name 'libcudart.so.13*' \) 2>/dev/null | xargs -r -n1 dirname | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH=${libs}${LD_LIBRARY_PATH:-}
if [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export WGPU_BACKEND=vulkan RUST_BACKTRACE=1

python3 -c 'import tarfile; tarfile.open(".gpu/bundle.tar.xz").extractall(".gpu")'
bin=$PWD/.gpu/bin
# The tests find their fixtures through the folder they were compiled in.
src=$(cat "$bin/source_root")
if [ "$src" != "$PWD" ] && [ ! -e "$src" ]; then
  mkdir -p "$(dirname "$src")" && ln -s "$PWD" "$src"
fi

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  nproc
} >"$out/machine.txt" 2>&1

# step NAME SECONDS COMMAND…: run with a limit, log to $out/NAME.log, note the outcome in the summary.
step() {
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS
  timeout "$limit" "$@" >>"$out/$name.log" 2>&1
  local rc=$?
  echo "$name: exit $rc after $((SECONDS - start)) s: $*" >>"$out/summary.txt"
}

# Parity on CUDA: the integration tests run on cortexlens_inference::device(), the GPU here.
for t in caption clip projection brainscuba encoder parity fit synthesis_parity; do
  step tests 25 "$bin/tests/$t" --test-threads=4
done
# Synthesis on the tiny models: every mode's objective, f16 UNet/VAE (what `load` picks on CUDA).
step tests 60 "$bin/tests/synthesis" --test-threads=4
# The wgpu renderers against their CPU references (slices, meshes, ray marcher with meshes, fields,
# splats, limits) on the NVIDIA Vulkan driver: they must pass on a real GPU too.
step tests 60 "$bin/tests/render_gpu" --test-threads=2

step benches 80 "$bin/benches/projection"
CAPTION_BENCH_REPEATS=5 step benches 40 "$bin/benches/caption"
CLIP_BENCH_RUNS=5 step benches 40 "$bin/benches/clip"
# Seconds per image at SD 2.1-base / SD-Turbo size (zero weights, f16 UNet/VAE): BrainDiVE steps,
# fast 1 and 4 steps.
SYNTHESIS_BENCH_REAL=1 step benches 90 "$bin/benches/synthesis"
RAYMARCH_BENCH_FRAMES=20 step benches 70 "$bin/benches/raymarch"
# Splats at 1080p, 1 M and 6 M (target: 6 M at >= 200 fps), and their .ply load time.
SPLAT_BENCH_FRAMES=20 SPLAT_BENCH_DIR=/tmp step benches 45 "$bin/benches/splats"
step benches 30 "$bin/cortexlens" fit assets/mni152_t1_1mm.nii.gz --out /tmp/mni152.nfield
step benches 90 "$bin/benches/fit"
cat "$out/summary.txt"

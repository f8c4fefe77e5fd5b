#!/usr/bin/env bash
# Build, on a development machine without a GPU, everything that tools/gpu/check.sh runs on the
# NVIDIA machine, and pack it into the git-ignored folders that the device tool carries:
#   .gpu/bundle.tar.xz  the `cuda` build of the cortexlens binary, the inference crate's integration
#                       tests and benchmarks, the ray-marcher benchmark (wgpu, no CUDA), and the
#                       folder the tests were compiled in (they find their fixtures through it);
#   .gl/*.deb           Debian's Vulkan/GL loader packages (the NVIDIA machine has the driver only).
# The CUDA 13.0 toolkit comes from PyPI and libcuda & co. are link stubs, as ../shared/gpu/README.md
# describes. A cold build takes about 40 min on 2 cores; the target folder is kept between runs.
# Measured on 2026-12-02: the bundle is 39 MB, the tracked files 23 MB, the loaders 0.4 MB — under
# the device tool's 64 MiB for all that travels, but not by much.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CUDA_TARGET_DIR:-/var/tmp/cortexlens-target-cuda}
pip_dir=$HOME/.cache/cuda-pip
stubs=$HOME/.cache/cuda-stubs

if [ ! -x "$pip_dir/nvidia/cu13/bin/nvcc" ]; then
  python3 -m pip install -q --target "$pip_dir" nvidia-cuda-nvcc==13.0.88 nvidia-cuda-runtime==13.0.96 \
    nvidia-cuda-cccl==13.0.85 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88
fi
mkdir -p "$stubs"
(
  cd "$stubs"
  : >empty.c
  for p in cuda:libcuda.so.1 nvrtc:libnvrtc.so.13 curand:libcurand.so.10 cublas:libcublas.so.13 cublasLt:libcublasLt.so.13; do
    [ -e "lib${p%%:*}.so" ] || gcc -shared -fPIC -o "lib${p%%:*}.so" -Wl,-soname,"${p#*:}" empty.c
  done
  ln -sf "$pip_dir/nvidia/cu13/lib/libcudart.so.13" libcudart.so
)
export CUDA_ROOT=$pip_dir/nvidia/cu13 PATH=$pip_dir/nvidia/cu13/bin:$PATH CUDA_COMPUTE_CAP=90
export RUSTFLAGS="-L $stubs -C link-arg=-Wl,--no-as-needed -C link-arg=-Wl,--unresolved-symbols=ignore-all"

rm -rf .gpu/bin && mkdir -p .gpu/bin/tests .gpu/bin/benches
# One cargo command, so that features are unified once and nothing is built twice; its JSON messages
# name each executable's package, kind and name. The app's integration tests bring its binary;
# benchmarks are built as test targets (`harness = false`: the same program as `cargo bench`'s).
cargo test --release --no-run --target-dir "$target" --message-format=json-render-diagnostics \
  -p cortexlens -p cortexlens-inference -p cortexlens-render --features cortexlens/cuda \
  --tests --benches |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        package = m["package_id"].split("#")[-1].split("@")[0]
        kind = m["target"]["kind"][0]
        if kind == "bin" and m["profile"]["test"]:
            kind = "bin-unit-tests"
        print(package, kind, m["target"]["name"], m["executable"])' |
  while read -r package kind name path; do
    case $package/$kind/$name in
      cortexlens/bin/cortexlens) cp "$path" .gpu/bin/cortexlens ;;
      cortexlens-inference/test/gradients) ;; # finite differences in f64: a CPU check
      cortexlens-inference/test/*) cp "$path" ".gpu/bin/tests/$name" ;;
      cortexlens-render/test/gpu) cp "$path" .gpu/bin/tests/render_gpu ;;
      cortexlens-inference/bench/* | cortexlens-render/bench/raymarch | cortexlens-render/bench/splats) cp "$path" ".gpu/bin/benches/$name" ;;
    esac
  done
strip .gpu/bin/cortexlens .gpu/bin/tests/* .gpu/bin/benches/*
echo "$root" >.gpu/bin/source_root
# One archive: the binaries share candle's PTX, which xz's large window stores once.
tar -C .gpu -cf - bin | xz -T0 -9 >.gpu/bundle.tar.xz
rm -rf .gpu/bin

if ! ls .gl/*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh .gpu/bundle.tar.xz .gl
echo "ready: call the device tool with carry [\".gpu\", \".gl\"] and command 'bash tools/gpu/check.sh'"

#!/usr/bin/env python3
"""cortexlens against PyTorch on the CPU, side by side, in one run (issue 16).

    python3 inference/benches/side_by_side.py [--threads 2] [--only clip,projection,caption]

For each workload it runs cortexlens' own benchmark (`cargo bench -p cortexlens-inference`, release,
`RAYON_NUM_THREADS=--threads`, which is what candle 0.11 reads for its CPU thread count; its own
`CANDLE_NUM_THREADS` is set too but not read by that version) and then the PyTorch reference of the same work in this process
(`torch.set_num_threads(--threads)`), and prints a table of both times and their ratio
(PyTorch time / cortexlens time: above 1 means cortexlens is faster).

- CLIP ViT-B/32 image tower (transformers' CLIPVisionModelWithProjection with zero weights, as the
  Rust bench) on 224² images at batch 32 and 256: seconds per batch after one warm-up batch.
- BrainSCUBA projection (softmax_convex at temperature 150, online softmax over pool blocks of
  `--block` entries, 8,192 by default as in cortexlens) of 1,000 voxel weights onto the bench's own 200,000 × 512 f16 pool file: the weights are
  the Rust bench's (the same xorshift generator, reproduced here), and the two results' checksums
  are printed side by side.
- A caption: GPT-2-small sizes (12 layers × 768, vocabulary 50,257) after a ClipCap MLP prefix of 10,
  beam 5, 67 tokens, key/value cache on (Hugging Face `generate` with `min_new_tokens` = 67 so that
  no beam stops early, as the Rust bench has no stop token).

PyTorch is found as the fixture scripts find it: the `torch` and `transformers` importable by this
Python (pinned in inference/tests/fixtures/requirements.txt; e.g. a venv made with
`pip install -r inference/tests/fixtures/requirements.txt`). Without them the script says so plainly
and prints cortexlens' times alone. Sizes: `--pool`, `--voxels`, `--block`, `--tokens`, `--runs`.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def cargo_bench(bench, env, threads):
    """Run one of cortexlens' benches; its stdout."""
    full_env = dict(os.environ, RAYON_NUM_THREADS=str(threads), CANDLE_NUM_THREADS=str(threads), **env)
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "cortexlens-inference", "--bench", bench],
        cwd=ROOT, env=full_env, check=True, capture_output=True, text=True,
    )
    return out.stdout


def rust_clip(batch, runs, threads):
    text = cargo_bench("clip", {"CLIP_BENCH_BATCH": str(batch), "CLIP_BENCH_RUNS": str(runs)}, threads)
    return float(re.search(r"batch \d+: ([0-9.]+) s per batch", text).group(1))


def rust_projection(pool, voxels, block, threads):
    env = {"PROJ_BENCH_POOL": str(pool), "PROJ_BENCH_VOXELS": str(voxels), "PROJ_BENCH_BLOCK": str(block)}
    text = cargo_bench("projection", env, threads)
    m = re.search(r"in ([0-9.]+) s .*checksum (-?[0-9.]+)", text)
    return float(m.group(1)), float(m.group(2))


def rust_caption(tokens, runs, threads):
    text = cargo_bench("caption", {"CAPTION_BENCH_TOKENS": str(tokens), "CAPTION_BENCH_REPEATS": str(runs)}, threads)
    times = [float(t) for t in re.findall(r"([0-9.]+) s per caption", text)]
    return min(times)


def timed(fn, runs):
    """Best of `runs` timings after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def torch_clip(batch, runs):
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    config = CLIPVisionConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                              num_attention_heads=12, image_size=224, patch_size=32, projection_dim=512)
    model = CLIPVisionModelWithProjection(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    pixels = torch.randn(batch, 3, 224, 224)

    def run():
        with torch.inference_mode():
            model(pixel_values=pixels).image_embeds

    return timed(run, runs)


class XorShift:
    """The Rust projection bench's generator (`Rng` in inference/benches/projection.rs)."""

    def __init__(self, seed):
        self.state = seed

    def normal(self, count):
        out = np.empty(count, np.float32)
        s = self.state
        mask = (1 << 64) - 1
        for i in range(count):
            total = np.float32(0.0)
            for _ in range(4):
                s ^= (s << 13) & mask
                s ^= s >> 7
                s ^= (s << 17) & mask
                total = np.float32(total + np.float32((s >> 40) / float(1 << 24)))
            out[i] = np.float32(total - np.float32(2.0))
        self.state = s
        return out


def torch_projection(pool_count, voxels, block, runs):
    import torch
    from safetensors import safe_open

    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"cortexlens-bench-pool-{pool_count}-512.safetensors"
    with safe_open(str(path), "pt") as f:
        pool = f.get_tensor("embeddings")  # [M, 512] f16, in memory
    d = pool.shape[1]
    weights = torch.from_numpy(XorShift(42).normal(voxels * d).reshape(voxels, d))
    temperature = 150.0

    def run():
        with torch.inference_mode():
            w = weights / weights.norm(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float32).tiny)
            w = w * temperature
            running_max = torch.full((voxels, 1), -float("inf"))
            total = torch.zeros(voxels, 1)
            direction = torch.zeros(voxels, d)
            norm = torch.zeros(voxels, 1)
            for start in range(0, pool.shape[0], block):
                e = pool[start:start + block].float()
                e_norm = e.norm(dim=1, keepdim=True)
                e_unit = e / e_norm.clamp_min(torch.finfo(torch.float32).tiny)
                logits = w @ e_unit.T
                new_max = torch.maximum(running_max, logits.amax(dim=1, keepdim=True))
                rescale = torch.exp(running_max - new_max)
                p = torch.exp(logits - new_max)
                total = total * rescale + p.sum(dim=1, keepdim=True)
                direction = direction * rescale + p @ e_unit
                norm = norm * rescale + p @ e_norm
                running_max = new_max
            length = direction.norm(dim=1, keepdim=True)
            return direction * (norm / total / length)

    seconds = timed(run, runs)
    checksum = float(run().double().sum())
    return seconds, checksum


def torch_caption(tokens, runs):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    gpt = GPT2LMHeadModel(GPT2Config(n_layer=12, n_embd=768, n_head=12, vocab_size=50257)).eval()
    prefix_length, width = 10, 768
    mapper = torch.nn.Sequential(
        torch.nn.Linear(512, width * prefix_length // 2), torch.nn.Tanh(),
        torch.nn.Linear(width * prefix_length // 2, width * prefix_length),
    )
    embedding = torch.randn(1, 512) * 50

    def run():
        with torch.inference_mode():
            prefix = mapper(embedding).view(1, prefix_length, width)
            gpt.generate(inputs_embeds=prefix, num_beams=5, max_new_tokens=tokens, min_new_tokens=tokens,
                         use_cache=True, do_sample=False, pad_token_id=0, eos_token_id=None)

    return timed(run, runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default="clip,projection,caption")
    parser.add_argument("--pool", type=int, default=200_000)
    parser.add_argument("--voxels", type=int, default=1_000)
    parser.add_argument("--block", type=int, default=8_192,
                        help="pool entries per projection block, both sides (cortexlens' default)")
    parser.add_argument("--tokens", type=int, default=67)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    only = set(args.only.split(","))
    try:
        import torch
        import transformers

        torch.set_num_threads(args.threads)
        have_torch = True
        print(f"PyTorch {torch.__version__}, transformers {transformers.__version__}, "
              f"{torch.get_num_threads()} threads; cortexlens with RAYON_NUM_THREADS={args.threads}")
    except ImportError as error:
        have_torch = False
        print(f"PyTorch is not available ({error}): install inference/tests/fixtures/requirements.txt "
              "for the side-by-side numbers; printing cortexlens' times alone.")
    rows = []
    if "clip" in only:
        for batch in (32, 256):
            ours = rust_clip(batch, args.runs, args.threads)
            theirs = torch_clip(batch, args.runs) if have_torch else None
            rows.append((f"CLIP ViT-B/32 image tower, batch {batch} (s per batch)", ours, theirs, ""))
    if "projection" in only:
        ours, our_sum = rust_projection(args.pool, args.voxels, args.block, args.threads)
        theirs, their_sum = (
            torch_projection(args.pool, args.voxels, args.block, args.runs) if have_torch else (None, None)
        )
        note = f"checksums {our_sum:.4f} / {their_sum:.4f}" if have_torch else f"checksum {our_sum:.4f}"
        rows.append((f"projection {args.pool:,} × {args.voxels:,}, f16 pool, blocks of {args.block:,} (s)", ours, theirs, note))
    if "caption" in only:
        ours = rust_caption(args.tokens, args.runs, args.threads)
        theirs = torch_caption(args.tokens, args.runs) if have_torch else None
        rows.append((f"caption, GPT-2 small sizes, beam 5, {args.tokens} tokens, cache (s)", ours, theirs, ""))
    print()
    print("| workload | cortexlens | PyTorch | PyTorch / cortexlens | |")
    print("|---|---|---|---|---|")
    for name, ours, theirs, note in rows:
        ratio = f"{theirs / ours:.2f}" if theirs is not None else "–"
        their_text = f"{theirs:.3f}" if theirs is not None else "absent"
        print(f"| {name} | {ours:.3f} | {their_text} | {ratio} | {note} |")


if __name__ == "__main__":
    sys.exit(main())

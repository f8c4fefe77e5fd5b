"""Keep a few fuzzer-made inputs per target as regression inputs (tests/data/fuzz/<target>/).

    python3 tools/fuzz/keep.py [FUZZ_DIR=/var/tmp/cortexlens-fuzz] [PER_TARGET=12] [MAX_BYTES=4096]

From each target's corpus, the inputs libFuzzer added (named by their SHA-1; the seeds keep their
test-file names) of at most MAX_BYTES (else the three smallest), PER_TARGET of them spread evenly
over their sizes; and every
finding (crash-, timeout-, oom-, leak- files in artifacts/<target>/). Replayed by
data/tests/fuzz_regressions.rs and inference/tests/fuzz_regressions.rs.
"""

import os
import re
import shutil
import sys

work = sys.argv[1] if len(sys.argv) > 1 else "/var/tmp/cortexlens-fuzz"
per_target = int(sys.argv[2]) if len(sys.argv) > 2 else 12
max_bytes = int(sys.argv[3]) if len(sys.argv) > 3 else 4096
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
with open(os.path.join(root, "fuzz", "targets.txt")) as f:
    targets = [t.strip() for t in f if t.strip()]
for target in targets:
    corpus = os.path.join(work, "corpus", target)
    every = []
    if os.path.isdir(corpus):
        for name in os.listdir(corpus):
            path = os.path.join(corpus, name)
            if re.fullmatch(r"[0-9a-f]{40}", name):
                every.append((os.path.getsize(path), name, path))
    every.sort()
    # The small ones; where the fuzzer made none that small (formats whose headers alone are
    # larger), its three smallest.
    made = [m for m in every if m[0] <= max_bytes] or every[:3]
    if len(made) > per_target:
        made = [made[round(i * (len(made) - 1) / (per_target - 1))] for i in range(per_target)]
    findings = os.path.join(work, "artifacts", target)
    kept = [(name, path) for _, name, path in made]
    if os.path.isdir(findings):
        kept += [(name, os.path.join(findings, name)) for name in sorted(os.listdir(findings))]
    out = os.path.join(root, "tests", "data", "fuzz", target)
    os.makedirs(out, exist_ok=True)
    for name, path in kept:
        shutil.copyfile(path, os.path.join(out, name))
    print(f"{target}: {len(kept)} inputs kept")

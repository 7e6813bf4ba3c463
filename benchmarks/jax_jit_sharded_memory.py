"""Peak host memory of a jitted fastinit.jax initializer with out_sharding on 8 devices.

    python benchmarks/jax_jit_sharded_memory.py               # 8192 x 8192 float32 (256 MiB)
    python benchmarks/jax_jit_sharded_memory.py --rows 16384 --spec x,y

Each case runs in a fresh process with XLA_FLAGS=--xla_force_host_platform_device_count=8
(XLA fixes the device count when jax starts).  It compiles
jax.jit(lambda k: fastinit.jax.he_normal()(k, shape, out_sharding=NamedSharding(mesh, spec)))
first, then resets the kernel's peak-RSS mark (/proc/self/clear_refs, Linux) and runs it
once; the peak is VmHWM minus the RSS just before the call.  On the CPU the 8 devices'
buffers are host memory too, so the result itself (the array's size) is part of every
peak: a call that made the whole array in one host callback first peaks at about twice
it or more, one that fills each device's shard in its own callback at about the array plus
the shards being made.  jax.jit(jax.random.normal) with the same out_sharding is the
reference row.  Not part of the test run (pytest collects test_*.py only); nothing is
asserted.
"""
import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, sys
import jax, numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
import fastinit.jax as fj

rows, cols, spec, which = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
mesh = jax.make_mesh((4, 2), ("x", "y"))
spec = P(*[None if a == "-" else a for a in spec.split(",")])
sharding = NamedSharding(mesh, spec)
shape = (rows, cols)
if which == "fastinit":
    init = fj.he_normal()
    f = jax.jit(lambda k: init(k, shape, out_sharding=sharding))
else:
    f = jax.jit(lambda k: jax.random.normal(k, shape, out_sharding=sharding))
key = jax.random.key(0)
with jax.set_mesh(mesh):
    compiled = f.lower(key).compile()


def status(field):
    with open("/proc/self/status") as s:
        for line in s:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024


with open("/proc/self/clear_refs", "w") as c:
    c.write("5")                          # reset VmHWM to the current RSS
before = status("VmRSS")
with jax.set_mesh(mesh):
    out = compiled(key)
out.block_until_ready()
peak = status("VmHWM")
assert out.sharding.is_equivalent_to(sharding, 2), out.sharding
print(json.dumps({"peak_mib": (peak - before) / 2**20, "array_mib": rows * cols * 4 / 2**20}))
"""


def run(which, rows, cols, spec):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
               PYTHONWARNINGS="ignore")
    done = subprocess.run([sys.executable, "-c", CHILD, str(rows), str(cols), spec, which],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--cols", type=int, default=8192)
    parser.add_argument("--spec", default="x,y",
                        help="PartitionSpec entries over the (x=4, y=2) mesh, '-' for None")
    args = parser.parse_args()
    print(f"shape ({args.rows}, {args.cols}) float32, spec P({args.spec}), mesh x=4 y=2")
    for which in ("fastinit", "jax.random"):
        result = run(which, args.rows, args.cols, args.spec)
        print(f"  {which:<11} peak host memory during the call {result['peak_mib']:7.0f} MiB "
              f"(array {result['array_mib']:.0f} MiB)")


if __name__ == "__main__":
    main()

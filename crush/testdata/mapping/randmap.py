#!/usr/bin/env python3
"""Writes a random CRUSH text map (stdout) and crushtool --test arguments
(stderr) for seed argv[1]. Used by random_compare.sh to compare radosctl
crush test with crushtool on maps nobody designed by hand: random depth,
fan-out, bucket algorithms, weights (zeros included), tunables, device
classes, set_* steps, firstn/indep rules, choose_args, reweights, pool ids.
"""
import random, sys
seed = int(sys.argv[1]); rng = random.Random(seed)
TYPES = ["osd", "host", "rack", "row", "root"]
out = []
if rng.random() < 0.85:
    if rng.random() < 0.5:
        prof = rng.choice([(2,5,19,0,0,0,0),(0,0,50,1,0,0,0),(0,0,50,1,1,0,1),(0,0,50,1,1,1,1)])
    else:
        prof = (rng.randint(0,3), rng.randint(0,5), rng.randint(0,60), rng.randint(0,1), rng.randint(0,3), rng.randint(0,1), rng.randint(0,2))
    for n, v in zip(["choose_local_tries","choose_local_fallback_tries","choose_total_tries","chooseleaf_descend_once","chooseleaf_vary_r","chooseleaf_stable","straw_calc_version"], prof):
        out.append(f"tunable {n} {v}")
use_classes = rng.random() < 0.5
classes = ["hdd", "ssd"]
devs = []; buckets = []; nextid = [-2]; osd = [0]
# Shadow copies of tree buckets hold uninitialised memory in crushtool
# (crush-formats.md 4.5), so tree buckets only appear in maps without classes.
algs = ["uniform", "list", "straw", "straw2", "straw2", "straw2"] + ([] if use_classes else ["tree"])
def w():
    return rng.choice(["0", "1", "0.5", "2", "3.7", "1.25", f"{rng.uniform(0.01, 5):.4f}"])
def make(level, name):
    alg = rng.choice(algs)
    n = rng.randint(0 if rng.random() < 0.1 else 1, 6)
    items = []
    uw = w() if alg == "uniform" else None
    if uw == "0": uw = "1"
    for i in range(n):
        if level == 1 or (rng.random() < 0.1):
            d = osd[0]; osd[0] += 1
            devs.append(f"device {d} osd.{d}" + (f" class {rng.choice(classes)}" if use_classes else ""))
            items.append((f"osd.{d}", uw or w()))
        else:
            cname = f"{TYPES[level-1]}{nextid[0]}".replace("-", "m")
            make(level - 1, cname)
            items.append((cname, uw or f"{rng.uniform(0.5, 10):.3f}"))
    bid = nextid[0]; nextid[0] -= 1
    if level == len(TYPES) - 1: bid = -1; nextid[0] += 1
    body = [f"{TYPES[level]} {name} {{", f"\tid {bid}", f"\talg {alg}", "\thash 0"]
    body += [f"\titem {it} weight {ww}" for it, ww in items]
    body.append("}")
    buckets.append((bid, alg, len(items), "\n".join(body)))
depth = rng.randint(1, 4)
# root is level len(TYPES)-1 = 4; we start lower levels by skipping types
def build_root():
    global TYPES
    TYPES = ["osd"] + ["host", "rack", "row"][:depth-1] + ["root"]
    make(len(TYPES) - 1, "default")
build_root()
out += devs
out += [f"type {i} {t}" for i, t in enumerate(TYPES)]
out += [b[3] for b in buckets]
nrules = rng.randint(1, 3)
for r in range(nrules):
    steps = []
    for s in ["set_choose_tries", "set_chooseleaf_tries", "set_choose_local_tries", "set_choose_local_fallback_tries", "set_chooseleaf_vary_r", "set_chooseleaf_stable"]:
        if rng.random() < 0.12: steps.append(f"{s} {rng.randint(0, 5)}")
    take = "default" + (f" class {rng.choice(classes)}" if use_classes and rng.random() < 0.5 else "")
    steps.append(f"take {take}")
    mode = rng.choice(["firstn", "indep"])
    if len(TYPES) > 2 and rng.random() < 0.3:
        t1 = rng.randint(1, len(TYPES) - 2)
        steps.append(f"choose {mode} {rng.randint(-1, 3)} type {TYPES[t1]}")
        steps.append(f"chooseleaf {mode} {rng.randint(-1, 2)} type {TYPES[rng.randint(0, t1-1)]}")
    elif rng.random() < 0.5:
        steps.append(f"chooseleaf {mode} {rng.randint(-1, 4)} type {TYPES[rng.randint(0, len(TYPES)-2)]}")
    else:
        steps.append(f"choose {mode} {rng.randint(-1, 4)} type osd")
    steps.append("emit")
    out.append(f"rule r{r} {{\n\tid {r}\n\ttype {'erasure' if mode == 'indep' else 'replicated'}\n\tmin_size 1\n\tmax_size 10\n" + "".join(f"\tstep {s}\n" for s in steps) + "}")
s2 = [b for b in buckets if b[1] == "straw2" and b[2] > 0]
if s2 and rng.random() < 0.4:
    key = rng.choice(["0", "18446744073709551615"])
    ent = []
    for bid, alg, n, _ in rng.sample(s2, min(len(s2), 3)):
        e = f"  {{\n    bucket_id {bid}\n"
        if rng.random() < 0.8:
            e += "    weight_set [\n" + "".join("      [ " + " ".join(f"{rng.choice([0, 0.5, 1, 2.25, 3])}" for _ in range(n)) + " ]\n" for _ in range(rng.randint(1, 3))) + "    ]\n"
        if rng.random() < 0.5:
            e += "    ids [ " + " ".join(str(rng.randint(-50, 50)) for _ in range(n)) + " ]\n"
        ent.append(e + "  }\n")
    out.append(f"choose_args {key} {{\n" + "".join(ent) + "}")
print("\n".join(out))
# test args on stderr
args = f"--rule {rng.randint(0, nrules-1)} --num-rep {rng.randint(1, 6)} --min-x 0 --max-x 299"
for _ in range(rng.randint(0, 3)):
    if osd[0]: args += f" --weight {rng.randint(0, osd[0]-1)} {rng.choice(['0', '0.5', '0.1', '0.9'])}"
if rng.random() < 0.3: args += f" --pool-id {rng.randint(0, 20)}"
if rng.random() < 0.25: args += " --show-utilization"
print(args, file=sys.stderr)

#!/usr/bin/env python3
"""Writes the hand-designed CRUSH text maps of the golden mapping vectors.

Each map targets features of spec/crush-mapping.md (see the comment at the top
of every generated file). gen.sh runs this, then crushtool, to refresh
maps/*.txt, maps/*.bin, maps/*.json and out/*.txt. The maps are plain data:
deterministic, no randomness, so rerunning changes nothing.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

PROFILES = {
    # name: (local, fallback, total, descend_once, vary_r, stable, straw_calc)
    "argonaut": None,  # no tunable lines at all: crushtool's legacy values
    "bobtail": (0, 0, 50, 1, 0, 0, 0),
    "firefly": (0, 0, 50, 1, 1, 0, 0),
    "hammer": (0, 0, 50, 1, 1, 0, 1),
    "jewel": (0, 0, 50, 1, 1, 1, 1),
    "optimal": (0, 0, 50, 1, 1, 1, 1),
}

TUNABLE_NAMES = ["choose_local_tries", "choose_local_fallback_tries", "choose_total_tries",
                 "chooseleaf_descend_once", "chooseleaf_vary_r", "chooseleaf_stable",
                 "straw_calc_version"]


def tunables(profile):
    vals = PROFILES[profile]
    if vals is None:
        return ""
    return "".join(f"tunable {n} {v}\n" for n, v in zip(TUNABLE_NAMES, vals))


def types(*names):
    return "".join(f"type {i} {n}\n" for i, n in enumerate(names))


def bucket(typ, name, bid, alg, items, extra_ids=""):
    lines = [f"{typ} {name} {{", f"\tid {bid}"]
    if extra_ids:
        lines.append(extra_ids)
    lines += [f"\talg {alg}", "\thash 0"]
    for it, w in items:
        lines.append(f"\titem {it} weight {w}" if w is not None else f"\titem {it}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def rule(name, rid, rtype, steps):
    body = "".join(f"\tstep {s}\n" for s in steps)
    return (f"rule {name} {{\n\tid {rid}\n\ttype {rtype}\n\tmin_size 1\n\tmax_size 10\n"
            f"{body}}}\n")


def odd_weight(i):
    # Deterministic, uneven weights with 5 decimals (exercise 16.16 rounding).
    return f"{0.35 + ((i * 7919) % 23) * 0.137:.5f}"


def deep_tree(racks, hosts_per_rack, osds_per_host, alg="straw2", weight=odd_weight, cls=None):
    """Root 'default' -1 over racks over hosts over OSDs; returns (devices, buckets)."""
    devs, out = [], []
    osd = 0
    bid = -2
    rack_items = []
    for r in range(racks):
        host_items = []
        for h in range(hosts_per_rack(r) if callable(hosts_per_rack) else hosts_per_rack):
            items = []
            for _ in range(osds_per_host):
                c = f" class {cls(osd)}" if cls else ""
                devs.append(f"device {osd} osd.{osd}{c}\n")
                items.append((f"osd.{osd}", weight(osd)))
                osd += 1
            hname = f"host{r}-{h}"
            out.append(bucket("host", hname, bid, alg, items))
            host_items.append((hname, None))
            bid -= 1
        rname = f"rack{r}"
        out.append(bucket("rack", rname, bid, alg, host_items))
        rack_items.append((rname, None))
        bid -= 1
    out.append(bucket("root", "default", -1, alg, rack_items))
    return "".join(devs), "".join(out)


def write(name, comment, text):
    path = os.path.join(HERE, "maps", name + ".txt")
    with open(path, "w") as f:
        f.write("".join(f"# {line}\n" for line in comment.splitlines()))
        f.write(text)


def profile_maps():
    devs, buckets = deep_tree(3, lambda r: 3 + r, 3)
    rules = (rule("rep", 0, "replicated", ["take default", "chooseleaf firstn 0 type host", "emit"])
             + rule("ec", 1, "erasure", ["take default", "chooseleaf indep 0 type host", "emit"])
             + rule("racks", 2, "replicated", ["take default", "choose firstn 0 type rack",
                                               "chooseleaf firstn 1 type host", "emit"])
             + rule("osds", 3, "replicated", ["take default", "choose firstn 0 type osd", "emit"]))
    for p in PROFILES:
        write(f"profile_{p}", f"3 racks x 3-5 hosts x 3 OSDs, straw2 (straw for argonaut), {p} tunables.",
              tunables(p) + devs + types("osd", "host", "rack", "root")
              + (buckets.replace("alg straw2", "alg straw") if p == "argonaut" else buckets) + rules)


def algs_maps():
    # One host per bucket algorithm under a straw2 root (the spec's example shape).
    w = ["1.0", "2.0", "0.5", "3.7", "1.5", "1.0", "1.0", "2.0"]
    devs, osd, hosts = [], 0, []
    parts = [("uniform", ["1.0"] * 5), ("list", w[:6]), ("tree", w[:5] + ["1.0", "2.5"]),
             ("straw", w), ("straw2", w[:7])]
    text = ""
    for i, (alg, ws) in enumerate(parts):
        items = []
        for x in ws:
            devs.append(f"device {osd} osd.{osd}\n")
            items.append((f"osd.{osd}", x))
            osd += 1
        text += bucket("host", f"host_{alg}", -2 - i, alg, items)
        hosts.append((f"host_{alg}", None))
    text += bucket("root", "default", -1, "straw2", hosts)
    rules = rule("leaf", 0, "replicated", ["take default", "chooseleaf firstn 0 type host", "emit"])
    for i, (alg, _) in enumerate(parts):
        rules += rule(f"only_{alg}", 1 + i, "replicated", [f"take host_{alg}", "choose firstn 0 type osd", "emit"])
        rules += rule(f"indep_{alg}", 6 + i, "erasure", [f"take host_{alg}", "choose indep 0 type osd", "emit"])
    rules += rule("leaf_indep", 11, "erasure", ["take default", "chooseleaf indep 0 type host", "emit"])
    for name, prof in [("algs_v0", "argonaut"), ("algs_v1", "optimal"), ("algs_firefly", "firefly")]:
        write(name, f"One host per bucket algorithm, {prof} tunables.",
              tunables(prof) + "".join(devs) + types("osd", "host", "root") + text + rules)
    # Hash id 1 does not exist: Ceph's hash dispatcher returns 0 for it.
    write("algs_hash1", "One host per bucket algorithm, every bucket with the unknown hash id 1.",
          tunables("optimal") + "".join(devs) + types("osd", "host", "root") + text.replace("hash 0", "hash 1") + rules)


def trees_map():
    # Tree buckets of 1 to 9 items, plus straw v1 buckets with zero and equal weights.
    devs, text, osd, roots = [], "", 0, []
    for n in range(1, 10):
        items = []
        for j in range(n):
            devs.append(f"device {osd} osd.{osd}\n")
            items.append((f"osd.{osd}", f"{0.25 + ((osd * 37) % 11) * 0.3:.3f}"))
            osd += 1
        text += bucket("host", f"tree{n}", -1 - n, "tree", items)
        roots.append(f"tree{n}")
    # An all-zero tree: the descent ends past the items (crushtool yields 0).
    items = []
    for j in range(5):
        devs.append(f"device {osd} osd.{osd}\n")
        items.append((f"osd.{osd}", "0"))
        osd += 1
    text += bucket("host", "treezero", -15, "tree", items)
    roots.append("treezero")
    straw_sets = [["0", "1", "1", "2", "0", "3"], ["1", "1", "1", "1"], ["0.5", "0.5", "2", "2", "2", "7"]]
    for k, ws in enumerate(straw_sets):
        items = []
        for x in ws:
            devs.append(f"device {osd} osd.{osd}\n")
            items.append((f"osd.{osd}", x))
            osd += 1
        text += bucket("host", f"straw{k}", -20 - k, "straw", items)
        roots.append(f"straw{k}")
    rules = ""
    for i, r in enumerate(roots):
        rules += rule(f"r_{r}", i, "replicated", [f"take {r}", "choose firstn 0 type osd", "emit"])
    for v, prof in [(0, "argonaut"), (1, "jewel")]:
        write(f"trees_straw_v{v}", "Tree buckets of 1..9 items; straw v1 with zero and equal weights.",
              tunables(prof) + "".join(devs) + types("osd", "host") + text + rules)


def classes_map():
    cls = lambda i: ["hdd", "ssd", "hdd", "nvme"][i % 4]
    devs, buckets = deep_tree(2, 3, 4, cls=cls)
    # Pin some shadow ids, leave the others to crushtool's allocator.
    buckets = buckets.replace("host host0-0 {\n\tid -2\n", "host host0-0 {\n\tid -2\n\tid -40 class ssd\n\tid -41 class hdd\n")
    buckets = buckets.replace("root default {\n\tid -1\n", "root default {\n\tid -1\n\tid -50 class hdd\n")
    rules = (rule("hdd", 0, "replicated", ["take default class hdd", "chooseleaf firstn 0 type host", "emit"])
             + rule("ssd_ec", 1, "erasure", ["take default class ssd", "chooseleaf indep 0 type host", "emit"])
             + rule("nvme", 2, "replicated", ["take default class nvme", "chooseleaf firstn 0 type rack", "emit"])
             + rule("mixed", 3, "replicated", ["take default class ssd", "chooseleaf firstn 1 type host", "emit",
                                               "take default class hdd", "chooseleaf firstn -1 type host", "emit"])
             + rule("host_ssd", 4, "replicated", ["take host1-1 class ssd", "choose firstn 0 type osd", "emit"]))
    write("classes", "Device classes, pinned (-40, -41, -50) and allocated shadow ids.",
          tunables("optimal") + devs + types("osd", "host", "rack", "root") + buckets + rules)


def choose_args_map():
    devs, buckets = deep_tree(2, 2, 3)
    rules = (rule("rep", 0, "replicated", ["take default", "chooseleaf firstn 0 type host", "emit"])
             + rule("ec", 1, "erasure", ["take default", "chooseleaf indep 0 type host", "emit"])
             + rule("osd", 2, "replicated", ["take default", "choose firstn 0 type osd", "emit"]))
    # Buckets: -1 root (2 racks), racks -4 and -7, hosts -2 -3 -5 -6.
    def entry(bid, rows, ids=None):
        s = f"  {{\n    bucket_id {bid}\n"
        if rows:
            s += "    weight_set [\n" + "".join("      [ " + " ".join(r) + " ]\n" for r in rows) + "    ]\n"
        if ids:
            s += "    ids [ " + " ".join(str(i) for i in ids) + " ]\n"
        return s + "  }\n"
    body = (entry(-1, [["1.0", "3.0"], ["2.5", "0.5"], ["1", "1"]], [-100, -101])
            + entry(-2, [["1.0", "0.2", "2.0"], ["0.3", "1.5", "1.0"]])
            + entry(-3, None, [1000, 1001, 1002])
            + entry(-4, [["0.7", "1.9"]])
            + entry(-5, [["1", "0", "1"], ["0", "1", "1"], ["1", "1", "0"], ["2", "2", "0.1"]], [7, 8, 9]))
    base = tunables("optimal") + devs + types("osd", "host", "rack", "root") + buckets + rules
    write("choose_args_0", "choose_args set 0: several positions, id overrides.",
          base + "choose_args 0 {\n" + body + "}\n")
    write("choose_args_default", "Only the default set (-1, written as 2^64-1): crushtool falls back to it.",
          base + "choose_args 18446744073709551615 {\n" + body + "}\n")
    write("choose_args_pool", "Only a pool set (1) and no set 0: crushtool ignores it.",
          base + "choose_args 1 {\n" + body + "}\n")


def edge_map():
    # Bare devices beside buckets, take of a device, uniform buckets whose
    # size is a multiple of numrep, too few hosts for indep, vary_r 2,
    # rule-level stable/local/fallback steps, negative counts, NONE skipped.
    devs = "".join(f"device {i} osd.{i}\n" for i in range(16))
    text = (bucket("host", "u0", -2, "uniform", [(f"osd.{i}", "1") for i in range(0, 4)])
            + bucket("host", "u1", -3, "uniform", [(f"osd.{i}", "1") for i in range(4, 10)])
            + bucket("host", "l0", -4, "list", [(f"osd.{i}", "0.7") for i in range(10, 13)])
            + bucket("host", "empty", -5, "straw2", [])
            + bucket("root", "default", -1, "straw2",
                     [("u0", None), ("u1", None), ("l0", None), ("empty", None), ("osd.13", "1.2"), ("osd.14", "0.4")]))
    rules = (rule("indep_many", 0, "erasure", ["take default", "chooseleaf indep 0 type host", "emit"])
             + rule("indep_uniform", 1, "erasure", ["take u1", "choose indep 3 type osd", "emit"])
             + rule("take_dev", 2, "replicated", ["take osd.7", "emit", "take default", "chooseleaf firstn -2 type host", "emit"])
             + rule("varyr2", 3, "replicated", ["set_chooseleaf_vary_r 2", "take default", "chooseleaf firstn 0 type host", "emit"])
             + rule("legacy_steps", 4, "replicated", ["set_choose_local_tries 3", "set_choose_local_fallback_tries 2",
                                                      "set_chooseleaf_stable 0", "set_choose_tries 7",
                                                      "take default", "chooseleaf firstn 0 type host", "emit"])
             + rule("none_skip", 5, "erasure", ["take default", "choose indep 4 type host", "chooseleaf indep 1 type osd", "emit"])
             + rule("leaf_osd", 6, "erasure", ["set_chooseleaf_tries 3", "take default", "chooseleaf indep 0 type osd", "emit"])
             + rule("stable_off", 7, "replicated", ["set_chooseleaf_stable 1", "set_chooseleaf_tries 2", "take default",
                                                    "chooseleaf firstn 5 type host", "emit"])
             + rule("fallback_only", 8, "replicated", ["set_choose_local_tries 0", "set_choose_local_fallback_tries 4",
                                                       "take default", "choose firstn 0 type osd", "emit"])
             + rule("short", 9, "replicated", ["take default", "chooseleaf firstn 6 type host", "emit"])
             + rule("noop_multi", 10, "replicated", ["take u0", "choose firstn 2 type osd", "emit", "take u1",
                                                     "choose firstn 2 type osd", "emit", "take l0", "choose firstn 0 type osd", "emit"])
             + rule("leaf_quirk", 11, "erasure", ["take l0", "chooseleaf indep 0 type osd", "emit"])
             + rule("local_only", 12, "replicated", ["set_choose_local_tries 3", "set_choose_local_fallback_tries 0",
                                                     "take default", "choose firstn 0 type osd", "emit"])
             + rule("boundary", 13, "replicated", ["take l0", "choose firstn 0 type osd", "emit"])
             + rule("two_stage", 14, "replicated", ["take default", "choose firstn 0 type host", "choose firstn 2 type osd", "emit"]))
    write("edges_legacy", "Edge cases under argonaut tunables.", devs + types("osd", "host", "root") + text + rules)
    write("edges_jewel", "Edge cases under jewel tunables.", tunables("jewel") + devs + types("osd", "host", "root") + text + rules)


def big_map():
    # The 240-OSD example map: 4 racks x 5 hosts x 12 OSDs, straw2, optimal.
    devs, buckets = deep_tree(4, 5, 12, weight=lambda i: "1.00000", cls=lambda i: "hdd")
    rules = (rule("replicated_rule", 0, "replicated", ["take default", "chooseleaf firstn 0 type host", "emit"])
             + rule("ec_rack", 1, "erasure", ["set_chooseleaf_tries 5", "set_choose_tries 100", "take default class hdd",
                                              "chooseleaf indep 0 type rack", "emit"]))
    text = (tunables("optimal") + devs + types("osd", "host", "rack", "root") + buckets + rules)
    write("cluster240", "4 racks x 5 hosts x 12 OSDs, straw2, optimal tunables, two rules.", text)
    # The README's example map: the same hierarchy with only the default
    # replicated rule; gen.sh installs its decompiled form as
    # deploy/examples/crushmap.txt.
    write("example240", "4 racks x 5 hosts x 12 OSDs, straw2, optimal tunables, rule 0 replicated_rule.",
          tunables("optimal") + "tunable allowed_bucket_algs 54\n" + devs + types("osd", "host", "rack", "root")
          + buckets + rules.split("rule ec_rack")[0])


def straw_map():
    # Straw (v1) buckets with extreme, tiny, equal and zero weights: their
    # straws must match crushtool's double-precision computation exactly
    # (TestDerivedDataMatchesCrushtool compares them with the binary).
    import random
    rng = random.Random(7)
    for v in (0, 1):
        devs, text, d, hosts = [], "", 0, []
        for b in range(60):
            items = []
            for _ in range(rng.randint(1, 9)):
                devs.append(f"device {d} osd.{d}\n")
                kind = rng.random()
                if kind < 0.3:
                    w = rng.choice(["1", "2", "0.5", "4", "8", "0.25", "3", "0", "16", "100"])
                elif kind < 0.5:
                    w = f"{rng.uniform(0.00002, 0.001):.5f}"
                elif kind < 0.6:
                    w = rng.choice(["0.00002", "100", "99.99"])
                else:
                    w = f"{rng.uniform(0.1, 10):.4f}"
                items.append((f"osd.{d}", w))
                d += 1
            text += bucket("host", f"h{b}", -2 - b, "straw", items)
            hosts.append((f"h{b}", None))
        text += bucket("root", "default", -1, "straw", hosts)
        rules = rule("rep", 0, "replicated", ["take default", "chooseleaf firstn 0 type host", "emit"])
        write(f"straw_extremes_v{v}", f"Straw buckets with extreme weights, straw_calc_version {v}.",
              f"tunable straw_calc_version {v}\n" + "".join(devs) + types("osd", "host", "root") + text + rules)


def list_boundary_map():
    # A list bucket -2 of two items weighing 0.5: item 1 wins when
    # hash4(x, 1, r, -2) & 0xffff < 32768 strictly; x = 36484 hits 32768
    # exactly at r = 0 (cases start their range there).
    text = (bucket("host", "l", -2, "list", [("osd.0", "0.5"), ("osd.1", "0.5")])
            + bucket("root", "default", -1, "straw2", [("l", None)]))
    write("list_boundary", "A list bucket whose choice sits exactly on the weight boundary for x = 36484.",
          tunables("optimal") + "device 0 osd.0\ndevice 1 osd.1\n" + types("osd", "host", "root") + text
          + rule("one", 0, "replicated", ["take l", "choose firstn 1 type osd", "emit"]))


def main():
    profile_maps()
    algs_maps()
    trees_map()
    classes_map()
    choose_args_map()
    edge_map()
    big_map()
    straw_map()
    list_boundary_map()


if __name__ == "__main__":
    main()

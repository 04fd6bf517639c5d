#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's report: the raw samples of scripts/guest/bench.sh for both
cores in, a markdown table (stdout and bench.md), bench.json and bench.svg out.

bench-report.py OUTDIR C_RAW RUST_RAW [KEY=VALUE...]
The KEY=VALUE pairs (the run's settings: reps, calls, ntasks, icount...) go
into the JSON's "meta".
Every figure: median, min and max over the repetitions; Rust/C is the ratio
of the medians.  Missing samples show as n/a, never as a failure.
"""
import json
import statistics
import sys
from html import escape

# (key, label, unit): the rows of the table, in order.
FIGURES = [
    ("call_unpatched_ns", "call, unpatched", "ns/call"),
    ("call_patched_ns", "call, patched", "ns/call"),
    ("call_overhead_ns", "patched-call overhead", "ns/call"),
    ("call_jump_unpatched_ns", "call of a notrace function, unpatched", "ns/call"),
    ("call_jump_patched_ns", "call of a notrace function, patched with a jump", "ns/call"),
    ("call_jump_overhead_ns", "patched-call overhead, jump", "ns/call"),
] + [
    (f"{kind}.{n}", f"{label}, {n} function{'s' if n > 1 else ''}", "ms")
    for kind, label in [("enable_ms", "enable"), ("enable_call_ms", "klp_enable_patch() call"),
                        ("disable_ms", "disable")]
    for n in (1, 100, 1000)
] + [
    (f"{kind}.{n}", f"{label} with jumps, {n} function{'s' if n > 1 else ''}", "ms")
    for kind, label in [("jump_enable_ms", "enable"), ("jump_disable_ms", "disable")]
    for n in (1, 100)
] + [
    (f"{prefix}jump_pause_ms.{n}",
     f"machine stopped to enable with jumps, {n} function{'s' if n > 1 else ''}{where}", "ms")
    for prefix, where in [("", ", idle"), ("load_", ", {ntasks} tasks calling getpid")]
    for n in (1, 100)
] + [
    ("load_enable_ms", "enable under load, {ntasks} tasks calling getpid", "ms"),
    ("load_disable_ms", "disable under load, {ntasks} tasks calling getpid", "ms"),
] + [
    (f"load_{kind}.{n}", f"{label} with jumps under load, {n} function{'s' if n > 1 else ''}, {{ntasks}} tasks",
     "ms")
    for kind, label in [("jump_enable_ms", "enable"), ("jump_disable_ms", "disable")]
    for n in (1, 100)
] + [
    ("mem_sunreclaim_b", "memory per patched function, SUnreclaim", "bytes"),
    ("mem_memfree_b", "memory per patched function, MemFree (per-CPU free lists counted free)", "bytes"),
    ("mem_vmalloc_b", "memory per patched function, VmallocUsed", "bytes"),
]


def read_raw(path):
    samples, notes = {}, []
    try:
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if line.startswith("#"):
                    notes.append(line[1:].strip())
                elif "\t" in line:
                    key, value = line.split("\t", 1)
                    try:
                        samples.setdefault(key, []).append(float(value))
                    except ValueError:
                        notes.append(f"unparsable sample: {line}")
    except OSError as e:
        notes.append(f"no samples: {e}")
    # Derived figures, pairing the repetitions in order.
    s = samples
    pair = lambda a, b, f: [f(x, y) for x, y in zip(s.get(a, []), s.get(b, []))]
    s["call_overhead_ns"] = pair("call_patched_ns", "call_unpatched_ns", lambda p, u: p - u)
    s["call_jump_overhead_ns"] = pair("call_jump_patched_ns", "call_jump_unpatched_ns",
                                      lambda p, u: p - u)
    # Patch 1000 functions minus patch 1 (the module itself is the same size).
    for src, dst in (("mem_sunreclaim_kb", "mem_sunreclaim_b"), ("mem_memfree_kb", "mem_memfree_b"),
                     ("mem_vmalloc_kb", "mem_vmalloc_b")):
        s[dst] = pair(f"{src}.1000", f"{src}.1", lambda a, b: (a - b) * 1024 / 999)
    return samples, notes


def summary(values):
    if not values:
        return None
    return {"samples": values, "median": statistics.median(values),
            "min": min(values), "max": max(values)}


def fmt(x):
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}" if abs(x) < 1 else f"{x:.2f}"


def cell(s):
    if s is None:
        return "n/a"
    return f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})"


def ratio(c, r):
    if c is None or r is None or c["median"] == 0:
        return None
    return r["median"] / c["median"]


def svg(rows, path):
    """One row per figure: C and Rust medians as bars scaled to the row's
    larger median, min-max whiskers, the values and Rust/C."""
    lw, bw, rh = 330, 380, 40
    h = 40 + rh * len(rows) + 20
    w = lw + bw + 190
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="10" y="20" font-size="14" font-weight="bold">rust-klp make bench: '
           f'C core vs Rust core (median, min-max; bars scaled per row)</text>',
           f'<rect x="{lw}" y="28" width="10" height="8" fill="#4c72b0"/>'
           f'<text x="{lw + 14}" y="36">C</text>',
           f'<rect x="{lw + 40}" y="28" width="10" height="8" fill="#dd8452"/>'
           f'<text x="{lw + 54}" y="36">Rust</text>']
    for i, (label, unit, c, r, q) in enumerate(rows):
        y = 44 + i * rh
        out.append(f'<text x="10" y="{y + 17}">{escape(label)} ({unit})</text>')
        top = max([abs(s["max"]) for s in (c, r) if s] or [0]) or 1
        for j, (s, colour) in enumerate(((c, "#4c72b0"), (r, "#dd8452"))):
            by = y + 4 + j * 14
            if s is None:
                out.append(f'<text x="{lw}" y="{by + 10}">n/a</text>')
                continue
            x = lambda v: lw + max(v, 0) / top * bw
            out.append(f'<rect x="{lw}" y="{by}" width="{x(s["median"]) - lw:.1f}" height="11" '
                       f'fill="{colour}"/>')
            out.append(f'<line x1="{x(s["min"]):.1f}" x2="{x(s["max"]):.1f}" y1="{by + 5.5}" '
                       f'y2="{by + 5.5}" stroke="black"/>')
            out.append(f'<text x="{lw + bw + 8}" y="{by + 10}">{escape(fmt(s["median"]))}</text>')
        out.append(f'<text x="{lw + bw + 80}" y="{y + 17}">Rust/C '
                   f'{"n/a" if q is None else f"{q:.2f}"}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    outdir, raw_c, raw_rust = sys.argv[1:4]
    meta = dict(a.split("=", 1) for a in sys.argv[4:] if "=" in a)
    data = {"c": read_raw(raw_c), "rust": read_raw(raw_rust)}
    figures, rows = [], []
    lines = ["| figure | C | Rust | Rust/C |", "|---|---|---|---|"]
    for key, label, unit in FIGURES:
        label = label.format(ntasks=meta.get("ntasks", "N"))
        c = summary(data["c"][0].get(key, []))
        r = summary(data["rust"][0].get(key, []))
        q = ratio(c, r)
        figures.append({"key": key, "label": label, "unit": unit, "c": c, "rust": r,
                        "rust_over_c": q})
        rows.append((label, unit, c, r, q))
        lines.append(f"| {label} ({unit}) | {cell(c)} | {cell(r)} | "
                     f"{'n/a' if q is None else f'{q:.2f}'} |")
    table = "\n".join(lines) + "\n"
    doc = {"meta": meta, "notes": {k: v[1] for k, v in data.items()}, "figures": figures,
           "raw": {k: v[0] for k, v in data.items()}}
    with open(f"{outdir}/bench.json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    with open(f"{outdir}/bench.md", "w") as f:
        f.write(table)
    svg(rows, f"{outdir}/bench.svg")
    sys.stdout.write(table)


if __name__ == "__main__":
    main()

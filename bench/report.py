"""Markdown tables from bench/run.py's JSON, for bench/RESULTS.md.

python bench/report.py bench/results.json [more.json ...]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from incremental import COMMANDS as INCREMENTAL

ORDER = (
    "render",
    "render-check",
    "lint",
    "diff",
    "check",
    "yamllint",
    "check-jsonschema",
    "floor-pure",
    "floor",
    "floor-c",
    *INCREMENTAL,  # issue 16 (bench/incremental.py)
)


def _cell(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "-"
    if "error" in entry:
        return f"error: {entry['error']}"
    runs = len(entry["runs"])
    spread = f" ({entry['min_s']:.2f}-{entry['max_s']:.2f})" if runs > 1 else " (1 run)"
    return f"{entry['median_s']:.2f} s{spread}, {entry['peak_rss_mib']:.0f} MiB"


def table(results: dict[str, Any]) -> list[str]:
    sizes = list(results["sizes"])
    present = {name for size in sizes for name in results["sizes"][size]["commands"]}
    names = [name for name in ORDER if name in present] + sorted(present - set(ORDER))
    lines = [
        "| command | " + " | ".join(f"N={int(size):,}" for size in sizes) + " |",
        "| --- |" + " --- |" * len(sizes),
    ]
    for name in names:
        cells = [_cell(results["sizes"][size]["commands"].get(name)) for size in sizes]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    sums = []
    for size in sizes:
        commands = results["sizes"][size]["commands"]
        both = [commands.get("yamllint"), commands.get("check-jsonschema")]
        timed = all(entry and "median_s" in entry for entry in both)
        sums.append(f"{sum(entry['median_s'] for entry in both if entry):.2f} s" if timed else "-")
    lines.append("| yamllint + check-jsonschema | " + " | ".join(sums) + " |")
    facts = []
    for size in sizes:
        entry = results["sizes"][size]
        facts.append(f"{entry['rendered_files']:,} files, {entry['rendered_bytes'] / 2**20:.1f} MiB")
    lines.append("| rendered/ | " + " | ".join(facts) + " |")
    return lines


def ratio_lines(results: dict[str, Any]) -> list[str]:
    lines = ["| ratio | measured | target | verdict |", "| --- | --- | --- | --- |"]
    for ratio in results["ratios"]:
        if ratio["value"] is None:
            continue
        if ratio["target"] is None:
            lines.append(f"| {ratio['name']} | {ratio['value']:.2f} | - | for reference |")
            continue
        verdict = "PASS" if ratio["pass"] else "FAIL"
        lines.append(f"| {ratio['name']} | {ratio['value']:.2f} | <= {ratio['target']:g} | {verdict} |")
    return lines


def shipped_lines(results: dict[str, Any]) -> list[str]:
    shipped = results.get("shipped", {}).get("commands", {})
    return [f"- shipped stack, `{name}`: {_cell(entry)}" for name, entry in shipped.items()]


def main(argv: Sequence[str]) -> int:
    for path in argv:
        results = json.loads(Path(path).read_text(encoding="utf-8"))
        meta = results["meta"]
        print(f"### {path}: `{meta['command']}`, {meta['date']}\n")
        print("\n".join(table(results)))
        print()
        print("\n".join(shipped_lines(results)))
        print()
        print("\n".join(ratio_lines(results)))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

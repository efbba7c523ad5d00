#!/usr/bin/env python3
"""Generate renderer/catalog/charts.json from renderer/catalog/charts.yaml.

usage: python scripts/gen_chart_catalog.py [--check]

The YAML is what people edit: every entry with its citations, checked against
charts.schema.json. rail reads the JSON at run time: the facts only (citations
dropped), which loads in a millisecond where parsing the YAML costs a pre-commit
lint tens of milliseconds. Keys sorted, one entry per line: the same YAML always
gives the same bytes.

--check writes nothing and exits 1 if charts.json is missing or differs.
Errors (the YAML breaks its schema) exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from renderer.catalog.charts import CATALOG_PATH, COMPILED_PATH, compiled_text  # noqa: E402
from renderer.errors import InputError  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if charts.json is stale")
    args = parser.parse_args()
    try:
        text = compiled_text(CATALOG_PATH)
    except InputError as error:
        for problem in error.problems:
            print(f"{problem.path}:{problem.line}: {problem.message}", file=sys.stderr)
        return 2
    current = COMPILED_PATH.read_text(encoding="utf-8") if COMPILED_PATH.exists() else None
    if args.check:
        if current != text:
            print(
                f"{COMPILED_PATH.relative_to(REPO)} is stale: run python scripts/gen_chart_catalog.py", file=sys.stderr
            )
            return 1
        return 0
    if current != text:
        COMPILED_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {COMPILED_PATH.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

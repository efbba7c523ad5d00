"""The parse floor of the benchmark: one process that only reads and parses YAML.

    python bench/floor.py [--loader best|c|pure] rendered/

Parses every ``*.yaml`` file under the folders given with ruamel.yaml's safe
loader (``YAML(typ="safe")``): ``c`` insists on the C parser (``ruamel.yaml.clib``,
module ``_ruamel_yaml``: exit 2 without it), ``pure`` forces the pure-Python one,
``best`` takes the C parser when it is importable. It says which it used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def c_loader_available() -> bool:
    try:
        import _ruamel_yaml  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--loader", choices=("best", "c", "pure"), default="best")
    parser.add_argument("folders", nargs="*", default=["."])
    args = parser.parse_args(argv)
    c_loader = c_loader_available() and args.loader != "pure"
    if args.loader == "c" and not c_loader:
        print("floor: --loader c, but ruamel.yaml.clib (_ruamel_yaml) is not importable", file=sys.stderr)
        return 2
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=not c_loader)
    files = documents = 0
    for folder in args.folders:
        for path in sorted(Path(folder).rglob("*.yaml")):
            files += 1
            documents += sum(1 for _ in yaml.load_all(path.read_text(encoding="utf-8")))
    loader = "C (ruamel.yaml.clib)" if c_loader else "pure Python"
    print(f"parsed {documents} documents in {files} files; loader: {loader}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Build hook: rail's templates compiled to Python modules inside the wheel.

See renderer/render/compiled.py for why and how a run finds them. A wheel gets
them as ``renderer/_compiled_templates`` (compiled into a temporary folder, not
the source tree); an editable install (``pip install -e .``, what ``make`` runs)
writes that folder into the source tree, where git ignores it, and byte-compiles
it. The modules are keyed by their template's source, so an edited template is
simply compiled at run time, as it would be without this hook.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _compiled_module(root: Path) -> Any:
    """renderer/render/compiled.py on its own: the build environment has Jinja2, not rail's other dependencies."""
    spec = importlib.util.spec_from_file_location("_rail_compiled", root / "renderer" / "render" / "compiled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CompiledTemplatesHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        compiled = _compiled_module(root)
        templates = root / "templates"
        if version == "editable":
            compiled.build(templates, root / "renderer" / compiled.FOLDER_NAME, byte_compile=True)
            return
        self._staging = tempfile.mkdtemp(prefix="rail-compiled-templates-")
        out = Path(self._staging) / compiled.FOLDER_NAME
        compiled.build(templates, out)
        build_data["force_include"][str(out)] = f"renderer/{compiled.FOLDER_NAME}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        staging = getattr(self, "_staging", None)
        if staging:
            shutil.rmtree(staging, ignore_errors=True)

"""Reading releases inside diff rules."""

from __future__ import annotations

from typing import Any

from ...catalog import chart_facts
from ...lint import values as helm_values
from ..sides import DiffObject


def is_release(obj: DiffObject | None) -> bool:
    return obj is not None and obj.kind in ("HelmRelease", "Application")


def chart_of(obj: DiffObject) -> tuple[str | None, str | None]:
    """Chart name and version, from a HelmRelease's chart spec or an Argo CD Helm source."""
    spec = obj.data.get("spec") or {}
    chart = spec.get("chart") if isinstance(spec, dict) else None
    chart_spec = chart.get("spec") if isinstance(chart, dict) else None
    if isinstance(chart_spec, dict):
        return _text(chart_spec.get("chart")), _text(chart_spec.get("version"))
    source = spec.get("source") if isinstance(spec, dict) else None
    if isinstance(source, dict):
        chart, url = _text(source.get("chart")), _text(source.get("repoURL"))
        if chart is None and url is not None and url.startswith("oci://"):
            chart = url.rstrip("/").rsplit("/", 1)[-1]  # Argo CD OCI source: the chart is the URL's last part
        return chart, _text(source.get("targetRevision"))
    chart_ref = spec.get("chartRef") if isinstance(spec, dict) else None
    if isinstance(chart_ref, dict):
        return _text(chart_ref.get("name")), None
    return None, None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def release_values(obj: DiffObject) -> dict[str, Any]:
    """Inline values (HelmRelease ``spec.values``, Argo ``helm.valuesObject``) over chart defaults."""
    spec = obj.data.get("spec") or {}
    values: Any = spec.get("values") if isinstance(spec, dict) else None
    if values is None and isinstance(spec, dict) and isinstance(spec.get("source"), dict):
        helm = spec["source"].get("helm")
        values = helm.get("valuesObject") if isinstance(helm, dict) else None
    values = values if isinstance(values, dict) else {}
    facts = chart_facts(chart_of(obj)[0])
    return helm_values.with_defaults(values, facts.defaults) if facts else dict(values)


def get(values: dict[str, Any], path: str) -> Any:
    found = helm_values.get(values, path)
    return None if found is helm_values.MISSING else found


def persistent(values: Any) -> bool:
    """Any ``persistence`` block that is on (charts default it on), outside a switched-off subchart."""
    if isinstance(values, dict):
        for key, value in values.items():
            if not isinstance(value, dict) or value.get("enabled", True) is False:
                continue
            if key == "persistence" or persistent(value):
                return True
    return False

"""How a chart names its Services, so an export names a host that will exist."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ChartNaming:
    """``services`` maps a role to a Service name pattern over ``{fullname}``."""

    services: Mapping[str, str] = field(default_factory=dict)


_CHARTS: dict[str, ChartNaming] = {
    # bitnami/postgresql-ha: clients go through pgpool.
    "postgresql-ha": ChartNaming(
        services={
            "pgpool": "{fullname}-pgpool",
            "postgresql": "{fullname}-postgresql",
            "postgresql-headless": "{fullname}-postgresql-headless",
        }
    ),
    # bitnami/valkey: with sentinel off, the primary has its own Service.
    "valkey": ChartNaming(
        services={
            "primary": "{fullname}-primary",
            "replicas": "{fullname}-replicas",
            "headless": "{fullname}-headless",
        }
    ),
    "valkey-cluster": ChartNaming(services={"cluster": "{fullname}", "headless": "{fullname}-headless"}),
    "postgresql": ChartNaming(services={"primary": "{fullname}", "headless": "{fullname}-hl"}),
    "gitea": ChartNaming(services={"http": "{fullname}-http", "ssh": "{fullname}-ssh"}),
}

_PATTERN = re.compile(r"^(?:[a-z0-9-]|\{fullname\}|\{release\})+$")


def chart_naming(chart: str) -> ChartNaming:
    return _CHARTS.get(chart, ChartNaming())


def _trim(name: str) -> str:
    return name[:63].rstrip("-")


def helm_fullname(release_name: str, chart: str, values: Mapping[str, Any]) -> str:
    """The ``<chart>.fullname`` helper every common chart uses (Bitnami's included)."""
    override = values.get("fullnameOverride")
    if isinstance(override, str) and override:
        return _trim(override)
    name_override = values.get("nameOverride")
    name = name_override if isinstance(name_override, str) and name_override else chart
    if name in release_name:
        return _trim(release_name)
    return _trim(f"{release_name}-{name}")


def service_host(service: str, *, release_name: str, chart: str, values: Mapping[str, Any]) -> str | None:
    """The Service name for an export's ``service`` (a catalog role or a pattern).

    Returns None when ``service`` is neither a known role of the chart nor a valid
    pattern. Patterns are filled by plain replacement, never by ``str.format``:
    spec text must not reach a formatter.
    """
    roles = chart_naming(chart).services
    if roles and service not in roles and "{" not in service:
        # A known chart names its Services itself: a bare name is a typo'd role,
        # and would point at a host that never exists.
        return None
    pattern = roles.get(service, service)
    if not _PATTERN.match(pattern):
        return None
    fullname = helm_fullname(release_name, chart, values)
    name = pattern.replace("{fullname}", fullname).replace("{release}", release_name)
    return name if len(name) <= 63 else None

"""Charts as Helm sees them: which dependencies a chart turns on (Helm 3's own
rules, ``helm``), the chart folders and packaged charts kept inside a repository
(``local``), and which chart a release installs with which subcharts (``resolve``,
imported by the rule that needs it: it reads the release graph)."""

from .helm import Decision, dependency_enabled, path_value
from .local import LocalChart, LocalCharts, LocalDependency, discover

__all__ = [
    "Decision",
    "LocalChart",
    "LocalCharts",
    "LocalDependency",
    "dependency_enabled",
    "discover",
    "path_value",
]

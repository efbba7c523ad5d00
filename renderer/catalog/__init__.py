"""What rail knows about charts: how they name their services, which data services
they bundle, which defaults matter. Facts come from the charts' own sources, written
down in rail's own form as data (``charts.yaml``, ``creators.yaml``), each citing
where it was read, and read on first use only.
"""

from .charts import CHARTS, COUPLING_KINDS, DEPENDENCY_KINDS, ChartFacts, Dependency, chart_facts, stack_charts
from .naming import ChartNaming, chart_naming, helm_fullname, service_host

__all__ = [
    "CHARTS",
    "COUPLING_KINDS",
    "DEPENDENCY_KINDS",
    "ChartFacts",
    "ChartNaming",
    "Dependency",
    "chart_facts",
    "chart_naming",
    "helm_fullname",
    "service_host",
    "stack_charts",
]

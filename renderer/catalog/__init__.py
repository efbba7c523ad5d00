"""What rail knows about charts: how they name their services, which data services
they bundle, which defaults matter. Facts come from the charts' own sources (see
``../shared/charts``), written down here in rail's own form.
"""

from .charts import CHARTS, COUPLING_KINDS, DEPENDENCY_KINDS, ChartFacts, Dependency, chart_facts
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
]

"""What rail knows about charts: how they name their services, which Secret keys
they read. Facts come from the charts' own sources (see ``../shared/charts``),
written down here in rail's own form.
"""

from .naming import ChartNaming, chart_naming, helm_fullname, service_host

__all__ = ["ChartNaming", "chart_naming", "helm_fullname", "service_host"]

"""rail: render GitOps stacks into deterministic Flux manifests, lint them, diff them."""

__version__ = "0.1.0"

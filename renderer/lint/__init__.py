"""The lint pipeline: specs and manifests -> one release graph -> rules -> findings."""

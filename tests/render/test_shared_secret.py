"""Two releases of one namespace may list the same SOPS Secret: it is written once."""

from __future__ import annotations

from pathlib import Path

from renderer.app import run_render
from renderer.yamlio import load_document


def test_a_secret_listed_by_two_releases_is_one_file(stack_copy: Path) -> None:
    spec = stack_copy / "releases/s3/valkey.yaml"
    spec.write_text(
        spec.read_text().replace(
            "secrets:\n  - secrets/s3/valkey-credentials.sops.yaml\n",
            "secrets:\n  - secrets/s3/valkey-credentials.sops.yaml\n"
            "  - secrets/s3/postgresql-ha-pgpool-users.sops.yaml\n",
        )
    )
    run_render(stack_copy, "flux", check=False)
    folder = stack_copy / "rendered/flux/s3-platform"
    resources = load_document((folder / "kustomization.yaml").read_text(), "k").data["resources"]
    assert resources.count("secret-postgresql-ha-pgpool-users.sops.yaml") == 1
    source = stack_copy / "secrets/s3/postgresql-ha-pgpool-users.sops.yaml"
    assert (folder / "secret-postgresql-ha-pgpool-users.sops.yaml").read_bytes() == source.read_bytes()

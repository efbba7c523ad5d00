"""Links from a finding's ``file:line`` to the file at the head commit on the forge.

The CLI builds :class:`Links` from the CI environment (GitHub Actions and Gitea
Actions both set ``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY`` and ``GITHUB_SHA``);
reporters read no environment. A value that does not look like what it should be
gives no links rather than a link rail cannot vouch for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from ...lint.finding import Location

GITHUB, GITEA = "github", "gitea"
_SERVER = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


@dataclass(frozen=True)
class Links:
    server: str  # https://github.com, https://gitea.example.com
    repository: str  # owner/name
    commit: str  # the full sha the links point at
    forge: str = GITHUB  # GitHub's and Gitea's file URLs differ

    def url(self, location: Location) -> str:
        path = quote(location.path, safe="/")
        anchor = f"#L{location.line}" if location.line else ""
        if self.forge == GITEA:
            return f"{self.server}/{self.repository}/src/commit/{self.commit}/{path}{anchor}"
        return f"{self.server}/{self.repository}/blob/{self.commit}/{path}{anchor}"


def links_from(environment: Mapping[str, str], head_commit: str | None) -> Links | None:
    """Links for this run: the head's own commit when it is one, else the commit CI checked out."""
    server = environment.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository = environment.get("GITHUB_REPOSITORY", "")
    commit = head_commit if head_commit and _COMMIT.match(head_commit) else environment.get("GITHUB_SHA", "")
    if not (_SERVER.match(server) and _REPOSITORY.match(repository) and _COMMIT.match(commit)):
        return None
    forge = GITEA if environment.get("GITEA_ACTIONS") == "true" else GITHUB
    return Links(server, repository, commit, forge)

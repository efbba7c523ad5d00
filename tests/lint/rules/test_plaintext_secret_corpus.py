"""Precision of plaintext-secret on real repositories (../shared/corpus-train).

Every finding the rule made there was read by hand. Those that were false are listed
below with why, and must stay fixed; the ones that are true are listed as expected.
The rule runs on each Kubernetes object as it does in a lint, and on every other YAML
document (application config files such as Kometa's or LiteLLM's) as it runs on a
ConfigMap's embedded file, which is where kustomize's configMapGenerator puts them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer.errors import InputError
from renderer.lint.manifests import Manifest
from renderer.lint.rules.plaintext_secret import check_manifest
from renderer.secrets import find_plaintext
from renderer.yamlio import load_documents

JORY = "joryirving__home-ops"
MIRCEA = "mirceanton__home-ops"
LITELLM_MODELS = "kubernetes/apps/base/llm/litellm/models"

# True findings: a literal under `apiKey` in a LiteLLM model for a local llama server. The
# key may be a placeholder the server ignores, but rail cannot know: suppress with a reason.
EXPECTED: dict[tuple[str, str, int], str] = {
    (JORY, f"{LITELLM_MODELS}/{name}.yaml", 12): "literal apiKey of a local model server"
    for name in ("dsv4f-local", "muse", "rerank", "strix-fp8")
}

RECYCLARR = "kubernetes/apps/base/downloads/recyclarr/config/recyclarr.yml"
FOREMAN = "kubernetes/apps/base/llm/foreman/app/helmrelease.yaml"
OPENCODE = "kubernetes/apps/base/llm/opencode/configmap.yaml"
REPO_WIKI = "kubernetes/apps/base/llm/repo-wiki/config.yaml"
KYOO = "kubernetes/apps/base/media/kyoo/helmrelease.yaml"
KOMETA = "kubernetes/apps/base/media/plex/kometa/configs/config.yml"
FLATE = ".github/workflows/flate.yaml"
LITELLM_CONFIG = "apps/ai/litellm/app/files/config.yaml"
MINECRAFT = "apps/games/minecraft/server-badoink/helm-release.yaml"
AI_REVIEW = ".github/workflows/ai-pr-review.yaml"
LITELLM_MODEL = "kubernetes/apps/base/llm/litellm/models/dsv4f-local.yaml"
HERMES = "kubernetes/apps/base/llm/hermes/configmap.yaml"
FLUX_INSTANCE = "apps/flux-system/flux-instance/app/helm-release.yaml"

TAG = "a custom YAML tag the tool resolves (`!env_var SONARR_API_KEY`)"
KEY_NAME = "a key of the Secret a sibling names (`secretKey: RCON_PASSWORD` beside `existingSecret`)"
ENV_REFERENCE = "an environment reference (`{env:LITELLM_API_KEY}`, `os.environ/QWEN_KEY`)"
URL_SLOT = "a slot in a URL template in a script (`https://x-access-token:%s@`, `:{TOKEN}@`)"
PLACEHOLDER = "Kometa's placeholder (`<<TRAKT_CLIENT_SECRET>>`)"
SECRET_MANAGER = "a 1Password reference (`op://kubernetes-home-ops/.../password`)"
NO_VALUE = "no value (`api_key: N/A`)"
COUNTED = "a count or a price (`max_tokens`, `cost_per_token`), not a token"
HEADER_NAMES = "header names (`headersToExtAuth: [...]`), not credentials"
AUTH_METHOD = "an authentication method (`auth: oauth`)"
OBJECT_NAME = "the name of a Secret object (`--sops-age-secret=sops-age`)"

# Findings an earlier rail made (or this classifier made while it was built), each false.
FIXED_FALSE_POSITIVES: list[tuple[str, str, int, str, str]] = [
    (JORY, RECYCLARR, 6, "sonarr.series.api_key", TAG),
    (JORY, RECYCLARR, 51, "radarr.movies.api_key", TAG),
    (JORY, FOREMAN, 61, "agents.default.githubToken.secretKey", KEY_NAME),
    (JORY, FOREMAN, 87, "agents.llmkube.githubToken.secretKey", KEY_NAME),
    (JORY, FOREMAN, 89, "agents.llmkube.coderGitSecretKey", KEY_NAME),
    (JORY, FOREMAN, 103, "coder.gitCredentialsSecretKey", KEY_NAME),
    (JORY, OPENCODE, 7, "data.entrypoint.sh", URL_SLOT),
    (JORY, OPENCODE, 29, "opencode.json#provider.litellm.options.apiKey", ENV_REFERENCE),
    (JORY, OPENCODE, 29, "opencode.json#provider.litellm-anthropic.options.authToken", ENV_REFERENCE),
    (JORY, OPENCODE, 29, "opencode.json#mcp.context7.headers.CONTEXT7_API_KEY", ENV_REFERENCE),
    (JORY, REPO_WIKI, 58, "data.generate.py", URL_SLOT),
    (JORY, KYOO, 176, "kyoo.oidc_providers[0].clientSecretKey", KEY_NAME),
    (JORY, KOMETA, 127, "mal.client_secret", PLACEHOLDER),
    (JORY, KOMETA, 130, "mal.authorization.access_token", PLACEHOLDER),
    (JORY, KOMETA, 133, "mal.authorization.refresh_token", PLACEHOLDER),
    (JORY, KOMETA, 136, "mdblist.apikey", PLACEHOLDER),
    (JORY, KOMETA, 140, "omdb.apikey", PLACEHOLDER),
    (JORY, KOMETA, 145, "plex.token", PLACEHOLDER),
    (JORY, KOMETA, 153, "radarr.token", PLACEHOLDER),
    (JORY, KOMETA, 168, "sonarr.token", PLACEHOLDER),
    (JORY, KOMETA, 186, "tautulli.apikey", PLACEHOLDER),
    (JORY, KOMETA, 189, "tmdb.apikey", PLACEHOLDER),
    (JORY, KOMETA, 196, "trakt.client_secret", PLACEHOLDER),
    (JORY, KOMETA, 198, "trakt.authorization.access_token", PLACEHOLDER),
    (JORY, KOMETA, 201, "trakt.authorization.refresh_token", PLACEHOLDER),
    (MIRCEA, FLATE, 31, "jobs.downflate.steps[0].env.DOWNFLATE_WEBHOOK_SECRET", SECRET_MANAGER),
    (MIRCEA, FLATE, 58, "jobs.konflate.steps[0].env.KONFLATE_PUSH_TOKEN", SECRET_MANAGER),
    (MIRCEA, LITELLM_CONFIG, 7, "model_list[0].litellm_params.api_key", NO_VALUE),
    (MIRCEA, LITELLM_CONFIG, 16, "model_list[1].litellm_params.api_key", ENV_REFERENCE),
    (MIRCEA, LITELLM_CONFIG, 23, "model_list[2].litellm_params.api_key", ENV_REFERENCE),
    (MIRCEA, LITELLM_CONFIG, 29, "model_list[3].litellm_params.api_key", ENV_REFERENCE),
    (MIRCEA, LITELLM_CONFIG, 36, "model_list[4].litellm_params.api_key", ENV_REFERENCE),
    (MIRCEA, LITELLM_CONFIG, 43, "model_list[5].litellm_params.api_key", ENV_REFERENCE),
    (MIRCEA, LITELLM_CONFIG, 50, "model_list[6].litellm_params.api_key", ENV_REFERENCE),
    (MIRCEA, LITELLM_CONFIG, 57, "model_list[7].litellm_params.api_key", ENV_REFERENCE),
    (MIRCEA, LITELLM_CONFIG, 65, "model_list[8].litellm_params.api_key", ENV_REFERENCE),
    (MIRCEA, LITELLM_CONFIG, 75, "model_list[9].litellm_params.api_key", ENV_REFERENCE),
    (MIRCEA, LITELLM_CONFIG, 81, "model_list[10].litellm_params.api_key", ENV_REFERENCE),
    (MIRCEA, LITELLM_CONFIG, 87, "model_list[11].litellm_params.api_key", ENV_REFERENCE),
    (MIRCEA, LITELLM_CONFIG, 150, "general_settings.master_key", ENV_REFERENCE),
    (MIRCEA, MINECRAFT, 85, "minecraftServer.rcon.secretKey", KEY_NAME),
    (JORY, AI_REVIEW, 83, "jobs.review-pr.steps[3].with.ai_max_tokens", COUNTED),
    (JORY, AI_REVIEW, 104, "jobs.review-pr.steps[3].with.tool_planning_max_tokens", COUNTED),
    (JORY, LITELLM_MODEL, 24, "spec.info.extra.input_cost_per_token", COUNTED),
    (JORY, LITELLM_MODEL, 27, "spec.info.extra.output_cost_per_token", COUNTED),
    (JORY, HERMES, 7, "config.yaml#mcp_servers.composio.auth", AUTH_METHOD),
    (JORY, KYOO, 124, "extraObjects[1].spec.extAuth.headersToExtAuth[0]", HEADER_NAMES),
    (JORY, KYOO, 125, "extraObjects[1].spec.extAuth.headersToExtAuth[1]", HEADER_NAMES),
    (JORY, KYOO, 126, "extraObjects[1].spec.extAuth.headersToExtAuth[2]", HEADER_NAMES),
    (MIRCEA, FLUX_INSTANCE, 135, "instance.kustomize.patches[6].patch", OBJECT_NAME),
]


def _findings(repo: Path) -> set[tuple[str, str, int]]:
    found: set[tuple[str, str, int]] = set()
    for path in sorted(repo.rglob("*")):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        relative = path.relative_to(repo).as_posix()
        try:
            documents = load_documents(path.read_text(encoding="utf-8"), relative, strict_tags=False)
        except (InputError, UnicodeDecodeError):
            continue  # not rail's YAML to judge here: the tolerance tests cover it
        for document in documents:
            data = document.data
            if isinstance(data, dict) and "apiVersion" in data and "kind" in data:
                for finding in check_manifest(Manifest(document)):
                    found.add((repo.name, relative, finding.location.line or 0))
            elif isinstance(data, (dict, list)):
                for key_path, _ in find_plaintext(data):
                    found.add((repo.name, relative, document.locate(key_path)[0] or 0))
    return found


@pytest.fixture(scope="module")
def corpus_findings(shared_dir: Path) -> set[tuple[str, str, int]]:
    corpus = shared_dir / "corpus-train"
    if not corpus.is_dir():
        pytest.skip(f"{corpus} is missing: the real repositories are not beside this checkout")
    found: set[tuple[str, str, int]] = set()
    for repo in sorted(corpus.iterdir()):
        if repo.is_dir():
            found |= _findings(repo)
    return found


def test_every_finding_is_one_read_by_hand(corpus_findings: set[tuple[str, str, int]]) -> None:
    assert corpus_findings == set(EXPECTED)


@pytest.mark.parametrize(
    ("repo", "path", "line", "key_path", "why"),
    FIXED_FALSE_POSITIVES,
    ids=[f"{repo[:4]}:{path.rsplit('/', 1)[-1]}:{line}" for repo, path, line, _, _ in FIXED_FALSE_POSITIVES],
)
def test_fixed_false_positive_stays_fixed(
    corpus_findings: set[tuple[str, str, int]],
    shared_dir: Path,
    repo: str,
    path: str,
    line: int,
    key_path: str,
    why: str,
) -> None:
    source = shared_dir / "corpus-train" / repo / path
    assert source.is_file(), f"the table names a file the corpus does not hold: {path}"
    assert len(source.read_text(encoding="utf-8").splitlines()) >= line
    assert (repo, path, line) not in corpus_findings, f"{key_path}: {why}"

"""plaintext-secret: a password, token, key or credential-bearing URL written as a literal value.

Everything in a GitOps repository is read by everyone who can clone it, forever:
a password typed into a spec, a values file, a HelmRelease, a ConfigMap or a plain
Kubernetes ``Secret`` is a leaked password. Secrets belong in SOPS-encrypted
``*.sops.yaml`` Secrets, wired with the chart's ``existingSecret`` keys or
``valuesFrom``.

Checked: the ``values`` of every release spec and every values file (the finding
points there, with the rendered HelmRelease as a related location); files in
``rendered/`` edited by hand (stale or obsolete ones, read as committed); the
``spec.values`` of hand-written HelmReleases; a ConfigMap's ``data`` (a
``values.yaml``-style key is read as YAML); Flux ``postBuild.substitute``; Argo CD
Helm values and parameters; workload pod specs (``env``); the ``spec`` of any custom
resource (a LiteLLM model's ``apiKey``, a datasource's password; not External Secrets',
whose keys name keys, nor Sealed Secrets'); kustomize ``secretGenerator`` literals; and
any ``Secret`` manifest that is not SOPS-encrypted
(SOPS files are the ``sops-unencrypted`` rule's). The value itself is never printed:
findings name the key and the kind of secret only.

A secret, by its key: a literal under a key whose last word names a secret:
``password``/``passwd``/``pass``/``pwd``/``passphrase``/``pgpass``, ``secret``
(``clientSecret``, ``jwtSecret``), ``token``, ``credential(s)``, ``auth``
(``basicAuth``), ``apiKey``/``api_key``, ``privateKey``, ``secretKey``, ``accessKey``,
``masterKey``, in any case and spelling (``DB_PASSWORD``, ``admin-password``); the
``value`` of an ``{name: DB_PASSWORD, value: ...}`` pair (env vars, Argo CD Helm
parameters); every literal item of a list under such a key (``passwords: [a, b]``).

A secret, by its shape, under any key (``DSN``, ``url``, ``extraArgs``): a PEM
private key block; a token with a well-known prefix: GitHub ``ghp_``/``gho_``/
``ghu_``/``ghs_``/``ghr_``/``github_pat_``, GitLab ``glpat-`` (and its other
``gl*-`` tokens), Slack ``xox?-``/``xapp-``, AWS ``AKIA``/``ASIA``, Google ``AIza``,
Stripe ``sk_live_``/``rk_live_``, age ``AGE-SECRET-KEY-1``, a JWT (``eyJ...``),
OpenAI and Anthropic ``sk-...``, npm ``npm_``, PyPI ``pypi-``, SendGrid ``SG.``,
Vault ``hvs.``, DigitalOcean ``dop_v1_``, Hugging Face ``hf_``, Grafana ``glsa_``/
``glc_``, Shopify ``shpat_``, Tailscale ``tskey-``, Twilio ``SK``; a URL with
``user:password@``; a ``password=``/``pwd=`` (or ``AccountKey=``, ``sig=``,
``api_key=``, ``access_token=``) parameter in a libpq DSN, a JDBC or ODBC string or a
query string. A weak default (``changeme``, ``password``) is a literal like any other.

Not secrets: references to where a secret is kept, and non-values. ``${VAR}`` (Flux
post-build substitution, shells), ``$(VAR)`` (Kubernetes env expansion), ``$VAR``,
``{{ ... }}`` (Go and Jinja templates), ``{VAR}`` and ``{env:VAR}``, ``<<VAR>>``,
``<path:...#key>`` (argocd-vault-plugin), ``op://...`` (1Password), ``secret://``,
``vault:...``, ``ref+vault://...`` (vals), ``os.environ/VAR``, ``ENC[...]`` (SOPS),
a value with a custom YAML tag (``!env_var VAR``, ``!Env``, ``!secret``), printf
slots (``%s``) in a URL; empty values, ``null``, ``N/A``; keys that name a Secret or
a key in one (``existingSecret``, ``passwordKey``, ``secretName``, ``tlsSecret``,
``customUsersSecret``, ``passwordFile``), a ``secretKey: RCON_PASSWORD`` beside
``existingSecret`` (it names a key of that Secret), ``coderGitSecret`` beside
``coderGitSecretKey``, everything under ``secretKeys``/``existingSecretKeys``/
``valueFrom``; ``auth: oauth`` (a method, not a credential).

A false finding: annotate the object with a reason
(``railiance.io/suppress.plaintext-secret: "the key names a Vault path"``), or in a
release spec ``suppress: {plaintext-secret: <reason>}``; to turn the rule off,
``lint.rules.plaintext-secret: off`` in ``rail.yaml``. A real one: move the value into
a SOPS Secret and rotate it (it is in git history).

Fails::

    # releases/s3/postgresql-ha.yaml
    values:
      pgpool:
        adminPassword: s3cr3t             # a literal password in git
      metrics:
        extraArgs: ["--dsn=host=db password=s3cr3t"]

Passes::

    values:
      pgpool:
        existingSecret: postgresql-ha-credentials   # a SOPS-encrypted Secret
      env:
        - name: DB_PASSWORD
          value: ${DB_PASSWORD}           # substituted by Flux at apply time
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from ...errors import InputError
from ...quoting import shell_path
from ...secrets import classify, embedded_data, find_plaintext, find_plaintext_in, is_literal
from ...yamlio import format_key_path
from ..finding import ERROR, Finding, Location, ObjectRef
from ..graph import HELM_GROUP, ReleaseGraph, ReleaseNode
from ..manifests import Manifest
from ..results import Unit, document_key, each_object, key_paths, manifest_key
from ..rule import GRAPH_WIDE, LintContext, Rule

HINT = (
    "move the value into a SOPS-encrypted Secret (*.sops.yaml) and point the chart's existingSecret key,"
    " valuesFrom or a secretKeyRef at it; the value is in git history now: rotate it"
)
WORKLOAD_KINDS = frozenset(
    {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController"}
)
SOPS_SUFFIXES = (".sops.yaml", ".sops.yml")
# API groups whose objects only name secrets kept elsewhere (External Secrets' `secretKey:
# password` is a key name), hold them encrypted (Sealed Secrets), or define schemas, and
# Kubernetes' and the GitOps tools' own groups, checked where they carry values above.
REFERENCE_GROUPS = frozenset(
    {
        "external-secrets.io",
        "generators.external-secrets.io",
        "bitnami.com",
        "apiextensions.k8s.io",
        "onepassword.com",
        "secrets.hashicorp.com",
        "kustomize.config.k8s.io",
        "kustomize.toolkit.fluxcd.io",
        "source.toolkit.fluxcd.io",
        "helm.toolkit.fluxcd.io",
        "notification.toolkit.fluxcd.io",
        "image.toolkit.fluxcd.io",
        "argoproj.io",
        "rbac.authorization.k8s.io",
        "networking.k8s.io",
        "admissionregistration.k8s.io",
    }
)


def check(context: LintContext) -> Iterator[Finding]:
    yield from _sources(context)
    loaded = context.loaded
    # What rail rendered from this stack's config, specs and values files: the
    # sources are scanned above, where the value was typed, so each is reported once.
    ours = {*loaded.spec_documents, loaded.stack.config.path} if loaded else set()
    # Each manifest on its own: cached by its content (lint.results; a Secret never is).
    # The rule is graph-wide for the rest: a spec's finding points at its rendered object.
    manifests = (
        Unit(manifest, manifest_key(manifest))
        for manifest in context.graph.manifests
        if manifest.origin is None or manifest.origin not in ours
    )
    yield from each_object(context, RULE.id, manifests, check_manifest)
    yield from _hand_edited(context)


def _hand_edited(context: LintContext) -> Iterator[Finding]:
    """Files in ``rendered/`` that differ from a fresh render are committed as they are:
    a value edited into them by hand is in git, and no spec shows it."""
    plan, root = context.drift, context.root
    if plan is None or root is None:
        return
    changed = [path for path in (*plan.stale, *plan.obsolete) if path.endswith((".yaml", ".yml"))]
    if not changed:
        return
    from ..manifests import read

    fresh: dict[str, set[str]] = {}
    for manifest in context.graph.manifests:
        if manifest.path in changed:
            fresh.setdefault(manifest.path, set()).update(f.message for f in check_manifest(manifest))
    for relative in changed:
        try:
            committed = read(root / relative, relative)
        except InputError:  # unreadable: rendered-drift reports the file
            continue
        for manifest in committed:
            for finding in check_manifest(manifest):
                # The same secret in the fresh render comes from a spec: reported there.
                if finding.message not in fresh.get(relative, set()):
                    yield finding


# --------------------------------------------------------------------------- specs and values files


def _sources(context: LintContext) -> Iterator[Finding]:
    graph, loaded = context.graph, context.loaded
    if loaded is None:
        return
    nodes: dict[str, ReleaseNode] = {}
    for node in graph.releases.values():
        if node.spec is not None:
            nodes.setdefault(node.spec.origin, node)
    owners: dict[str, ObjectRef] = {}  # spec or values file -> the release it configures (first one)
    values_nodes: dict[str, ReleaseNode] = {}
    for release in loaded.stack.releases:
        rendered = nodes.get(release.origin)
        ref = rendered.ref if rendered else ObjectRef("HelmRelease", release.namespace, release.name)
        owners.setdefault(release.origin, ref)
        for values_path in release.values_files:
            owners.setdefault(values_path, ref)
            if rendered is not None:
                values_nodes.setdefault(values_path, rendered)
    for document in context.source_documents:
        if not isinstance(document.data, dict):
            continue
        is_spec = document.path in loaded.spec_documents
        prefix: tuple[Any, ...] = ("values",) if is_spec else ()
        owner = nodes.get(document.path) if is_spec else values_nodes.get(document.path)
        # The scan is the document's own (cached by its content, and shared with the
        # cache's secret guard within a run); where it points is the graph's.
        found = key_paths(
            context,
            RULE.id,
            document_key(document, f"spec={is_spec}"),
            partial(find_plaintext_in, document.data, "values" if is_spec else None),
        )
        for path, what in found:
            line, column = document.locate(path)
            related = _rendered(graph, owner, path[len(prefix) :])
            yield Finding(
                rule=RULE.id,
                message=f"plaintext secret at {format_key_path(path)}: {what}",
                location=Location(document.path, line, column),
                object=owners.get(document.path),
                hint=HINT,
                related=related,
            )


def _rendered(graph: ReleaseGraph, node: ReleaseNode | None, values_path: tuple[Any, ...]) -> tuple[Location, ...]:
    if node is None:
        return ()
    return (graph.node_location(node, (*node.values_path, *values_path)),)


# --------------------------------------------------------------------------- manifests


def check_manifest(manifest: Manifest) -> Iterator[Finding]:
    """The findings in one Kubernetes object, wherever it came from."""
    kind, group = manifest.kind, manifest.group
    if kind == "Secret" and manifest.api_version == "v1":
        yield from _plain_secret(manifest)
    elif kind == "ConfigMap" and manifest.api_version == "v1":
        yield from _config_map(manifest)
    elif kind == "HelmRelease" and group == HELM_GROUP:
        yield from _scan(manifest, ("spec", "values"))
    elif kind == "Kustomization" and group == "kustomize.toolkit.fluxcd.io":
        yield from _scan(manifest, ("spec", "postBuild", "substitute"))
    elif kind == "Kustomization" and group == "kustomize.config.k8s.io":
        yield from _secret_generator(manifest)
    elif kind in ("Application", "ApplicationSet") and group == "argoproj.io":
        yield from _argo(manifest)
    elif kind in WORKLOAD_KINDS or (manifest.group and group not in REFERENCE_GROUPS and "." in group):
        # Workloads, and any custom resource (a LiteLLM model's `params.apiKey`, a
        # Grafana datasource's password): their spec is configuration like values.
        yield from _scan(manifest, ("spec",))


def _object(manifest: Manifest) -> ObjectRef | None:
    return ObjectRef(manifest.kind, manifest.namespace, manifest.name) if manifest.kind and manifest.name else None


def _at(manifest: Manifest, path: tuple[Any, ...]) -> Location:
    return Location(*manifest.document.where(path))


def _scan(manifest: Manifest, prefix: tuple[Any, ...], data: Any = None) -> Iterator[Finding]:
    if data is None:
        data = _get(manifest.data, prefix)
    for path, what in find_plaintext(data, prefix):
        yield Finding(
            rule=RULE.id,
            message=f"plaintext secret at {format_key_path(path)}: {what}",
            location=_at(manifest, path),
            object=_object(manifest),
            hint=HINT,
        )


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _plain_secret(manifest: Manifest) -> Iterator[Finding]:
    if manifest.is_sops() or "sops" in manifest.data or manifest.path.endswith(SOPS_SUFFIXES):
        return  # the sops-unencrypted rule's
    found: list[tuple[str, Any]] = []
    for section in ("data", "stringData"):
        entries = manifest.data.get(section)
        if isinstance(entries, dict):
            found.extend((section, key) for key, value in entries.items() if is_literal(value))
    if not found:
        return
    keys = [str(key) for _, key in found]
    first = min(found, key=lambda path: manifest.document.locate(path)[0] or 0)
    shown = ", ".join(sorted(keys)[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    yield Finding(
        rule=RULE.id,
        message=(
            f"Secret '{manifest.name}' is not encrypted: its values ({shown}) are in git as plain text"
            " (base64 under data is an encoding, not encryption)"
        ),
        location=_at(manifest, first),
        object=_object(manifest),
        hint="encrypt it with SOPS: rename it to *.sops.yaml and run"
        f" sops --encrypt --in-place {shell_path(manifest.path)}; then rotate the values",
    )


def _config_map(manifest: Manifest) -> Iterator[Finding]:
    entries = manifest.data.get("data")
    if not isinstance(entries, dict):
        return
    for key, value in entries.items():
        embedded = embedded_data(value, f"{manifest.path}#{key}")
        if embedded is None:
            yield from _scan(manifest, ("data",), {key: value})
            continue
        for path, what in find_plaintext(embedded):
            yield Finding(
                rule=RULE.id,
                message=f"plaintext secret in ConfigMap key '{key}', at {format_key_path(path)}: {what}",
                location=_at(manifest, ("data", key)),
                object=_object(manifest),
                hint=HINT,
            )


def _secret_generator(manifest: Manifest) -> Iterator[Finding]:
    generators = manifest.data.get("secretGenerator")
    if not isinstance(generators, list):
        return
    for index, generator in enumerate(generators):
        literals = generator.get("literals") if isinstance(generator, dict) else None
        if not isinstance(literals, list):
            continue
        for position, literal in enumerate(literals):
            if not isinstance(literal, str) or "=" not in literal:
                continue
            key, _, value = literal.partition("=")
            verdict = classify((key.strip(),), value)
            if verdict.is_secret:
                yield Finding(
                    rule=RULE.id,
                    message=f"plaintext secret in secretGenerator '{generator.get('name', index)}': {verdict.reason}",
                    location=_at(manifest, ("secretGenerator", index, "literals", position)),
                    object=_object(manifest),
                    hint=HINT,
                )


def _argo(manifest: Manifest) -> Iterator[Finding]:
    spec: Any = manifest.spec()
    base: tuple[Any, ...] = ("spec",)
    if manifest.kind == "ApplicationSet":
        spec = _get(spec, ("template", "spec"))
        base = ("spec", "template", "spec")
        if not isinstance(spec, dict):
            return
    sources: list[tuple[tuple[Any, ...], Any]] = []
    if isinstance(spec.get("source"), dict):
        sources.append(((*base, "source"), spec["source"]))
    for index, source in enumerate(spec.get("sources") or []):
        if isinstance(source, dict):
            sources.append(((*base, "sources", index), source))
    for path, source in sources:
        helm = source.get("helm")
        if not isinstance(helm, dict):
            continue
        helm_path = (*path, "helm")
        yield from _scan(manifest, (*helm_path, "valuesObject"))
        yield from _scan(manifest, (*helm_path, "parameters"))
        embedded = embedded_data(helm.get("values"), manifest.path)
        for value_path, what in find_plaintext(embedded):
            yield Finding(
                rule=RULE.id,
                message=f"plaintext secret in helm.values, at {format_key_path(value_path)}: {what}",
                location=_at(manifest, (*helm_path, "values")),
                object=_object(manifest),
                hint=HINT,
            )


RULE = Rule(
    id="plaintext-secret",
    # A spec's finding points at its rendered object; each manifest's own findings are cached (lint.results).
    scope=GRAPH_WIDE,
    severity=ERROR,
    summary="a password, token, key or credential-bearing URL written as a literal value",
    check=check,
    doc=__doc__ or "",
)

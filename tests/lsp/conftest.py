"""pytest-lsp fixtures: `nanlint server` driven by the client capability sets pytest-lsp ships.

The server binary is `$NANLINT_BIN`, or `<repo>/target/debug/nanlint` (build it with
`cargo build`). Each test gets a fresh server process, initialized with one recorded set of
client capabilities (VS Code 1.65.2 and every recorded Neovim); see `CLIENTS`.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
from importlib import resources
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

REPO = pathlib.Path(__file__).resolve().parents[2]
NANLINT_BIN = os.environ.get("NANLINT_BIN") or str(REPO / "target" / "debug" / "nanlint")

# How long to wait for an answer or a notification before a test fails (not a timing
# assertion: a healthy server answers in milliseconds; this only turns a hang into a failure).
TIMEOUT = 15.0


def shipped_capability_sets() -> list[str]:
    """The recorded client capability files pytest-lsp ships, as `name@vX.Y.Z` specs."""
    specs = []
    for resource in resources.files("pytest_lsp.clients").iterdir():
        name = pathlib.Path(str(resource)).name
        if name.endswith(".json"):
            client, version = name[: -len(".json")].split("_v")
            specs.append(f"{client.replace('_', '-')}@v{version}")
    return sorted(specs)


# A recorded set with one capability added, so that the pull-diagnostics path is exercised too:
# the server pulls only when the client can both pull (`textDocument.diagnostic`, which Neovim
# 0.10 and 0.11 announce) and be asked to pull again (`workspace.diagnostics.refreshSupport`,
# which no recorded set announces).
PULL_VARIANT = "neovim@v0.11.0+refresh"

# The capability sets the tests replay: the VS Code recording, every Neovim recording, and the
# pull variant.
CLIENTS = [s for s in shipped_capability_sets() if s.startswith(("visual-studio-code@", "neovim@"))] + [PULL_VARIANT]


def capabilities_for(spec: str) -> types.ClientCapabilities:
    base, _, variant = spec.partition("+")
    capabilities = client_capabilities(base)
    if variant == "refresh":
        assert capabilities.text_document.diagnostic is not None, f"{base} does not announce pull diagnostics"
        capabilities.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    elif variant:
        raise ValueError(f"unknown capability variant {variant!r}")
    return capabilities


def pytest_report_header(config):
    return [
        f"nanlint LSP tests: NANLINT_BIN={NANLINT_BIN}",
        f"pytest-lsp {pytest_lsp.__version__}, capability sets shipped: {', '.join(shipped_capability_sets())}",
    ]


def make_client() -> LanguageClient:
    """pytest-lsp's test client, which also keeps every `publishDiagnostics` it receives (with
    its version), every `client/registerCapability` and every `workspace/configuration` request.
    """
    client = LanguageClient()
    client.published = []  # list[types.PublishDiagnosticsParams], in arrival order
    client.registrations = []  # list[types.Registration]
    client.configuration_requests = []  # list[types.ConfigurationParams]
    features: dict[str, Any] = dict(DEFAULT_CLIENT_FEATURES)

    def publish_diagnostics(client: LanguageClient, params: types.PublishDiagnosticsParams):
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)

    def register_capability(client: LanguageClient, params: types.RegistrationParams):
        client.registrations.extend(params.registrations)

    default_configuration = features[types.WORKSPACE_CONFIGURATION]

    def configuration(client: LanguageClient, params: types.ConfigurationParams):
        client.configuration_requests.append(params)
        return default_configuration(client, params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish_diagnostics
    features[types.CLIENT_REGISTER_CAPABILITY] = register_capability
    features[types.WORKSPACE_CONFIGURATION] = configuration
    register_lsp_features(client, features)
    return client


def pytest_configure(config):
    if not os.access(NANLINT_BIN, os.X_OK):
        raise pytest.UsageError(f"nanlint binary not found at {NANLINT_BIN}: run `cargo build` or set NANLINT_BIN")


@pytest_lsp.fixture(
    params=CLIENTS,
    config=ClientServerConfig(server_command=[NANLINT_BIN, "server"], client_factory=make_client),
)
async def client(request, tmp_path, lsp_client: LanguageClient):
    spec = request.param
    lsp_client.spec = spec
    lsp_client.workspace = tmp_path
    lsp_client.init_result = await asyncio.wait_for(
        lsp_client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities_for(spec),
                client_info=types.ClientInfo(name=spec.split("@")[0], version=spec.split("@v")[1].split("+")[0]),
                root_uri=tmp_path.as_uri(),
            )
        ),
        TIMEOUT,
    )
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), TIMEOUT)

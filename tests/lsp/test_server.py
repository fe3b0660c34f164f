"""`nanlint server` end to end over stdio, as the recorded VS Code and Neovim clients see it.

Every test runs once per capability set in `conftest.CLIENTS`. What the server must do differs
with the set, and each test derives its expectation from the capabilities it replays:

- position encoding: UTF-8 when the client offers it (Neovim 0.11), otherwise UTF-16;
- diagnostics: pulled (`textDocument/diagnostic`) when the client announces pull support and
  can be asked to pull again (`workspace/diagnostic/refresh`), otherwise pushed
  (`textDocument/publishDiagnostics`). No recorded set announces both, so `conftest` adds one
  that does (Neovim 0.11 with refresh support).
"""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

pytestmark = [
    pytest.mark.asyncio,
    # pytest-lsp checks every answer against the client's capabilities; a mismatch fails.
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

# The seed bug with evidence for NL101: a ReLU output can be exactly 0, and log(0) = -inf.
# (On a softmax output the same line is NL104, a cross-entropy to compute from the logits.)
SEED = (
    "import tensorflow as tf\n"
    "y_conv = tf.nn.relu(logits)\n"
    "cross_entropy = -tf.reduce_sum(y_ * tf.log(y_conv))\n"
)
SEED_LOSS_LINE = 2
CLIP_LINE = "cross_entropy = -tf.reduce_sum(y_ * tf.log(tf.math.maximum(y_conv, 1e-7)))"
XLOGY_LINE = "cross_entropy = -tf.reduce_sum(tf.math.xlogy(y_, y_conv))"
NOQA_LINE = "cross_entropy = -tf.reduce_sum(y_ * tf.log(y_conv))  # noqa: NL101"

# The same bug on a line whose columns differ between UTF-8, UTF-16 and UTF-32: a CJK
# identifier (3 bytes, 1 UTF-16 unit) and an emoji (4 bytes, 2 UTF-16 units) before the log.
UNICODE = (
    "import tensorflow as tf\n"
    "確率 = tf.nn.relu(logits)\n"
    'tag = "🔥"; 損失 = -tf.reduce_sum(y_ * tf.log(確率))\n'
)


# How long to wait for an answer before failing (a hang becomes a failure; not a timing check).
TIMEOUT = 15.0

# ---------------------------------------------------------------------------------------------
# Positions in the negotiated encoding, and text edits applied the way an editor applies them.


def encoding_of(client: LanguageClient) -> str:
    return client.init_result.capabilities.position_encoding or types.PositionEncodingKind.Utf16


def units(s: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf8:
        return len(s.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf16:
        return len(s.encode("utf-16-le")) // 2
    return len(s)


def position(text: str, index: int, encoding: str) -> types.Position:
    """The LSP position of `text[index]`."""
    line = text.count("\n", 0, index)
    line_start = text.rfind("\n", 0, index) + 1
    return types.Position(line=line, character=units(text[line_start:index], encoding))


def offset(text: str, pos: types.Position, encoding: str) -> int:
    """The string index of an LSP position (exact: a position inside a character fails)."""
    lines = text.split("\n")
    assert pos.line < len(lines) or (pos.line == len(lines) and pos.character == 0), pos
    start = sum(len(line) + 1 for line in lines[: pos.line])
    line = lines[pos.line] if pos.line < len(lines) else ""
    for i in range(len(line) + 1):
        n = units(line[:i], encoding)
        if n == pos.character:
            return start + i
        assert n < pos.character, f"{pos} is not on a character boundary of {line!r} in {encoding}"
    raise AssertionError(f"{pos} is past the end of line {line!r}")


def text_range(text: str, start: int, end: int, encoding: str) -> types.Range:
    return types.Range(start=position(text, start, encoding), end=position(text, end, encoding))


def apply_edits(text: str, edits, encoding: str) -> str:
    """Applies non-overlapping `TextEdit`s whose ranges refer to `text`."""
    spans = sorted(
        ((offset(text, e.range.start, encoding), offset(text, e.range.end, encoding), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


def as_changes(text: str, edits, encoding: str) -> list[types.TextDocumentContentChangePartial]:
    """`TextEdit`s (ranges in `text`) as the sequence of incremental changes an editor sends:
    last edit first, so that every range still refers to unchanged text."""
    ordered = sorted(edits, key=lambda e: offset(text, e.range.start, encoding), reverse=True)
    return [types.TextDocumentContentChangePartial(range=e.range, text=e.new_text) for e in ordered]


def line_of(text: str, line: int) -> str:
    return text.split("\n")[line]


# ---------------------------------------------------------------------------------------------
# Documents and diagnostics, pushed or pulled depending on the capability set.


def announces_pull(client: LanguageClient) -> bool:
    """Whether the server should use pull diagnostics with this client."""
    caps = client.capabilities
    refresh = caps.workspace and caps.workspace.diagnostics and caps.workspace.diagnostics.refresh_support
    return caps.text_document.diagnostic is not None and bool(refresh)


class Doc:
    """An open document: the client's copy of its text and version."""

    def __init__(self, client: LanguageClient, name: str, text: str):
        self.client = client
        self.path = client.workspace / name
        self.uri = self.path.as_uri()
        self.text = text
        self.version = 1
        self.path.write_text(text, encoding="utf-8")
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=self.uri, language_id="python", version=1, text=text)
            )
        )

    def change(self, changes: list, new_text: str) -> None:
        self.version += 1
        self.text = new_text
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
                content_changes=changes,
            )
        )

    def apply(self, edits) -> None:
        """Applies `TextEdit`s the way an editor does: locally, then a `didChange`."""
        enc = encoding_of(self.client)
        self.change(as_changes(self.text, edits, enc), apply_edits(self.text, edits, enc))

    async def diagnostics(self, predicate=lambda diags: True) -> list[types.Diagnostic]:
        """The diagnostics of the current version that satisfy `predicate`: pulled when the
        client pulls, otherwise the pushes for this version awaited."""
        if announces_pull(self.client):
            deadline = time.monotonic() + TIMEOUT
            while True:
                report = await asyncio.wait_for(
                    self.client.text_document_diagnostic_async(
                        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=self.uri))
                    ),
                    TIMEOUT,
                )
                assert report.kind == "full", report
                # The result id is the document version the report was computed for.
                if report.result_id == str(self.version) and predicate(list(report.items)):
                    return list(report.items)
                assert time.monotonic() < deadline, f"no pulled report for version {self.version}: {report}"
                await asyncio.sleep(0.05)
        params = await wait_published(self.client, self.uri, self.version, predicate)
        return list(params.diagnostics)


async def wait_published(client: LanguageClient, uri: str, version, predicate=lambda diags: True):
    """The first `publishDiagnostics` for `uri` at `version` whose diagnostics satisfy
    `predicate`, received already or awaited with `client.wait_for_notification`."""

    def found():
        return next(
            (p for p in client.published if p.uri == uri and p.version == version and predicate(list(p.diagnostics))),
            None,
        )

    deadline = time.monotonic() + TIMEOUT
    while (params := found()) is None:
        remaining = deadline - time.monotonic()
        seen = [(p.uri, p.version, len(p.diagnostics)) for p in client.published]
        assert remaining > 0, f"no publishDiagnostics for {uri} version {version}; received: {seen}"
        # Anything that arrives from here on resolves this wait; earlier ones are in `published`.
        try:
            await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), remaining)
        except asyncio.TimeoutError:
            pass
    return params


def seed_expectations(text: str, encoding: str):
    """Where the NL101 finding on the last line must be: the whole `tf.log(...)` call."""
    start = text.index("tf.log(")
    end = text.index(")", start) + 1
    return text_range(text, start, end, encoding)


# ---------------------------------------------------------------------------------------------
# Tests


async def test_initialize_negotiates_with_the_recorded_client(client: LanguageClient):
    caps = client.init_result.capabilities
    offered = client.capabilities.general
    offered = (offered.position_encodings if offered else None) or ()
    expected = types.PositionEncodingKind.Utf8 if "utf-8" in offered else types.PositionEncodingKind.Utf16
    assert caps.position_encoding == expected
    # The two sets the brief names, spelled out so that the derivation above is not the only check.
    if client.spec.startswith("visual-studio-code@"):
        assert caps.position_encoding == types.PositionEncodingKind.Utf16
        assert not announces_pull(client)
    if client.spec == "neovim@v0.11.0":
        assert caps.position_encoding == types.PositionEncodingKind.Utf8
        assert client.capabilities.text_document.diagnostic is not None
        assert not announces_pull(client)  # it can pull, but cannot be asked to pull again
    if client.spec == "neovim@v0.11.0+refresh":
        assert caps.position_encoding == types.PositionEncodingKind.Utf8
        assert announces_pull(client)

    sync = caps.text_document_sync
    assert sync.open_close is True
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert caps.hover_provider is True
    kinds = set(caps.code_action_provider.code_action_kinds)
    assert {"quickfix", "source.fixAll", "source.fixAll.nanlint"} <= kinds
    if announces_pull(client):
        assert caps.diagnostic_provider is not None
        assert caps.diagnostic_provider.identifier == "nanlint"
        assert caps.diagnostic_provider.inter_file_dependencies is False
    else:
        assert caps.diagnostic_provider is None
    assert client.init_result.server_info.name == "nanlint"


async def test_seed_bug_is_reported(client: LanguageClient):
    doc = Doc(client, "mnist.py", SEED)
    diags = await doc.diagnostics()
    assert len(diags) == 1, diags
    d = diags[0]
    assert d.range == seed_expectations(SEED, encoding_of(client))
    assert d.range.start.line == SEED_LOSS_LINE
    assert d.code == "NL101"
    assert d.source == "nanlint"
    assert d.severity == types.DiagnosticSeverity.Warning
    assert "tf.log" in d.message and "y_conv" in d.message and "ReLU" in d.message
    # A link only where Cargo.toml names a repository (then to the rule's page).
    assert d.code_description is None or "NL101" in d.code_description.href
    # Fixes are made on request (test_code_actions_offer_both_fixes_and_noqa), not published.
    assert d.data is None
    publish_caps = client.capabilities.text_document.publish_diagnostics
    if publish_caps and publish_caps.related_information and d.related_information:
        # Points at where the value comes from: the ReLU on line 1.
        assert [r.location.range.start.line for r in d.related_information] == [1]
        assert all(r.location.uri == doc.uri for r in d.related_information)


async def test_hover_explains_the_finding(client: LanguageClient):
    doc = Doc(client, "mnist.py", SEED)
    (diag,) = await doc.diagnostics()
    enc = encoding_of(client)
    on_log = position(SEED, SEED.index("log(y_conv"), enc)
    hover = await asyncio.wait_for(
        client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=doc.uri), position=on_log)
        ),
        TIMEOUT,
    )
    assert hover is not None
    assert hover.contents.kind == types.MarkupKind.Markdown
    md = hover.contents.value
    assert md.startswith("**NL101**")
    assert "log-of-possibly-zero" in md
    # The rewrite of this very line, as the preferred fix would make it.
    assert "tf.math.maximum(y_conv, 1e-7)" in md
    assert hover.range == diag.range

    nothing = await asyncio.wait_for(
        client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=doc.uri),
                position=types.Position(line=0, character=3),
            )
        ),
        TIMEOUT,
    )
    assert nothing is None


async def code_actions(client: LanguageClient, doc: Doc, diags, only=None):
    rng = diags[0].range if diags else types.Range(start=types.Position(0, 0), end=types.Position(0, 0))
    actions = await asyncio.wait_for(
        client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=doc.uri),
                range=rng,
                context=types.CodeActionContext(diagnostics=diags, only=only),
            )
        ),
        TIMEOUT,
    )
    return list(actions or [])


def edits_of(action: types.CodeAction, uri: str) -> list[types.TextEdit]:
    assert action.edit is not None and set(action.edit.changes) == {uri}, action.edit
    return action.edit.changes[uri]


async def test_code_actions_offer_both_fixes_and_noqa(client: LanguageClient):
    doc = Doc(client, "mnist.py", SEED)
    diags = await doc.diagnostics()
    actions = await code_actions(client, doc, diags)
    enc = encoding_of(client)
    by_title = {a.title: a for a in actions}
    assert list(by_title) == [
        "nanlint (NL101): Raise `y_conv` to at least 1e-7",
        "nanlint (NL101): Use `tf.math.xlogy(y_, y_conv)`",
        "nanlint (NL101): Disable NL101 for this line",
    ]
    clip, xlogy, noqa = actions
    assert [a.kind for a in actions] == [types.CodeActionKind.QuickFix] * 3
    assert [a.is_preferred for a in actions] == [True, False, False]
    for action in actions:
        assert list(action.diagnostics) == diags
    assert line_of(apply_edits(SEED, edits_of(clip, doc.uri), enc), SEED_LOSS_LINE) == CLIP_LINE
    assert line_of(apply_edits(SEED, edits_of(xlogy, doc.uri), enc), SEED_LOSS_LINE) == XLOGY_LINE
    assert line_of(apply_edits(SEED, edits_of(noqa, doc.uri), enc), SEED_LOSS_LINE) == NOQA_LINE

    # Diagnostics from another source get no nanlint actions.
    foreign = [types.Diagnostic(range=diags[0].range, message="x", source="pyright", code="NL101")]
    assert await code_actions(client, doc, foreign) == []


@pytest.mark.parametrize("which", ["clip", "xlogy", "noqa"])
async def test_applying_a_quick_fix_clears_the_diagnostic(client: LanguageClient, which):
    doc = Doc(client, "mnist.py", SEED)
    diags = await doc.diagnostics()
    assert len(diags) == 1
    actions = {a.title.split(": ")[1].split(" ")[0]: a for a in await code_actions(client, doc, diags)}
    action = actions[{"clip": "Raise", "xlogy": "Use", "noqa": "Disable"}[which]]

    doc.apply(edits_of(action, doc.uri))
    expected = {"clip": CLIP_LINE, "xlogy": XLOGY_LINE, "noqa": NOQA_LINE}[which]
    assert line_of(doc.text, SEED_LOSS_LINE) == expected
    assert doc.version == 2
    assert await doc.diagnostics() == []

    # Undo (one full-text change): the finding is back, at its old place.
    doc.change([types.TextDocumentContentChangeWholeDocument(text=SEED)], SEED)
    (back,) = await doc.diagnostics()
    assert back.range == diags[0].range


async def test_positions_follow_the_negotiated_encoding(client: LanguageClient):
    enc = encoding_of(client)
    doc = Doc(client, "unicode.py", UNICODE)
    (diag,) = await doc.diagnostics()
    assert diag.range == seed_expectations(UNICODE, enc)
    # The columns really differ between encodings here, so this checks the negotiation.
    prefix = line_of(UNICODE, 2)[: line_of(UNICODE, 2).index("tf.log(")]
    assert len({units(prefix, e) for e in ("utf-8", "utf-16", "utf-32")}) == 3

    actions = await code_actions(client, doc, [diag])
    doc.apply(edits_of(actions[0], doc.uri))
    assert line_of(doc.text, 2) == 'tag = "🔥"; 損失 = -tf.reduce_sum(y_ * tf.log(tf.math.maximum(確率, 1e-7)))'
    assert await doc.diagnostics() == []

    # A one-character edit right after the emoji (an incremental change in the encoding).
    at = doc.text.index("🔥") + 1
    doc.change(
        [types.TextDocumentContentChangePartial(range=text_range(doc.text, at, at, enc), text="!")],
        doc.text[:at] + "!" + doc.text[at:],
    )
    assert await doc.diagnostics() == []
    hover = await asyncio.wait_for(
        client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=doc.uri),
                position=position(doc.text, doc.text.index("tf.log("), enc),
            )
        ),
        TIMEOUT,
    )
    assert hover is None


async def test_incremental_edits_move_the_finding(client: LanguageClient):
    enc = encoding_of(client)
    doc = Doc(client, "mnist.py", SEED)
    (first,) = await doc.diagnostics()
    # Insert two lines before the loss: the finding moves down by two.
    doc.change(
        [types.TextDocumentContentChangePartial(range=text_range(SEED, 0, 0, enc), text="import os\n\n")],
        "import os\n\n" + SEED,
    )
    (moved,) = await doc.diagnostics()
    assert moved.range.start.line == first.range.start.line + 2
    assert moved.range == seed_expectations(doc.text, enc)
    # A second log, of a ReLU output (which can be 0), on a new last line: two findings.
    end = len(doc.text)
    added = "z = tf.log(tf.nn.relu(q))\n"
    doc.change(
        [types.TextDocumentContentChangePartial(range=text_range(doc.text, end, end, enc), text=added)],
        doc.text + added,
    )
    diags = await doc.diagnostics(lambda ds: len(ds) == 2)
    assert sorted(d.range.start.line for d in diags) == [4, 5]


async def test_fix_all_is_safe_only_until_the_setting_allows_unsafe(client: LanguageClient):
    enc = encoding_of(client)
    doc = Doc(client, "mnist.py", SEED)
    diags = await doc.diagnostics()
    # Both NL101 fixes are unsafe, so the default fix-all has nothing to do.
    assert await code_actions(client, doc, diags, only=["source.fixAll.nanlint"]) == []

    settings = {"fixAll": {"unsafe": True}, "severity": "error"}
    client.set_configuration(settings, section="nanlint")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"nanlint": settings}))
    errors = await doc.diagnostics(lambda ds: [d.severity for d in ds] == [types.DiagnosticSeverity.Error])
    assert len(errors) == 1
    if announces_pull(client):
        # A pulling client is asked to pull again after a settings change.
        deadline = time.monotonic() + TIMEOUT
        while client.diagnostic_refresh_count == 0:
            assert time.monotonic() < deadline, "no workspace/diagnostic/refresh after a settings change"
            await asyncio.sleep(0.02)

    actions = await code_actions(client, doc, [], only=["source.fixAll"])
    assert [a.kind for a in actions] == ["source.fixAll.nanlint"]
    fixed = apply_edits(doc.text, edits_of(actions[0], doc.uri), enc)
    assert line_of(fixed, SEED_LOSS_LINE) == CLIP_LINE
    # Asked only for quick fixes, no fix-all.
    assert all(a.kind == "quickfix" for a in await code_actions(client, doc, errors, only=["quickfix"]))


async def test_pyproject_settings_apply_and_reload(client: LanguageClient):
    pyproject = client.workspace / "pyproject.toml"
    pyproject.write_text("[tool.nanlint]\nepsilon = 1e-4\n", encoding="utf-8")
    doc = Doc(client, "mnist.py", SEED)
    diags = await doc.diagnostics()
    assert "1e-4" in (await code_actions(client, doc, diags))[0].title

    pyproject.write_text("[tool.nanlint]\nignore = ['NL101']\n", encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    assert await doc.diagnostics(lambda ds: ds == []) == []


async def test_registration_and_configuration_follow_the_client(client: LanguageClient):
    workspace = client.capabilities.workspace
    watch = bool(workspace.did_change_watched_files and workspace.did_change_watched_files.dynamic_registration)
    configuration = bool(workspace.configuration)
    # The server registers its pyproject.toml watcher and asks for its settings right after
    # `initialized`; open a document and wait for its diagnostics so that both have had time.
    doc = Doc(client, "mnist.py", SEED)
    await doc.diagnostics()
    deadline = time.monotonic() + TIMEOUT
    while (configuration and not client.configuration_requests) or (watch and not client.registrations):
        assert time.monotonic() < deadline, (client.configuration_requests, client.registrations)
        await asyncio.sleep(0.02)
    if watch:
        (registration,) = client.registrations
        assert registration.method == "workspace/didChangeWatchedFiles"
        assert [w["globPattern"] for w in registration.register_options["watchers"]] == [
            "**/.nanlint.toml",
            "**/nanlint.toml",
            "**/pyproject.toml",
        ]
    else:
        assert client.registrations == []
    if configuration:
        assert [[i.section for i in p.items] for p in client.configuration_requests] == [["nanlint"]]
    else:
        assert client.configuration_requests == []


async def test_close_clears_pushed_diagnostics(client: LanguageClient):
    doc = Doc(client, "mnist.py", SEED)
    assert len(await doc.diagnostics()) == 1
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=doc.uri))
    )
    if announces_pull(client):
        report = await asyncio.wait_for(
            client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=doc.uri))
            ),
            TIMEOUT,
        )
        assert list(report.items) == []
        # A pulling client is never pushed to.
        assert client.published == []
    else:
        cleared = await wait_published(client, doc.uri, None)
        assert list(cleared.diagnostics) == []

"""Jupyter notebooks in the editor: `notebookDocument/didOpen|didChange|didClose`, as the
recorded clients of `conftest.CLIENTS` would send them (LSP 3.17 notebook sync).

A notebook's Python cells are analyzed as one program, in cell order, as `nanlint check` does
with an `.ipynb`; each cell's findings are pushed under the cell's own URI, at positions in the
cell. Cells' diagnostics are pushed whatever the client pulls (a cell's findings depend on the
other cells, and a client pulls again only the cell it changed).
"""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_server import (
    TIMEOUT,
    apply_edits,
    as_changes,
    encoding_of,
    position,
    text_range,
    wait_published,
)

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

# The seed bug (NL101: log of a ReLU output, which can be 0) spread over cells: the import in
# the first cell, the ReLU in the second (after a line magic, blanked for the analysis), the log
# in the third, after two blank lines, and a markdown cell that mentions `tf.log` last.
IMPORT = "import tensorflow as tf\n"
RELU = "%matplotlib inline\ny_conv = tf.nn.relu(logits)\n"
LOSS = "\n\ncross_entropy = -tf.reduce_sum(y_ * tf.log(y_conv))\n"
MARKDOWN = "Never write `tf.log(tf.nn.relu(x))`."
CLIP_LINE = "cross_entropy = -tf.reduce_sum(y_ * tf.log(tf.math.maximum(y_conv, 1e-7)))"

CODE = types.NotebookCellKind.Code
MARKUP = types.NotebookCellKind.Markup


class Notebook:
    """An open notebook: the client's copy of its cells (uri, kind, text, version)."""

    def __init__(self, client: LanguageClient, name: str, cells: list[tuple[types.NotebookCellKind, str]]):
        self.client = client
        path = client.workspace / name
        self.uri = path.as_uri()
        self.version = 1
        self.counter = 0
        self.cells = [self.new_cell(kind, text) for kind, text in cells]
        client.notebook_document_did_open(
            types.DidOpenNotebookDocumentParams(
                notebook_document=types.NotebookDocument(
                    uri=self.uri,
                    notebook_type="jupyter-notebook",
                    version=self.version,
                    cells=[types.NotebookCell(kind=c["kind"], document=c["uri"]) for c in self.cells],
                ),
                cell_text_documents=[self.item(c) for c in self.cells],
            )
        )

    def new_cell(self, kind, text: str) -> dict:
        self.counter += 1
        # The form VS Code gives cell URIs: the notebook's path and a fragment per cell.
        uri = self.uri.replace("file:", "vscode-notebook-cell:", 1) + f"#W{self.counter}sZmlsZQ%3D%3D"
        return {"uri": uri, "kind": kind, "text": text, "version": 1}

    @staticmethod
    def item(cell: dict) -> types.TextDocumentItem:
        language = "python" if cell["kind"] == CODE else "markdown"
        return types.TextDocumentItem(uri=cell["uri"], language_id=language, version=cell["version"], text=cell["text"])

    def change(self, change: types.NotebookDocumentChangeEvent) -> None:
        self.version += 1
        self.client.notebook_document_did_change(
            types.DidChangeNotebookDocumentParams(
                notebook_document=types.VersionedNotebookDocumentIdentifier(uri=self.uri, version=self.version),
                change=change,
            )
        )

    def edit(self, i: int, edits: list[types.TextEdit]) -> None:
        """Edits cell `i` as an editor does: locally, then incremental changes of its text."""
        cell = self.cells[i]
        enc = encoding_of(self.client)
        changes = as_changes(cell["text"], edits, enc)
        cell["text"] = apply_edits(cell["text"], edits, enc)
        cell["version"] += 1
        self.change(
            types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    text_content=[
                        types.NotebookDocumentCellContentChanges(
                            document=types.VersionedTextDocumentIdentifier(uri=cell["uri"], version=cell["version"]),
                            changes=changes,
                        )
                    ]
                )
            )
        )

    def splice(self, start: int, delete: int, new: list[dict], opened: list[dict], closed: list[dict]) -> None:
        """Replaces `delete` cells at `start` by `new` (cells added, removed or moved)."""
        self.cells[start : start + delete] = new
        self.change(
            types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    structure=types.NotebookDocumentCellChangeStructure(
                        array=types.NotebookCellArrayChange(
                            start=start,
                            delete_count=delete,
                            cells=[types.NotebookCell(kind=c["kind"], document=c["uri"]) for c in new],
                        ),
                        did_open=[self.item(c) for c in opened] or None,
                        did_close=[types.TextDocumentIdentifier(uri=c["uri"]) for c in closed] or None,
                    )
                )
            )
        )

    async def diagnostics(self, cell: dict, predicate=lambda diags: True) -> list[types.Diagnostic]:
        """The diagnostics pushed for `cell` at its current version that satisfy `predicate`."""
        params = await wait_published(self.client, cell["uri"], cell["version"], predicate)
        return list(params.diagnostics)

    def last_published(self, uri: str):
        return next((p for p in reversed(self.client.published) if p.uri == uri), None)


def loss_range(text: str, enc: str) -> types.Range:
    start = text.index("tf.log(y_conv)")
    return text_range(text, start, start + len("tf.log(y_conv)"), enc)


def has_nl101(diags) -> bool:
    return [d.code for d in diags] == ["NL101"]


def is_empty(diags) -> bool:
    return diags == []


async def open_seed(client: LanguageClient) -> Notebook:
    notebook = Notebook(client, "mnist.ipynb", [(CODE, IMPORT), (CODE, RELU), (CODE, LOSS), (MARKUP, MARKDOWN)])
    return notebook


async def test_a_finding_goes_to_its_cell_at_cell_positions(client: LanguageClient):
    nb = await open_seed(client)
    enc = encoding_of(client)
    loss = nb.cells[2]
    (d,) = await nb.diagnostics(loss, has_nl101)
    assert d.range == loss_range(LOSS, enc)
    assert d.range.start.line == 2
    # The ReLU it blames is in the cell above: the message names it.
    assert "ReLU" in d.message and "y_conv" in d.message
    # No cell but the third was told of a finding (the markdown one mentions tf.log).
    assert all(not p.diagnostics for p in client.published if p.uri != loss["uri"]), client.published
    # A cell's related information, if any, stays in that cell.
    for r in d.related_information or []:
        assert r.location.uri == loss["uri"]


async def test_hover_and_quick_fix_in_a_cell(client: LanguageClient):
    nb = await open_seed(client)
    enc = encoding_of(client)
    loss = nb.cells[2]
    (d,) = await nb.diagnostics(loss, has_nl101)
    hover = await asyncio.wait_for(
        client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=loss["uri"]),
                position=position(LOSS, LOSS.index("log(y_conv"), enc),
            )
        ),
        TIMEOUT,
    )
    assert hover is not None and hover.contents.value.startswith("**NL101**"), hover
    assert hover.range == d.range
    assert "tf.math.maximum(y_conv, 1e-7)" in hover.contents.value

    actions = await asyncio.wait_for(
        client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=loss["uri"]),
                range=d.range,
                context=types.CodeActionContext(diagnostics=[d]),
            )
        ),
        TIMEOUT,
    )
    titles = [a.title for a in actions]
    assert titles == [
        "nanlint (NL101): Raise `y_conv` to at least 1e-7",
        "nanlint (NL101): Use `tf.math.xlogy(y_, y_conv)`",
        "nanlint (NL101): Disable NL101 for this line",
    ], titles
    clip, _, noqa = actions
    # Every edit targets the cell, at positions in the cell (as `documentChanges` with the cell's
    # version for a client that takes them, else as `changes`).
    for action in actions:
        assert set(cell_edits(action.edit, loss)) == {loss["uri"]}, action.edit
    fixed = apply_edits(LOSS, cell_edits(clip.edit, loss)[loss["uri"]], enc)
    assert fixed.split("\n")[2] == CLIP_LINE
    assert apply_edits(LOSS, cell_edits(noqa.edit, loss)[loss["uri"]], enc).split("\n")[2].endswith("  # noqa: NL101")

    nb.edit(2, cell_edits(clip.edit, loss)[loss["uri"]])
    assert loss["text"] == fixed and loss["version"] == 2
    assert await nb.diagnostics(loss, is_empty) == []


def cell_edits(edit: types.WorkspaceEdit, cell: dict) -> dict:
    """The text edits of a workspace edit per URI, from `changes` or `documentChanges`; a
    versioned document change must name the cell's current version."""
    if edit.document_changes is None:
        return edit.changes
    out = {}
    for change in edit.document_changes:
        if change.text_document.uri == cell["uri"]:
            assert change.text_document.version == cell["version"], change
        out[change.text_document.uri] = list(change.edits)
    return out


async def test_imports_flow_across_cells_as_cells_are_edited(client: LanguageClient):
    nb = await open_seed(client)
    enc = encoding_of(client)
    imports, relu, loss = nb.cells[:3]
    await nb.diagnostics(loss, has_nl101)
    # Delete the import in the first cell, incrementally: the third cell's `tf` is unknown.
    nb.edit(0, [types.TextEdit(range=text_range(IMPORT, 0, len(IMPORT), enc), new_text="")])
    assert imports["text"] == ""
    await nb.diagnostics(loss, is_empty)
    # Typed back, one piece at a time: the finding comes back at the same place.
    nb.edit(0, [types.TextEdit(range=text_range("", 0, 0, enc), new_text="import tensorflow")])
    nb.edit(0, [types.TextEdit(range=text_range(imports["text"], 17, 17, enc), new_text=" as tf\n")])
    assert imports["text"] == IMPORT
    (d,) = await nb.diagnostics(loss, has_nl101)
    assert d.range == loss_range(LOSS, enc)
    # Lines added above the log in its own cell move it.
    nb.edit(2, [types.TextEdit(range=text_range(LOSS, 0, 0, enc), new_text="x = 1\n# ?\n")])
    (d,) = await nb.diagnostics(loss, has_nl101)
    assert d.range == loss_range(loss["text"], enc) and d.range.start.line == 4
    # A cell edited so that it no longer assigns the ReLU: nothing to report.
    start = relu["text"].index("tf.nn.relu")
    nb.edit(1, [types.TextEdit(range=text_range(relu["text"], start, start + len("tf.nn.relu"), enc), new_text="f")])
    # The third cell did not change: its version is the same, its diagnostics are now empty.
    assert (await nb.diagnostics(loss, is_empty)) == []


async def test_cells_added_moved_and_removed(client: LanguageClient):
    nb = await open_seed(client)
    enc = encoding_of(client)
    imports, relu, loss, markdown = nb.cells
    await nb.diagnostics(loss, has_nl101)

    # Move the ReLU cell below the log: the ReLU no longer reaches the log (a module's imports
    # bind wherever they are, as Python's scopes do; assignments reach only what follows them).
    nb.splice(1, 2, [loss, relu], opened=[], closed=[])
    await nb.diagnostics(loss, is_empty)
    # And back.
    nb.splice(1, 2, [relu, loss], opened=[], closed=[])
    (d,) = await nb.diagnostics(loss, has_nl101)
    assert d.range == loss_range(LOSS, enc)

    # A cell added after the markdown one, with a finding of its own that uses the import.
    added = nb.new_cell(CODE, "p = tf.nn.relu(z)\nq = tf.log(p)\n")
    nb.splice(4, 0, [added], opened=[added], closed=[])
    (a,) = await nb.diagnostics(added, has_nl101)
    assert a.range.start.line == 1
    # A cell added between the import and the rest shifts nothing in the other cells.
    blank = nb.new_cell(CODE, "\n\n\n")
    nb.splice(1, 0, [blank], opened=[blank], closed=[])
    assert nb.cells == [imports, blank, relu, loss, markdown, added]
    # Removing the added cell clears its diagnostics.
    published = len(client.published)
    nb.splice(5, 1, [], opened=[], closed=[added])
    await wait_published(client, added["uri"], None, is_empty)
    assert len(client.published) > published
    # The loss cell still has its finding: an edit in it is still answered for it.
    nb.edit(3, [types.TextEdit(range=text_range(LOSS, 0, 0, enc), new_text="#\n")])
    (d,) = await nb.diagnostics(loss, has_nl101)
    assert d.range.start.line == 3

    # Closing the notebook clears every cell that had diagnostics.
    client.notebook_document_did_close(
        types.DidCloseNotebookDocumentParams(
            notebook_document=types.NotebookDocumentIdentifier(uri=nb.uri),
            cell_text_documents=[types.TextDocumentIdentifier(uri=c["uri"]) for c in nb.cells],
        )
    )
    await wait_published(client, loss["uri"], None, is_empty)
    hover = await asyncio.wait_for(
        client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=loss["uri"]),
                position=position(loss["text"], loss["text"].index("log(y_conv"), enc),
            )
        ),
        TIMEOUT,
    )
    assert hover is None


async def test_the_server_announces_notebook_sync(client: LanguageClient):
    sync = client.init_result.capabilities.notebook_document_sync
    assert sync is not None
    (selector,) = sync.notebook_selector
    assert selector.notebook == "jupyter-notebook"
    assert [c.language for c in selector.cells] == ["python"]

"""A notebook fixed by `nanlint check --fix --unsafe-fixes` is still a valid nbformat 4 notebook.

nbformat (Jupyter's own reader and schema) validates the fixed file; its outputs, metadata and
markdown cells read back equal to the original's, the fixed sources hold the fixes, and each
`source` keeps its JSON form (a list of lines or one string). tests/cli.rs checks the bytes.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess

import nbformat

REPO = pathlib.Path(__file__).resolve().parents[2]
NANLINT_BIN = os.environ.get("NANLINT_BIN") or str(REPO / "target" / "debug" / "nanlint")
FIXTURE = REPO / "tests" / "notebooks" / "flow.ipynb"


def test_a_fixed_notebook_still_validates(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "flow.ipynb"
    shutil.copy(FIXTURE, path)
    before = nbformat.read(str(path), as_version=4)
    nbformat.validate(before)

    run = subprocess.run(
        [NANLINT_BIN, "check", "--fix", "--unsafe-fixes", "--isolated", str(path)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert path.read_bytes() != FIXTURE.read_bytes(), "the fixes changed the notebook"

    after = nbformat.read(str(path), as_version=4)
    nbformat.validate(after)
    assert after.metadata == before.metadata
    assert (after.nbformat, after.nbformat_minor) == (before.nbformat, before.nbformat_minor)
    assert len(after.cells) == len(before.cells)
    for old, new in zip(before.cells, after.cells):
        assert {k: v for k, v in new.items() if k != "source"} == {k: v for k, v in old.items() if k != "source"}
    assert [c.source for c in after.cells if c.cell_type != "code"] == [
        c.source for c in before.cells if c.cell_type != "code"
    ]
    assert after.cells[0].source.startswith("from scipy.special import log_softmax\n%matplotlib inline\n")
    assert "loss = torch.log_softmax(z, -1)\n!nvidia-smi\ntorch.log?\n" in after.cells[4].source
    assert after.cells[4].source.endswith("r = log_softmax(logits)")

    raw_before = json.loads(FIXTURE.read_text(encoding="utf-8"))
    raw_after = json.loads(path.read_text(encoding="utf-8"))
    kinds = [type(c["source"]) for c in raw_after["cells"]]
    assert kinds == [type(c["source"]) for c in raw_before["cells"]]
    assert str in kinds and list in kinds

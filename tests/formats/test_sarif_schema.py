"""`nanlint check --output-format sarif` validated against the official SARIF 2.1.0 JSON schema.

The schema is the OASIS file `serde-sarif` (a dependency, from crates.io) ships as
`src/schema.json` and generates its types from; `cargo metadata` says where cargo unpacked it.
The output covers every shape nanlint writes: rules, fixes with an added import, related
locations, syntax errors (NL000), missing paths (NL001), non-ASCII paths and columns.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import subprocess

import jsonschema
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
NANLINT_BIN = os.environ.get("NANLINT_BIN") or str(REPO / "target" / "debug" / "nanlint")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    metadata = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )
    packages = json.loads(metadata.stdout)["packages"]
    manifest = next(p["manifest_path"] for p in packages if p["name"] == "serde-sarif")
    schema = json.loads((pathlib.Path(manifest).parent / "src" / "schema.json").read_text())
    assert schema["$id"].endswith("/sarif-schema-2.1.0.json"), schema["$id"]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def sarif(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("sarif")
    (root / "src").mkdir()
    (root / "src" / "losses ünï.py").write_text(
        "import torch\n\n\ndef loss(z, y):\n    p = torch.softmax(z, dim=-1)\n    h = torch.relu(z)\n"
        "    return -(y * torch.log(p)).sum(), torch.log(h)\n"
    )
    (root / "entropy.py").write_text("import numpy as np\n\ndef h(p):\n    return -np.sum(p * np.log(p))\n")
    (root / "broken.py").write_text("import numpy as np\ndef f(:\n    return np.log(x)\n")
    (root / "flow.ipynb").write_bytes((REPO / "tests" / "notebooks" / "flow.ipynb").read_bytes())
    done = subprocess.run(
        [NANLINT_BIN, "check", "--output-format", "sarif", ".", "missing.py", str(REPO / "examples")],
        cwd=root, capture_output=True, text=True,
    )
    assert done.returncode == 1, done.stderr
    return json.loads(done.stdout)


def test_sarif_output_is_valid(validator: jsonschema.Draft7Validator, sarif: dict) -> None:
    errors = sorted(validator.iter_errors(sarif), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    results = sarif["runs"][0]["results"]
    # NL104: the cross-entropy written out on a softmax output (here and in examples/);
    # NL101: the log of a ReLU output and the entropy of an unguarded `p`; NL102: the notebook's
    # logs of softmax outputs, whose messages name the cell and which carry no fixes (their
    # regions would be rows of cells, not of the JSON file).
    assert {r["ruleId"] for r in results} == {"NL000", "NL001", "NL101", "NL102", "NL104"}
    notebook = [r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "flow.ipynb"]
    assert [r["message"]["text"][:7] for r in notebook] == ["cell 5:", "cell 5:"]
    assert not any("fixes" in r for r in notebook)
    assert any("fixes" in r for r in results) and any("relatedLocations" in r for r in results)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "src/losses%20%C3%BCn%C3%AF.py" in uris, uris


def test_the_validator_rejects_broken_sarif(validator: jsonschema.Draft7Validator, sarif: dict) -> None:
    # The check above can fail: the same output with a wrong type or a missing key does not pass.
    broken = copy.deepcopy(sarif)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert list(validator.iter_errors(broken))
    broken = copy.deepcopy(sarif)
    del broken["runs"][0]["tool"]["driver"]["name"]
    assert list(validator.iter_errors(broken))
    broken = copy.deepcopy(sarif)
    broken["runs"][0]["columnKind"] = "characters"
    assert list(validator.iter_errors(broken))

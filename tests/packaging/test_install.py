"""The Python package and the pre-commit hooks, as a user gets them.

- `pip install .` into a fresh virtualenv (the README's first install command) builds the wheel
  through maturin and puts `nanlint` on that venv's PATH; `nanlint check` and `nanlint server`
  (initialize, shutdown, exit over stdio) run from there.
- The real `pre-commit` runs both hooks of `.pre-commit-hooks.yaml` from a snapshot of this
  working tree in a temporary Git repository.

Both compile the crate with Cargo's `dist` profile (pyproject.toml's `[tool.maturin] profile`:
release with whole-program LTO). The wheel builds in `CARGO_TARGET_DIR` (default: this
repository's `target/`, where a first run compiles every dependency in that profile, as a user's
`pip install .` does). pre-commit builds in a clone at another path. Under `tests/all.sh`
(`CI=true`: CI runs on a fresh machine) it shares this repository's `target/`, reusing the
dependencies the wheel compiled: only the clone's crate compiles and links.
Otherwise it gets its own target folder in the dev cache (`$NANLINT_DEV_CACHE/pre-commit-target`,
kept between runs): sharing `target/` would make the next `cargo build --profile dist` here
compile the crate again.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import venv

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
# The log of a ReLU output, which can be 0 (evidence for NL101; the log of an unknown `p` is clean).
SMELLY = "import torch\n\ny = torch.log(torch.relu(p))\n"
FIXED = "import torch\n\ny = torch.log(torch.clamp(torch.relu(p), min=1e-7))\n"
# The same code as a notebook's one cell: the hooks' `types_or` includes `jupyter`.
NOTEBOOK = json.dumps(
    {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "c1",
                "metadata": {},
                "outputs": [],
                "source": SMELLY.splitlines(keepends=True),
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    },
    indent=1,
)


def build_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", str(REPO / "target"))
    env.pop("NO_COLOR", None)
    return env


def pre_commit_env(tmp_path: pathlib.Path) -> dict[str, str]:
    env = build_env()
    cache = pathlib.Path(os.environ.get("NANLINT_DEV_CACHE") or pathlib.Path.home() / ".cache" / "nanlint-dev")
    if os.environ.get("CI") != "true":
        env["CARGO_TARGET_DIR"] = str(cache / "pre-commit-target")
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    return env


def cargo_version() -> str:
    for line in (REPO / "Cargo.toml").read_text().splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise AssertionError("no version in Cargo.toml")


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A fresh venv with `pip install <repo>` done; returns its bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    done = run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q", str(REPO)],
        env=build_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return bin_dir


def test_pip_install_puts_nanlint_on_path(installed: pathlib.Path, tmp_path: pathlib.Path) -> None:
    env = build_env()
    env["PATH"] = f"{installed}{os.pathsep}{env['PATH']}"
    assert shutil.which("nanlint", path=env["PATH"]) == str(installed / "nanlint")
    version = run(["nanlint", "--version"], env=env)
    assert version.stdout.strip() == f"nanlint {cargo_version()}"

    (tmp_path / "train.py").write_text(SMELLY)
    (tmp_path / "clean.py").write_text("import torch\n\ny = torch.log(torch.relu(p) + 1e-7)\n")
    found = run(["nanlint", "check", "--output-format", "concise", "."], env=env, cwd=tmp_path)
    assert found.returncode == 1, found.stderr
    assert found.stdout.startswith("train.py:3:5: NL101 "), found.stdout
    clean = run(["nanlint", "check", "clean.py"], env=env, cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (0, "All checks passed!\n")


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_frame(stream) -> dict:
    length = None
    while True:
        line = stream.readline()
        assert line, "the server closed its output"
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    assert length is not None
    return json.loads(stream.read(length))


def answer(server: subprocess.Popen, request_id: int) -> dict:
    """The response to `request_id` (notifications the server sends meanwhile are skipped)."""
    while True:
        message = read_frame(server.stdout)
        if message.get("id") == request_id and "method" not in message:
            return message


def test_the_installed_server_initializes_and_shuts_down(installed: pathlib.Path, tmp_path: pathlib.Path) -> None:
    # As a client does: each request waits for its answer.
    server = subprocess.Popen(
        [str(installed / "nanlint"), "server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        params = {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}
        server.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}))
        server.stdin.flush()
        init = answer(server, 1)["result"]
        assert init["serverInfo"]["name"] == "nanlint"
        assert init["serverInfo"]["version"] == cargo_version()
        assert "codeActionProvider" in init["capabilities"]
        server.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        server.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
        server.stdin.flush()
        assert answer(server, 2) == {"jsonrpc": "2.0", "id": 2, "result": None}
        server.stdin.write(frame({"jsonrpc": "2.0", "method": "exit"}))
        server.stdin.flush()
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def git(cwd: pathlib.Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    done = run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args], cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def snapshot_of_this_tree(dest: pathlib.Path) -> str:
    """This working tree (tracked and new files, uncommitted changes included) as a one-commit
    repository, so the hooks under test are the ones on disk; returns the commit."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO)
    assert listed.returncode == 0, listed.stderr
    for name in filter(None, listed.stdout.split("\0")):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "snapshot")
    return git(dest, "rev-parse", "HEAD")


def test_pre_commit_hooks(tmp_path: pathlib.Path) -> None:
    hooks = tmp_path / "nanlint-repo"
    hooks.mkdir()
    rev = snapshot_of_this_tree(hooks)

    project = tmp_path / "project"
    (project / "venv" / "lib").mkdir(parents=True)
    git(project, "init", "-q")
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n      - id: nanlint\n      - id: nanlint-fix\n"
        "        stages: [manual]\n"
    )
    (project / "train.py").write_text(SMELLY)
    (project / "explore.ipynb").write_text(NOTEBOOK)
    # Tracked, so pre-commit names it; --force-exclude keeps the default excludes in force.
    (project / "venv" / "lib" / "vendored.py").write_text(SMELLY)
    (project / "notes.txt").write_text("torch.log(torch.relu(p))\n")
    git(project, "add", "-A")

    env = pre_commit_env(tmp_path)
    pre_commit = [sys.executable, "-m", "pre_commit"]

    check = run([*pre_commit, "run", "nanlint", "--all-files"], cwd=project, env=env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "train.py:3:5: NL101 " in check.stdout, check.stdout
    assert "explore.ipynb:cell 1:3:5: NL101 " in check.stdout, check.stdout
    assert "vendored.py" not in check.stdout, check.stdout

    fix = run([*pre_commit, "run", "nanlint-fix", "--all-files", "--hook-stage", "manual"], cwd=project, env=env)
    assert fix.returncode == 1, "a hook that changed files fails the commit"
    assert "files were modified by this hook" in fix.stdout, fix.stdout
    assert (project / "train.py").read_text() == FIXED
    cells = json.loads((project / "explore.ipynb").read_text())["cells"]
    assert "".join(cells[0]["source"]) == FIXED
    assert (project / "venv" / "lib" / "vendored.py").read_text() == SMELLY

    git(project, "add", "-A")
    again = run([*pre_commit, "run", "nanlint", "--all-files"], cwd=project, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Passed" in again.stdout, again.stdout

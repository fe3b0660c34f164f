"""NL000's indentation verdicts against CPython's own `compile()`, file by file.

The test draws programs of nested blocks (`if`/`elif`/`else`, `for`, `while`, `def`, decorated
`def`, `class`, `with`, `try`, `match`/`case`) with brackets, backslashes and strings continued
onto other lines, whose lines are indented with spaces, tabs, both mixed, and form feeds, from a
fixed seed, and runs `nanlint check --select NL000` once over them. Every indentation verdict nanlint gives
(`IndentationError` or `TabError` in its message, and `expected 'except' or 'finally' block`)
must be CPython's: the same message at the same
place (the statement's line, or for "expected an indented block after ... on line N" the
header's line N; CPython's `lineno` is then the line after), and the only one in the file
(CPython stops at its first error). Most drawn programs are refused, so
the comparison is not vacuous. A file CPython refuses for its indentation that tree-sitter
cannot parse gets NL000's other message (the region it could not parse): counted apart. One
nanlint says nothing of is a miss, allowed (tree-sitter counts a tab after spaces as 8 more
columns, CPython to the next multiple of 8, and where their blocks differ nanlint can say
nothing) but bounded.

Also a script, for a corpus:

    python tests/formats/test_indentation_vs_cpython.py NANLINT_BIN FOLDER...

prints each disagreement and a summary, and exits 1 when a verdict is wrong or follows the first. A verdict after
another syntax error CPython stops at first (a Python 2 `print`) cannot be compared and is
counted apart; so are CPython's refusals nanlint reports nothing of (nanlint only parses files
naming a function a rule looks for, so most of these in a corpus it never read).
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import re
import subprocess
import sys
import warnings

REPO = pathlib.Path(__file__).resolve().parents[2]
NANLINT_BIN = os.environ.get("NANLINT_BIN") or str(REPO / "target" / "debug" / "nanlint")
INDENTATION = re.compile(r"Syntax error: (.*) \((IndentationError|TabError)\)$")
# A statement tree-sitter accepts and CPython refuses, not for its indentation: compared as well.
NO_HANDLER = "expected 'except' or 'finally' block"


def cpython_verdict(path: pathlib.Path):
    """(message, line) of CPython's indentation error in `path`; ("other", line) for another
    syntax error; None when it compiles."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except IndentationError as error:
        header = re.match(r"(expected an indented block after .*) on line (\d+)$", error.msg)
        if header:
            return header.group(1), int(header.group(2))
        return error.msg, error.lineno
    except SyntaxError as error:
        return ("other" if error.msg != NO_HANDLER else NO_HANDLER), error.lineno
    except ValueError:
        return "other", None
    return None


def compare(binary: str, folder: pathlib.Path, show=print) -> dict[str, int]:
    run = subprocess.run(
        [binary, "check", "--isolated", "--select", "NL000", "--output-format", "json", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    verdicts: dict[str, list[tuple[int, str]]] = {}
    flagged = set()
    for finding in json.loads(run.stdout):
        flagged.add(finding["filename"])
        match = INDENTATION.match(finding["message"])
        message = match.group(1) if match else finding["message"].removeprefix("Syntax error: ")
        if match or message == NO_HANDLER:
            verdicts.setdefault(finding["filename"], []).append((finding["location"]["row"], message))
    tally = {
        "files": 0,
        "right": 0,
        "more after the first": 0,
        "wrong": 0,
        "after another error": 0,
        "reported as another syntax error": 0,
        "not reported": 0,
    }
    for path in sorted(folder.rglob("*.py")):
        tally["files"] += 1
        ours = sorted(verdicts.get(str(path), []))
        theirs = cpython_verdict(path)
        if ours:
            row, message = ours[0]
            if theirs == (message, row) and len(ours) > 1:
                tally["more after the first"] += 1
                show(f"more after the first: {path}: nanlint gives {len(ours)} verdicts, CPython stops at {theirs}")
            elif theirs == (message, row):
                tally["right"] += 1
            elif theirs and theirs[0] == "other" and (theirs[1] or 0) < row:
                tally["after another error"] += 1
            else:
                tally["wrong"] += 1
                show(f"wrong: {path}: nanlint {message!r} at line {row}; CPython {theirs}")
        elif theirs and theirs[0] != "other" and str(path) in flagged:
            # tree-sitter could not parse it: NL000 names the region instead.
            tally["reported as another syntax error"] += 1
        elif theirs and theirs[0] != "other":
            tally["not reported"] += 1
            show(f"not reported: {path}: CPython {theirs}")
    return tally


PIECES = [" ", "  ", "    ", "\t", "\x0c"]
# `{i}` stands for the header's own indentation (a decorated definition's second line).
HEADERS = ["if x:", "for i in y:", "def f(x):", "while x:", "with a as b:", "class A:", "@dec\n{i}def g():", "match x:"]
# Clauses a header's statement can go on with (`try:` is drawn below, sometimes with neither
# `except` nor `finally`: tree-sitter accepts it, CPython does not).
CLAUSES = {"if x:": ["elif y:", "else:"], "for i in y:": ["else:"], "while x:": ["else:"]}
# A bracket, a backslash and a string continued onto lines of other indentation, `;`, comments.
SIMPLE = ["a = 1", "b = np.log(a)", "pass", "return x", "c = (1,\n{i}  2)", "d = 1 + \\\n3", "s = \"\"\"x\n  y\"\"\"", "e = 1; f = 2", "# a comment"]


def draw_program(rng: random.Random) -> str:
    def indent(depth: int) -> str:
        style = rng.random()
        if style < 0.5:
            return "    " * depth
        if style < 0.7:
            return "\t" * depth
        return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, depth * 2 + 1)))

    # A log at the top: nanlint parses only files naming a function a rule looks for.
    lines = ["import numpy as np", "p = np.log(q)"]
    headers: list[str] = []
    depth = 0
    for _ in range(rng.randint(2, 12)):
        r = rng.random()
        own = indent(depth)
        if r < 0.3:
            header = rng.choice(HEADERS)
            lines.append(own + header.replace("{i}", own))
            headers.append(header)
            depth += 1
            if header == "match x:":
                lines.append(indent(depth) + "case 1:")
                depth += 1
            lines.append(indent(depth) + "y = np.log(x)")
        elif r < 0.35:
            lines.append(own + "try:")
            lines.append(indent(depth + 1) + "t = np.log(x)")
            lines.append(indent(depth) + rng.choice(["except E:", "finally:", "else:", "v = 2"]))
            lines.append(indent(depth + 1) + "u = 1")
        elif r < 0.45 and depth:
            depth = rng.randint(0, depth - 1)
            lines.append(indent(depth) + "z = np.log(y)")
        elif r < 0.52 and depth and headers and headers[-1] in CLAUSES:
            lines.append(indent(depth - 1) + rng.choice(CLAUSES[headers[-1]]))
            lines.append(indent(depth) + "w = 1")
        elif r < 0.56:
            lines.append(rng.choice(["", " ", "\t", "\x0c", "  # c"]))
        else:
            lines.append(own + rng.choice(SIMPLE).replace("{i}", own))
    return "\n".join(lines) + "\n"


def test_indentation_verdicts_are_cpythons(tmp_path: pathlib.Path) -> None:
    # NANLINT_INDENT_SEED and NANLINT_INDENT_PROGRAMS draw others (`pytest -s` prints the tally).
    rng = random.Random(int(os.environ.get("NANLINT_INDENT_SEED", "20261203")))
    programs = int(os.environ.get("NANLINT_INDENT_PROGRAMS", "2000"))
    for k in range(programs):
        (tmp_path / f"p{k:05d}.py").write_text(draw_program(rng), encoding="utf-8")
    shown: list[str] = []
    tally = compare(NANLINT_BIN, tmp_path, show=shown.append)
    print(tally)
    assert tally["wrong"] == 0 and tally["more after the first"] == 0, "\n".join(shown[:20])
    # Most programs are refused, nearly all of them reported: the comparison compares something.
    assert tally["right"] >= programs // 2, tally
    assert tally["not reported"] <= tally["right"] // 20, tally


def draw_deep_program(rng: random.Random) -> str:
    """Blocks nested about as deep as CPython's tokenizer allows (100 levels, the module's
    included), one space or one tab more per level, then a line deeper where no block starts, a
    dedent, or more blocks."""
    step = rng.choice([" ", "\t", "  "])
    lines = ["import numpy as np", "p = np.log(q)"]
    depth = 0
    for _ in range(rng.randint(95, 104)):
        lines.append(step * depth + rng.choice(["if x:", "for i in y:", "def f(x):", "while x:", "class A:"]))
        depth += 1
    lines.append(step * depth + "y = np.log(x)")
    r = rng.random()
    if r < 0.3:
        lines.append(step * (depth + 1) + "z = 1")
    elif r < 0.6:
        depth = rng.randint(0, depth)
        lines.append(step * depth + "z = np.log(y)")
        lines.append(step * depth + "if z:")
        lines.append(step * (depth + 1) + "w = 1")
    return "\n".join(lines) + "\n"


def test_deep_nesting_verdicts_are_cpythons(tmp_path: pathlib.Path) -> None:
    rng = random.Random(int(os.environ.get("NANLINT_INDENT_SEED", "20261203")))
    for k in range(200):
        (tmp_path / f"d{k:03d}.py").write_text(draw_deep_program(rng), encoding="utf-8")
    shown: list[str] = []
    tally = compare(NANLINT_BIN, tmp_path, show=shown.append)
    print(tally)
    assert tally["wrong"] == 0 and tally["more after the first"] == 0 and tally["not reported"] == 0, "\n".join(
        shown[:20]
    )
    # About half the programs pass the limit.
    assert tally["right"] >= 50, tally


if __name__ == "__main__":
    totals: dict[str, int] = {}
    for folder in sys.argv[2:]:
        for key, count in compare(sys.argv[1], pathlib.Path(folder)).items():
            totals[key] = totals.get(key, 0) + count
    print(", ".join(f"{key}: {count}" for key, count in totals.items()))
    sys.exit(1 if totals.get("wrong") or totals.get("more after the first") else 0)

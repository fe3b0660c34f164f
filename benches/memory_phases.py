#!/usr/bin/env python3
"""The language server's resident memory after each phase of typing in one file: where the
keystroke bench reports one VmHWM after all its rows, this prints VmHWM (the peak so far), VmRSS
and RssAnon after each phase, so a peak can be told from memory held afterwards.

  memory_phases.py NANLINT_BINARY FILE

Phases, each keystroke an `x` typed at a line's end and deleted, each sent when the previous
version's diagnostics arrived: open; 300 keystrokes at random lines (`random.Random(7)`); 150 on
the first line starting `class ` past the middle of the file; 150 on the first `import` line;
thirty 50-line blocks pasted at random lines and undone; then four rounds of 50 string delimiters
(`"` at a line's end, which makes tree-sitter reparse the rest of the file) and three rounds of
the 300 random keystrokes again. Linux only (reads /proc/<pid>/status). Asserts nothing.
"""
import json
import random
import subprocess
import sys


def main() -> None:
    binary, path = sys.argv[1], sys.argv[2]
    server = subprocess.Popen([binary, "server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def send(message: dict) -> None:
        body = json.dumps(message).encode()
        server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        server.stdin.flush()

    def receive() -> dict:
        length = 0
        while True:
            line = server.stdout.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length"):
                length = int(line.split(b":")[1])
        return json.loads(server.stdout.read(length))

    def diagnostics() -> None:
        while receive().get("method") != "textDocument/publishDiagnostics":
            pass

    def status(phase: str) -> None:
        fields = {}
        with open(f"/proc/{server.pid}/status") as f:
            for line in f:
                key, value = line.split(":", 1)
                if key in ("VmHWM", "VmRSS", "RssAnon"):
                    fields[key] = int(value.split()[0]) / 1024
        print(f"{phase:<28} VmHWM {fields['VmHWM']:5.1f} MB  VmRSS {fields['VmRSS']:5.1f} MB  RssAnon {fields['RssAnon']:5.1f} MB", flush=True)

    uri = "file:///memory-phases/file.py"
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    while receive().get("id") != 1:
        pass
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    text = open(path, encoding="utf-8").read()
    lines = text.split("\n")
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
          "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}})
    diagnostics()
    status("open")
    version = 1

    def change(start: tuple, end: tuple, new_text: str) -> None:
        nonlocal version
        version += 1
        rng = {"start": {"line": start[0], "character": start[1]}, "end": {"line": end[0], "character": end[1]}}
        send({"jsonrpc": "2.0", "method": "textDocument/didChange",
              "params": {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": rng, "text": new_text}]}})
        diagnostics()

    def keystrokes(rows: list, typed: str) -> None:
        for r in rows:
            # Columns in UTF-16 units, as the server's default encoding counts them.
            c = len(lines[r].encode("utf-16-le")) // 2
            change((r, c), (r, c), typed)
            change((r, c), (r, c + 1), "")

    draw = random.Random(7)
    rows = [draw.randrange(len(lines) - 1) for _ in range(300)]
    keystrokes(rows, "x")
    status("random lines")
    middle = len(lines) // 2
    header = next((i for i in range(middle, len(lines)) if lines[i].startswith("class ")), middle)
    keystrokes([header] * 150, "x")
    status("a class header")
    first_import = next((i for i, line in enumerate(lines) if line.startswith("import ")), 0)
    keystrokes([first_import] * 150, "x")
    status("an import line")
    block = "".join(line + "\n" for line in lines[header:header + 50])
    for r in rows[:30]:
        change((r, 0), (r, 0), block)
        change((r, 0), (r + 50, 0), "")
    status("50-line pastes, undone")
    for i in range(4):
        keystrokes(rows[:50], '"')
        status(f"string delimiters ({i + 1})")
    for i in range(3):
        keystrokes(rows, "x")
        status(f"random lines again ({i + 1})")
    server.kill()


if __name__ == "__main__":
    main()

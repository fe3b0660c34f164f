#!/usr/bin/env python3
"""Open one file in `nanlint server` over stdio and print how long its first diagnostics took and
the server's peak resident memory; with `--keystrokes N`, then type a character at the end of a
line and delete it, N edits in all, each sent when the previous version's diagnostics arrived.

  server_open.py NANLINT_BINARY FILE [--keystrokes N] [--line-prefix TEXT]

The edited line is the middle one of the lines starting with TEXT (default: the whole file's
middle line). Used for the pathological shapes of benches/pathological.py (benches/README.md);
the keystroke table of the latency issue is `cargo bench --bench keystrokes`. Linux only (reads
VmHWM from /proc/<pid>/status). Asserts nothing.
"""
import argparse
import json
import os
import statistics
import subprocess
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("file")
    parser.add_argument("--keystrokes", type=int, default=0)
    parser.add_argument("--line-prefix", default=None)
    args = parser.parse_args()

    server = subprocess.Popen(
        [args.binary, "server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )

    def send(message: dict) -> None:
        body = json.dumps(message).encode()
        server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        server.stdin.flush()

    def read() -> dict:
        headers = {}
        while True:
            line = server.stdout.readline()
            if line in (b"\r\n", b""):
                break
            key, value = line.decode().split(":", 1)
            headers[key.strip().lower()] = value.strip()
        return json.loads(server.stdout.read(int(headers["content-length"])))

    def diagnostics_of(version: int) -> dict:
        while True:
            message = read()
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"].get("version") == version:
                return message

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    while read().get("id") != 1:
        pass
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    with open(args.file, encoding="utf-8") as f:
        text = f.read()
    uri = "file:///bench/" + os.path.basename(args.file)
    started = time.perf_counter()
    document = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": document}})
    published = diagnostics_of(1)
    opened = time.perf_counter() - started
    print(f"{os.path.basename(args.file)}: {len(text):,} bytes, first diagnostics after {opened * 1e3:.1f} ms "
          f"({len(published['params']['diagnostics'])} diagnostics)")

    if args.keystrokes:
        lines = text.split("\n")
        candidates = [i for i, l in enumerate(lines) if args.line_prefix is None or l.startswith(args.line_prefix)]
        row = candidates[len(candidates) // 2]
        column = len(lines[row].encode("utf-16-le")) // 2
        latencies = []
        for k in range(args.keystrokes):
            version = k + 2
            end = column + (k % 2)
            change = {
                "range": {"start": {"line": row, "character": column}, "end": {"line": row, "character": end}},
                "text": "x" if k % 2 == 0 else "",
            }
            started = time.perf_counter()
            params = {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}
            send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": params})
            diagnostics_of(version)
            latencies.append((time.perf_counter() - started) * 1000)
        print(f"keystrokes at the end of line {row + 1}: p50 {statistics.median(latencies):.1f} ms, "
              f"max {max(latencies):.1f} ms ({args.keystrokes})")

    with open(f"/proc/{server.pid}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    print(f"VmHWM {int(status['VmHWM'].split()[0]) / 1024:.1f} MB, VmRSS {int(status['VmRSS'].split()[0]) / 1024:.1f} MB")
    send({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
    while read().get("id") != 2:
        pass
    send({"jsonrpc": "2.0", "method": "exit"})
    server.wait(timeout=10)


if __name__ == "__main__":
    main()

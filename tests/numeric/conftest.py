"""pytest configuration for the numeric truth tests (helpers: numeric_support.py)."""

from __future__ import annotations

import os
import sys


def pytest_report_header(config):
    return [
        f"nanlint numeric tests: python {sys.executable}",
        f"NANLINT_BIN={os.environ.get('NANLINT_BIN', '(unset: <repo>/target/debug/nanlint)')}"
        f" NANLINT_REQUIRE_LIBS={os.environ.get('NANLINT_REQUIRE_LIBS', '')}",
    ]

"""The locustfile of the shipped suites: exposes the one user class `ERPOPS_LOADTEST_SUITE` names."""

from __future__ import annotations

import os

from loadtest.fixture import SUITE_ENV
from loadtest.suites import SUITES

_suite = os.environ.get(SUITE_ENV, "day")
if _suite not in SUITES:
    raise SystemExit(f"unknown suite {_suite!r}; one of: {', '.join(SUITES)}")
globals()[SUITES[_suite].__name__] = SUITES[_suite]

"""The locustfile of the shipped suites: exposes the user class `ERPOPS_LOADTEST_SUITE` names.

A remote worker (`erpops loadtest worker`, suite `all`) exposes every suite's class: the master sends
each worker the names of the classes to spawn, so the master alone decides the suite.
"""

from __future__ import annotations

import os

from loadtest.fixture import ALL_SUITES, SUITE_ENV
from loadtest.suites import SUITES

_suite = os.environ.get(SUITE_ENV, "day")
if _suite == ALL_SUITES:
    globals().update({cls.__name__: cls for cls in SUITES.values()})
elif _suite in SUITES:
    globals()[SUITES[_suite].__name__] = SUITES[_suite]
else:
    raise SystemExit(f"unknown suite {_suite!r}; one of: {', '.join(SUITES)}")

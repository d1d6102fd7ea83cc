"""The start-up heap, taken out of the cyclic garbage collector's way.

A process that files mail holds some 100,000 objects from start-up for its whole life
(the modules of SQLAlchemy, the mail parser, the models, the configuration). Filing a
batch keeps a few thousand objects alive while it works, which sets off the collector,
and about one collection in a hundred is a full one, which looks through the start-up
heap again and finds nothing to free: 40-60 ms each on a small server, about 4% of the
time spent filing mail (timed with ``gc.callbacks`` over ``bench/bench_ingest.py``).
``gc.freeze`` moves what is alive now to a generation no collection looks at; objects
made later are collected as before, and frozen objects are still freed when nothing
refers to them any more (only a reference cycle among them would now stay until the
process ends: start-up objects live that long anyway).
"""

from __future__ import annotations

import gc
from functools import cache


@cache  # (once per process: later calls would freeze what the process made since)
def freeze_startup_heap() -> None:
    """Called by the commands that file mail in bulk or run for long (``inbox import``,
    ``inbox poll``, ``run``) once they are set up, before the work starts."""
    gc.collect()  # (garbage left by start-up is freed, not frozen)
    gc.freeze()

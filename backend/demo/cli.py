"""Demo commands for ``./lab cli``.

Examples::

    ./lab cli demo-load              queue the demo job (a running worker does it)
    ./lab cli demo-load --inline     do it here, printing each stage, then the ids and timings
"""

from __future__ import annotations

import json
import sys

from backend.cli import command


def _args(p) -> None:
    p.add_argument("--inline", action="store_true",
                   help="run the demo in this process instead of queueing a job for the worker")


@command("demo-load", "Load the Nortera demo: ingest it, train a short LoRA adapter and evaluate "
                      "the four strategies (a second run reuses what exists).", _args)
def demo_load(ns, lab) -> int:
    from backend.demo.loader import enqueue_demo, load_demo

    if not ns.inline:
        print(f"✓ demo job {enqueue_demo(lab)} queued: a running worker does it; follow it on "
              "the Home page")
        return 0

    from backend.jobs.runner import cap_threads

    # as a worker does: more torch threads than free cores makes training many times slower
    cap_threads(lab.settings.worker_threads)

    def progress(step, total=None, *, message=None, **_):
        counter = f"{step:g}/{total:g} " if total else ""
        print(f"\r  {counter}{message or ''}"[:100].ljust(100), end="", file=sys.stderr, flush=True)

    result = load_demo(lab, report=progress)
    print(file=sys.stderr)
    for stage, seconds in result["seconds"].items():
        verb = "built" if stage in result["created"] else "reused"
        print(f"  {stage:<10} {verb:<7} {seconds:8.1f} s")
    print(f"✓ demo ready in {result['total_seconds']:.0f} s")
    print(json.dumps({k: v for k, v in result.items() if k.endswith("_id")}, indent=2))
    return 0

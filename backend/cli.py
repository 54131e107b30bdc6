"""The lab's command line, for scripting: ``./lab cli <command>``.

Commands register themselves with ``@command``; each receives the parsed arguments and an open
``Lab``. Errors print one line (the LabError's message) and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from backend.errors import LabError

_COMMANDS: dict[str, tuple[Callable, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(name: str, help: str, args: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    """Register ``fn(ns, lab)`` as ``./lab cli <name>``."""
    def deco(fn):
        _COMMANDS[name] = (fn, args, help)
        return fn
    return deco


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


@command("status", "Show the database, models, worker and job counts.")
def _status(ns, lab) -> int:
    from backend.status import system_status

    _print_json(system_status(lab))
    return 0


@command("migrate", "Apply database migrations that are missing.")
def _migrate(ns, lab) -> int:
    from backend.db.migrate import applied

    for version, name in applied(lab.db.url):
        print(f"{version:04d} {name}")
    return 0


@command("settings", "List every setting with its current value (secrets masked) and help.")
def _settings(ns, lab) -> int:
    from backend.config import describe

    values = lab.settings.masked()
    for item in describe():
        print(f"{item['env']}={values[item['name']]!r}\n    {item['help']}")
    return 0


def _load_extra_commands() -> None:
    """Commands defined next to the services they drive (imported when present)."""
    import importlib

    for module in ("backend.corpus.cli", "backend.finetune.cli", "backend.evaluate.cli", "backend.jobs.cli",
                   "backend.demo.cli"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def main(argv: list[str] | None = None) -> int:
    _load_extra_commands()
    parser = argparse.ArgumentParser(prog="lab cli", description="Strategy Lab command line")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, add_args, help_text) in sorted(_COMMANDS.items()):
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    ns = parser.parse_args(argv)
    fn = _COMMANDS[ns.command][0]
    try:
        from backend.lab import open_lab

        return fn(ns, open_lab()) or 0
    except LabError as exc:
        print(f"✗ {exc.user_message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # run through the importable module, so commands registered by backend.*.cli modules land in
    # the same registry (under `python -m`, this file is `__main__`, a second copy)
    from backend.cli import main as _main

    sys.exit(_main())

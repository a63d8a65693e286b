from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import bench


def available() -> list[str]:
    """Benchmarks are the `bench/bench_<name>.py` modules, each with `main(argv) -> int`."""
    names = (m.name for m in pkgutil.iter_modules(bench.__path__))
    return sorted(n.removeprefix("bench_") for n in names if n.startswith("bench_"))


class Command(BaseCommand):
    help = "Run a benchmark: `attend bench NAME [options]` (NAME --help for its options)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help=f"one of: {', '.join(available())}")
        parser.add_argument("args", nargs="*", help="passed to the benchmark")

    def run_from_argv(self, argv: list[str]) -> None:
        # Options after NAME belong to the benchmark, not to this command's parser.
        if len(argv) >= 3 and not argv[2].startswith("-"):
            try:
                self.handle(name=argv[2], args=argv[3:])
            except CommandError as error:
                self.stderr.write(f"CommandError: {error}")
                sys.exit(1)
            return
        super().run_from_argv(argv)

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        if name not in available():
            raise CommandError(f"no benchmark {name!r}; available: {', '.join(available())}")
        module = importlib.import_module(f"bench.bench_{name}")
        code = module.main(list(options["args"]))
        if code:
            raise CommandError(f"benchmark {name} failed (exit {code})")

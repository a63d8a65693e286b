"""The `attend` command: Django's management commands under one name.

`attend demo` switches on demo mode (DEBUG, a generated secret, the embedded SQLite database)
before Django reads its settings, which is why that decision is made here and not in the command.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["demo"]:
        os.environ.setdefault("ATTEND_DEMO", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attend.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["attend", *args])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Django's usual entry point; `attend` (attend/cli.py) is the same thing under its own name."""

from attend.cli import main

if __name__ == "__main__":
    main()

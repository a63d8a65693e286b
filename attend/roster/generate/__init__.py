"""The synthetic district generator behind `attend generate`.

    from attend.roster.generate import generate
    result = generate(students=2000, seed=7, out=Path("var/lake"), fmt="ndjson")

writes a lake-mode folder (docs/lake-format.md) plus its ground truth in `_truth/`.
"""

from attend.roster.generate.generator import (
    BATCH_SIZE,
    DEFAULT_SCHOOL_YEAR,
    GenerateResult,
    generate,
    resolve_as_of,
)
from attend.roster.generate.writers import FORMATS

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_SCHOOL_YEAR",
    "FORMATS",
    "GenerateResult",
    "generate",
    "resolve_as_of",
]

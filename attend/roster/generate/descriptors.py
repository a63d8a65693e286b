"""Ed-Fi descriptor URIs and the code values the generator uses."""

from __future__ import annotations

from functools import cache

NAMESPACE = "uri://ed-fi.org"


@cache
def uri(kind: str, code: str) -> str:
    """`uri("SexDescriptor", "Female")` → "uri://ed-fi.org/SexDescriptor#Female"."""
    return f"{NAMESPACE}/{kind}#{code}"


GRADE_NAMES = (
    "Kindergarten",
    "First grade",
    "Second grade",
    "Third grade",
    "Fourth grade",
    "Fifth grade",
    "Sixth grade",
    "Seventh grade",
    "Eighth grade",
    "Ninth grade",
    "Tenth grade",
    "Eleventh grade",
    "Twelfth grade",
)

UNEXCUSED = "Unexcused Absence"
EXCUSED = "Excused Absence"
PARTIAL = "Partial"
TARDY = "Tardy"
EARLY_DEPARTURE = "Early departure"

# Category codes used in the simulation arrays; order matters only for these constants.
CATEGORY_CODES = (UNEXCUSED, EXCUSED, PARTIAL, TARDY, EARLY_DEPARTURE)
CAT_UNEXCUSED, CAT_EXCUSED, CAT_PARTIAL, CAT_TARDY, CAT_EARLY = range(5)

SEXES = ("Female", "Male", "Not Selected")
RACES = (
    "White",
    "Black - African American",
    "Asian",
    "American Indian - Alaska Native",
    "Native Hawaiian - Pacific Islander",
    "Other",
)
DISABILITIES = (
    "Specific Learning Disability",
    "Speech or Language Impairment",
    "Other Health Impairment",
    "Autism Spectrum Disorders",
    "Intellectual Disability",
    "Serious Emotional Disability",
    "Multiple Disabilities",
    "Hearing Impairment, including Deafness",
    "Orthopedic Impairment",
    "Visual Impairment, including Blindness",
    "Traumatic Brain Injury",
)
# National IDEA shares, roughly (specific learning disability a third, speech a fifth, ...).
DISABILITY_WEIGHTS = (0.34, 0.19, 0.15, 0.12, 0.06, 0.05, 0.03, 0.02, 0.015, 0.01, 0.015)

EXIT_TRANSFERRED = "Transferred"
EXIT_WITHDRAWN = "Withdrawn"
EXIT_DROPOUT = "Dropout"
EXIT_OTHER = "Other"
EXIT_GRADUATED = "Graduated"
EXIT_NO_SHOW = "No show"

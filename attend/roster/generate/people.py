"""Households, students, demographics and guardians for one batch of students.

Attendance risk is later driven by economic disadvantage, disability, grade and life events
only. Race and ethnicity are drawn per household from the zone's population mix and enter no
probability of absence; home language follows the household's origin (that is what a home
language is), and English-learner status follows home language and grade.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from attend.roster.generate import descriptors as d
from attend.roster.generate import names
from attend.roster.generate.district import GRADE_WEIGHTS, HOME_ZONE_SHARE, LEVELS, District

# Population groups: (hispanic, race codes); the district mix is that of a large US city.
GROUPS: tuple[tuple[bool, tuple[int, ...]], ...] = (
    (True, (0,)),  # Hispanic, White
    (True, (5,)),  # Hispanic, Other
    (True, (1,)),  # Hispanic, Black
    (True, (0, 3)),  # Hispanic, White and American Indian
    (False, (0,)),  # White
    (False, (1,)),  # Black
    (False, (2,)),  # Asian
    (False, (3,)),  # American Indian - Alaska Native
    (False, (4,)),  # Native Hawaiian - Pacific Islander
    (False, (0, 1)),  # two or more races
    (False, (0, 2)),
)
GROUP_SHARES = np.array([0.17, 0.09, 0.04, 0.03, 0.27, 0.21, 0.13, 0.01, 0.01, 0.02, 0.02])

LANGUAGES = (
    "eng",
    "spa",
    "por",
    "zho",
    "ben",
    "kor",
    "vie",
    "urd",
    "tgl",
    "hin",
    "hat",
    "fra",
    "som",
    "ara",
    "rus",
    "pol",
    "smo",
)
# Home-language mix by group row (Hispanic…, White, Black, Asian, AIAN, NHPI, multi).
_LANG_BY_ORIGIN = {
    "hispanic": {"eng": 0.50, "spa": 0.48, "por": 0.02},
    "white": {"eng": 0.88, "rus": 0.04, "ara": 0.03, "pol": 0.03, "fra": 0.01, "spa": 0.01},
    "black": {"eng": 0.84, "hat": 0.06, "fra": 0.04, "som": 0.03, "ara": 0.02, "spa": 0.01},
    "asian": {
        "eng": 0.42,
        "zho": 0.22,
        "ben": 0.08,
        "kor": 0.06,
        "vie": 0.06,
        "urd": 0.06,
        "tgl": 0.05,
        "hin": 0.05,
    },
    "aian": {"eng": 0.92, "spa": 0.08},
    "nhpi": {"eng": 0.88, "smo": 0.08, "tgl": 0.04},
    "multi": {"eng": 0.90, "spa": 0.06, "ara": 0.04},
}
_GROUP_ORIGIN = ("hispanic",) * 4 + ("white", "black", "asian", "aian", "nhpi", "multi", "multi")

HOUSEHOLD_SIZES = np.array([0.52, 0.33, 0.12, 0.03])  # 1..4 school-age children
# (relation of guardian 1, relation of guardian 2 or None, their sexes as F/M)
GUARDIAN_SETS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("Mother", "F"), ("Father", "M")),
    (("Mother", "F"), ("Father, step", "M")),
    (("Mother", "F"), ("Mother", "F")),
    (("Father", "M"), ("Father", "M")),
    (("Grandmother", "F"), ("Grandfather", "M")),
    (("Mother", "F"),),
    (("Father", "M"),),
    (("Grandmother", "F"),),
    (("Aunt", "F"),),
    (("Foster parent", "F"),),
)
GUARDIAN_SET_SHARES = np.array([0.50, 0.04, 0.02, 0.01, 0.03, 0.28, 0.06, 0.03, 0.02, 0.01])


@dataclass(frozen=True)
class Households:
    zone: np.ndarray
    surname: np.ndarray
    group: np.ndarray
    language: np.ndarray
    econ: np.ndarray
    street_number: np.ndarray
    street: np.ndarray
    guardian_set: np.ndarray
    size: np.ndarray

    def __len__(self) -> int:
        return len(self.zone)


@dataclass(frozen=True)
class Students:
    number: np.ndarray  # 1-based district-wide student number
    household: np.ndarray
    grade: np.ndarray
    level: np.ndarray  # index into LEVELS
    school: np.ndarray  # index of the home school at entry
    sex: np.ndarray
    first_name: np.ndarray
    birth: np.ndarray  # date ordinals
    english_learner: np.ndarray
    disability: np.ndarray  # index into DISABILITIES, -1 = none

    def __len__(self) -> int:
        return len(self.number)

    def ids(self) -> list[str]:
        return [f"S{n:06d}" for n in self.number.tolist()]


def draw_households(n_students: int, district: District, rng: np.random.Generator) -> Households:
    """Enough households to hold `n_students`, the last one trimmed to fit."""
    sizes = rng.choice(4, size=n_students, p=HOUSEHOLD_SIZES) + 1
    count = int(np.searchsorted(np.cumsum(sizes), n_students)) + 1
    sizes = sizes[:count]
    sizes[-1] -= int(sizes.sum()) - n_students
    zone = rng.choice(district.zones, size=count, p=district.zone_weights)
    group = _pick_rows(district.zone_groups[zone], rng)
    return Households(
        zone=zone,
        surname=rng.integers(len(names.SURNAMES), size=count),
        group=group,
        language=_home_languages(group, rng),
        econ=rng.random(count) < district.zone_poverty[zone],
        street_number=rng.integers(1, 900, size=count),
        street=rng.integers(len(names.STREETS), size=count),
        guardian_set=rng.choice(len(GUARDIAN_SETS), size=count, p=GUARDIAN_SET_SHARES),
        size=sizes,
    )


def _pick_rows(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One categorical draw per row of a probability matrix (vectorised inverse CDF)."""
    cdf = np.cumsum(probabilities, axis=1)
    u = rng.random((len(probabilities), 1)) * cdf[:, -1:]
    return np.asarray(np.minimum((u > cdf).sum(axis=1), probabilities.shape[1] - 1))


def _language_matrix() -> np.ndarray:
    matrix = np.zeros((len(GROUPS), len(LANGUAGES)))
    for row, origin in enumerate(_GROUP_ORIGIN):
        for code, share in _LANG_BY_ORIGIN[origin].items():
            matrix[row, LANGUAGES.index(code)] = share
    return matrix


LANGUAGE_MATRIX = _language_matrix()


def _home_languages(group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _pick_rows(LANGUAGE_MATRIX[group], rng)


def draw_students(
    first_number: int,
    households: Households,
    district: District,
    fall: int,
    rng: np.random.Generator,
) -> Students:
    """Children of the households, numbered from `first_number`.

    1. Each child gets a grade from the district's grade mix and a matching birth date
       (5 by December 31 for kindergarten; about 8% a year older, held back once).
    2. The home school is the zone's school for the grade's level, or (15%) a school of
       choice anywhere in the district.
    3. Sex, English-learner status (by home language and grade) and disability (boys about
       twice as often, as in IDEA counts) are drawn per child.
    """
    household = np.repeat(np.arange(len(households)), households.size)
    n = len(household)
    grade = rng.choice(13, size=n, p=GRADE_WEIGHTS / GRADE_WEIGHTS.sum())
    level = np.select([grade <= 5, grade <= 8], [0, 1], 2)
    sex = rng.choice(3, size=n, p=[0.488, 0.507, 0.005])
    return Students(
        number=np.arange(first_number, first_number + n),
        household=household,
        grade=grade,
        level=level,
        school=_home_schools(households.zone[household], level, district, rng),
        sex=sex,
        first_name=_first_names(sex, rng),
        birth=_birth_dates(grade, fall, rng),
        english_learner=_english_learners(households.language[household], grade, rng),
        disability=_disabilities(sex, rng),
    )


def _home_schools(
    zone: np.ndarray, level: np.ndarray, district: District, rng: np.random.Generator
) -> np.ndarray:
    school = np.zeros(len(zone), dtype=np.int64)
    choice = rng.random(len(zone)) >= HOME_ZONE_SHARE
    for index, name in enumerate(LEVELS):
        mask = level == index
        pool = district.by_level[name]
        weights = np.array([district.schools[i].weight for i in pool])
        home = district.zone_school(name, zone[mask])
        chosen = rng.choice(pool, size=int(mask.sum()), p=weights / weights.sum())
        school[mask] = np.where(choice[mask], chosen, home)
    return school


def _first_names(sex: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Index into FEMALE for girls, MALE for boys; unknown sex picks either list."""
    female = (sex == 0) | ((sex == 2) & (rng.random(len(sex)) < 0.5))
    pool_size = np.where(female, len(names.FEMALE), len(names.MALE))
    index = (rng.random(len(sex)) * pool_size).astype(np.int64)
    return np.where(female, index, -1 - index)  # negative = MALE[-1 - value]


def first_name(code: int) -> str:
    return names.FEMALE[code] if code >= 0 else names.MALE[-1 - code]


def _birth_dates(grade: np.ndarray, fall: int, rng: np.random.Generator) -> np.ndarray:
    held_back = rng.random(len(grade)) < 0.08
    year = fall - 5 - grade - held_back
    jan1 = np.array([dt.date(int(y), 1, 1).toordinal() for y in range(fall - 20, fall)])
    start = jan1[year - (fall - 20)]
    return np.asarray(start + (rng.random(len(grade)) * 365).astype(np.int64))


def _english_learners(
    language: np.ndarray, grade: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Most ELs are young children of non-English homes; a few English-home children too."""
    by_grade = np.array(
        [0.55, 0.52, 0.48, 0.42, 0.38, 0.34, 0.30, 0.28, 0.26, 0.26, 0.24, 0.22, 0.20]
    )
    english = language == LANGUAGES.index("eng")
    chance = np.where(english, 0.01, by_grade[grade])
    return rng.random(len(grade)) < chance


def _disabilities(sex: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    chance = np.where(sex == 1, 0.17, 0.09)
    has = rng.random(len(sex)) < chance
    weights = np.array(d.DISABILITY_WEIGHTS) / sum(d.DISABILITY_WEIGHTS)
    kind = rng.choice(len(weights), size=len(sex), p=weights)
    return np.where(has, kind, -1)

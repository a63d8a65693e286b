"""The district: schools by level, attendance zones and section cohorts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attend.roster.generate import calibration as cal
from attend.roster.generate import names

LEA_ID = 100
FIRST_SCHOOL_ID = 100001
LEVELS = ("E", "M", "H")
LEVEL_GRADES = {"E": range(0, 6), "M": range(6, 9), "H": range(9, 13)}
LEVEL_SUFFIX = {"E": "Elementary School", "M": "Middle School", "H": "High School"}
# Grade sizes K..12: flat through grade 8, the ninth-grade bulge, then attrition.
GRADE_WEIGHTS = np.array([1.0] * 9 + [1.06, 0.98, 0.92, 0.87])
STUDENTS_PER_SCHOOL = 500
SECTION_SIZE = 28
HOME_ZONE_SHARE = 0.85  # the rest attend a school of choice elsewhere in the district
SCHOOL_EFFECT_SIGMA = 0.25  # spread of school culture around the level's base rate
DAY_NOISE_SIGMA = 0.08  # ordinary day-to-day wobble of a school's absence
# How alike zones are in population mix (Dirichlet concentration; higher = more alike).
ZONE_MIX_CONCENTRATION = 40


@dataclass(frozen=True)
class School:
    index: int
    school_id: int
    name: str
    level: str
    street_number: int
    street: str
    neighbourhood: int
    effect: float
    weight: float

    @property
    def grades(self) -> range:
        return LEVEL_GRADES[self.level]


@dataclass(frozen=True)
class District:
    """Schools plus the zone structure that decides who goes where.

    Zones are elementary catchments; middle and high schools each serve several zones.
    Households live in a zone, and the zone sets their neighbourhood (address) and the
    local poverty rate, so schools differ in composition the way real ones do.
    """

    schools: tuple[School, ...]
    by_level: dict[str, np.ndarray]
    zone_weights: np.ndarray
    zone_poverty: np.ndarray
    zone_groups: np.ndarray  # zones × population groups, rows sum to 1
    cohorts: np.ndarray  # schools × 13 grades: number of section cohorts

    @property
    def zones(self) -> int:
        return len(self.zone_weights)

    def zone_school(self, level: str, zone: np.ndarray) -> np.ndarray:
        """The home school of `level` for each zone in `zone`."""
        pool = self.by_level[level]
        return np.asarray(pool[zone % len(pool)])

    def school_ids(self) -> np.ndarray:
        return np.array([s.school_id for s in self.schools], dtype=np.int64)

    def levels(self) -> np.ndarray:
        return np.array([LEVELS.index(s.level) for s in self.schools], dtype=np.int8)

    def effects(self) -> np.ndarray:
        return np.array([s.effect for s in self.schools])


def school_count(students: int) -> int:
    return max(4, round(students / STUDENTS_PER_SCHOOL))


def level_counts(n: int) -> dict[str, int]:
    """Split n schools by the share of grades each level serves (6 : 3 : 4), one at least."""
    elementary = max(1, round(n * 6 / 13))
    high = max(1, round(n * 4 / 13))
    return {"E": elementary, "M": max(1, n - elementary - high), "H": high}


def build_district(
    students: int, schools: int | None, rng: np.random.Generator, population_groups: np.ndarray
) -> District:
    """Create schools, zones and cohorts.

    1. Decide how many schools of each level (scaled by students unless given).
    2. Give each school a size weight and a school-culture effect, normalised so each level's
       size-weighted mean effect is 1 (small districts keep the calibrated level rates).
    3. Zones are elementary catchments with a poverty rate and a population mix that vary
       around the district's (how real neighbourhoods differ; no group is tied to poverty).
    4. Size section cohorts from the expected enrolment of each school and grade.
    """
    counts = level_counts(schools or school_count(students))
    built = _schools(counts, rng)
    by_level = {lvl: np.array([s.index for s in built if s.level == lvl]) for lvl in LEVELS}
    zone_weights = _normalised(np.array([built[i].weight for i in by_level["E"]]))
    zones = len(zone_weights)
    poverty = rng.beta(5.5, 4.5, size=zones)
    groups = rng.dirichlet(population_groups * ZONE_MIX_CONCENTRATION, size=zones)
    district = District(built, by_level, zone_weights, poverty, groups, np.ones((0, 13)))
    cohorts = _cohorts(district, students)
    return District(built, by_level, zone_weights, poverty, groups, cohorts)


def _schools(counts: dict[str, int], rng: np.random.Generator) -> tuple[School, ...]:
    levels = [lvl for lvl in LEVELS for _ in range(counts[lvl])]
    weights = rng.uniform(0.7, 1.3, size=len(levels))
    effects = rng.lognormal(0.0, SCHOOL_EFFECT_SIGMA, size=len(levels))
    for lvl in LEVELS:
        mask = np.array([x == lvl for x in levels])
        effects[mask] /= np.average(effects[mask], weights=weights[mask])
    return tuple(_school(i, lvl, weights[i], effects[i], rng) for i, lvl in enumerate(levels))


def _school(
    index: int, level: str, weight: float, effect: float, rng: np.random.Generator
) -> School:
    base = names.SCHOOL_NAMES[index % len(names.SCHOOL_NAMES)]
    series = index // len(names.SCHOOL_NAMES)
    label = f"{base} {LEVEL_SUFFIX[level]}" + (f" {series + 1}" if series else "")
    return School(
        index=index,
        school_id=FIRST_SCHOOL_ID + index,
        name=label,
        level=level,
        street_number=int(rng.integers(1, 400)) * 5,
        street=names.STREETS[int(rng.integers(len(names.STREETS)))],
        neighbourhood=index % len(names.NEIGHBOURHOODS),
        effect=float(effect),
        weight=float(weight),
    )


def _normalised(values: np.ndarray) -> np.ndarray:
    return np.asarray(values / values.sum())


def expected_shares(district: District, level: str) -> np.ndarray:
    """Expected share of the level's students at each of its schools (home zone or choice)."""
    pool = district.by_level[level]
    home = np.zeros(len(pool))
    np.add.at(home, np.arange(district.zones) % len(pool), district.zone_weights)
    choice = _normalised(np.array([district.schools[i].weight for i in pool]))
    return HOME_ZONE_SHARE * home + (1 - HOME_ZONE_SHARE) * choice


def _cohorts(district: District, students: int) -> np.ndarray:
    per_grade = students * GRADE_WEIGHTS / GRADE_WEIGHTS.sum()
    cohorts = np.ones((len(district.schools), 13), dtype=np.int64)
    for level in LEVELS:
        shares = expected_shares(district, level)
        for grade in LEVEL_GRADES[level]:
            expected = per_grade[grade] * shares
            cohorts[district.by_level[level], grade] = np.maximum(
                1, np.round(expected / SECTION_SIZE)
            )
    return cohorts


def school_day_factors(district: District, days: int, rng: np.random.Generator) -> np.ndarray:
    """Schools × school days: culture effect × bad days × daily wobble.

    Half the calibrated bad days hit the whole district (weather), half hit one school
    (a trip, an exam day, a local event).
    """
    n = len(district.schools)
    share = cal.BAD_DAY_SHARE / 2
    district_bad = rng.random(days) < share
    school_bad = rng.random((n, days)) < share
    bad = np.where(district_bad[None, :] | school_bad, cal.BAD_DAY_FACTOR, 1.0)
    wobble = rng.lognormal(-(DAY_NOISE_SIGMA**2) / 2, DAY_NOISE_SIGMA, size=(n, days))
    return (district.effects()[:, None] * bad * wobble).astype(np.float32)

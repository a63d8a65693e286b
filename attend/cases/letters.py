"""Supportive family letters: versioned templates, the family's language, a readability score,
the exact rendered letter kept as sent, PDF by WeasyPrint, e-mail through Django."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING, Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, Q
from django.template import Context, Template
from django.utils.html import strip_tags

from attend.audit.actions import record_change
from attend.cases.models import Case, Letter, LetterTemplate
from attend.roster.models import Enrollment, Guardian, Student

if TYPE_CHECKING:
    from attend.accounts.models import User
    from attend.roster.models import District

TEXTS = Path(__file__).resolve().parent / "letter_texts"
SUBJECTS = {"eng": "{name}'s attendance", "spa": "La asistencia de {name}"}
MAX_WORDS = 150
TRANSLATION_SHARE = 0.15  # EC 48985: ≥ 15% of a school's pupils speak the language
LAYOUT = """<html><head><meta charset="utf-8"><style>
body{font-family:sans-serif;font-size:12pt;line-height:1.45;margin:2cm}</style></head>
<body>{body}</body></html>"""


class LetterError(ValueError):
    pass


# --- readability --------------------------------------------------------------------------------


def syllables(word: str) -> int:
    """A vowel-group count with the usual silent-e correction; good enough for a grade level."""
    word = word.lower()
    groups = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and groups > 1:
        groups -= 1
    return max(1, groups)


def readability(text: str) -> dict[str, float]:
    """Flesch–Kincaid grade: 0.39 × words/sentence + 11.8 × syllables/word − 15.59."""
    words = re.findall(r"[A-Za-zÀ-ÿ']+", text)
    sentences = max(1, len(re.findall(r"[.!?]+(\s|$)", text)))
    if not words:
        return {"words": 0, "grade": 0.0}
    per_sentence = len(words) / sentences
    per_word = sum(syllables(w) for w in words) / len(words)
    return {"words": len(words), "grade": round(0.39 * per_sentence + 11.8 * per_word - 15.59, 1)}


# --- templates ----------------------------------------------------------------------------------


@transaction.atomic
def install_default_templates(*, district: District, by: User | None = None) -> int:
    """Load the shipped English and Spanish supportive letters as version 1 where missing."""
    created = 0
    for path in sorted(TEXTS.glob("*.html")):
        key, language = path.stem.split(".")
        if not LetterTemplate.objects.filter(
            district=district, key=key, language=language
        ).exists():
            edit_template(
                district=district,
                key=key,
                language=language,
                by=by,
                subject=SUBJECTS.get(language, SUBJECTS["eng"]),
                body=path.read_text(),
            )
            created += 1
    return created


@transaction.atomic
def edit_template(
    *, district: District, key: str, language: str, subject: str, body: str, by: User | None
) -> LetterTemplate:
    """Each edit is a new version; earlier versions (and letters sent with them) stay."""
    Template(body)  # refuse text that does not compile before it can reach a family
    last = LetterTemplate.objects.filter(district=district, key=key, language=language).first()
    template = LetterTemplate.objects.create(
        district=district,
        key=key,
        language=language,
        version=(last.version + 1) if last else 1,
        subject=subject,
        body=body,
        created_by=by,
    )
    record_change(
        actor=by, action="letter_template.edit", target=template, data={"ref": template.ref}
    )
    return template


def current_template(district: District, key: str, language: str) -> LetterTemplate | None:
    return LetterTemplate.objects.filter(district=district, key=key, language=language).first()


def family_language(student: Student) -> str:
    if student.household_id and student.household:
        return student.household.language
    link = student.guardian_links.select_related("guardian").first()
    return link.guardian.language if link else "eng"


def translation_gaps(district: District, key: str = "supportive") -> list[dict[str, Any]]:
    """Languages spoken by ≥ 15% of a school's pupils with no template (EC 48985)."""
    have = set(
        LetterTemplate.objects.filter(district=district, key=key).values_list("language", flat=True)
    )
    rows = Enrollment.objects.filter(
        school__district=district, school_year=district.current_school_year
    )
    counts = rows.values("school__name", "student__household__language").annotate(
        n=Count("student", distinct=True)
    )
    totals: dict[str, int] = {}
    for row in counts:
        totals[row["school__name"]] = totals.get(row["school__name"], 0) + row["n"]
    return [
        {
            "school": r["school__name"],
            "language": r["student__household__language"],
            "share": round(r["n"] / totals[r["school__name"]], 3),
        }
        for r in counts
        if r["student__household__language"]
        and r["student__household__language"] not in have
        and r["n"] / totals[r["school__name"]] >= TRANSLATION_SHARE
    ]


# --- rendering and sending ----------------------------------------------------------------------


def _absence_days(students: Any, year: int) -> dict[int, int]:
    absent = Q(
        attendance_events__category__in=("unexcused", "excused", "partial"),
        attendance_events__section_id="",
        attendance_events__deleted_at__isnull=True,
        attendance_events__event_date__year__gte=year - 1,
    )
    rows = students.annotate(n=Count("attendance_events__event_date", filter=absent, distinct=True))
    return dict(rows.values_list("pk", "n"))


def letter_context(case: Case) -> dict[str, Any]:
    """The child's absences and a typical classmate's (median of the same school and grade)."""
    student, year = case.student, case.student.district.current_school_year
    enrollment = (
        Enrollment.objects.filter(student=student, school_year=year)
        .select_related("school")
        .first()
    )
    school = enrollment.school.name if enrollment else ""
    peers = Student.objects.filter(
        enrollments__school=enrollment.school if enrollment else None,
        enrollments__grade=enrollment.grade if enrollment else "",
        enrollments__school_year=year,
    ).distinct()
    counts = _absence_days(peers, year)
    link = student.guardian_links.select_related("guardian").first()
    return {
        "first_name": student.first_name,
        "guardian_name": str(link.guardian) if link else f"family of {student.first_name}",
        "absences": counts.get(student.pk, 0),
        "typical": int(median(counts.values())) if counts else 0,
        "school": school,
        "officer_name": case.owner.get_full_name() or case.owner.username,
        "phone": "the school office",
    }


def render_letter(
    template: LetterTemplate, context: dict[str, Any]
) -> tuple[str, dict[str, float]]:
    body = Template(template.body).render(Context(context))
    return LAYOUT.replace("{body}", body), readability(strip_tags(body))


def pdf_bytes(html: str) -> bytes:
    """The same renderer (fonts, page size) as the bulk job's workers; WeasyPrint is imported
    only when the first PDF is made."""
    from attend.cases import pdfworker

    return pdfworker.render(html)


@transaction.atomic
def send_letter(
    *,
    case: Case,
    by: User,
    key: str = "supportive",
    email: bool = True,
    context: dict[str, Any] | None = None,
) -> Letter:
    """1. Pick the template in the family's language (English if missing — flagged).
    2. Render; refuse letters over 150 words. 3. PDF + hash. 4. Keep it as sent; e-mail it."""
    language = family_language(case.student)
    template = current_template(case.student.district, key, language) or current_template(
        case.student.district, key, "eng"
    )
    if template is None:
        raise LetterError(f"No “{key}” letter template: load the defaults first.")
    html, score = render_letter(template, context or letter_context(case))
    if score["words"] > MAX_WORDS:
        raise LetterError(f"The letter has {score['words']} words; keep it under {MAX_WORDS}.")
    pdf = pdf_bytes(html)
    guardian = (
        Guardian.objects.filter(student_links__student=case.student).exclude(email="").first()
    )
    letter = Letter.objects.create(
        case=case,
        template=template,
        template_ref=template.ref,
        language=template.language,
        channel="email" if email and guardian else "letter",
        html=html,
        pdf=pdf,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        sent_to=guardian.email if email and guardian else "",
        created_by=by,
    )
    if letter.channel == "email" and guardian:
        _email(letter, template, case, pdf)
    record_change(
        actor=by,
        action="letter.send",
        target=letter,
        student=case.student,
        data={"template": template.ref, "sha256": letter.pdf_sha256, "grade": score["grade"]},
    )
    return letter


def _email(letter: Letter, template: LetterTemplate, case: Case, pdf: bytes) -> None:
    message = EmailMessage(
        subject=template.subject.format(name=case.student.first_name),
        body=strip_tags(letter.html).strip(),
        to=[letter.sent_to],
    )
    message.attach(f"letter-{letter.pk}.pdf", pdf, "application/pdf")
    transaction.on_commit(message.send)

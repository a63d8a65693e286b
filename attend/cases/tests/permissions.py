"""Casework URLs × the cast. Ada's case is owned by Olivia, with a referral addressed to Terry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attend.test import only

CASEWORKERS = only({"olivia": 200, "omar": 200, "otto": 200, "sam": 200, "dana": 200, "nina": 200})
# POST-only actions: a GET is refused by role first (403), then by method (405).
POST_ONLY = only(dict.fromkeys(("olivia", "omar", "otto", "sam", "dana", "nina"), 405))
# Ada's case: Otto (other school) and Nina (other district) get 404; Chris has no referral.
CASE = only(
    {
        "olivia": 200,
        "omar": 200,
        "sam": 200,
        "dana": 200,
        "terry": 200,
        "otto": 404,
        "nina": 404,
        "chris": 404,
    }
)
CASE_POST = only({"olivia": 405, "omar": 405, "sam": 405, "dana": 405, "otto": 405, "nina": 405})
# Responding to a referral or finishing a task given to you: counselors and teachers too.
RECORD_POST = only(
    dict.fromkeys(("olivia", "omar", "sam", "dana", "otto", "nina", "chris", "terry"), 405)
)
ADA_DISCLOSURES = only(
    {"olivia": 200, "omar": 200, "sam": 200, "dana": 200, "otto": 404, "nina": 404}
)


def setup(cls: Any) -> None:
    from attend.cases import actions, bulk, letters

    cls.case = actions.open_case(student=cls.ada, opened_by=cls.olivia, reason="3 unexcused")
    actions.send_referral(
        case=cls.case, target="teacher", reason="check in", by=cls.olivia, to_user=cls.terry
    )
    letters.install_default_templates(district=cls.district)
    cls.letter = letters.send_letter(case=cls.case, by=cls.olivia, email=False)
    cls.letter_job = bulk.create_bulk_job(students=[cls.ada], by=cls.olivia)


MATRIX: dict[str, tuple[Callable[[Any], dict[str, Any]], dict[str, int]]] = {
    "cases:worklist": (lambda t: {}, CASEWORKERS),
    "cases:open": (lambda t: {}, POST_ONLY),
    "cases:assign": (lambda t: {}, POST_ONLY),
    "cases:director": (lambda t: {}, only({"sam": 200, "dana": 200, "nina": 200})),
    "cases:detail": (lambda t: {"pk": t.case.pk}, CASE),
    "cases:add_contact": (lambda t: {"pk": t.case.pk}, CASE_POST),
    "cases:apply_rules": (lambda t: {"pk": t.case.pk}, CASE_POST),
    "cases:complete_step": (lambda t: {"pk": t.case.pk, "step": 1}, CASE_POST),
    "cases:send_letter": (lambda t: {"pk": t.case.pk}, CASE_POST),
    "cases:letter_pdf": (lambda t: {"pk": t.case.pk, "letter": t.letter.pk}, CASE),
    "cases:disclosures": (lambda t: {"student_id": t.ada.student_unique_id}, ADA_DISCLOSURES),
    "cases:assess": (lambda t: {"pk": t.case.pk}, CASE_POST),
    "cases:plan": (lambda t: {"pk": t.case.pk}, CASE_POST),
    "cases:refer": (lambda t: {"pk": t.case.pk}, CASE_POST),
    "cases:respond_referral": (lambda t: {"pk": t.case.pk, "referral": 1}, RECORD_POST),
    "cases:revoke_referral": (lambda t: {"pk": t.case.pk, "referral": 1}, CASE_POST),
    "cases:meeting": (lambda t: {"pk": t.case.pk}, CASE_POST),
    "cases:add_task": (lambda t: {"pk": t.case.pk}, CASE_POST),
    "cases:complete_task": (lambda t: {"pk": t.case.pk, "task": 1}, RECORD_POST),
    "cases:review_step": (lambda t: {"pk": t.case.pk, "step": 1}, CASE_POST),
    "cases:bulk_letters": (lambda t: {}, POST_ONLY),
    # Olivia's own letter job; district admins see their staff's jobs (attend.jobs.queries).
    "cases:bulk_status": (
        lambda t: {"job": t.letter_job.pk},
        only({"olivia": 200, "dana": 200, "omar": 404, "otto": 404, "sam": 404, "nina": 404}),
    ),
    "cases:templates": (lambda t: {}, only({"dana": 200, "nina": 200})),
    "cases:template_score": (lambda t: {}, only({"dana": 405, "nina": 405})),
    "cases:template_edit": (
        lambda t: {"key": "supportive", "language": "eng"},
        only({"dana": 200, "nina": 404}),
    ),
}

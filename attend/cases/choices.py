from django.db import models

from attend.accounts.choices import Role


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACTIVE = "active", "Active"
    MONITORING = "monitoring", "Monitoring"
    CLOSED = "closed", "Closed"


# open → active → monitoring → closed; monitoring may fall back to active; closed may reopen.
CASE_MOVES = {
    CaseStatus.OPEN: {CaseStatus.ACTIVE, CaseStatus.CLOSED},
    CaseStatus.ACTIVE: {CaseStatus.MONITORING, CaseStatus.CLOSED},
    CaseStatus.MONITORING: {CaseStatus.ACTIVE, CaseStatus.CLOSED},
    CaseStatus.CLOSED: {CaseStatus.ACTIVE},
}


class Tier(models.IntegerChoices):
    UNIVERSAL = 1, "Tier 1 · universal"
    EARLY = 2, "Tier 2 · early"
    INTENSIVE = 3, "Tier 3 · intensive"


class CauseGroup(models.TextChoices):
    """Attendance Works' four groups of root causes."""

    BARRIERS = "barriers", "Barriers"
    AVERSION = "aversion", "Aversion"
    DISENGAGEMENT = "disengagement", "Disengagement"
    MISCONCEPTIONS = "misconceptions", "Misconceptions"


class Cause(models.TextChoices):
    ILLNESS = "illness", "Illness"
    CHRONIC_HEALTH = "chronic_health", "Chronic health condition"
    MENTAL_HEALTH = "mental_health", "Mental health"
    CHILD_WELFARE = "child_welfare", "Child welfare involvement"
    HOUSING = "housing", "Housing instability"
    TRANSPORTATION = "transportation", "Transportation"
    FAMILY_DUTIES = "family_duties", "Family duties"
    COMMUNITY_VIOLENCE = "community_violence", "Community violence"
    BULLYING = "bullying", "Bullying"
    ACADEMIC = "academic", "Academic struggle"
    ANXIETY = "anxiety", "Anxiety"
    SUSPENSIONS = "suspensions", "Suspensions"
    CLIMATE = "climate", "Negative school climate"
    BOREDOM = "boredom", "Boredom"
    BELONGING = "belonging", "Lack of belonging"
    OUTSIDE_PULL = "outside_pull", "More compelling things outside school"
    ONLY_UNEXCUSED = "only_unexcused", "Thinks only unexcused absences matter"
    SPORADIC_HARMLESS = "sporadic_harmless", "Thinks sporadic absence is harmless"
    OTHER = "other", "Other"


CAUSE_GROUP = {
    **dict.fromkeys(
        (
            "illness",
            "chronic_health",
            "mental_health",
            "child_welfare",
            "housing",
            "transportation",
            "family_duties",
            "community_violence",
        ),
        CauseGroup.BARRIERS,
    ),
    **dict.fromkeys(
        ("bullying", "academic", "anxiety", "suspensions", "climate"), CauseGroup.AVERSION
    ),
    **dict.fromkeys(("boredom", "belonging", "outside_pull"), CauseGroup.DISENGAGEMENT),
    **dict.fromkeys(("only_unexcused", "sporadic_harmless"), CauseGroup.MISCONCEPTIONS),
}

# Health, mental-health and child-welfare details are sealed (CASEWORK.md "Privacy").
SENSITIVE_CAUSES = frozenset(
    {"illness", "chronic_health", "mental_health", "anxiety", "child_welfare"}
)
SEALED_READERS = frozenset({Role.COUNSELOR, Role.SUPERVISOR, Role.DISTRICT_ADMIN})


class InterventionType(models.TextChoices):
    PERSONAL_NOTE = "personal_note", "Personalised note home"
    CONFERENCE = "conference", "Family conference"
    HOME_VISIT = "home_visit", "Home visit"
    ATTENDANCE_PLAN = "attendance_plan", "Written attendance plan"
    MENTOR = "mentor", "Mentor"
    HEALTH = "health", "Health supports"
    CASE_MANAGEMENT = "case_management", "Intensive case management"
    COMMUNITY = "community", "Community agency services"
    LEGAL = "legal", "Legal route"


class ReferralStatus(models.TextChoices):
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    DONE = "done", "Done"
    REVOKED = "revoked", "Revoked"


REFERRAL_MOVES = {
    ReferralStatus.SENT: {ReferralStatus.ACCEPTED, ReferralStatus.REJECTED, ReferralStatus.REVOKED},
    ReferralStatus.ACCEPTED: {ReferralStatus.DONE, ReferralStatus.REVOKED},
    ReferralStatus.REJECTED: set(),
    ReferralStatus.DONE: set(),
    ReferralStatus.REVOKED: set(),
}
# A referral addressed to a person lets them see the case while it is live or finished.
REFERRAL_GRANTS_ACCESS = (ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.DONE)


class ReferralTarget(models.TextChoices):
    COUNSELOR = "counselor", "Counselor"
    TEACHER = "teacher", "Teacher"
    AGENCY = "agency", "Community agency"


class ContactKind(models.TextChoices):
    CALL = "call", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "E-mail"
    LETTER = "letter", "Letter"
    HOME_VISIT = "home_visit", "Home visit"
    CONFERENCE = "conference", "Conference"


class ContactOutcome(models.TextChoices):
    REACHED = "reached", "Reached"
    LEFT_MESSAGE = "left_message", "Left a message"
    NO_ANSWER = "no_answer", "No answer"
    WRONG_NUMBER = "wrong_number", "Wrong number / address"
    BOUNCED = "bounced", "Returned / bounced"
    REFUSED = "refused", "Refused"


# Outcomes that say the contact details themselves are wrong: the guardian is flagged.
LOST_CONTACT = frozenset({ContactOutcome.WRONG_NUMBER, ContactOutcome.BOUNCED})


class MeetingKind(models.TextChoices):
    SART = "sart", "SART (school attendance review team)"
    SARB = "sarb", "SARB (school attendance review board)"
    LOCAL = "local", "Local meeting"


class StepStatus(models.TextChoices):
    DUE = "due", "Due"
    DONE = "done", "Done"
    # A recomputation no longer reaches the classification: a person decides what to do.
    REVIEW = "review", "Needs review"
    WITHDRAWN = "withdrawn", "Withdrawn after review"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class ReviewDecision(models.TextChoices):
    """Resolving a step flagged for review. Neither rewrites a letter that was already sent."""

    KEEP = "keep", "Still applies: keep the step"
    WITHDRAW = "withdraw", "No longer applies: withdraw the step"

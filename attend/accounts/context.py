from typing import Any

from django.http import HttpRequest


def role(request: HttpRequest) -> dict[str, Any]:
    """Expose the signed-in user's role to templates, for role-aware navigation."""
    user = request.user
    return {"user_role": getattr(user, "role", "") if user.is_authenticated else ""}

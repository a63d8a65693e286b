from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from attend.accounts import actions
from attend.accounts.forms import CodeForm, LoginForm
from attend.accounts.middleware import SESSION_KEY
from attend.accounts.models import User
from attend.lib import totp

LOCKED_MESSAGE = "This account is locked after too many failed sign-ins. Try again later."
FAILED_MESSAGE = "That username and password do not match."


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if safe else "/"


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        error = _try_login(request, form.cleaned_data["username"], form.cleaned_data["password"])
        if not error:
            return redirect(_next_url(request))
    status = 200 if not error else 400
    context = {"form": form, "error": error, "next": _next_url(request)}
    return render(request, "accounts/login.html", context, status=status)


def _try_login(request: HttpRequest, username: str, password: str) -> str:
    """Returns an error message, or '' after signing the user in."""
    account = User.objects.filter(username=username).first()
    if account is not None and account.is_locked():
        return LOCKED_MESSAGE
    user = authenticate(request, username=username, password=password)
    if user is None:
        if account is not None and actions.record_failed_login(user=account):
            return LOCKED_MESSAGE
        return FAILED_MESSAGE
    login(request, user)
    actions.record_login(user=user)  # type: ignore[arg-type,unused-ignore]
    return ""


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


@login_required
@require_http_methods(["GET", "POST"])
def verify_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not user.totp_confirmed_at:
        return redirect("accounts:enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if totp.verify(user.totp_secret, form.cleaned_data["code"]):
            request.session[SESSION_KEY] = True
            return redirect(_next_url(request))
        form.add_error("code", "That code is not right. Codes change every 30 seconds.")
    return render(request, "accounts/verify.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def enrol_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.totp_confirmed_at:
        return redirect("accounts:verify")
    secret = user.totp_secret or actions.start_totp_enrolment(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if actions.confirm_totp(user=user, code=form.cleaned_data["code"]):
            request.session[SESSION_KEY] = True
            return redirect("home")
        form.add_error("code", "That code is not right. Check the phone's clock and try again.")
    uri = totp.provisioning_uri(secret, account=user.username)
    return render(request, "accounts/enrol.html", {"form": form, "secret": secret, "uri": uri})

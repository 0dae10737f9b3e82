"""Two-step verification pages: set up, verify at login, backup codes, turn off."""

from __future__ import annotations

from allauth.account import views as allauth_views
from allauth.account.decorators import reauthentication_required
from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from apps.accounts import two_factor
from apps.accounts.forms import TokenForm
from apps.accounts.http import AuthenticatedHttpRequest


def _locked_message(error: two_factor.TwoFactorLocked) -> str:
    until = formats.time_format(timezone.localtime(error.until), "H:i")
    return _(
        "Too many wrong codes. For your safety, code entry is locked until %(time)s. "
        "Then use a code from your app or one of your backup codes. If you lost both, "
        "a support agent can help you set up a new one."
    ) % {"time": until}


def _second_step_passed(request: HttpRequest, device) -> None:
    """The session now carries more trust than before: give it a new key, so that a session id
    planted or seen before this step (fixation) is worthless, as Django does at the password step."""
    request.session.cycle_key()
    otp_login(request, device)


@login_required
def security(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/security.html",
        {
            "has_two_factor": two_factor.has_two_factor(request.user),
            "backup_codes_remaining": two_factor.backup_codes_remaining(user=request.user),
            "mandatory": request.user.requires_two_factor,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    if two_factor.has_two_factor(request.user) and not request.user.is_verified():
        return redirect("two_factor_verify")
    enrolment = two_factor.totp_enrolment_start(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.totp_enrolment_confirm(user=request.user, token=form.cleaned_data["token"])
        if codes is None:
            form.add_error(
                "token",
                _(
                    "This code is not the one your app shows now. Check the app is set up "
                    "with this QR code, and that your phone's clock is right."
                ),
            )
        else:
            _second_step_passed(request, enrolment.device)
            messages.success(request, _("Two-step verification is on."))
            return render(request, "accounts/backup_codes.html", {"codes": codes, "first_time": True})
    return render(request, "accounts/setup.html", {"enrolment": enrolment, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if request.user.is_verified() or not two_factor.has_two_factor(request.user):
        return redirect(next_url or "home")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.consume(request, action="otp", key=str(request.user.uuid)):
            # Beside the per-account lock-out: one address trying codes for many accounts.
            form.add_error("token", _("Too many codes were tried from your connection. Wait a minute, then try again."))
            return render(request, "accounts/verify.html", {"form": form, "next": next_url}, status=429)
        try:
            device = two_factor.otp_verify(user=request.user, token=form.cleaned_data["token"])
        except two_factor.TwoFactorLocked as error:
            form.add_error("token", _locked_message(error))
        else:
            if device is None:
                form.add_error("token", _("This code is not valid. Check your app and try again."))
            else:
                _second_step_passed(request, device)
                return redirect(next_url or "home")
    return render(request, "accounts/verify.html", {"form": form, "next": next_url}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["POST"])
def backup_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not two_factor.has_two_factor(request.user):
        return redirect("two_factor_setup")
    codes = two_factor.backup_codes_regenerate(user=request.user)
    return render(request, "accounts/backup_codes.html", {"codes": codes, "first_time": False})


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def disable(request: AuthenticatedHttpRequest) -> HttpResponse:
    # The password again (recently), then a current code: both factors before losing one.
    if request.user.requires_two_factor:
        messages.error(request, _("Two-step verification cannot be turned off for your account."))
        return redirect("security")
    if not two_factor.has_two_factor(request.user):
        return redirect("security")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # A sensitive action: a fresh code is asked even in a verified session.
        try:
            device = two_factor.otp_verify(user=request.user, token=form.cleaned_data["token"])
        except two_factor.TwoFactorLocked as error:
            form.add_error("token", _locked_message(error))
        else:
            if device is None:
                form.add_error("token", _("This code is not valid. Check your app and try again."))
            else:
                two_factor.two_factor_disable(user=request.user)
                messages.success(request, _("Two-step verification is off."))
                return redirect("security")
    return render(request, "accounts/disable.html", {"form": form})


class ConfirmEmailView(allauth_views.ConfirmEmailView):
    """allauth answers a second POST of a used (or expired) link with a bare 404;
    the person should read "this link expired or is invalid" as on a GET."""

    def post(self, *args, **kwargs) -> HttpResponse:
        try:
            return super().post(*args, **kwargs)
        except Http404:
            self.object = None
            return self.render_to_response(self.get_context_data(), status=400)

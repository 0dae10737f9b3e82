"""Account help pages: the agent's account page for a person under mandate, and the person's
activation page at home (identifier and code from the letter, then their own password)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.access.middleware import client_ip
from apps.access.policy import Action, decide
from apps.assistance import letters
from apps.assistance.forms import LetterCodeForm, LetterPasswordForm
from apps.assistance.models import LetterKind
from apps.assistance.selectors import account_state
from apps.records import selectors

LETTER_SESSION_KEY = "account_letter_checked"
# The code was typed: the password must follow soon, on the same browser.
CHECKED_FOR = timedelta(minutes=30)

# Guessing from one place is slowed down whatever the identifiers tried (each letter also
# cancels itself after five wrong codes).
TRIES_PER_ADDRESS, TRIES_WINDOW = 20, 600

LETTER_STATES = {
    "open": gettext_lazy("works until %(date)s"),
    "used": gettext_lazy("used"),
    "cancelled": gettext_lazy("cancelled"),
    "expired": gettext_lazy("expired"),
}


def _agent_only(request: HttpRequest) -> None:
    if not request.user.is_support_agent:
        raise Http404


def _letter_rows(record) -> list[dict]:
    now = timezone.now()
    rows = []
    for letter in letters.letters_for(record=record):
        state = letter.state(now)
        label = LETTER_STATES.get(state, state)
        rows.append(
            {
                "letter": letter,
                "state": state,
                "state_label": str(label)
                % {"date": formats.date_format(timezone.localtime(letter.expires_at), "DATE_FORMAT")}
                if state == "open"
                else str(label),
            }
        )
    return rows


@login_required
@require_http_methods(["GET"])
def account_help(request: HttpRequest, record_uuid) -> HttpResponse:
    """The person's account state, and what the agent may do under the mandate's account help scope."""
    _agent_only(request)
    # Seeing the name and the account state comes with any scope of the mandate.
    record, _decision = selectors.record_get_for(actor=request.user, record_uuid=record_uuid)
    may_help = decide(actor=request.user, record=record, action=Action.ACCOUNT_HELP).allowed
    return render(
        request,
        "assistance/account_help.html",
        {
            "record": record,
            "account": account_state(record=record),
            "letters": _letter_rows(record),
            "may_help": may_help,
        },
    )


@login_required
@require_POST
def letter_print(request: HttpRequest, record_uuid) -> HttpResponse:
    _agent_only(request)
    record = letters.record_for_account_help(agent=request.user, record_uuid=record_uuid)
    try:
        letter, pdf = letters.letter_print(agent=request.user, record=record)
    except letters.LetterRefused as refusal:
        messages.error(request, refusal.message)
        return redirect("assistance_account", record_uuid=record.uuid)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = "activation" if letter.kind == LetterKind.ACTIVATION else "new-password"
    response["Content-Disposition"] = f'attachment; filename="{name}-letter-{letter.login_id}.pdf"'
    return response


@login_required
@require_POST
def second_factor_reset(request: HttpRequest, record_uuid) -> HttpResponse:
    _agent_only(request)
    record = letters.record_for_account_help(agent=request.user, record_uuid=record_uuid)
    try:
        letters.second_factor_reset(agent=request.user, record=record)
    except letters.LetterRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _(
                "Two-step verification is reset for %(name)s. They log in with their password and may set it "
                "up again from their security page. They are told."
            )
            % {"name": record.full_name},
        )
    return redirect("assistance_account", record_uuid=record.uuid)


# --- At home ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest) -> HttpResponse:
    """Step 1: the identifier and the code from the letter."""
    form = LetterCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _too_many_tries(request):
        form.add_error(None, _("Too many tries from here. Wait 10 minutes, then try again."))
    elif request.method == "POST" and form.is_valid():
        try:
            letter = letters.letter_check(login_id=form.cleaned_data["login_id"], code=form.cleaned_data["code"])
        except letters.LetterRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            request.session[LETTER_SESSION_KEY] = {"uuid": str(letter.uuid), "at": timezone.now().isoformat()}
            return redirect("activate_password")
    status = 400 if form.errors else 200
    return render(request, "assistance/activate.html", {"form": form}, status=status)


def _too_many_tries(request: HttpRequest) -> bool:
    key = f"letter-tries:{client_ip(request)}"
    cache.add(key, 0, TRIES_WINDOW)
    try:
        return cache.incr(key) > TRIES_PER_ADDRESS
    except ValueError:  # expired between add and incr
        return False


def _checked_letter_uuid(request: HttpRequest) -> str | None:
    checked = request.session.get(LETTER_SESSION_KEY)
    if not checked:
        return None
    at = datetime.fromisoformat(checked["at"])
    if at + CHECKED_FOR <= timezone.now():
        request.session.pop(LETTER_SESSION_KEY, None)
        return None
    return checked["uuid"]


@require_http_methods(["GET", "POST"])
def activate_password(request: HttpRequest) -> HttpResponse:
    """Step 2: the person's own password, and an e-mail if they wish."""
    letter_uuid = _checked_letter_uuid(request)
    if letter_uuid is None:
        messages.error(request, _("Type the identifier and the code of your letter first."))
        return redirect("activate")
    form = LetterPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = letters.letter_use(
                request=request,
                letter_uuid=letter_uuid,
                password=form.cleaned_data["password1"],
                email=form.cleaned_data["email"],
            )
        except letters.LetterRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            request.session.pop(LETTER_SESSION_KEY, None)
            text = _("Your account is ready. Log in with your identifier %(login_id)s and your new password.")
            if form.cleaned_data["email"]:
                text += " " + _("We sent a link to your e-mail address: open it to confirm the address.")
            messages.success(request, text % {"login_id": user.login_id})
            return redirect("account_login")
    status = 400 if form.errors else 200
    return render(request, "assistance/activate_password.html", {"form": form}, status=status)

"""Account help pages: the agent's account page for a person under mandate, and the person's
activation page at home (identifier and code from the letter, then their own password)."""

from __future__ import annotations

from datetime import datetime, timedelta

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.access.policy import Action, decide
from apps.access.refusals import refusal_shown
from apps.accounts.http import AuthenticatedHttpRequest
from apps.assistance.forms import LetterCodeForm, LetterCurrentPasswordForm, LetterPasswordForm
from apps.assistance.letters import services as letters
from apps.assistance.models import AccountLetter, LetterKind
from apps.assistance.selectors import account_state
from apps.records import selectors

LETTER_SESSION_KEY = "account_letter_checked"
# The code was typed: the password must follow soon, on the same browser.
CHECKED_FOR = timedelta(minutes=30)

LETTER_STATES = {
    "queued": gettext_lazy("waiting to be posted"),
    "open": gettext_lazy("works until %(date)s"),
    "used": gettext_lazy("used"),
    "cancelled": gettext_lazy("cancelled"),
    "expired": gettext_lazy("expired"),
}


def _agent_only(request: AuthenticatedHttpRequest) -> None:
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
def account_help(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
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
def letter_print(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    """A first activation: the letter is printed here. An existing account: the letter goes to the
    person's confirmed e-mail or by post, and the agent never sees it."""
    _agent_only(request)
    record = letters.record_for_account_help(agent=request.user, record_uuid=record_uuid)
    with refusal_shown(request) as caught:
        letter, pdf = letters.letter_print(agent=request.user, record=record)
    if caught.refusal is not None:
        return redirect("assistance_account", record_uuid=record.uuid)
    if pdf is None:
        messages.success(request, _sent_message(letter))
        return redirect("assistance_account", record_uuid=record.uuid)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"activation-letter-{letter.login_id}.pdf")
    return response


def _sent_message(letter: AccountLetter) -> str:
    if letter.channel == "email":
        return _("The code was sent to the person's confirmed e-mail. Only they can read it.")
    return _("The letter will be posted to the address on record. Only the person can read it.")


@login_required
@require_POST
def second_factor_reset(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    _agent_only(request)
    record = letters.record_for_account_help(agent=request.user, record_uuid=record_uuid)
    with refusal_shown(request):
        letter = letters.second_factor_reset(agent=request.user, record=record)
        messages.success(
            request,
            _sent_message(letter) + " " + _("With it and their password, they reset two-step verification themselves."),
        )
    return redirect("assistance_account", record_uuid=record.uuid)


# --- At home ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest) -> HttpResponse:
    """Step 1: the identifier and the code from the letter."""
    form = LetterCodeForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and not ratelimit.consume(request, action="activation", key=form.cleaned_data["login_id"].strip().lower())
    ):
        form.add_error(None, _("Too many tries. Wait 10 minutes, then try again."))
    elif request.method == "POST" and form.is_valid():
        with refusal_shown(request, form):
            letter = letters.letter_check(login_id=form.cleaned_data["login_id"], code=form.cleaned_data["code"])
            request.session[LETTER_SESSION_KEY] = {"uuid": str(letter.uuid), "at": timezone.now().isoformat()}
            return redirect("activate_password")
    status = 400 if form.errors else 200
    return render(request, "assistance/activate.html", {"form": form}, status=status)


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
    second_factor = AccountLetter.objects.filter(uuid=letter_uuid, kind=LetterKind.SECOND_FACTOR).exists()
    form_class = LetterCurrentPasswordForm if second_factor else LetterPasswordForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form):
            user = letters.letter_use(
                request=request,
                letter_uuid=letter_uuid,
                password=form.cleaned_data["password1"],
                email=form.cleaned_data.get("email", ""),
            )
            request.session.pop(LETTER_SESSION_KEY, None)
            if second_factor:
                messages.success(
                    request,
                    _("Two-step verification is removed. Log in with your password; you may set it up again."),
                )
                return redirect("account_login")
            text = _("Your account is ready. Log in with your identifier %(login_id)s and your new password.")
            if form.cleaned_data["email"]:
                text += " " + _("We sent a link to your e-mail address: open it to confirm the address.")
            messages.success(request, text % {"login_id": user.login_id})
            return redirect("account_login")
    status = 400 if form.errors else 200
    return render(
        request, "assistance/activate_password.html", {"form": form, "second_factor": second_factor}, status=status
    )


# --- At the next login: what was done to the account under a mandate ----------------------


@login_required
@require_http_methods(["GET", "POST"])
def account_acts_review(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The acts a support agent did on the person's account; "it was me" or "this wasn't me"."""
    from apps.assistance import review

    if request.method == "POST":
        if request.POST.get("answer") == "not_me":
            review.account_acts_dispute(user=request.user)
            request.session.pop(review.REVIEW_SESSION_KEY, None)
            request.session[review.NEW_PASSWORD_SESSION_KEY] = True
            messages.warning(
                request,
                _(
                    "The support mandate is stopped and your apps are signed out. Choose a new password now. "
                    "Then tell the support desk or the service what happened."
                ),
            )
            return redirect("account_change_password")
        review.account_acts_acknowledge(user=request.user)
        request.session.pop(review.REVIEW_SESSION_KEY, None)
        return redirect("/")
    acts = review.account_acts_to_review(user=request.user)
    if not acts:
        request.session.pop(review.REVIEW_SESSION_KEY, None)
        return redirect("/")
    return render(request, "assistance/account_acts_review.html", {"acts": acts})

"""Login and password signals: the review of account acts under a mandate (see review.py)."""

from __future__ import annotations

from typing import Any

from apps.assistance import review


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        review.flag_session_at_login(request=request, user=user)


def on_password_changed(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if user is None:
        return
    review.password_change_done(user=user)
    if request is not None and hasattr(request, "session"):
        request.session.pop(review.NEW_PASSWORD_SESSION_KEY, None)


def connect() -> None:
    from allauth.account import signals as allauth_signals
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.connect(on_login, dispatch_uid="assistance_review_at_login")
    for signal in (allauth_signals.password_changed, allauth_signals.password_set, allauth_signals.password_reset):
        signal.connect(on_password_changed, dispatch_uid=f"assistance_password_done_{id(signal)}")

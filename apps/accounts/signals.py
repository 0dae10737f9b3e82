from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from allauth.account.signals import user_logged_in as allauth_user_logged_in
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver


@receiver(user_logged_out)
def _remember_explicit_logout(sender, request, user, **kwargs) -> None:
    # Lets SessionExpiryMiddleware tell "you logged out" from "your session expired".
    if request is not None:
        request.explicit_logout = True


@receiver(allauth_user_logged_in)
def _login_counts_as_recent_password(sender, request, user, **kwargs) -> None:
    # allauth counts only its re-authentication page as "recent": a person who typed their
    # password seconds ago would be asked it again for a sensitive act. The login itself
    # counts, for the same few minutes (ACCOUNT_REAUTHENTICATION_TIMEOUT).
    records = get_authentication_records(request, user)
    if records and records[-1].get("method") == "password":
        record_authentication(request, user, method="password", reauthenticated=True)

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver


@receiver(user_logged_out)
def _remember_explicit_logout(sender, request, user, **kwargs) -> None:
    # Lets SessionExpiryMiddleware tell "you logged out" from "your session expired".
    if request is not None:
        request.explicit_logout = True

"""Operators register applications; they never see a person's tokens or pending codes.

DOT's admin registers its token models (masked, but still a list of who signed in where and
a "revoke" lever without the person knowing). Tokens are the person's: they see and end
them in their own security page.
"""

from django.contrib import admin
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

for _model in (get_access_token_model(), get_refresh_token_model(), get_grant_model(), get_id_token_model()):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

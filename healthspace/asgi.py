"""HTTP and WebSocket, served by an ASGI server (uvicorn)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "healthspace.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.accounts.middleware import WebSocketSecondFactorMiddleware  # noqa: E402
from healthspace.routing import websocket_urlpatterns  # noqa: E402

# The WebSocket stack checks what HTTP checks: the session, its absolute timeout and the second
# factor (consumers close a session that passed only the password step).
websocket_application = AllowedHostsOriginValidator(
    AuthMiddlewareStack(WebSocketSecondFactorMiddleware(URLRouter(websocket_urlpatterns)))
)

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})

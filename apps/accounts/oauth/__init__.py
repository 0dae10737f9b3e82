"""The OAuth 2.0 authorisation server (django-oauth-toolkit): apps and devices signed in for a person."""

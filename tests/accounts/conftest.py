"""Account tests read pages in English (the default language is French)."""

import pytest


@pytest.fixture(autouse=True)
def _english(settings):
    # The default language is French; our own strings are asserted in English.
    settings.LANGUAGE_CODE = "en"

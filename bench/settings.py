"""Production settings plus the benchmark's ceiling views (bench/urls.py)."""

from healthspace.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

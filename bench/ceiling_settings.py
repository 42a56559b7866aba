"""The app's settings, with one more route: the bare Django ceiling the API is measured against (bench only)."""

from followthrough.settings import *  # noqa: F403

ROOT_URLCONF = "bench.ceiling_urls"

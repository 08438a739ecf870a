"""Benchmark settings: the test settings; bench/run.py creates and drops its own test database."""

from tests.settings import *  # noqa: F403
from tests.settings import OIDC_PROVIDER

DEBUG = False
ROOT_URLCONF = "bench.urls"
OIDC_PROVIDER = {**OIDC_PROVIDER, "RSA_KEY_SIZE": 2048}
LOGGING = {"version": 1, "disable_existing_loggers": True}

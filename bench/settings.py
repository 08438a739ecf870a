"""Benchmark settings: the test settings; bench/run.py creates and drops its own test database."""

from tests.settings import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": True}

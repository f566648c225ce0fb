"""Production settings plus one bare view, for side-by-side benchmarks only."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

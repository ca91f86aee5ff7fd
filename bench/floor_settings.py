"""Settings of the benchmark's floor: the project's own, with bench/floor_urls.py in front."""

from cynco.settings import *  # noqa: F401,F403

ROOT_URLCONF = "floor_urls"

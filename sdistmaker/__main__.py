"""``python -m sdistmaker``: the same as ``sdists_from_tags``."""

import sys

from sdistmaker.cli import sdists_from_tags

sys.exit(sdists_from_tags())

"""The index stage: bring OUTDIR's pages up to date with the files the store holds.

Every folder of OUTDIR is a project; its pages (see pages.py) list its files with hashes computed
from the files themselves. Pages for people live apart, in OUTDIR/+/, so installers never parse
them. Every page is written to a temporary name and renamed.

A run costs what changed, not the size of the index (see cache.py for what is remembered).
Files are only ever added to a folder, never changed in place, and adding one changes the
folder's time: a project whose folder and settings did not change costs one stat, however many
files it holds. A normal run looks only at the projects it published to and those whose
settings changed; a full scan (``changed`` None) at every folder. The root pages are rendered
only when the set of projects changed, the front page when a row did. What the index remembers
is written after the pages it describes, so a killed run costs time, never a stale page; and a
page is written after the pages it links to, so a killed run leaves no link to a missing page.
"""

from sdistmaker.index.update import IndexResult, Shown, check_templates, projects, update

__all__ = ["IndexResult", "Shown", "check_templates", "projects", "update"]

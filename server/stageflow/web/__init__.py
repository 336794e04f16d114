"""Stageflow's pages: server-rendered HTML for people, as :mod:`stageflow.api` is for programs.

One blueprint, ``web``, registered by the built-in plugin :mod:`stageflow.default_pages`.
Each module adds one area's routes to :data:`bp`: :mod:`.login` (sessions),
:mod:`.work` (My Work and the work item page), :mod:`.records` (record pages, with the
Work Guide of :mod:`.guide`), :mod:`.navigation` (the header), :mod:`.errors` (error
pages).  Pages work without JavaScript; every form carries a CSRF token.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

# Importing the modules registers their routes, hooks and error handlers on bp.
from . import (  # noqa: E402, F401
    admin_deploy,
    admin_formulas,
    admin_orchestrations,
    admin_people,
    admin_plugins,
    errors,
    login,
    metrics,
    navigation,
    records,
    work,
)

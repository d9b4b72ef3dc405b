"""The web app (``moodbridge serve``): find, hear and generate emotion-matched music and images, arcs, the study.

FastAPI with server-rendered Jinja2 templates and a little vanilla JavaScript
and CSS served by the app itself (no build step, nothing from the network).
Every page calls the same job as the command line (:mod:`moodbridge.jobs`).

=====================  ================================================================
module                 what it holds
=====================  ================================================================
:mod:`.app`            :func:`create_app`, :class:`WebConfig`, error pages, media by id, static files
:mod:`.pages`          image → music, music → image, text search, library plane, item, arcs, pair outputs
:mod:`.study`          the participant flow and the researcher's pages (token)
:mod:`.safety`         upload limits and checks, the researcher token
:mod:`.generation`     the hook for the generation job (``moodbridge.jobs.generate``), when installed
:mod:`.templating`     :func:`render`: a page with the context every page shares
=====================  ================================================================
"""
from moodbridge.web.app import WebConfig, create_app

__all__ = ["WebConfig", "create_app"]

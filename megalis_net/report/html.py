"""The dashboard as one self-contained HTML page (inline SVG and CSS, no fetches).

Jinja2 with autoescape on (names and problem texts come from routers and
files) and ``StrictUndefined``: a name the dashboard does not hold is an
error, never an empty cell.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from megalis_net.errors import MegalisError
from megalis_net.render import TEMPLATES
from megalis_net.report.dashboard import Dashboard

FOLDER = "report"
ENTRY = "index.html.j2"
INDEX = "index.html"


class ReportTemplateError(MegalisError):
    """The report's template cannot be found or rendered."""


@cache
def environment(root: Path = TEMPLATES) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(root / FOLDER),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(dashboard: Dashboard, root: Path = TEMPLATES) -> str:
    """The page of ``dashboard``: deterministic for the same inputs."""
    try:
        return environment(root).get_template(ENTRY).render(d=dashboard)
    except jinja2.TemplateNotFound as exc:
        raise ReportTemplateError(f"{root / FOLDER}: template {exc.name} not found") from exc
    except jinja2.TemplateError as exc:
        raise ReportTemplateError(f"report template: {exc}") from exc

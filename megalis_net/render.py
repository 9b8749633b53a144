"""Intent -> configuration text, with Jinja2 templates per platform.

Templates live in ``templates/<platform>/``; ``main.j2`` composes the small
per-feature templates. ``StrictUndefined``: a name the intent does not hold
is an error, never an empty line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import jinja2

from megalis_net.errors import MegalisError
from megalis_net.fileio import atomic_write_text
from megalis_net.intent import DeviceIntent
from megalis_net.model import Platform
from megalis_net.quirks import TEMPLATE_GLOBALS

TEMPLATES = Path(
    os.environ.get("MEGALIS_TEMPLATES", Path(__file__).resolve().parent.parent / "templates")
)
ENTRY = "main.j2"


class TemplateError(MegalisError):
    """A template that cannot be found or rendered."""


@cache
def environment(platform: Platform, root: Path = TEMPLATES) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(root / platform.value),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.globals.update(TEMPLATE_GLOBALS.get(platform, {}))
    return env


def render_device(intent: DeviceIntent, root: Path = TEMPLATES) -> str:
    """The full configuration of one router, for its platform."""
    try:
        template = environment(intent.platform, root).get_template(ENTRY)
        return template.render(device=intent)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(
            f"{root / intent.platform.value}: template {exc.name} not found"
        ) from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{intent.platform.value} template, {intent.hostname}: {exc}") from exc


def render_all(intents: Mapping[str, DeviceIntent], root: Path = TEMPLATES) -> dict[str, str]:
    return {name: render_device(intent, root) for name, intent in intents.items()}


def config_filename(intent: DeviceIntent) -> str:
    """Examples:
    >>> from types import SimpleNamespace
    >>> config_filename(SimpleNamespace(hostname="pe-brest", platform=Platform.IOSXR))
    'pe-brest.iosxr.conf'
    """
    return f"{intent.hostname}.{intent.platform.value}.conf"


def write_configs(
    out: Path, intents: Mapping[str, DeviceIntent], configs: Mapping[str, str]
) -> list[Path]:
    """Write every config (each atomically), after all of them rendered."""
    written = []
    for name, text in configs.items():
        path = out / config_filename(intents[name])
        atomic_write_text(path, text)
        written.append(path)
    return written

"""The metrology dashboard: one static HTML page of the backbone's state.

``make_report`` runs the redundancy audit, reads the model and the last
verify result, and renders the page; ``write_report`` publishes it as a
folder, all or nothing. The page fetches nothing: inline SVG and CSS only,
so it opens from a file, a mail attachment or an offline laptop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from megalis_net.audit import run_audit
from megalis_net.fileio import atomic_write_dir
from megalis_net.model import Network
from megalis_net.report.dashboard import Dashboard, SiteState, build_dashboard
from megalis_net.report.html import INDEX, render_html
from megalis_net.report.verify_result import (
    VERIFY_FILE,
    LinkState,
    VerifyResult,
    read_verify_result,
)

__all__ = [
    "INDEX",
    "VERIFY_FILE",
    "Dashboard",
    "LinkState",
    "Report",
    "SiteState",
    "VerifyResult",
    "make_report",
    "read_verify_result",
    "write_report",
]


@dataclass(frozen=True)
class Report:
    """The computed dashboard and its page, not yet written anywhere."""

    dashboard: Dashboard
    html: str


def make_report(
    network: Network,
    verify: VerifyResult | None,
    *,
    worst: int = 10,
    depth: int = 1,
    verify_source: str | None = None,
) -> Report:
    """Audit the network, compute the dashboard, render it (nothing is written)."""
    audit = run_audit(network, depth)
    dashboard = build_dashboard(network, audit, verify, worst=worst, verify_source=verify_source)
    return Report(dashboard, render_html(dashboard))


def write_report(out: Path, report: Report) -> Path:
    """Publish ``report`` as the folder ``out``; returns the page's path."""
    atomic_write_dir(out, {INDEX: report.html.encode("utf-8")})
    return out / INDEX

"""Everything the dashboard shows, computed: the map, the audit's worst
scenarios, sites per PoP by community and by verified state, the last verify."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from megalis_net.audit import AuditReport
from megalis_net.model import Community, Network
from megalis_net.report.mapview import RingMap, build_map
from megalis_net.report.verify_result import Kind, LinkState, VerifyResult


class SiteState(StrEnum):
    UP = "up"
    DOWN = "down"
    NOT_VERIFIED = "not verified"
    LEGACY = "legacy"  # still on Mégalis I: not on the routers, nothing to verify


@dataclass(frozen=True, slots=True)
class PopCounts:
    name: str
    city: str
    sites: int
    by_community: dict[str, int]
    by_state: dict[str, int]


@dataclass(frozen=True, slots=True)
class ScenarioRow:
    name: str
    pops_cut_internet: str
    pops_cut_renater: str
    sites_cut: int
    max_utilisation: str
    busiest_link: str
    worst_finding: str


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The page's content; ``verify`` is None before the first verify run."""

    title: str
    map: RingMap
    communities: tuple[str, ...]
    site_states: tuple[str, ...]
    pops: tuple[PopCounts, ...]
    totals: PopCounts
    scenarios: tuple[ScenarioRow, ...]
    scenario_count: int
    audit_depth: int
    audit_passed: bool
    verify: VerifyResult | None
    verify_source: str | None
    links_not_in_model: tuple[str, ...]

    def links_by_state(self) -> dict[str, int]:
        counts = Counter(link.state for link in self.map.links)
        return {state.value: counts[state.value] for state in LinkState}

    def summary(self) -> dict[str, Any]:
        """What ``report --json`` prints besides the path: counts a script can check."""
        return {
            "links": self.links_by_state(),
            "pops": len(self.pops),
            "sites": self.totals.sites,
            "sites_by_state": self.totals.by_state,
            "scenarios_shown": len(self.scenarios),
            "audit_passed": self.audit_passed,
            "verify": self.verify_source,
            "polled_at": self.verify.polled_at.isoformat() if self.verify else None,
            "discrepancies": len(self.verify.discrepancies) if self.verify else None,
            "unreachable": len(self.verify.unreachable) if self.verify else None,
        }


def site_states(network: Network, verify: VerifyResult | None) -> dict[str, SiteState]:
    """Each site's state: down if any of its interfaces has a problem, up if verify
    checked it and found none, not verified otherwise (no result, or not in it);
    legacy while it waits for its migration wave.

    A site on a router that did not answer is not verified: nothing is known of
    its interface, which may well be up.
    """
    seen: set[str] = set()
    bad: set[str] = set()
    if verify is not None:
        silent = {u.device for u in verify.unreachable}
        for interface in verify.interfaces:
            if interface.kind is Kind.SITE and interface.device not in silent:
                site = interface.site_id or interface.link
                seen.add(site)
                if not interface.fine:
                    bad.add(site)
        bad.update(
            d.link
            for d in verify.discrepancies
            if d.kind == Kind.SITE.value and d.device not in silent
        )
    return {
        site.id: SiteState.LEGACY
        if not site.active
        else SiteState.DOWN
        if site.id in bad
        else SiteState.UP
        if site.id in seen
        else SiteState.NOT_VERIFIED
        for site in network.sites
    }


def pop_counts(network: Network, states: dict[str, SiteState]) -> tuple[PopCounts, ...]:
    """Per PoP, in model order: sites by community and by state (every key present)."""
    community = Counter((s.pop, s.community.value) for s in network.sites)
    state = Counter((s.pop, states[s.id].value) for s in network.sites)
    return tuple(
        PopCounts(
            name=pop.name,
            city=pop.city,
            sites=sum(community[pop.name, c.value] for c in Community),
            by_community={c.value: community[pop.name, c.value] for c in Community},
            by_state={s.value: state[pop.name, s.value] for s in SiteState},
        )
        for pop in network.topology.pops
    )


def totals(pops: tuple[PopCounts, ...]) -> PopCounts:
    def add(key: str, field: str) -> int:
        return sum(getattr(p, field)[key] for p in pops)

    return PopCounts(
        name="total",
        city="Total",
        sites=sum(p.sites for p in pops),
        by_community={c.value: add(c.value, "by_community") for c in Community},
        by_state={s.value: add(s.value, "by_state") for s in SiteState},
    )


def scenario_rows(report: AuditReport, worst: int) -> tuple[ScenarioRow, ...]:
    """The ``worst`` first results: the audit already ranks them worst first."""
    return tuple(
        ScenarioRow(
            name=r.scenario.name,
            pops_cut_internet=", ".join(r.cut_pops_internet) or "–",
            pops_cut_renater=", ".join(r.cut_pops_renater) or "–",
            sites_cut=r.sites_cut,
            max_utilisation=f"{r.max_utilisation:.0%}",
            busiest_link=r.worst_link or "–",
            worst_finding=r.worst_severity,
        )
        for r in report.results[:worst]
    )


def build_dashboard(
    network: Network,
    audit: AuditReport,
    verify: VerifyResult | None,
    *,
    worst: int = 10,
    verify_source: str | None = None,
) -> Dashboard:
    """Compute the whole page from the model, an audit report and the last verify result."""
    states = site_states(network, verify)
    pops = pop_counts(network, states)
    model_links = {link.name for link in network.topology.backbone_links}
    return Dashboard(
        title="Mégalis II — network dashboard",
        map=build_map(network, verify),
        communities=tuple(c.value for c in Community),
        site_states=tuple(s.value for s in SiteState),
        pops=pops,
        totals=totals(pops),
        scenarios=scenario_rows(audit, worst),
        scenario_count=audit.scenario_count,
        audit_depth=audit.depth,
        audit_passed=audit.passed,
        verify=verify,
        verify_source=verify_source,
        links_not_in_model=tuple(
            s.link for s in (verify.links if verify else ()) if s.link not in model_links
        ),
    )

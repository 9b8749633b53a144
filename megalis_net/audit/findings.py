"""Judge one routed scenario against the policy: what is cut, what is overloaded.

Severity follows ``topology/policy.yaml``: findings of scenarios deeper than
``required_depth`` are warnings; within it, a scenario that fails a PoP gets
``pop_failure`` (a PoP failure always cuts its own single-homed sites, and
and any PoP that hangs on it alone), anything else is a violation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from megalis_net.audit.routing import Backbone, Demand, Flow
from megalis_net.audit.scenarios import Scenario
from megalis_net.model import Policy, Severity

CAPACITY_TOLERANCE = 1e-9
"""Relative slack so that a link filled exactly to the limit is not flagged by rounding."""


class FindingKind(StrEnum):
    INTERNET_CUT = "internet-cut"
    RENATER_CUT = "renater-cut"
    OVER_CAPACITY = "over-capacity"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong in one scenario, in a sentence an engineer can act on."""

    scenario: str
    kind: FindingKind
    severity: Severity
    detail: str
    sites_affected: int


@dataclass(frozen=True, slots=True)
class LinkLoad:
    """The load of one direction of one link (``direction`` is ``from->to``)."""

    link: str
    load_mbps: float
    capacity_mbps: int
    utilisation: float
    scenario: str
    direction: str


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """The outcome of one scenario; ``loads`` has both directions of every link still up.

    ``sites_cut`` counts the sites of failed PoPs and of PoPs cut off from the
    Internet or from Renater.
    """

    scenario: Scenario
    findings: tuple[Finding, ...]
    cut_pops_internet: tuple[str, ...]
    cut_pops_renater: tuple[str, ...]
    sites_cut: int
    max_utilisation: float
    worst_link: str | None
    loads: tuple[LinkLoad, ...]

    @property
    def has_violation(self) -> bool:
        return any(f.severity is Severity.VIOLATION for f in self.findings)

    @property
    def worst_severity(self) -> str:
        """``violation``, ``warning`` or ``ok``: the worst of the findings."""
        severities = {f.severity for f in self.findings}
        order = (Severity.VIOLATION, Severity.WARNING)
        return next((s.value for s in order if s in severities), "ok")

    @property
    def pops_cut(self) -> int:
        return len({*self.scenario.failed_pops, *self.cut_pops_internet, *self.cut_pops_renater})

    @property
    def heaviest(self) -> LinkLoad | None:
        return heaviest(self.loads)


def heaviest(loads: tuple[LinkLoad, ...]) -> LinkLoad | None:
    """The most utilised direction; the first one in link order on a tie."""
    return max(loads, key=lambda load: load.utilisation, default=None)


def severity_of(scenario: Scenario, policy: Policy) -> Severity:
    """How bad any finding of ``scenario`` is under ``policy``."""
    if scenario.depth > policy.required_depth:
        return Severity.WARNING
    if scenario.failed_pops:
        return policy.pop_failure
    return Severity.VIOLATION


@dataclass(frozen=True, slots=True)
class Judge:
    """What a scenario's findings need besides its flow: the indexes and the policy."""

    backbone: Backbone
    demand: Demand
    policy: Policy

    def evaluate(self, scenario: Scenario, flow: Flow) -> ScenarioResult:
        """Findings, cut PoPs and loads of one routed scenario."""
        failed = set(scenario.failed_pops)
        pops = self.backbone.nodes[: self.backbone.pop_count]
        cut_internet = _cut(pops, flow.reaches_internet, failed)
        cut_renater = _cut(pops, flow.reaches_renater, failed) if self.backbone.renater else ()
        loads = self._loads(scenario, flow)
        severity = severity_of(scenario, self.policy)
        findings = (
            *self._internet_cut(scenario, cut_internet, severity),
            *self._renater_cut(scenario, cut_renater, severity),
            *self._over_capacity(scenario, loads, severity),
        )
        worst = heaviest(loads)
        return ScenarioResult(
            scenario=scenario,
            findings=findings,
            cut_pops_internet=cut_internet,
            cut_pops_renater=cut_renater,
            sites_cut=self._sites({*failed, *cut_internet, *cut_renater}),
            max_utilisation=worst.utilisation if worst else 0.0,
            worst_link=worst.link if worst and worst.load_mbps > 0 else None,
            loads=loads,
        )

    def _sites(self, pops: set[str]) -> int:
        return sum(self.demand.sites[self.backbone.node(p)] for p in pops)

    def _loads(self, scenario: Scenario, flow: Flow) -> tuple[LinkLoad, ...]:
        loads = []
        name = scenario.name
        for i, (a, b) in enumerate(self.backbone.ends):
            if i in flow.mask[1]:
                continue
            cap = self.backbone.capacities[i]
            for direction, (u, v) in enumerate(((a, b), (b, a))):
                mbps = flow.loads[2 * i + direction]
                arrow = f"{self.backbone.nodes[u]}->{self.backbone.nodes[v]}"
                loads.append(LinkLoad(self.backbone.links[i], mbps, cap, mbps / cap, name, arrow))
        return tuple(loads)

    def _internet_cut(
        self, scenario: Scenario, cut: tuple[str, ...], severity: Severity
    ) -> list[Finding]:
        failed = scenario.failed_pops
        if not failed and not cut:
            return []
        parts = []
        if failed:
            parts.append(f"{_pops(failed)} down with {_count(self._sites(set(failed)), 'site')}")
        if cut:
            exits = ", ".join(self.backbone.nodes[t] for t in self.backbone.internet)
            parts.append(
                f"{_pops(cut)} ({_count(self._sites(set(cut)), 'site')}) cut off from "
                f"every Internet exit ({exits})"
            )
        affected = self._sites({*failed, *cut})
        detail = f"{scenario.name}: {'; '.join(parts)}; {_count(affected, 'site')} affected"
        return [Finding(scenario.name, FindingKind.INTERNET_CUT, severity, detail, affected)]

    def _renater_cut(
        self, scenario: Scenario, cut: tuple[str, ...], severity: Severity
    ) -> list[Finding]:
        if not cut:
            return []
        exits = ", ".join(self.backbone.nodes[t] for t in self.backbone.renater)
        affected = self._sites({*scenario.failed_pops, *cut})
        detail = (
            f"{scenario.name}: {_pops(cut)} ({_count(self._sites(set(cut)), 'site')}) cut off "
            f"from Renater ({exits}); {_count(affected, 'site')} affected"
        )
        return [Finding(scenario.name, FindingKind.RENATER_CUT, severity, detail, affected)]

    def _over_capacity(
        self, scenario: Scenario, loads: tuple[LinkLoad, ...], severity: Severity
    ) -> list[Finding]:
        """One finding per overloaded link, on its heavier direction."""
        limit = self.policy.max_utilisation * (1 + CAPACITY_TOLERANCE)
        heaviest: dict[str, LinkLoad] = {}
        for load in loads:
            if load.utilisation > limit and (
                load.link not in heaviest or load.utilisation > heaviest[load.link].utilisation
            ):
                heaviest[load.link] = load
        return [
            Finding(scenario.name, FindingKind.OVER_CAPACITY, severity, self._overload(load), 0)
            for load in heaviest.values()
        ]

    def _overload(self, load: LinkLoad) -> str:
        return (
            f"{load.scenario}: link {load.link} carries {load.load_mbps:.1f} Mb/s "
            f"{load.direction}, {load.utilisation:.1%} of its {load.capacity_mbps} Mb/s "
            f"(limit {self.policy.max_utilisation:.0%})"
        )


def _cut(pops: tuple[str, ...], reaches: tuple[bool, ...], failed: set[str]) -> tuple[str, ...]:
    """Surviving PoPs that reach no exit of the kind."""
    return tuple(p for p, ok in zip(pops, reaches, strict=True) if not ok and p not in failed)


def _pops(names: tuple[str, ...]) -> str:
    return f"PoP{'s' if len(names) > 1 else ''} {', '.join(names)}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"

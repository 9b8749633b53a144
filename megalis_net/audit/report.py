"""The audit report: every scenario's result, worst first, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from megalis_net.audit.findings import Finding, LinkLoad, ScenarioResult, heaviest
from megalis_net.model import Policy, Severity


@dataclass(frozen=True)
class AuditReport:
    """What ``run_audit`` proves, or fails to.

    ``results`` holds the failure scenarios, worst first; ``baseline`` is
    normal operation (no failure), whose findings are always violations and
    which ``scenario_count`` does not count. ``passed`` means no violation.
    """

    scenario_count: int
    results: tuple[ScenarioResult, ...]
    violations: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    worst_link: LinkLoad | None
    passed: bool
    depth: int
    baseline: ScenarioResult
    policy: Policy

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, deterministic: results worst first, floats rounded."""
        return {
            "depth": self.depth,
            "scenarios": self.scenario_count,
            "passed": self.passed,
            "policy": self.policy.model_dump(mode="json"),
            "violations": [_finding(f) for f in self.violations],
            "warnings": [_finding(f) for f in self.warnings],
            "worst_link_utilisation": _link_load(self.worst_link) if self.worst_link else None,
            "baseline": _result(self.baseline),
            "results": [_result(r) for r in self.results],
        }


def rank(result: ScenarioResult) -> tuple[int, int, int, float, int, str]:
    """Sort key, worst first: violations, then PoPs and sites cut, then utilisation."""
    return (
        0 if result.has_violation else 1,
        -result.pops_cut,
        -result.sites_cut,
        -result.max_utilisation,
        result.scenario.depth,
        result.scenario.name,
    )


def assemble(
    baseline: ScenarioResult, results: list[ScenarioResult], depth: int, policy: Policy
) -> AuditReport:
    """Sort the results, gather the findings by severity and find the worst link."""
    ordered = tuple(sorted(results, key=rank))
    findings = [f for r in (baseline, *ordered) for f in r.findings]
    violations = tuple(f for f in findings if f.severity is Severity.VIOLATION)
    # The first maximum in scenario order wins, so ties resolve deterministically.
    candidates = tuple(h for r in (baseline, *results) if (h := r.heaviest) is not None)
    return AuditReport(
        scenario_count=len(results),
        results=ordered,
        violations=violations,
        warnings=tuple(f for f in findings if f.severity is Severity.WARNING),
        worst_link=heaviest(candidates),
        passed=not violations,
        depth=depth,
        baseline=baseline,
        policy=policy,
    )


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "scenario": finding.scenario,
        "kind": finding.kind.value,
        "severity": finding.severity.value,
        "detail": finding.detail,
        "sites_affected": finding.sites_affected,
    }


def _link_load(load: LinkLoad) -> dict[str, Any]:
    return {
        "link": load.link,
        "direction": load.direction,
        "load_mbps": round(load.load_mbps, 3),
        "capacity_mbps": load.capacity_mbps,
        "utilisation": round(load.utilisation, 6),
        "scenario": load.scenario,
    }


def _result(result: ScenarioResult) -> dict[str, Any]:
    return {
        "scenario": result.scenario.name,
        "depth": result.scenario.depth,
        "elements": [str(e) for e in result.scenario.elements],
        "findings": [{"kind": f.kind.value, "severity": f.severity.value} for f in result.findings],
        "cut_pops_internet": list(result.cut_pops_internet),
        "cut_pops_renater": list(result.cut_pops_renater),
        "sites_cut": result.sites_cut,
        "max_utilisation": round(result.max_utilisation, 6),
        "worst_link": result.worst_link,
    }

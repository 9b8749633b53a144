"""Failure scenarios: the sets of backbone elements the audit takes down together.

An element is a backbone link (ring, extension or upstream), a PoP (its router
and every link that ends there) or a shared-risk link group (every link in it).
Depth 1 fails each element alone; depth 2 adds every pair of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from itertools import combinations

from megalis_net.model import Topology

MAX_DEPTH = 2
"""N-2 is what the design asks for; deeper grows combinatorially for little insight."""


class ElementKind(StrEnum):
    LINK = "link"
    POP = "pop"
    SRLG = "srlg"


@dataclass(frozen=True, slots=True)
class Element:
    """One thing that can fail: ``link:ring-rennes-vannes``, ``pop:brest``..."""

    kind: ElementKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"


@dataclass(frozen=True, slots=True)
class Scenario:
    """Elements failed at the same time; no elements is normal operation.

    Examples:
        >>> Scenario((Element(ElementKind.POP, "rennes"), Element(ElementKind.SRLG, "duct-x"))).name
        'pop:rennes + srlg:duct-x'
    """

    elements: tuple[Element, ...]

    @property
    def name(self) -> str:
        return " + ".join(str(e) for e in self.elements) or "normal"

    @property
    def depth(self) -> int:
        return len(self.elements)

    @property
    def failed_pops(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.elements if e.kind is ElementKind.POP)


NORMAL = Scenario(())


def failure_elements(topology: Topology) -> tuple[Element, ...]:
    """Every element that can fail, links first, then PoPs, then SRLGs (model order)."""
    links = [Element(ElementKind.LINK, link.name) for link in topology.backbone_links]
    pops = [Element(ElementKind.POP, pop.name) for pop in topology.pops]
    srlgs = [Element(ElementKind.SRLG, srlg.name) for srlg in topology.srlgs]
    return (*links, *pops, *srlgs)


def enumerate_scenarios(topology: Topology, depth: int) -> list[Scenario]:
    """All scenarios of 1 up to ``depth`` elements, single failures first.

    Redundant pairs (a link and the duct it lies in) are kept: they are cheap
    and an engineer reading the report expects every pair to be listed.
    """
    elements = failure_elements(topology)
    return [
        Scenario(combo) for size in range(1, depth + 1) for combo in combinations(elements, size)
    ]

"""Where things go on the map: latitude/longitude to SVG coordinates.

An equirectangular projection centred on the network is plenty at the scale
of one region (Brittany spans 3.5° of longitude): longitudes are shrunk by
the cosine of the mean latitude, so distances look right east-west and
north-south. Everything is computed here; the template only draws.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

KM_PER_DEGREE = 111.32
"""Length of one degree of latitude (and of longitude at the equator)."""

UPSTREAM_OFFSET_KM = 45.0
"""How far from its PoP an upstream's provider node is drawn."""

UPSTREAM_SPREAD_DEG = 50.0
"""Angle between the provider nodes of one PoP, so that they do not overlap."""

PARALLEL_GAP = 7.0
"""Pixels between parallel links of the same two nodes (the two Saint-Malo links)."""


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Segment:
    start: Point
    end: Point


def plane(latitude: float, longitude: float, mean_latitude: float) -> Point:
    """Kilometres east and south of (0°, 0°), in a projection true at ``mean_latitude``.

    Examples:
        >>> p = plane(48.0, -2.0, 48.0)
        >>> round(p.x, 1), round(p.y, 1)
        (-149.0, -5343.4)
    """
    shrink = math.cos(math.radians(mean_latitude))
    return Point(longitude * KM_PER_DEGREE * shrink, -latitude * KM_PER_DEGREE)


def away_from(centre: Point, origin: Point, distance: float, count: int) -> list[Point]:
    """``count`` points ``distance`` from ``origin``, fanned out on the side away from ``centre``.

    Examples:
        >>> [(round(p.x), round(p.y)) for p in away_from(Point(0, 0), Point(10, 0), 5, 1)]
        [(15, 0)]
    """
    heading = math.atan2(origin.y - centre.y, origin.x - centre.x)
    spread = math.radians(UPSTREAM_SPREAD_DEG)
    angles = [heading + (i - (count - 1) / 2) * spread for i in range(count)]
    return [
        Point(origin.x + distance * math.cos(a), origin.y + distance * math.sin(a)) for a in angles
    ]


def centroid(points: Sequence[Point]) -> Point:
    return Point(sum(p.x for p in points) / len(points), sum(p.y for p in points) / len(points))


@dataclass(frozen=True, slots=True)
class Fit:
    """Scales plane kilometres into a ``width`` x ``height`` view box with a margin."""

    left: float
    top: float
    scale: float
    margin: float
    width: float
    height: float

    @classmethod
    def around(cls, points: Iterable[Point], width: float, margin: float) -> Fit:
        """The fit of ``width`` pixels that holds every point; the height follows."""
        xs, ys = zip(*((p.x, p.y) for p in points), strict=True)
        span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
        scale = (width - 2 * margin) / max(span_x, 1e-9)
        height = span_y * scale + 2 * margin
        return cls(min(xs), min(ys), scale, margin, width, round(height, 1))

    def place(self, point: Point) -> Point:
        return Point(
            round(self.margin + (point.x - self.left) * self.scale, 1),
            round(self.margin + (point.y - self.top) * self.scale, 1),
        )


def offset(segment: Segment, index: int, count: int, gap: float = PARALLEL_GAP) -> Segment:
    """The ``index``-th of ``count`` parallel copies of ``segment``, ``gap`` pixels apart.

    Examples:
        >>> s = offset(Segment(Point(0, 0), Point(10, 0)), 0, 2, gap=4)
        >>> (s.start.y, s.end.y)
        (-2.0, -2.0)
    """
    shift = (index - (count - 1) / 2) * gap
    dx, dy = segment.end.x - segment.start.x, segment.end.y - segment.start.y
    length = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / length * shift, dx / length * shift
    return Segment(
        Point(round(segment.start.x + nx, 1), round(segment.start.y + ny, 1)),
        Point(round(segment.end.x + nx, 1), round(segment.end.y + ny, 1)),
    )


@dataclass(frozen=True, slots=True)
class Label:
    """Where a node's two text lines go, relative to the node (SVG text attributes)."""

    x: float
    y: float
    anchor: str
    line: float = 13.0


# Candidate sides, in order of preference on a tie: right, left, above, below, diagonals.
_SIDES: tuple[tuple[float, Label], ...] = (
    (0.0, Label(13, -3, "start")),
    (180.0, Label(-13, -3, "end")),
    (-90.0, Label(0, -28, "middle")),
    (90.0, Label(0, 24, "middle")),
    (-45.0, Label(10, -18, "start")),
    (-135.0, Label(-10, -18, "end")),
    (45.0, Label(10, 20, "start")),
    (135.0, Label(-10, 20, "end")),
)


ABOVE_OR_BELOW = (_SIDES[2], _SIDES[3])
"""Sides of a node at the map's edge, whose text would run off it sideways."""


def label_side(
    node: Point,
    neighbours: Sequence[Point],
    sides: Sequence[tuple[float, Label]] = _SIDES,
) -> Label:
    """The side of ``node`` farthest (in angle) from every line drawn to ``neighbours``.

    Examples:
        >>> label_side(Point(0, 0), [Point(10, 0)]).anchor  # a line to the right: text left
        'end'
        >>> label_side(Point(0, 0), [Point(-5, 0), Point(5, 0)]).y  # both sides taken: above
        -28
    """

    def gap(side: float) -> float:
        angles = [math.degrees(math.atan2(n.y - node.y, n.x - node.x)) for n in neighbours]
        return min((abs((side - a + 180) % 360 - 180) for a in angles), default=180.0)

    best = max(sides, key=lambda side: gap(side[0]))  # max keeps the first of equals
    return best[1]

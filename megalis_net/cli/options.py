"""Options several commands share, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

VerifyTimeoutOption = Annotated[
    float,
    typer.Option("--verify-timeout", min=1, help="Seconds for the change to verify by SNMP."),
]
ConfirmTimeoutOption = Annotated[
    int,
    typer.Option(
        "--confirm-timeout",
        min=30,
        help="Seconds after which a router reverts by itself unless confirmed.",
    ),
]

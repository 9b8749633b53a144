"""Migration of the legacy sites onto Mégalis II, wave by wave, journaled."""

from megalis_net.migrate.journal import JOURNAL_FILE, Journal, JournalError, SiteState, Step
from megalis_net.migrate.routers import Files, Routers
from megalis_net.migrate.run import (
    DEFAULT_VERIFY_TIMEOUT,
    MigrateError,
    RunOptions,
    SiteOutcome,
    Wave,
    WaveResult,
)

__all__ = [
    "DEFAULT_VERIFY_TIMEOUT",
    "JOURNAL_FILE",
    "Files",
    "Journal",
    "JournalError",
    "MigrateError",
    "Routers",
    "RunOptions",
    "SiteOutcome",
    "SiteState",
    "Step",
    "Wave",
    "WaveResult",
]

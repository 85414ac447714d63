"""Stop signals: SIGINT, SIGTERM and SIGHUP stop any long command cleanly.

While :func:`stop_signals_raise` is active they raise :class:`Stopped` (a
``KeyboardInterrupt``) in the main thread, so ``finally`` blocks run: workers are stopped,
what has arrived is stored, the session is marked interrupted. While cleaning up after one,
:func:`stop_signals_held` ignores them (a second Ctrl-C, or the same signal sent to the
whole process group, must not cut the clean-up short).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped(signum)


@contextmanager
def _handled(handler: object) -> Iterator[None]:
    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def stop_signals_raise() -> AbstractContextManager[None]:
    """Stop signals raise :class:`Stopped` in the main thread meanwhile."""
    return _handled(_raise_stopped)


def stop_signals_held() -> AbstractContextManager[None]:
    """Stop signals are ignored meanwhile (during a clean-up)."""
    return _handled(signal.SIG_IGN)

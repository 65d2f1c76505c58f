"""Fixtures of the reliability suite: one sandbox per module, speaking with the suite's token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestration.config import SANDBOX_TOKEN_VARIABLE
from sandbox import Sandbox
from tests.reliability.helpers import TODAY, TOKEN


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SANDBOX_TOKEN_VARIABLE, TOKEN)
        with Sandbox(today=TODAY, token=TOKEN) as sb:
            yield sb


@pytest.fixture(autouse=True)
def _token_in_environment(monkeypatch):
    """Configurations reference ${SOCIALMART_SANDBOX_TOKEN}, like a real one."""
    monkeypatch.setenv(SANDBOX_TOKEN_VARIABLE, TOKEN)

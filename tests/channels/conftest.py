from __future__ import annotations

import pytest

from tests.channels import recording_server


@pytest.fixture
def provider():  # type: ignore[no-untyped-def]
    """A local recording HTTP server standing in for the provider's REST API."""
    state, server = recording_server.start()
    yield state
    server.shutdown()
    server.server_close()

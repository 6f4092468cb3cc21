from __future__ import annotations

import pytest

from tests.channels.social import provider_api


@pytest.fixture
def social_api():  # type: ignore[no-untyped-def]
    """A local recording server standing in for WeChat's and the Graph API."""
    state, server = provider_api.start()
    yield state
    server.shutdown()
    server.server_close()

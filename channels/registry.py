"""Adapters by kind ("sms.twilio"); the service looks an account's adapter up here.

A new provider is one class implementing channels.base.ChannelAdapter and one line below.
"""

from __future__ import annotations

from channels.base import ChannelAdapter
from channels.sms.twilio_sms import TwilioSms

_ADAPTERS: dict[str, ChannelAdapter] = {}


def register(adapter: ChannelAdapter) -> None:
    if adapter.kind in _ADAPTERS:
        raise ValueError(f"a channel adapter of kind {adapter.kind!r} is already registered")
    _ADAPTERS[adapter.kind] = adapter


def adapter_for(kind: str) -> ChannelAdapter:
    try:
        return _ADAPTERS[kind]
    except KeyError:
        raise KeyError(f"no channel adapter of kind {kind!r}; known: {sorted(_ADAPTERS)}") from None


def kinds() -> list[str]:
    return sorted(_ADAPTERS)


register(TwilioSms())

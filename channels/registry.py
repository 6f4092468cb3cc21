"""Adapters by kind ("sms.twilio"); the service looks an account's adapter up here.

A new provider is one class implementing channels.base.ChannelAdapter and one line below.
"""

from __future__ import annotations

from channels.base import ChannelAdapter
from channels.email.mailbox import EmailMailbox  # issue 3: the email family
from channels.sms.twilio_sms import TwilioSms
from channels.social.meta import Messenger, WhatsAppCloud  # issue 3: the social family
from channels.social.wechat import WeChatOfficialAccount  # issue 3: the social family
from channels.voice.cti import CtiVoice  # issue 3: the hotline family
from channels.voice.twilio_voice import TwilioVoice  # issue 3: the hotline family

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
register(CtiVoice())  # issue 3: the hotline family
register(TwilioVoice())  # issue 3: the hotline family
register(WeChatOfficialAccount())  # issue 3: the social family
register(WhatsAppCloud())  # issue 3: the social family
register(Messenger())  # issue 3: the social family
register(EmailMailbox())  # issue 3: the email family

"""The hotline's normalised shape: one CallEvent per thing that happened to a call, whoever reported it.

Calls do not fit InboundMessage (a call is a sequence of state changes, not a text), so voice
adapters add one method to the ChannelAdapter interface: ``parse_call_events``. After it no code
cares whether a PBX's CTI link or Twilio Voice reported the event.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from channels.base import ChannelAdapter, HookKind


class CallEventType(enum.StrEnum):
    RINGING = "ringing"  # the call arrived (no agent) or alerts an agent's phone (agent_id set)
    IVR = "ivr"  # the caller chose in the IVR menu
    QUEUED = "queued"
    ANSWERED = "answered"
    ENDED = "ended"
    RECORDING = "recording"
    VOICEMAIL = "voicemail"
    TRANSCRIPT = "transcript"


@dataclass(frozen=True)
class CallEvent:
    call_id: str
    type: CallEventType
    occurred_at: datetime
    sequence: int | None = None
    caller: str | None = None  # the customer's number as the provider gave it
    callee: str | None = None  # our number the customer dialled
    direction: str = "inbound"
    agent_id: int | None = None  # our agent's id (the PBX is configured with agent ids)
    ivr_choice: str | None = None  # one step of the IVR path, e.g. "language:zh" or "department:billing"
    queue: str | None = None
    recording_url: str | None = None
    voicemail_url: str | None = None
    transcript: str | None = None
    cause: str | None = None  # why it ended (normal, no-answer, busy, abandoned, ...)


@runtime_checkable
class VoiceAdapter(ChannelAdapter, Protocol):
    """A ChannelAdapter of the hotline family: its stored records turn into call events."""

    def parse_call_events(
        self, hook: HookKind, body: bytes, *, url: str, settings: Mapping[str, str], received_at: datetime
    ) -> list[CallEvent]:
        """The call events in a stored raw record (its body and the URL called); PayloadError if not understood."""

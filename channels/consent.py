"""Opt-out and opt-in keywords of messaging channels (SMS, WhatsApp): STOP, 退订, START.

A message whose whole text is a keyword (any case, full-width or half-width, trailing
punctuation ignored) changes consent; a keyword inside a sentence does not.
"""

from __future__ import annotations

import unicodedata

STOP = "stop"
START = "start"

# The carriers' and Twilio's standard words, and the Chinese carriers' 退订 / TD.
OPT_OUT_KEYWORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "退订", "td", "取消订阅"})
# Twilio re-subscribes on these; we follow the provider so our view matches what it will deliver.
OPT_IN_KEYWORDS = frozenset({"start", "unstop", "yes"})

# After NFKC, so the full-width exclamation mark is already "!".
_TRAILING = ".!。 \t\r\n"


def normalise_keyword(text: str) -> str:
    # NFKC folds full-width letters to ASCII; casefold handles any case.
    return unicodedata.normalize("NFKC", text).strip().strip(_TRAILING).replace(" ", "").casefold()


def consent_keyword(text: str) -> str | None:
    """The keyword ("stop", "start") that the whole text is, or None."""
    word = normalise_keyword(text)
    if len(word) > 16:
        return None
    if word in OPT_OUT_KEYWORDS:
        return STOP
    if word in OPT_IN_KEYWORDS:
        return START
    return None

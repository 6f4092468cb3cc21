"""Email parsing throughput on one core: mails/s over the mixed test corpus (issue 3; target at least 200).

The corpus (tests/channels/email/corpus) mixes GB2312/GBK, GB18030, Big5, ISO-2022-JP, mislabelled
and undeclared charsets, multipart with inline images and attachments, forwards, bounces,
auto-replies and broken headers. Each mail is parsed in full (structure, charsets, sanitised HTML,
sniffed attachments, loop detection) and turned into an InboundMessage.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

from channels.email.parse import parse_mail, provider_id, to_inbound

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "channels" / "email" / "corpus"
TARGET = 200.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    mails = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
    now = datetime.now(UTC)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        for raw in mails:
            to_inbound(parse_mail(raw), account="bench", raw_ref="inbound:0", received_at=now, fallback_id=provider_id(raw))
        count += len(mails)
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    print(f"email parse: {count} mails ({len(mails)} distinct, {sum(map(len, mails)) // len(mails)} bytes average) in {elapsed:.2f} s")
    print(f"email parse: {rate:.0f} mails/s on one core (target >= {TARGET:.0f}): {'OK' if rate >= TARGET else 'BELOW TARGET'}")


if __name__ == "__main__":
    main()

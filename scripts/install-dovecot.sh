#!/bin/sh
# Debian's Dovecot IMAP server for the IMAP poller tests (tests/inbound/test_imap_poller.py). The
# tests start their own private instance on a free port with a config in a tmp dir; the system
# service is not needed, so it is stopped and disabled when the package starts it.
# Idempotent: does nothing when the dovecot binary is already there. Needs root or sudo.
set -eu

DOVECOT="${SERVICE_HUB_DOVECOT:-}"
if [ -n "$DOVECOT" ] && [ -x "$DOVECOT" ]; then
    echo "dovecot present: $DOVECOT"
    exit 0
fi
if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then
    echo "dovecot present: $(command -v dovecot || echo /usr/sbin/dovecot)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get here: install Dovecot (dovecot-imapd) yourself and set SERVICE_HUB_DOVECOT to its path" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
# policy-rc.d-less containers may not start the service at all; where they do, it is not ours to run.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends dovecot-imapd
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now dovecot >/dev/null 2>&1 || true
fi
echo "dovecot installed: $(command -v dovecot || echo /usr/sbin/dovecot)"

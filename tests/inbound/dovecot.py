"""A private Dovecot IMAP server for the poller tests: Debian's binary, our own config in a tmp dir, a free port.

No system service and no root-owned paths besides the binary (scripts/install-dovecot.sh
installs it). As a normal user everything runs as that user. As root, Dovecot refuses to run its
login processes as root, so they run as Debian's dovenull and the mail as the dovecot user, and
the run directory is a world-traversable tmp dir of its own. Each test gets a fresh mail user
(passwd-file, plaintext password), so mailboxes never leak between tests. Mail is delivered with
imaplib APPEND, a real IMAP client, as a sending server's local delivery would put it there.
"""

from __future__ import annotations

import grp
import imaplib
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI

PASSWORD = "imap-secret-0123"
# Written before the server starts: Dovecot re-reads a changed passwd-file at most once a second,
# too slowly for users added test by test.
USERS = 500
_users = itertools.count(1)


def missing(reason: str) -> None:
    """Dovecot cannot run here: a failure under CI=true (the setup installs it), else a skip saying why."""
    if IN_CI:
        pytest.fail(f"CI=true and the IMAP tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def binary() -> str | None:
    configured = os.environ.get("SERVICE_HUB_DOVECOT")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _version(path: str) -> tuple[int, int]:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False).stdout
    found = re.match(r"(\d+)\.(\d+)", out.strip())
    return (int(found[1]), int(found[2])) if found else (2, 3)


@dataclass
class Dovecot:
    port: int
    root: Path
    users_file: Path
    mail_uid: int
    mail_gid: int

    def new_user(self) -> str:
        """A fresh mail account on this server, never used by another test."""
        number = next(_users)
        if number > USERS:
            raise RuntimeError(f"the test Dovecot has {USERS} mail users; raise USERS in tests/inbound/dovecot.py")
        return f"desk{number}"

    def client(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(user, PASSWORD)
        return client

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        with self.client(user) as client:
            typ, data = client.append(f'"{folder}"', None, None, raw)
            assert typ == "OK", data

    def flags(self, user: str, folder: str = "INBOX") -> dict[int, set[str]]:
        """UID -> flags of every mail in the folder, read without touching them."""
        with self.client(user) as client:
            typ, _ = client.select(f'"{folder}"', readonly=True)
            assert typ == "OK"
            typ, data = client.uid("FETCH", "1:*", "(UID FLAGS)")
            found: dict[int, set[str]] = {}
            for line in data:
                if isinstance(line, bytes) and (m := re.search(rb"UID (\d+) FLAGS \(([^)]*)\)|FLAGS \(([^)]*)\) UID (\d+)", line)):
                    uid, flags = (m[1], m[2]) if m[1] else (m[4], m[3])
                    found[int(uid)] = set(flags.decode().split()) - {"\\Recent"}
            return found

    def uidvalidity(self, user: str, folder: str) -> int:
        with self.client(user) as client:
            client.select(f'"{folder}"', readonly=True)
            return int(client.response("UIDVALIDITY")[1][-1])

    def recreate(self, user: str, folder: str) -> None:
        """Delete and create the folder again: a new UIDVALIDITY, UIDs from 1 again."""
        with self.client(user) as client:
            assert client.delete(f'"{folder}"')[0] == "OK"
            assert client.create(f'"{folder}"')[0] == "OK"


def _config(
    version: tuple[int, int], root: Path, run: Path, port: int, users: Path, login_user: str, internal_user: str, first_uid: int
) -> str:
    group = grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name
    not_root = os.geteuid() != 0
    if version >= (2, 4):  # Debian 13 and later: the 2.4 syntax (not exercised on Debian 12's 2.3)
        return f"""dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
protocols = imap
listen = 127.0.0.1
base_dir = {run}
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = service-hub-test-{port}
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_internal_group = {group}
default_login_user = {login_user}
first_valid_uid = {first_uid}
mail_driver = maildir
mail_home = {root}/mail/%{{user}}
mail_path = {root}/mail/%{{user}}/Maildir
passdb passwd-file {{
  passwd_file_path = {users}
}}
userdb passwd-file {{
  passwd_file_path = {users}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
{f"service auth-worker {{{chr(10)}  user = {internal_user}{chr(10)}}}" if not_root else ""}
"""
    return f"""protocols = imap
listen = 127.0.0.1
base_dir = {run}
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = service-hub-test-{port}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_internal_group = {group}
default_login_user = {login_user}
first_valid_uid = {first_uid}
mail_location = maildir:{root}/mail/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
{f"service auth-worker {{{chr(10)}  user = {internal_user}{chr(10)}}}" if not_root else ""}
"""


def _wait_for_greeting(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited with {process.returncode}: {log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                if conn.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"dovecot did not answer on port {port}: {log.read_text() if log.exists() else ''}")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    path = binary()
    if path is None:
        missing("no dovecot binary (scripts/install-dovecot.sh installs Debian's dovecot-imapd)")
        return
    root = Path(tempfile.mkdtemp(prefix="service-hub-dovecot-"))
    os.chmod(root, 0o755)  # as root the login processes (dovenull) must reach the sockets under it
    if os.geteuid() == 0:
        try:
            login_user, internal_user = pwd.getpwnam("dovenull").pw_name, pwd.getpwnam("dovecot").pw_name
        except KeyError:
            missing("running as root needs Debian's dovenull and dovecot users (installed with dovecot-core)")
            return
        mail = pwd.getpwnam(internal_user)  # Dovecot refuses mail access as UID 0
        mail_uid, mail_gid = mail.pw_uid, mail.pw_gid
    else:
        login_user = internal_user = pwd.getpwuid(os.getuid()).pw_name
        mail_uid, mail_gid = os.getuid(), os.getgid()
    run = root / "run"
    for sub in ("state", "mail"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        os.chown(root / "mail", mail_uid, mail_gid)
    users = root / "users"
    users.write_text(
        "".join(f"desk{n}:{{PLAIN}}{PASSWORD}:{mail_uid}:{mail_gid}::{root / 'mail' / f'desk{n}'}\n" for n in range(1, USERS + 1))
    )
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(_config(_version(path), root, run, port, users, login_user, internal_user, mail_uid))
    process = subprocess.Popen([path, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_greeting(port, process, root / "dovecot.log")
    except RuntimeError as exc:
        process.kill()
        process.wait()
        shutil.rmtree(root, ignore_errors=True)
        missing(str(exc)[:2000])
        return
    try:
        yield Dovecot(port=port, root=root, users_file=users, mail_uid=mail_uid, mail_gid=mail_gid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)

"""A throwaway Dovecot IMAP server on a loopback port (Debian `dovecot-imapd`).

The test writes its own ``dovecot.conf`` into a temporary folder and runs
``dovecot -F -c CONF``: passwd-file logins with plain passwords, Maildir storage under
the same folder, no chroot for the login services (``chroot =``), no auth failure
delay. (Dovecot's anvil still slows down the next login from an address after a failed
one, so tests of wrong passwords use a server of their own.)
As root, Dovecot drops privileges as the Debian package expects: login processes run
as ``dovenull``, internal ones as ``dovecot``, and mail is owned by ``nobody``. As an
ordinary user every one of those is the current user (Dovecot's rootless mode).

Each test gets its own mail user (``new_user()``), so tests sharing one server never see
each other's mail. ``stop()``/``start()`` restart the same server on the same port with
the same mail, as a real outage would.
"""

from __future__ import annotations

import grp
import mailbox
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import imapclient

from tests.servers import free_port, require, wait_for_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
PASSWORD = "s3cret pass"  # every test user's password
USERS = 1000


def dovecot_available() -> bool:
    return Path(DOVECOT).exists() and Path(DOVEADM).exists()


class DovecotServer:
    def __init__(self, root: Path, port: int, *, tls: bool = False) -> None:
        self.root, self.port, self.tls = root, port, tls
        self.conf = root / "dovecot.conf"
        self.passwd = root / "passwd"
        self.mail_root = root / "mail"
        self.log = root / "dovecot.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._next_user = 0
        self.cert: Path | None = None  # the self-signed certificate (= the CA to trust)
        # with TLS, ``port`` is implicit TLS (imaps) and ``starttls_port`` plain + STARTTLS
        self.starttls_port = free_port() if tls else 0
        if os.geteuid() == 0:
            self.login_user, self.internal_user, self.mail_user = "dovenull", "dovecot", "nobody"
            self.internal_group = "dovecot"
        else:
            me = pwd.getpwuid(os.geteuid())
            self.login_user = self.internal_user = self.mail_user = me.pw_name
            self.internal_group = grp.getgrgid(me.pw_gid).gr_name
        entry = pwd.getpwnam(self.mail_user)
        self.mail_uid, self.mail_gid = entry.pw_uid, entry.pw_gid

    # -- set-up -------------------------------------------------------------------

    def write_config(self) -> None:
        self.root.chmod(0o755)  # the mail user must reach the mail folder
        (self.root / "run").mkdir(exist_ok=True)
        (self.root / "state").mkdir(exist_ok=True)
        self.mail_root.mkdir(exist_ok=True)
        os.chown(self.mail_root, self.mail_uid, self.mail_gid)
        self.passwd.write_text(
            "".join(f"user{n:04d}:{{PLAIN}}{PASSWORD}\n" for n in range(1, USERS + 1)),
            encoding="utf-8",
        )
        self.passwd.chmod(0o644)
        ssl_lines = "ssl = no\n"
        if self.tls:
            self.cert, key = make_self_signed_cert(self.root)
            ssl_lines = f"ssl = required\nssl_cert = <{self.cert}\nssl_key = <{key}\n"
        group = grp.getgrgid(self.mail_gid).gr_name
        self.conf.write_text(
            f"""\
instance_name = foibot-test-{uuid.uuid4().hex[:8]}
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
{ssl_lines}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
default_login_user = {self.login_user}
default_internal_user = {self.internal_user}
default_internal_group = {self.internal_group}
mail_uid = {self.mail_user}
mail_gid = {group}
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:{self.mail_root}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd}
}}
userdb {{
  driver = static
  args = home={self.mail_root}/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  service_count = 0
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.starttls_port if self.tls else self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.port if self.tls else 0}
  }}
}}
service anvil {{
  chroot =
}}
""",
            encoding="utf-8",
        )

    def start(self) -> None:
        if not self.conf.exists():
            self.write_config()
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for_port(self.port, timeout=20)
            self._wait_for_greeting()
        except (TimeoutError, OSError):
            self.stop()
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"Dovecot did not start on port {self.port}:\n{log}") from None

    def _wait_for_greeting(self) -> None:
        """Until a login process answers (the master binds the port before that)."""
        port = self.starttls_port if self.tls else self.port
        with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
            sock.settimeout(20)
            if not sock.recv(100).startswith(b"* OK"):
                raise OSError("Dovecot did not greet")

    def stop(self) -> None:
        """Stop the server the way an outage would: every Dovecot process goes, so open
        client connections are dropped. Dovecot runs in its own process group (started
        with a new session), and only that group is signalled."""
        process, self.process = self.process, None
        if process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            # (a master signalled while it is still starting up can take 6 s to go)
            process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # children that outlived the master

    def restart(self) -> None:
        self.stop()
        self.start()

    # -- users and mail -----------------------------------------------------------

    def new_user(self) -> str:
        """A fresh mail user (with an empty INBOX). The users are all written to the
        passwd file before the server starts: Dovecot notices a changed passwd file by
        its mtime, which misses two changes within one second."""
        self._next_user += 1
        if self._next_user > USERS:
            raise RuntimeError(f"all {USERS} test users of this Dovecot are taken")
        return f"user{self._next_user:04d}"

    def maildir(self, user: str) -> Path:
        return self.mail_root / user

    def client(self, user: str, password: str = PASSWORD) -> imapclient.IMAPClient:
        """An IMAP session as ``user``, for tests to APPEND and inspect mail."""
        if self.tls:
            assert self.cert is not None
            context = ssl.create_default_context(cafile=str(self.cert))
            c = imapclient.IMAPClient(
                "localhost", self.port, ssl=True, ssl_context=context, timeout=30
            )
        else:
            c = imapclient.IMAPClient("127.0.0.1", self.port, ssl=False, timeout=30)
        c.login(user, password)
        return c

    def doveadm(self, *args: str) -> str:
        result = subprocess.run(
            [DOVEADM, "-c", str(self.conf), *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout

    def status(self, user: str, folder: str = "INBOX") -> dict[str, int]:
        out = self.doveadm(
            "mailbox", "status", "-u", user, "messages uidnext uidvalidity unseen", folder
        )
        fields = out.split()[1:]
        return {k: int(v) for k, v in (f.split("=", 1) for f in fields)}

    def set_uidvalidity(self, user: str, folder: str, value: int) -> None:
        self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(value), folder)

    def deliver_files(self, user: str, messages: list[bytes], folder: str = "cur") -> None:
        """Write messages straight into the user's Maildir (fast bulk fill): Dovecot
        indexes them on the next SELECT."""
        root = self.maildir(user)
        mailbox.Maildir(root, factory=None, create=True)  # new/, cur/ and tmp/
        target = root / folder
        for i, raw in enumerate(messages):
            name = f"{1_600_000_000 + i}.M{i}P1.foibot-test" + (":2," if folder == "cur" else "")
            (target / name).write_bytes(raw)
        for path in [root, *root.rglob("*")]:
            os.chown(path, self.mail_uid, self.mail_gid)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def make_self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost / 127.0.0.1 made with the openssl CLI."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    key.chmod(0o600)
    return cert, key


@contextmanager
def dovecot_server(*, tls: bool = False) -> Iterator[DovecotServer]:
    require(dovecot_available(), "Dovecot is not installed (Debian package `dovecot-imapd`)")
    if tls:
        require(shutil.which("openssl") is not None, "the openssl command is not installed")
    root = Path(tempfile.mkdtemp(prefix="foibot-dovecot-"))
    server = DovecotServer(root, free_port(), tls=tls)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()

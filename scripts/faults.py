#!/usr/bin/env python3
"""Fault drills: real `foghorn` processes on a scratch PostgreSQL cluster, broken on
purpose while under load, then checked against the database. Run by scripts/faults.sh,
which builds Foghorn, starts the cluster and sets the environment this reads:

  FOGHORN_BIN       the server binary
  FAULTS_SITE_ROOT  the built site (LEPTOS_SITE_ROOT)
  FAULTS_WORK       a directory for logs
  FAULTS_PG_PORT    the scratch cluster's port on 127.0.0.1
  FAULTS_PG_CTL     a command prefix that runs pg_ctl on the scratch cluster
  FAULTS_DB_DOWN_SECONDS  optional: how long the database drill keeps it down (8;
                          0 is a plain `pg_ctl restart -m immediate`)

Standard library only. Everything listens on 127.0.0.1; every load is bounded in
count and time. Prints one table row per drill and exits non-zero if any failed.
"""

import collections
import http.client
import json
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

BIN = os.environ["FOGHORN_BIN"]
SITE_ROOT = os.environ["FAULTS_SITE_ROOT"]
WORK = os.environ["FAULTS_WORK"]
PG_PORT = int(os.environ["FAULTS_PG_PORT"])
PG_CTL = shlex.split(os.environ["FAULTS_PG_CTL"])

PASSWORD = "fault drill passphrase"
WRITERS = 8
KILL_ROUNDS = 5
DB_VIEWERS = 100
DB_WRITERS = 10
DB_DOWN_SECONDS = int(os.environ.get("FAULTS_DB_DOWN_SECONDS", "8"))
# A write that takes longer than this during an outage counts as a hang.
HANG_SECONDS = 10.0
MAIL_REFUSED_SECONDS = 60
MAIL_RECIPIENTS = 20
MAIL_INCIDENTS = 3
TWO_VIEWERS = 30
TWO_WRITERS = 8


def log(msg):
    print(f"  {time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def database_url(name):
    return f"postgres://postgres@127.0.0.1:{PG_PORT}/{name}"


def psql(db, sql):
    """Rows of a query, as lists of strings."""
    out = subprocess.run(
        ["psql", database_url(db), "-X", "-q", "-tA", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True, capture_output=True, text=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def fresh_database(name):
    psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql("postgres", f"CREATE DATABASE {name}")


def pg_ctl(*args):
    subprocess.run(PG_CTL + list(args), check=True, stdout=subprocess.DEVNULL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- HTTP -------------------------------------------------------------------------


class Response:
    def __init__(self, status, headers, body, seconds):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    def ok(self):
        return 200 <= self.status < 300

    def json(self):
        return json.loads(self.body)


def call(port, endpoint, form=None, body=None, cookie=None, timeout=30.0):
    """A server function called as the browser does (same-origin, JSON answer).
    Network failures raise OSError / http.client.HTTPException."""
    headers = {
        "Accept": "application/json",
        "Origin": f"http://127.0.0.1:{port}",
        "Sec-Fetch-Site": "same-origin",
        "Connection": "close",
    }
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    else:
        data = urllib.parse.urlencode(form or {})
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", f"/api/{endpoint}", body=data, headers=headers)
        r = conn.getresponse()
        return Response(r.status, r.headers, r.read().decode(errors="replace"), time.monotonic() - started)
    finally:
        conn.close()


def healthy(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
        conn.close()
        return status == 200
    except (OSError, http.client.HTTPException):
        return False


def sign_in(port, email):
    r = call(port, "sign_in", {"email": email, "password": PASSWORD})
    cookie = r.headers.get("Set-Cookie", "")
    if not r.ok() or "foghorn_session=" not in cookie:
        raise RuntimeError(f"sign-in failed: {r.status} {r.body}")
    return cookie.split(";")[0]


def declare(port, cookie, title, severity="SEV2"):
    r = call(port, "declare_incident", body={"declaration": {"title": title, "severity": severity}}, cookie=cookie)
    if not r.ok():
        raise RuntimeError(f"declare failed: {r.status} {r.body}")
    return int(r.json())


# ---- processes ---------------------------------------------------------------------


RUNNING = []  # every server started, so a drill that breaks off leaves none behind


class Foghorn:
    """One `foghorn serve` on a fixed port (kept across restarts, as a real deployment's)."""

    def __init__(self, name, db, env=None):
        self.name, self.db, self.env = name, db, env or {}
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(WORK, f"{name}.log")
        RUNNING.append(self)

    def start(self, wait=60):
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": database_url(self.db),
            "LEPTOS_SITE_ADDR": f"127.0.0.1:{self.port}",
            "LEPTOS_SITE_ROOT": SITE_ROOT,
            "LEPTOS_OUTPUT_NAME": "foghorn",
            "FOGHORN_LOG": "warn,foghorn::delivery=info",
        })
        env.update(self.env)
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen([BIN, "serve"], env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            if healthy(self.port):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become healthy; see {self.log_path}")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()


def add_user(db, email, name, role):
    env = dict(os.environ, DATABASE_URL=database_url(db), FOGHORN_LOG="warn")
    subprocess.run([BIN, "user", "add", "--email", email, "--name", name, "--role", role],
                   input=PASSWORD, text=True, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare(db):
    """A fresh database with one responder (and one admin); returns their emails."""
    fresh_database(db)
    add_user(db, "rita@example.com", "Rita Responder", "responder")
    add_user(db, "ada@example.com", "Ada Admin", "admin")
    return "rita@example.com", "ada@example.com"


# ---- load -------------------------------------------------------------------------


class Writers:
    """`count` threads posting numbered notes as fast as they can until stopped.
    Each post is recorded with its status (None: no answer) and how long it took."""

    def __init__(self, count, port, cookie, number, tag, timeout=30.0):
        self.port, self.cookie, self.number, self.tag, self.timeout = port, cookie, number, tag, timeout
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.results = []  # (body, status or None, started monotonic, seconds)
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(count)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def run(self, writer):
        n = 0
        while not self.stop_event.is_set():
            n += 1
            body = f"{self.tag}-w{writer}-n{n}"
            started = time.monotonic()
            try:
                status = call(self.port, "post_note", {"number": self.number, "body": body},
                              cookie=self.cookie, timeout=self.timeout).status
            except (OSError, http.client.HTTPException):
                status = None
                time.sleep(0.05)  # the server is gone: do not spin
            with self.lock:
                self.results.append((body, status, started, time.monotonic() - started))

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=60)

    def acked(self):
        return {body for body, status, _, _ in self.results if status is not None and 200 <= status < 300}


class Viewer(threading.Thread):
    """A browser tab on an incident page: one live stream, reconnecting the way
    EventSource does (after a pause, with `Last-Event-ID`). Records every timeline
    sequence number it receives."""

    def __init__(self, port, cookie, number, after):
        super().__init__(daemon=True)
        self.port, self.cookie, self.number, self.after = port, cookie, number, after
        self.last = after
        self.received = []
        self.connects = 0
        self.refused = collections.Counter()  # status (or error name) of failed (re)connects
        self.opened = threading.Event()
        self.stop_event = threading.Event()
        self.conn = None

    def run(self):
        while not self.stop_event.is_set():
            try:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                headers = {"Accept": "text/event-stream", "Cookie": self.cookie}
                if self.connects:
                    headers["Last-Event-ID"] = str(self.last)
                self.conn.request("GET", f"/api/live?incident={self.number}&after={self.after}", headers=headers)
                r = self.conn.getresponse()
                if r.status != 200:
                    self.refused[r.status] += 1
                    r.read()
                else:
                    self.connects += 1
                    self.opened.set()
                    self.read_events(r)
            except (OSError, http.client.HTTPException) as err:
                if not self.stop_event.is_set():
                    self.refused[type(err).__name__] += 1
            finally:
                self.conn.close()
            self.stop_event.wait(0.5)

    def read_events(self, r):
        event = {}
        while not self.stop_event.is_set():
            line = r.readline()
            if not line:
                return
            line = line.decode().rstrip("\r\n")
            if line == "":
                if event.get("event") == "timeline" and "id" in event:
                    seq = int(event["id"])
                    self.received.append(seq)
                    self.last = max(self.last, seq)
                event = {}
            elif not line.startswith(":"):
                field, _, value = line.partition(":")
                event[field] = value[1:] if value.startswith(" ") else value

    def stop(self):
        self.stop_event.set()
        try:
            self.conn.sock and self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self.join(timeout=10)

    def check(self, last_seq):
        """(missing, duplicated) sequence numbers between `after` and `last_seq`."""
        counts = collections.Counter(self.received)
        missing = sum(1 for seq in range(self.after + 1, last_seq + 1) if seq not in counts)
        duplicated = sum(c - 1 for c in counts.values())
        return missing, duplicated


def open_viewers(count, port, cookie, number, after):
    viewers = [Viewer(port, cookie, number, after) for _ in range(count)]
    for v in viewers:
        v.start()
    for v in viewers:
        if not v.opened.wait(30):
            raise RuntimeError("a live stream did not open")
    return viewers


def wait_until(predicate, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# ---- checks against the database --------------------------------------------------


def note_counts(db, tag):
    """How many times each note of this drill is in the timeline."""
    rows = psql(db, f"SELECT body, count(*) FROM timeline_entries WHERE kind = 'note' AND body LIKE '{tag}-%' GROUP BY body")
    return {body: int(n) for body, n in rows}


def torn_incidents(db):
    """Incidents whose timeline does not hold exactly entries 1..last_seq: a change
    committed without its entry, or an entry without its change."""
    rows = psql(db, """
        SELECT count(*) FROM incidents i
        WHERE (SELECT count(*) FROM timeline_entries e WHERE e.incident_id = i.id) <> i.last_seq
           OR (SELECT coalesce(max(seq), 0) FROM timeline_entries e WHERE e.incident_id = i.id) <> i.last_seq""")
    return int(rows[0][0])


def last_seq(db, number):
    return int(psql(db, f"SELECT last_seq FROM incidents WHERE number = {number}")[0][0])


def notes_check(db, tag, acked):
    counts = note_counts(db, tag)
    missing = sum(1 for body in acked if counts.get(body, 0) == 0)
    twice = sum(1 for n in counts.values() if n > 1)
    return counts, missing, twice


# ---- drills -----------------------------------------------------------------------

ROWS = []


def row(drill, done, counted, passed):
    ROWS.append((drill, done, counted, "pass" if passed else "FAIL"))
    log(f"{drill}: {counted} -> {'pass' if passed else 'FAIL'}")


def drill_kill9():
    db = "faults_kill"
    rita, _ = prepare(db)
    server = Foghorn("kill9", db).start()
    cookie = sign_in(server.port, rita)
    for round_ in range(1, KILL_ROUNDS + 1):
        number = declare(server.port, cookie, f"Kill drill {round_}")
        tag = f"k{round_}"
        writers = Writers(WRITERS, server.port, cookie, number, tag).start()
        after = random.uniform(1.0, 4.0)
        time.sleep(after)
        server.kill9()
        writers.stop()
        server.start()
        acked = writers.acked()
        counts, missing, twice = notes_check(db, tag, acked)
        torn = torn_incidents(db)
        row(f"kill -9 mid-burst #{round_}",
            f"{WRITERS} writers; kill -9 after {after:.1f} s; restart",
            f"{len(writers.results)} posts, {len(acked)} acked, {len(counts)} present; "
            f"{missing} acked missing, {twice} twice, {torn} torn incidents",
            len(acked) > 0 and missing == 0 and twice == 0 and torn == 0)
    server.stop()


def drill_database_restart():
    db = "faults_db"
    rita, _ = prepare(db)
    server = Foghorn("db-restart", db).start()
    pid = server.proc.pid
    cookie = sign_in(server.port, rita)
    number = declare(server.port, cookie, "Database restart drill")
    viewers = open_viewers(DB_VIEWERS, server.port, cookie, number, last_seq(db, number))
    writers = Writers(DB_WRITERS, server.port, cookie, number, "d").start()
    time.sleep(2)
    down_at = time.monotonic()
    if DB_DOWN_SECONDS:
        # A restart held open long enough that writes are sure to meet the outage.
        pg_ctl("stop", "-m", "immediate")
        time.sleep(DB_DOWN_SECONDS)
        pg_ctl("start", "-w")
    else:
        pg_ctl("restart", "-m", "immediate", "-w")
    up_at = time.monotonic()
    # Recovered by itself: a write succeeds again, within a bound.
    recovered = wait_until(lambda: any(s and 200 <= s < 300 and t > up_at for _, s, t, _ in list(writers.results)), 30)
    recovered_after = min((t + d - up_at for _, s, t, d in list(writers.results) if s and 200 <= s < 300 and t > up_at), default=None)
    time.sleep(2)
    writers.stop()
    final = last_seq(db, number)
    # Viewers catch up by themselves (reconnecting as needed); give them a bound.
    wait_until(lambda: all(v.check(final) == (0, 0) for v in viewers), 30)
    for v in viewers:
        v.stop()

    outage = [(s, d) for _, s, t, d in writers.results if down_at <= t < up_at]
    failed = [(s, d) for s, d in outage if not (s and 200 <= s < 300)]
    statuses = collections.Counter(s if s is not None else "no answer" for s, _ in failed)
    slowest = max((d for _, d in failed), default=0.0)
    acked = writers.acked()
    counts, missing, twice = notes_check(db, "d", acked)
    viewer_missing = sum(v.check(final)[0] for v in viewers)
    viewer_twice = sum(v.check(final)[1] for v in viewers)
    reconnects = sum(v.connects - 1 for v in viewers)
    same_process = server.proc.poll() is None and server.proc.pid == pid
    row("database restart under load",
        f"{DB_VIEWERS} viewers, {DB_WRITERS} writers; "
        + (f"pg_ctl stop -m immediate, {DB_DOWN_SECONDS} s down, start" if DB_DOWN_SECONDS else "pg_ctl restart -m immediate"),
        f"outage writes: {len(failed)} failed {dict(statuses)}, slowest answer {slowest:.1f} s; "
        f"first write ok {recovered_after if recovered_after is None else round(recovered_after, 1)} s after start, same process: {same_process}; "
        f"{len(acked)} acked, {missing} missing, {twice} twice; "
        f"viewers: {reconnects} reconnects, {viewer_missing} entries missed, {viewer_twice} twice (entries {final})",
        recovered and same_process and len(failed) > 0 and set(statuses) == {503} and slowest < HANG_SECONDS
        and missing == 0 and twice == 0 and viewer_missing == 0 and viewer_twice == 0)
    server.stop()


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that the drill switches between refusing (port
    closed, or `421` to every connection) and accepting; records each delivery as
    (Message-ID, recipient)."""

    def __init__(self):
        self.port = free_port()
        self.mode = "closed"
        self.listener = None
        self.lock = threading.Lock()
        self.delivered = []
        self.refusals = 0

    def set_mode(self, mode):
        self.mode = mode
        if mode != "closed" and self.listener is None:
            self.listener = socket.socket()
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind(("127.0.0.1", self.port))
            self.listener.listen(64)
            threading.Thread(target=self.accept_loop, daemon=True).start()

    def close(self):
        if self.listener:
            self.listener.close()

    def accept_loop(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        with conn, conn.makefile("rb") as rfile:
            def say(line):
                conn.sendall(line.encode() + b"\r\n")
            if self.mode != "accept":
                with self.lock:
                    self.refusals += 1
                say("421 mail.test Service not available, try again later")
                return
            say("220 mail.test ESMTP fault drill")
            recipients, message_id = [], None
            while True:
                line = rfile.readline()
                if not line:
                    return
                verb = line.decode(errors="replace").strip().split(" ")[0].split(":")[0].upper()
                if verb in ("EHLO", "HELO"):
                    say("250 mail.test")
                elif verb == "MAIL":
                    recipients, message_id = [], None
                    say("250 OK")
                elif verb == "RCPT":
                    recipients.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                    say("250 OK")
                elif verb == "DATA":
                    say("354 End data with <CR><LF>.<CR><LF>")
                    while True:
                        data = rfile.readline()
                        if not data or data in (b".\r\n", b".\n"):
                            break
                        if data.lower().startswith(b"message-id:") and message_id is None:
                            message_id = data.split(b":", 1)[1].strip().decode()
                    with self.lock:
                        self.delivered.extend((message_id, r) for r in recipients)
                    say("250 OK queued")
                elif verb == "QUIT":
                    say("221 Bye")
                    return
                elif verb == "RSET":
                    say("250 OK")
                else:
                    say("502 Command not implemented")


def drill_mail():
    db = "faults_mail"
    rita, ada = prepare(db)
    sink = SmtpSink()
    env = {
        "FOGHORN_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
        "FOGHORN_DELIVERY_BACKOFF_SECONDS": "1",
        "FOGHORN_DELIVERY_ATTEMPTS": "12",
    }
    server = Foghorn("mail", db, env).start()
    admin = sign_in(server.port, ada)
    recipients = ", ".join(f"oncall{i}@example.com" for i in range(MAIL_RECIPIENTS))
    policy = call(server.port, "create_notification_policy", body={"policy": {
        "name": "SEV1 declared", "severities": ["SEV1"], "events": ["declared"], "recipients": recipients}}, cookie=admin)
    if not policy.ok():
        raise RuntimeError(f"policy: {policy.status} {policy.body}")
    cookie = sign_in(server.port, rita)
    started = time.monotonic()
    for i in range(MAIL_INCIDENTS):
        declare(server.port, cookie, f"Mail drill SEV1 {i}", "SEV1")
    queued = int(psql(db, "SELECT count(*) FROM outbox WHERE channel = 'email'")[0][0])
    # Refused: port closed for the first half, then 421 to every connection.
    time.sleep(MAIL_REFUSED_SECONDS / 2)
    sink.set_mode("421")
    time.sleep(MAIL_REFUSED_SECONDS / 4)
    server.stop()
    server.start()
    restarted_pending = int(psql(db, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0])
    time.sleep(max(0.0, started + MAIL_REFUSED_SECONDS - time.monotonic()))
    sink.set_mode("accept")
    accepted_at = time.monotonic()
    done = wait_until(lambda: psql(db, "SELECT count(*) FROM outbox WHERE status <> 'sent'")[0][0] == "0", 120, 0.5)
    took = time.monotonic() - accepted_at
    time.sleep(3)  # anything sent twice would arrive now
    server.stop()
    sink.close()
    expected = {(f"<{mid}@localhost>", r) for mid, r in psql(db, "SELECT message_id, recipient FROM outbox WHERE channel = 'email'")}
    got = collections.Counter(sink.delivered)
    twice = sum(c - 1 for c in got.values())
    missing = len(expected - set(got))
    stray = len(set(got) - expected)
    row("mail server down during a SEV1",
        f"{MAIL_INCIDENTS} SEV1s x {MAIL_RECIPIENTS} recipients; SMTP closed {MAIL_REFUSED_SECONDS // 2} s, then 421 "
        f"({sink.refusals} refused); foghorn restarted mid-queue ({restarted_pending} pending)",
        f"{queued} queued, {len(got)} delivered ({took:.0f} s after SMTP accepted), {missing} missing, {twice} twice, {stray} unexpected",
        done and queued == MAIL_RECIPIENTS * MAIL_INCIDENTS and restarted_pending > 0 and missing == 0 and twice == 0 and stray == 0)


def drill_two_instances():
    db = "faults_two"
    rita, _ = prepare(db)
    a = Foghorn("instance-a", db).start()
    b = Foghorn("instance-b", db).start()
    cookie = sign_in(a.port, rita)
    number = declare(b.port, cookie, "Two instances drill")
    viewers = open_viewers(TWO_VIEWERS, a.port, cookie, number, last_seq(db, number))
    writers = Writers(TWO_WRITERS, b.port, cookie, number, "t").start()
    after = random.uniform(1.0, 3.0)
    time.sleep(after)
    b.kill9()
    writers.stop()
    final = last_seq(db, number)
    wait_until(lambda: all(v.check(final) == (0, 0) for v in viewers), 15)
    for v in viewers:
        v.stop()
    acked = writers.acked()
    counts, missing, twice = notes_check(db, "t", acked)
    viewer_missing = sum(v.check(final)[0] for v in viewers)
    viewer_twice = sum(v.check(final)[1] for v in viewers)
    reconnects = sum(v.connects - 1 for v in viewers)
    row("two instances, one killed",
        f"{TWO_VIEWERS} viewers on A, {TWO_WRITERS} writers on B; kill -9 B after {after:.1f} s",
        f"{len(acked)} acked, {len(counts)} committed, {missing} missing, {twice} twice; "
        f"viewers on A: {viewer_missing} entries missed, {viewer_twice} twice, {reconnects} reconnects (entries {final})",
        len(acked) > 0 and missing == 0 and twice == 0 and viewer_missing == 0 and viewer_twice == 0)
    a.stop()


def print_table():
    header = ("drill", "what was done", "what was counted", "result")
    print()
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join("---" for _ in header) + " |")
    for r in ROWS:
        print("| " + " | ".join(r) + " |")


def main():
    drills = {
        "kill9": drill_kill9,
        "db": drill_database_restart,
        "mail": drill_mail,
        "two": drill_two_instances,
    }
    chosen = sys.argv[1:] or list(drills)
    started = time.monotonic()
    for name in chosen:
        log(f"drill: {name}")
        try:
            drills[name]()
        except Exception as err:  # a drill that cannot even run is a failed drill
            row(name, "could not run", f"{type(err).__name__}: {err}", False)
        finally:
            for server in RUNNING:
                server.stop()
            RUNNING.clear()
    print_table()
    print(f"\n{len(ROWS)} drills in {time.monotonic() - started:.0f} s; "
          f"{sum(r[3] == 'pass' for r in ROWS)} passed, {sum(r[3] != 'pass' for r in ROWS)} failed")
    sys.exit(0 if all(r[3] == "pass" for r in ROWS) else 1)


if __name__ == "__main__":
    main()

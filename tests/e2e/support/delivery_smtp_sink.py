#!/usr/bin/python3
"""A real SMTP server on loopback for the delivery tests (Debian's python3-aiosmtpd).

Every message it accepts is parsed with Python's email package (policy.default, a strict
RFC 5322 / MIME parser) and reported as one JSON line on stdout:

  {"event": "ready", "port": 2525}
  {"event": "message", "mail_from": ..., "rcpt_tos": [...], "tls": true, "auth_user": "u",
   "headers": {"To": raw value, ...}, "to": {"display_name", "addr_spec"}, "subject", "date",
   "message_id", "content_type", "parts": [{"content_type", "charset", "cte", "content"}],
   "defects": [...], "bare_lf": false, "size": 1234}

Modes: plain (no TLS), starttls (STARTTLS required, then AUTH required), tls (implicit TLS,
AUTH required). --reject-rcpt makes RCPT TO answer 550 for addresses containing the text.
Stops on SIGTERM or SIGINT, or when stdin closes (so it never outlives the test).
"""
import argparse
import json
import signal
import ssl
import sys
import threading
from email import policy
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

write_lock = threading.Lock()


def emit(obj):
    with write_lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def describe(raw: bytes):
    msg = BytesParser(policy=policy.strict).parsebytes(raw)
    defects = [repr(d) for d in msg.defects]
    raw_headers = {}
    for k, v in msg.raw_items():
        raw_headers.setdefault(k, []).append(str(v))
    to = msg["To"]
    to_addr = None
    if to is not None and len(to.addresses) == 1:
        a = to.addresses[0]
        to_addr = {"display_name": a.display_name, "addr_spec": a.addr_spec}
    for h in ("From", "To", "Subject", "Date", "Message-ID"):
        if msg[h] is not None:
            defects += [f"{h}: {d!r}" for d in msg[h].defects]
    parts = []
    for part in msg.walk():
        defects += [repr(d) for d in part.defects]
        if part.is_multipart():
            continue
        parts.append({
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "cte": part.get("Content-Transfer-Encoding"),
            "content": part.get_content(),
        })
    return {
        "headers": raw_headers,
        "to": to_addr,
        "from": str(msg["From"]) if msg["From"] is not None else None,
        "subject": str(msg["Subject"]) if msg["Subject"] is not None else None,
        "date": str(msg["Date"]) if msg["Date"] is not None else None,
        "date_parsed": msg["Date"].datetime.isoformat() if msg["Date"] is not None and msg["Date"].datetime else None,
        "message_id": str(msg["Message-ID"]) if msg["Message-ID"] is not None else None,
        "mime_version": str(msg["MIME-Version"]) if msg["MIME-Version"] is not None else None,
        "content_type": msg.get_content_type(),
        "is_multipart": msg.is_multipart(),
        "parts": parts,
        "defects": defects,
    }


class Handler:
    def __init__(self, reject_rcpt):
        self.reject_rcpt = reject_rcpt

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt and self.reject_rcpt in address:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        out = {
            "event": "message",
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": server.transport.get_extra_info("ssl_object") is not None
                   or session.ssl is not None,
            "auth_user": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
            "size": len(raw),
            "bare_lf": b"\n" in raw.replace(b"\r\n", b""),
        }
        try:
            out.update(describe(raw))
        except Exception as e:  # a message Python cannot parse is a failed test, not a crash
            out["parse_error"] = repr(e)
        emit(out)
        return "250 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--reject-rcpt")
    args = ap.parse_args()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and args.user is not None
              and auth_data.login.decode() == args.user
              and auth_data.password.decode() == args.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    kwargs = {"hostname": "127.0.0.1", "port": args.port, "server_hostname": "localhost"}
    if args.mode != "plain":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
        kwargs.update(authenticator=authenticator, auth_required=True)
        if args.mode == "starttls":
            kwargs.update(tls_context=ctx, require_starttls=True)
        else:
            # Implicit TLS: aiosmtpd only knows STARTTLS sessions as TLS for AUTH's sake.
            kwargs.update(ssl_context=ctx, auth_require_tls=False)
    controller = Controller(Handler(args.reject_rcpt), **kwargs)
    controller.start()
    emit({"event": "ready", "port": args.port})

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()

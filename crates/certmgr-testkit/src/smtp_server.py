"""A real SMTP server for certmgr's notification tests: Debian's aiosmtpd
(python3-aiosmtpd) on 127.0.0.1, with STARTTLS (required) or implicit TLS,
AUTH for one user (only over TLS), every message saved as one JSON file.

Usage: smtp_server.py starttls|tls PORT CERT_PEM KEY_PEM OUT_DIR USER PASSWORD
Prints "ready" once it accepts connections; stops when stdin closes.
"""
import json
import os
import ssl
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

warnings.simplefilter("ignore")
mode, port, cert, key, out_dir, user, password = sys.argv[1:8]


class Handler:
    async def handle_DATA(self, server, session, envelope):
        count = len([n for n in os.listdir(out_dir) if n.endswith(".json")])
        path = os.path.join(out_dir, "%04d.json" % count)
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
            "authenticated": bool(session.authenticated),
            # aiosmtpd records STARTTLS only; implicit TLS is TLS from the start.
            "tls": session.ssl is not None or mode == "tls",
        }
        with open(path + ".part", "w") as f:
            json.dump(record, f)
        os.rename(path + ".part", path)
        return "250 OK saved"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == user.encode()
        and auth_data.password == password.encode()
    )
    return AuthResult(success=ok, handled=False)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
options = dict(hostname="127.0.0.1", port=int(port), authenticator=authenticate)
if mode == "starttls":
    controller = Controller(
        Handler(), tls_context=context, require_starttls=True, auth_require_tls=True, **options
    )
else:
    controller = Controller(Handler(), ssl_context=context, auth_require_tls=False, **options)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()

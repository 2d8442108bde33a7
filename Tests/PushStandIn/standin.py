"""Real protocol stand-ins for Flint's push tests: APNs (HTTP/2 over TLS), FCM HTTP v1 with its OAuth token endpoint,
a Web Push service (RFC 8030/8291/8292) and a webhook receiver, all in one hypercorn server.

Each stand-in checks what a real service checks (the APNs provider JWT, the OAuth JWT-bearer assertion, the VAPID
JWT, the webhook's HMAC) and decrypts Web Push payloads with http_ece, then records every request for the test to
read at GET /_control/requests. POST /_control/script queues scripted answers for a path prefix (a status, headers,
a JSON body, "delay" seconds before answering, or "hold" to never answer).

Usage: standin.py DIRECTORY. Writes its CA certificate, the APNs .p8 key, the FCM service-account JSON and the Web Push
subscription into DIRECTORY, then prints one line: READY {json}.
"""
import asyncio, base64, hashlib, hmac, json, os, signal, socket, sys, threading, time, urllib.parse

import http_ece, jwt, trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypercorn.asyncio import serve
from hypercorn.config import Config

# The Swift test process ignores SIGTERM (its service groups handle it), and a child inherits that.
signal.signal(signal.SIGTERM, signal.SIG_DFL)
directory = sys.argv[1]
APNS_KEY_ID, APNS_TEAM_ID = "KEY1234567", "TEAM123456"
WEBHOOK_SECRET = "webhook-secret-0123456789"
VAPID_SUBJECT = "mailto:push@example.com"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


tls_sock, plain_sock = listener(), listener()
tls_port, plain_port = tls_sock.getsockname()[1], plain_sock.getsockname()[1]
plain_url = f"http://127.0.0.1:{plain_port}"

ca = trustme.CA()
server_cert = ca.issue_cert("127.0.0.1", "localhost")
paths = {name: os.path.join(directory, name) for name in ["ca.pem", "server.pem", "server.key", "apns.p8", "service-account.json"]}
ca.cert_pem.write_to_path(paths["ca.pem"])
with open(paths["server.pem"], "wb") as f:
    for blob in server_cert.cert_chain_pems:
        f.write(blob.bytes())
server_cert.private_key_pem.write_to_path(paths["server.key"])

apns_key = ec.generate_private_key(ec.SECP256R1())
with open(paths["apns.p8"], "wb") as f:
    f.write(apns_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

fcm_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
service_account = {
    "type": "service_account", "project_id": "flint-test", "private_key_id": "sa-key-1",
    "private_key": fcm_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
    "client_email": "flint@flint-test.iam.gserviceaccount.com", "token_uri": f"{plain_url}/token",
}
with open(paths["service-account.json"], "w") as f:
    json.dump(service_account, f)

ua_key = ec.generate_private_key(ec.SECP256R1())
ua_public = ua_key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
auth_secret = os.urandom(16)

requests = []
scripts = []  # [prefix, [responses]]
access_tokens = set()


def record(kind, scope, headers, body, **extra):
    entry = {
        "kind": kind, "path": scope["path"], "method": scope["method"], "httpVersion": scope["http_version"], "scheme": scope["scheme"],
        "headers": headers, "time": time.monotonic(), "verified": True, "errors": [],
    }
    try:
        entry["json"] = json.loads(body)
    except Exception:
        entry["bodyBase64"] = base64.b64encode(body).decode()
    entry.update(extra)
    requests.append(entry)
    return entry


def fail(entry, message):
    entry["verified"] = False
    entry["errors"].append(message)


def check_apns(scope, headers, body):
    entry = record("apns", scope, headers, body)
    auth = headers.get("authorization", "")
    if not auth.startswith("bearer "):
        fail(entry, "no bearer provider token")
        return entry
    token = auth[len("bearer "):]
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, apns_key.public_key(), algorithms=["ES256"], options={"verify_aud": False})
        entry["jwt"] = token
        if header.get("kid") != APNS_KEY_ID:
            fail(entry, f"kid {header.get('kid')}")
        if claims.get("iss") != APNS_TEAM_ID:
            fail(entry, f"iss {claims.get('iss')}")
        if abs(time.time() - claims.get("iat", 0)) > 3600:
            fail(entry, "iat older than an hour")
    except Exception as error:
        fail(entry, f"provider token: {error}")
    return entry


def check_token_request(scope, headers, body):
    form = urllib.parse.parse_qs(body.decode())
    entry = record("fcm-token", scope, headers, body, form={k: v[0] for k, v in form.items()})
    if form.get("grant_type", [""])[0] != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        fail(entry, "grant_type")
    try:
        claims = jwt.decode(form["assertion"][0], fcm_key.public_key(), algorithms=["RS256"], audience=service_account["token_uri"])
        if claims.get("iss") != service_account["client_email"]:
            fail(entry, "iss")
        if claims.get("scope") != "https://www.googleapis.com/auth/firebase.messaging":
            fail(entry, "scope")
        if jwt.get_unverified_header(form["assertion"][0]).get("kid") != "sa-key-1":
            fail(entry, "kid")
    except Exception as error:
        fail(entry, f"assertion: {error}")
    return entry


def check_fcm(scope, headers, body):
    entry = record("fcm", scope, headers, body)
    token = headers.get("authorization", "")[len("Bearer "):]
    if token not in access_tokens:
        fail(entry, "unknown access token")
    return entry


def check_webpush(scope, headers, body):
    entry = record("webpush", scope, headers, body)
    if headers.get("content-encoding") != "aes128gcm":
        fail(entry, "content-encoding")
    try:
        entry["plaintext"] = http_ece.decrypt(body, private_key=ua_key, auth_secret=auth_secret, version="aes128gcm").decode()
    except Exception as error:
        fail(entry, f"decrypt: {error}")
    try:
        scheme, _, rest = headers.get("authorization", "").partition(" ")
        if scheme != "vapid":
            raise ValueError(f"scheme {scheme}")
        parts = dict(part.strip().split("=", 1) for part in rest.split(","))
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(parts["k"]))
        claims = jwt.decode(parts["t"], key, algorithms=["ES256"], audience=plain_url)
        if claims["exp"] - time.time() > 24 * 3600:
            raise ValueError("exp more than 24 hours ahead")
        if claims.get("sub") != VAPID_SUBJECT:
            raise ValueError(f"sub {claims.get('sub')}")
        entry["vapidKey"] = parts["k"]
    except Exception as error:
        fail(entry, f"vapid: {error}")
    return entry


def check_webhook(scope, headers, body):
    entry = record("webhook", scope, headers, body)
    timestamp = headers.get("flint-timestamp", "")
    expected = "v1=" + hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers.get("flint-signature", "")):
        fail(entry, "signature")
    if abs(time.time() - int(timestamp or 0)) > 300:
        fail(entry, "stale timestamp")
    return entry


async def read_body(receive):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def respond(send, status, headers=None, body=b""):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers = {"content-type": "application/json", **(headers or {})}
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.encode(), str(v).encode()) for k, v in (headers or {}).items()]})
    await send({"type": "http.response.body", "body": body})


def scripted(path):
    for prefix, responses in scripts:
        if path.startswith(prefix) and responses:
            return responses.pop(0)
    return None


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    body = await read_body(receive)
    if path == "/_control/requests":
        return await respond(send, 200, body=requests)
    if path == "/_control/script":
        request = json.loads(body)
        scripts.append([request["prefix"], request["responses"]])
        return await respond(send, 204)

    if path.startswith("/3/device/"):
        check_apns(scope, headers, body)
        default = (200, {"apns-id": "00000000-0000-0000-0000-000000000001"}, b"")
    elif path == "/token":
        entry = check_token_request(scope, headers, body)
        token = f"ya29.standin-{len(access_tokens) + 1}"
        if entry["verified"]:
            access_tokens.add(token)
            default = (200, {}, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})
        else:
            default = (400, {}, {"error": "invalid_grant", "error_description": "; ".join(entry["errors"])})
    elif path.startswith("/v1/projects/") and path.endswith(":send"):
        check_fcm(scope, headers, body)
        default = (200, {}, {"name": f"projects/flint-test/messages/{len(requests)}"})
    elif path.startswith("/push/"):
        check_webpush(scope, headers, body)
        default = (201, {"location": f"{plain_url}/message/{len(requests)}"}, b"")
    elif path.startswith("/webhook"):
        check_webhook(scope, headers, body)
        default = (200, {}, b"")
    else:
        return await respond(send, 404, body={"error": "no such stand-in"})

    script = scripted(path)
    if script and script.get("hold"):
        # A provider that never answers: the push worker's own request timeout and lease must end the attempt. The
        # hour only has to outlast any test; the stand-in process is killed when its test ends.
        await asyncio.sleep(3600)
        return
    if script and script.get("delay"):
        # A slow provider, so that a test can see sends in flight at once; a test scripts the delay and never
        # measures it.
        await asyncio.sleep(script["delay"])
        if "status" not in script:
            return await respond(send, *default)
    if script:
        return await respond(send, script.get("status", 200), script.get("headers"), script.get("body", b""))
    await respond(send, *default)


def exit_with_parent():
    """The test process holds our standard input open; when it ends (even killed), so do we."""
    sys.stdin.read()
    os._exit(0)


async def main():
    threading.Thread(target=exit_with_parent, daemon=True).start()
    config = Config()
    config.bind = [f"fd://{tls_sock.fileno()}"]
    config.insecure_bind = [f"fd://{plain_sock.fileno()}"]
    config.certfile, config.keyfile = paths["server.pem"], paths["server.key"]
    config.alpn_protocols = ["h2", "http/1.1"]
    config.loglevel = "WARNING"
    config.accesslog = None
    config.errorlog = None
    setup = {
        "tlsPort": tls_port, "plainPort": plain_port, "caPath": paths["ca.pem"], "apnsKeyPath": paths["apns.p8"],
        "apnsKeyId": APNS_KEY_ID, "apnsTeamId": APNS_TEAM_ID, "serviceAccountPath": paths["service-account.json"],
        "webhookSecret": WEBHOOK_SECRET, "vapidSubject": VAPID_SUBJECT,
        "p256dh": b64url(ua_public), "auth": b64url(auth_secret),
    }
    loop = asyncio.get_running_loop()
    loop.call_soon(lambda: print("READY " + json.dumps(setup), flush=True))
    await serve(app, config, shutdown_trigger=lambda: asyncio.Future())


asyncio.run(main())

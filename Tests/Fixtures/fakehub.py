#!/usr/bin/env python3
"""fakehub.py: imitates Docker Hub's pull flow on 127.0.0.1, for integration tests.

    python3 fakehub.py --repo NAME=LAYOUT_DIR [--repo NAME=LAYOUT_DIR ...]
                       [--user USER:PASSWORD] [--ports-file PATH]

Three HTTP/1.1 servers, each on a kernel-chosen port of 127.0.0.1:

  registry  /v2/ API. Bearer tokens only; 401 challenges point at the token server. Manifests
            come from OCI image layouts (tags: index.json annotation
            org.opencontainers.image.ref.name; digests: any blob of the layout). Blob GETs are
            answered with a 307 to the CDN. Control endpoints (no auth, not logged):
              GET /_log      every request seen on all three ports, as a JSON list
              DELETE /_log   clears that list
              POST /_fault   {"mode": "truncate-once"|"corrupt", "digest": "sha256:..."}
                             {"mode": "ratelimit"} | {"mode": "server-error-once", "path_contains": "..."}
                             {"mode": "clear"}
              GET /_fault    the active faults
  token     GET (or OAuth2 POST) /token?service=fake-hub&scope=repository:NAME:pull
  cdn       GET/HEAD /registry-v2/blobs/sha256/XX/HEX/data?verify=...; any Authorization header
            is refused with 400 like the real CDN; Range requests are supported.

Once listening, one JSON line {"registry": R, "token": T, "cdn": C} is written to --ports-file
(atomically) and to stdout. SIGTERM/SIGINT stop the servers and exit 0.
"""

import argparse
import base64
import datetime
import hmac
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

SERVICE = "fake-hub"
TOKEN_TTL = 300
RATELIMIT_LIMIT = 100
RATELIMIT_WINDOW = 21600
REF_NAME = "org.opencontainers.image.ref.name"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DIGEST_RE = re.compile(r"^sha256:([0-9a-f]{64})$")
CDN_PATH_RE = re.compile(r"^/registry-v2/blobs/sha256/([0-9a-f]{2})/([0-9a-f]{64})/data$")
RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
CHUNK = 64 * 1024
INVERT = bytes(255 - i for i in range(256))


def xml_error(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>'
            % (code, message)).encode()


def rfc3339_nano_now():
    ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    stamp = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return "%s.%09dZ" % (stamp, frac)


class Layout:
    """An OCI image layout directory; index.json is re-read on every lookup."""

    def __init__(self, name, path):
        self.name = name
        self.path = os.path.abspath(path)
        self.index()  # fail early on a bad directory

    def index(self):
        with open(os.path.join(self.path, "index.json"), "rb") as f:
            obj = json.load(f)
        if not isinstance(obj, dict):
            raise ValueError("index.json is not a JSON object")
        return obj

    def descriptors(self):
        try:
            manifests = self.index().get("manifests") or []
        except (OSError, ValueError):
            return []
        return [d for d in manifests if isinstance(d, dict)]

    def blob_path(self, hexdigest):
        return os.path.join(self.path, "blobs", "sha256", hexdigest)

    def has_blob(self, hexdigest):
        return os.path.isfile(self.blob_path(hexdigest))

    def tags(self):
        out = []
        for d in self.descriptors():
            tag = (d.get("annotations") or {}).get(REF_NAME)
            if isinstance(tag, str) and tag and tag not in out:
                out.append(tag)
        return out

    def resolve(self, ref):
        """(hex digest, descriptor media type or None) for a tag or digest, or None."""
        m = DIGEST_RE.match(ref)
        if m:
            return (m.group(1), None) if self.has_blob(m.group(1)) else None
        for d in self.descriptors():
            if (d.get("annotations") or {}).get(REF_NAME) == ref:
                dm = DIGEST_RE.match(str(d.get("digest", "")))
                if dm and self.has_blob(dm.group(1)):
                    return dm.group(1), d.get("mediaType")
                return None
        return None


class Hub:
    """State shared by the three servers."""

    def __init__(self, repos, user):
        self.repos = repos  # name -> Layout
        self.user = user  # (user, password) or None
        self.ports = {}
        self.lock = threading.Lock()
        self.tokens = {}  # token -> (frozenset of repos granted pull, expiry)
        self.log = []
        self.remaining = RATELIMIT_LIMIT
        self.clear_faults()

    def clear_faults(self):
        with self.lock:
            self.truncate_once = set()
            self.corrupt = set()
            self.ratelimit = False
            self.server_error_once = []

    def append_log(self, entry):
        with self.lock:
            self.log.append(entry)

    def issue_token(self, repos):
        token = secrets.token_urlsafe(32)
        with self.lock:
            now = time.time()
            for t in [t for t, (_, exp) in self.tokens.items() if exp < now]:
                del self.tokens[t]
            self.tokens[token] = (frozenset(repos), now + TOKEN_TTL)
        return token

    def grants(self, token):
        """The repos a valid token grants, or None if the token is unknown or expired."""
        with self.lock:
            entry = self.tokens.get(token)
        if entry is None or entry[1] < time.time():
            return None
        return entry[0]

    def find_blob(self, hexdigest):
        for layout in self.repos.values():
            if layout.has_blob(hexdigest):
                return layout.blob_path(hexdigest)
        return None

    def take_server_error(self, path):
        with self.lock:
            for i, needle in enumerate(self.server_error_once):
                if needle in path:
                    del self.server_error_once[i]
                    return True
        return False

    def take_truncate(self, digest):
        with self.lock:
            if digest in self.truncate_once:
                self.truncate_once.discard(digest)
                return True
        return False

    def is_corrupt(self, digest):
        with self.lock:
            return digest in self.corrupt

    def count_manifest(self, consume):
        with self.lock:
            if consume and self.remaining > 0:
                self.remaining -= 1
            return self.remaining

    def faults_json(self):
        with self.lock:
            return {"truncate-once": sorted(self.truncate_once), "corrupt": sorted(self.corrupt),
                    "ratelimit": self.ratelimit, "server-error-once": list(self.server_error_once)}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        # HTTPServer.server_bind does a reverse DNS lookup; skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):
            return  # client went away, timeouts, ...
        traceback.print_exc()


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakehub/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections
    port_name = "?"
    hub = None  # set on the per-server subclass

    # --- logging: to the in-memory log only ---
    def log_message(self, format, *args):
        pass

    def log_request(self, code="-", size="-"):
        if getattr(self, "_nolog", False):
            return
        headers = getattr(self, "headers", None)
        try:
            status = int(code)
        except (TypeError, ValueError):
            status = None
        self.hub.append_log({
            "port": self.port_name,
            "method": getattr(self, "command", None),
            "path": getattr(self, "path", None),
            "authorization": headers.get("Authorization") if headers is not None else None,
            "range": headers.get("Range") if headers is not None else None,
            "status": status,
        })

    def parse_request(self):
        self._nolog = False
        return super().parse_request()

    def handle(self):
        try:
            super().handle()
        except OSError:
            pass  # broken pipe, reset, timeout

    # --- dispatch ---
    def dispatch(self):
        try:
            self.route()
        except OSError:
            self.close_connection = True
            raise
        except Exception:
            traceback.print_exc()
            self.close_connection = True
            try:
                self.send(500, b"internal error\n", content_type="text/plain")
            except OSError:
                pass

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = dispatch

    def route(self):
        raise NotImplementedError

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = bytearray()
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    self.close_connection = True
                    return bytes(data)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline(65537)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length > 0 else b""

    # --- responses (Content-Length always set; HEAD gets headers only) ---
    def send(self, status, body=b"", headers=(), content_type=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def send_json(self, status, obj, headers=()):
        self.send(status, json.dumps(obj).encode(), headers, "application/json")


class RegistryHandler(BaseHandler):
    port_name = "registry"

    def end_headers(self):
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        super().end_headers()

    def route(self):
        body = self.read_body()
        path = urlsplit(self.path).path
        method = self.command

        if path == "/_log":
            self._nolog = True
            if method == "GET":
                with self.hub.lock:
                    snapshot = list(self.hub.log)
                return self.send_json(200, snapshot)
            if method == "DELETE":
                with self.hub.lock:
                    self.hub.log.clear()
                return self.send_json(200, {})
            return self.send_json(405, {"error": "GET or DELETE"})
        if path == "/_fault":
            self._nolog = True
            if method == "POST":
                return self.post_fault(body)
            if method == "GET":
                return self.send_json(200, self.hub.faults_json())
            return self.send_json(405, {"error": "POST or GET"})

        if self.hub.take_server_error(self.path):
            return self.send_json(503, {"errors": [{"code": "UNAVAILABLE", "message": "service unavailable"}]})

        if path in ("/v2", "/v2/"):
            if method not in ("GET", "HEAD"):
                return self.unsupported()
            if self.token_grants() is None:
                return self.unauthorized(None)
            return self.send_json(200, {})

        if not path.startswith("/v2/"):
            return self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
        rest = path[len("/v2/"):]
        if rest.endswith("/tags/list"):
            kind, repo, ref = "tags", rest[:-len("/tags/list")], None
        elif "/manifests/" in rest:
            i = rest.rfind("/manifests/")
            kind, repo, ref = "manifests", rest[:i], rest[i + len("/manifests/"):]
        elif "/blobs/" in rest:
            i = rest.rfind("/blobs/")
            kind, repo, ref = "blobs", rest[:i], rest[i + len("/blobs/"):]
        else:
            return self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
        repo = unquote(repo)
        ref = unquote(ref) if ref is not None else None

        layout = self.hub.repos.get(repo)
        if layout is None:
            return self.unauthorized(repo)  # Docker Hub: unknown repositories look like denied ones
        grants = self.token_grants()
        if grants is None or repo not in grants:
            return self.unauthorized(repo)
        if method not in ("GET", "HEAD"):
            return self.unsupported()

        if kind == "tags":
            return self.send_json(200, {"name": repo, "tags": layout.tags()})
        if kind == "manifests":
            return self.manifest(layout, ref)
        return self.blob(layout, ref)

    def token_grants(self):
        parts = (self.headers.get("Authorization") or "").split(None, 1)
        if len(parts) == 2 and parts[0].lower() == "bearer":
            return self.hub.grants(parts[1].strip())
        return None

    def unauthorized(self, repo):
        challenge = 'Bearer realm="http://127.0.0.1:%d/token",service="%s"' % (self.hub.ports["token"], SERVICE)
        detail = None
        if repo is not None:
            challenge += ',scope="repository:%s:pull"' % repo
            detail = [{"Type": "repository", "Class": "", "Name": repo, "Action": "pull"}]
        self.send_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required",
                                         "detail": detail}]},
                       [("WWW-Authenticate", challenge)])

    def unsupported(self):
        self.send_json(405, {"errors": [{"code": "UNSUPPORTED", "message": "The operation is unsupported."}]})

    def manifest(self, layout, ref):
        if self.hub.ratelimit:
            return self.send_json(429, {"errors": [{
                "code": "TOOMANYREQUESTS",
                "message": "You have reached your unauthenticated pull rate limit. "
                           "https://www.docker.com/increase-rate-limit"}]},
                [("ratelimit-limit", "%d;w=%d" % (RATELIMIT_LIMIT, RATELIMIT_WINDOW)),
                 ("ratelimit-remaining", "0;w=%d" % RATELIMIT_WINDOW),
                 ("Retry-After", "60")])
        resolved = layout.resolve(ref)
        data = None
        if resolved is not None:
            try:
                with open(layout.blob_path(resolved[0]), "rb") as f:
                    data = f.read()
            except OSError:
                data = None
        if data is None:
            return self.send_json(404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown",
                                                    "detail": {"Tag": ref}}]})
        hexdigest, descriptor_type = resolved
        media_type = None
        try:
            obj = json.loads(data)
        except ValueError:
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("mediaType"), str) and obj["mediaType"]:
            media_type = obj["mediaType"]
        elif descriptor_type:
            media_type = descriptor_type
        elif isinstance(obj, dict) and "manifests" in obj:
            media_type = OCI_INDEX
        else:
            media_type = OCI_MANIFEST
        remaining = self.hub.count_manifest(consume=self.command == "GET")
        self.send(200, data, [
            ("Docker-Content-Digest", "sha256:" + hexdigest),
            ("ETag", '"sha256:%s"' % hexdigest),
            ("ratelimit-limit", "%d;w=%d" % (RATELIMIT_LIMIT, RATELIMIT_WINDOW)),
            ("ratelimit-remaining", "%d;w=%d" % (remaining, RATELIMIT_WINDOW)),
        ], media_type)

    def blob(self, layout, ref):
        m = DIGEST_RE.match(ref)
        if not m or not layout.has_blob(m.group(1)):
            return self.send_json(404, {"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown to registry",
                                                    "detail": ref}]})
        hexdigest = m.group(1)
        if self.command == "HEAD":
            size = os.path.getsize(layout.blob_path(hexdigest))
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Docker-Content-Digest", "sha256:" + hexdigest)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            return
        verify = "%d-%s%%2B%s%%3D" % (int(time.time()) + 3000, secrets.token_urlsafe(24), secrets.token_urlsafe(6))
        location = "http://127.0.0.1:%d/registry-v2/blobs/sha256/%s/%s/data?verify=%s" % (
            self.hub.ports["cdn"], hexdigest[:2], hexdigest, verify)
        self.send(307, b"", [("Location", location)])

    def post_fault(self, body):
        try:
            obj = json.loads(body or b"null")
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            return self.send_json(400, {"error": "body must be a JSON object"})
        mode = obj.get("mode")
        hub = self.hub
        if mode in ("truncate-once", "corrupt"):
            digest = obj.get("digest")
            if not isinstance(digest, str) or not DIGEST_RE.match(digest):
                return self.send_json(400, {"error": "digest must be sha256:<64 hex>"})
            with hub.lock:
                (hub.truncate_once if mode == "truncate-once" else hub.corrupt).add(digest)
        elif mode == "ratelimit":
            with hub.lock:
                hub.ratelimit = True
        elif mode == "server-error-once":
            needle = obj.get("path_contains")
            if not isinstance(needle, str) or not needle:
                return self.send_json(400, {"error": "path_contains must be a non-empty string"})
            with hub.lock:
                hub.server_error_once.append(needle)
        elif mode == "revoke-tokens":
            # Every token issued so far stops working (as when Docker Hub tokens expire).
            with hub.lock:
                hub.tokens.clear()
        elif mode == "clear":
            hub.clear_faults()
        else:
            return self.send_json(400, {"error": "unknown mode %r" % (mode,)})
        self.send_json(200, {})


class TokenHandler(BaseHandler):
    port_name = "token"

    def route(self):
        body = self.read_body()
        url = urlsplit(self.path)
        if url.path not in ("/token", "/token/"):
            return self.send_json(404, {"details": "not found"})
        if self.command not in ("GET", "POST"):
            return self.send_json(405, {"details": "method not allowed"})
        params = parse_qs(url.query, keep_blank_values=True)
        if self.command == "POST":
            for key, values in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
                params.setdefault(key, []).extend(values)

        credentials = None
        auth = self.headers.get("Authorization") or ""
        if auth[:6].lower() == "basic ":
            try:
                user, sep, password = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8").partition(":")
                credentials = (user, password) if sep else ("", "\0invalid")
            except (ValueError, UnicodeDecodeError):
                credentials = ("", "\0invalid")
        elif self.command == "POST" and params.get("grant_type", [""])[0] == "password":
            credentials = (params.get("username", [""])[0], params.get("password", [""])[0])
        if credentials is not None and self.hub.user is not None:
            ok = (hmac.compare_digest(credentials[0].encode(), self.hub.user[0].encode())
                  & hmac.compare_digest(credentials[1].encode(), self.hub.user[1].encode()))
            if not ok:
                return self.send_json(401, {"details": "incorrect username or password"})

        granted = set()
        for value in params.get("scope", []):
            for scope in value.split():
                parts = scope.split(":")
                if len(parts) < 3 or parts[0] != "repository":
                    continue
                name, actions = ":".join(parts[1:-1]), parts[-1].split(",")
                if ("pull" in actions or "*" in actions) and name in self.hub.repos:
                    granted.add(name)
        token = self.hub.issue_token(granted)
        self.send_json(200, {"token": token, "access_token": token, "expires_in": TOKEN_TTL,
                             "issued_at": rfc3339_nano_now()})


class CdnHandler(BaseHandler):
    port_name = "cdn"

    def route(self):
        self.read_body()
        if self.command not in ("GET", "HEAD"):
            return self.send(405, xml_error("MethodNotAllowed", "The specified method is not allowed"),
                             content_type="application/xml")
        if self.headers.get("Authorization") is not None:
            return self.send(400, xml_error("InvalidArgument", "Only one auth mechanism allowed"),
                             content_type="application/xml")
        url = urlsplit(self.path)
        m = CDN_PATH_RE.match(url.path)
        if not m or m.group(1) != m.group(2)[:2]:
            return self.send(404, xml_error("NoSuchKey", "The specified key does not exist."),
                             content_type="application/xml")
        verify = parse_qs(url.query, keep_blank_values=True).get("verify", [""])[0]
        if not verify:
            return self.send(403, xml_error("AccessDenied", "Access Denied"), content_type="application/xml")
        hexdigest = m.group(2)
        digest = "sha256:" + hexdigest
        path = self.hub.find_blob(hexdigest)
        if path is None:
            return self.send(404, xml_error("NoSuchKey", "The specified key does not exist."),
                             content_type="application/xml")
        total = os.path.getsize(path)

        status, start, end = 200, 0, total - 1
        range_header = self.headers.get("Range")
        if range_header is not None:
            rm = RANGE_RE.match(range_header)
            if rm and (rm.group(1) or rm.group(2)):
                if rm.group(1):
                    first = int(rm.group(1))
                    last = int(rm.group(2)) if rm.group(2) else total - 1
                    if first >= total:
                        return self.unsatisfiable(total)
                    if last >= first:  # otherwise invalid: ignore the header
                        status, start, end = 206, first, min(last, total - 1)
                else:
                    suffix = int(rm.group(2))
                    if suffix == 0 or total == 0:
                        return self.unsatisfiable(total)
                    status, start, end = 206, max(0, total - suffix), total - 1
        length = max(0, end - start + 1)

        truncate = self.command == "GET" and range_header is None and self.hub.take_truncate(digest)
        corrupt = self.hub.is_corrupt(digest)

        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", '"%s"' % hexdigest[:32])
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, total))
        self.end_headers()
        if self.command == "HEAD":
            return

        to_send = total // 2 if truncate else length
        half = total // 2
        sent = 0
        with open(path, "rb") as f:
            f.seek(start)
            while sent < to_send:
                chunk = f.read(min(CHUNK, to_send - sent))
                if not chunk:
                    break
                if corrupt:
                    pos = start + sent
                    keep = max(0, half - pos)
                    if keep < len(chunk):
                        chunk = chunk[:keep] + chunk[keep:].translate(INVERT)
                self.wfile.write(chunk)
                sent += len(chunk)
        if truncate or sent < length:
            # Short body: end the connection so the client sees a premature EOF.
            self.close_connection = True
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def unsatisfiable(self, total):
        self.send(416, xml_error("InvalidRange", "The requested range is not satisfiable"),
                  [("Content-Range", "bytes */%d" % total)], "application/xml")


def main():
    parser = argparse.ArgumentParser(description="Fake Docker Hub (registry + token server + CDN) on 127.0.0.1.")
    parser.add_argument("--repo", action="append", default=[], metavar="NAME=LAYOUT_DIR",
                        help="serve the OCI image layout LAYOUT_DIR as repository NAME (repeatable)")
    parser.add_argument("--user", metavar="USER:PASSWORD",
                        help="the only credentials the token server accepts (anonymous is always allowed)")
    parser.add_argument("--ports-file", metavar="PATH", help="where to write the ports as one JSON line")
    args = parser.parse_args()

    repos = {}
    for spec in args.repo:
        name, sep, path = spec.partition("=")
        name = name.strip().strip("/")
        if not sep or not name or not path:
            parser.error("--repo wants NAME=LAYOUT_DIR, got %r" % spec)
        try:
            repos[name] = Layout(name, path)
        except (OSError, ValueError) as e:
            parser.error("--repo %s: cannot read %s/index.json: %s" % (name, path, e))
    user = None
    if args.user is not None:
        u, sep, p = args.user.partition(":")
        if not sep:
            parser.error("--user wants USER:PASSWORD")
        user = (u, p)

    hub = Hub(repos, user)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    servers = []
    for name, cls in (("registry", RegistryHandler), ("token", TokenHandler), ("cdn", CdnHandler)):
        handler = type(cls.__name__, (cls,), {"hub": hub})
        server = Server(("127.0.0.1", 0), handler)
        hub.ports[name] = server.server_address[1]
        servers.append(server)
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    line = json.dumps({"registry": hub.ports["registry"], "token": hub.ports["token"], "cdn": hub.ports["cdn"]})
    if args.ports_file:
        target = os.path.abspath(args.ports_file)
        temp = "%s.tmp.%d" % (target, os.getpid())
        with open(temp, "w") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    try:
        print(line, flush=True)
    except OSError:
        pass

    while not stop.wait(0.1):
        pass
    stoppers = [threading.Thread(target=server.shutdown) for server in servers]
    for t in stoppers:
        t.start()
    for t in stoppers:
        t.join()
    for server in servers:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A real OCI registry for tests and benchmarks: Debian's `docker-registry` (the CNCF
Distribution registry) on loopback with its own config and storage; small images built with
`umoci` and pushed with `skopeo`. No Docker daemon is needed."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import shutil
import subprocess
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.platform import free_port

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for the registry's htpasswd file (the registry accepts no other kind)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # Python 3.11's libxcrypt binding; bcrypt is the one hash htpasswd allows

    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))  # noqa: S324 (bcrypt)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """The Distribution token flow's auth server, as Docker Hub, GHCR or Harbor run one: checks
    basic credentials and hands out RS256 JWTs for the scopes asked, signed with a key whose
    self-signed certificate the registry trusts (`rootcertbundle`)."""

    service = "labworks-test-registry"
    issuer = "labworks-test-token-server"

    def __init__(self, root: Path, users: dict[str, str]) -> None:
        self.users = users
        self.port = free_port()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.issuer)])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip
        self.cert_file = root / "token-cert.pem"
        self.cert_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.issued = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def start(self) -> TokenServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def token(self, scopes: list[str], subject: str) -> str:
        access = []
        for scope in scopes:
            kind, rest = scope.split(":", 1)
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        der = self.cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signed = ".".join(_b64url(json.dumps(part).encode()) for part in (header, claims))
        signature = self.key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        self.issued += 1
        return f"{signed}.{_b64url(signature)}"

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = parse_qs(urlsplit(self.path).query)
                user, _, password = base64.b64decode(
                    self.headers.get("Authorization", "Basic ").split(" ", 1)[1] or b""
                ).decode().partition(":")  # fmt: skip
                if not user or server.users.get(user) != password:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"token": server.token(query.get("scope", []), user)})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        return Handler


class Registry:
    """`docker-registry serve` on 127.0.0.1; `push()` builds and uploads a small image. With
    `users`, it asks for their basic credentials, or for tokens of `token_server`."""

    def __init__(
        self,
        root: Path,
        port: int | None = None,
        users: dict[str, str] | None = None,
        token_server: TokenServer | None = None,
    ):
        for tool in ("docker-registry", "umoci", "skopeo"):
            if not shutil.which(tool):
                raise RuntimeError(f"{tool} is missing; run scripts/system-deps.sh")
        self.root = root
        self.port = port or free_port()
        self.users = users or {}
        self.token_server = token_server
        self.layout = root / "oci"
        self.proc: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def _auth(self) -> tuple[str, str] | None:
        return next(iter(self.users.items()), None)

    def start(self, timeout: float = 30) -> Registry:
        self.root.mkdir(parents=True, exist_ok=True)
        config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.root / "storage")},
                "delete": {"enabled": True},
            },
            "http": {"addr": self.host},
        }
        if self.token_server is not None:
            config["auth"] = {
                "token": {
                    "realm": self.token_server.realm,
                    "service": self.token_server.service,
                    "issuer": self.token_server.issuer,
                    "rootcertbundle": str(self.token_server.cert_file),
                }
            }
        elif self.users:
            htpasswd = self.root / "htpasswd"
            htpasswd.write_text("".join(f"{u}:{bcrypt_hash(p)}\n" for u, p in self.users.items()))
            config["auth"] = {"htpasswd": {"realm": "labworks-test", "path": str(htpasswd)}}
        (self.root / "config.yml").write_text(json.dumps(config))  # JSON is YAML
        self._log = open(self.root / "registry.log", "ab")
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", str(self.root / "config.yml")],
            stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log()}")
            try:
                if httpx.get(self.url + "/v2/", timeout=1).status_code in (200, 401):
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not answer in {timeout}s: {self.log()}")

    def log(self) -> str:
        path = self.root / "registry.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self._log.close()
        self.proc = None

    def push(
        self,
        repository: str,
        tag: str,
        labels: dict[str, str] | None = None,
        content: str = "hello from labworks tests\n",
    ) -> str:
        """Build a one-file image with `labels` (umoci) and push it as repository:tag (skopeo);
        returns its manifest digest."""
        if not (self.layout / "index.json").exists():
            _run("umoci", "init", "--layout", str(self.layout))
            _run("umoci", "new", "--image", f"{self.layout}:base")
        name = f"{repository.replace('/', '_')}_{tag}"
        label_args = [a for k, v in (labels or {}).items() for a in ("--config.label", f"{k}={v}")]
        _run("umoci", "config", "--image", f"{self.layout}:base", "--tag", name, *label_args)
        payload = self.root / "payload.txt"
        payload.write_text(content)
        _run("umoci", "insert", "--rootless", "--image", f"{self.layout}:{name}",
             str(payload), "/hello.txt")  # fmt: skip
        creds = ["--dest-creds", ":".join(self._auth())] if self._auth() else []
        _run("skopeo", "copy", "--quiet", "--dest-tls-verify=false", *creds,
             f"oci:{self.layout}:{name}", f"docker://{self.host}/{repository}:{tag}")  # fmt: skip
        return self.digest(repository, tag)

    def digest(self, repository: str, tag: str) -> str:
        """The manifest digest of repository:tag, as skopeo reads it."""
        creds = ["--creds", ":".join(self._auth())] if self._auth() else []
        out = _run("skopeo", "inspect", "--tls-verify=false", *creds,
                   f"docker://{self.host}/{repository}:{tag}")  # fmt: skip
        return json.loads(out)["Digest"]

    def tag_variants(self, repository: str, source_tag: str, tags: list[str]) -> None:
        """Add `tags` to `repository` quickly over the Distribution API: each a copy of
        `source_tag` whose config gets its own `io.labworks.build-id` label (so each tag has
        its own config and digest), sharing the layers. For catalogs of hundreds of tags."""
        with httpx.Client(base_url=self.url, auth=self._auth(), timeout=30) as client:
            headers = {"Accept": OCI_MANIFEST}
            manifest = client.get(f"/v2/{repository}/manifests/{source_tag}", headers=headers)
            manifest.raise_for_status()
            base = manifest.json()
            config = client.get(f"/v2/{repository}/blobs/{base['config']['digest']}").json()
            for tag in tags:
                config["config"].setdefault("Labels", {})["io.labworks.build-id"] = tag
                blob = json.dumps(config).encode()
                digest = "sha256:" + hashlib.sha256(blob).hexdigest()
                upload = client.post(f"/v2/{repository}/blobs/uploads/")
                upload.raise_for_status()
                location = upload.headers["location"]  # keeps its own _state query
                client.put(
                    f"{location}{'&' if '?' in location else '?'}digest={digest}", content=blob,
                    headers={"Content-Type": "application/octet-stream"},
                ).raise_for_status()  # fmt: skip
                body = {**base, "config": {**base["config"], "digest": digest, "size": len(blob)}}
                client.put(
                    f"/v2/{repository}/manifests/{tag}", content=json.dumps(body).encode(),
                    headers={"Content-Type": OCI_MANIFEST},
                ).raise_for_status()  # fmt: skip

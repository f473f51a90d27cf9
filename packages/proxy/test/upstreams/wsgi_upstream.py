"""A Python WSGI API on wsgiref, the standard library's server, for the proxy's probes.

wsgiref maps every request header to an HTTP_* environ variable with '-' turned into '_', so
X-Plangate-Holder and X_Plangate_Holder land in the same variable (joined with a comma), and it
decodes %2F into a slash in PATH_INFO. Records what it saw; GET /__seen?probe=ID (sent straight
to it, never through the proxy) answers the records of one probe as JSON. Prints "PORT <n>" once
it listens on 127.0.0.1.
"""
import json
import re
import sys
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

PRICES = {"health": 0, "paid": 50, "items-post": 1, "items-delete": 10, "catchall": 2}
records = []


class RecordingHandler(WSGIRequestHandler):
    """Keeps the request target and the header names as sent, which the environ loses."""

    def get_environ(self):
        env = super().get_environ()
        # From the request line: http.server itself collapses a leading "//" in self.path.
        env["probe.target"] = self.requestline.split(" ")[1]
        env["probe.headers"] = [[name, value] for name, value in self.headers.items()]
        return env

    def log_message(self, *args):  # quiet: the test reads stdout for the port only
        pass


def route(method, path):
    if method == "GET" and path == "/health":
        return "health"
    if method == "GET" and re.fullmatch(r"/paid/[^/]+", path):
        return "paid"
    if re.fullmatch(r"/items/[^/]+", path):
        if method == "POST":
            return "items-post"
        if method == "DELETE":
            return "items-delete"
    return "catchall"


def app(environ, start_response):
    if environ["PATH_INFO"] == "/__seen":
        probe = parse_qs(environ["QUERY_STRING"]).get("probe", [""])[0]
        body = json.dumps([r for r in records if r["probe"] == probe]).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length).decode("latin-1") if length else ""
    method = environ["REQUEST_METHOD"]
    if method == "POST":  # method override, read from the environ as WSGI frameworks do
        for name in ("HTTP_X_HTTP_METHOD_OVERRIDE", "HTTP_X_HTTP_METHOD", "HTTP_X_METHOD_OVERRIDE"):
            if environ.get(name):
                method = environ[name].split(",")[0].strip().upper()
                break
    handler = route(method, environ["PATH_INFO"])
    records.append({
        "probe": environ.get("HTTP_X_PROBE", ""),
        "method": environ["REQUEST_METHOD"],
        "target": environ["probe.target"],
        "headers": environ["probe.headers"],
        "environ": {k: v for k, v in environ.items() if k.startswith("HTTP_")},
        "handler": handler,
        "body": body,
    })
    answer = json.dumps({"handler": handler}).encode()
    start_response("200 OK", [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(answer))),
        ("X-Handler", handler),
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS"),
    ])
    return [answer]


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, app, server_class=WSGIServer, handler_class=RecordingHandler)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()

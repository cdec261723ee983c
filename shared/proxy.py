"""The one address of `make run`: Caddy in front of every web app, routing by path prefix (as deploy/Caddyfile
does in production). `ROUTES` is the table of docs/conventions.md; `caddyfile()` writes Caddy's config."""
from __future__ import annotations

ROUTES = {
    "portal": ["/", "/login", "/logout", "/readyz", "/api/v1/auth/*", "/portal/*"],
    "intake": ["/api/v1/mines", "/api/v1/mines/*", "/api/v1/applications", "/api/v1/applications/*", "/intake/*"],
    "review_routing": ["/api/v1/review/*", "/review/*", "/api/v1/evaluation/*", "/evaluation/*"],
    "scoring": ["/api/v1/scoring/*", "/scoring/*"],
    "public_notice": ["/api/v1/notice/*", "/api/v1/list", "/api/v1/list/*", "/notice/*", "/public/*"],
    "supervision": ["/api/v1/supervision/*", "/supervision/*"],
}


# Never answered through the proxy: Prometheus metrics, each app's generated OpenAPI document
# (/<service>/openapi/openapi.json) and any documentation UI under it.
INTERNAL_PATHS = ["/metrics", "/metrics/*", "*/openapi", "*/openapi/*"]


def caddyfile(http_port: int, web_ports: dict[str, int]) -> str:
    lines = ["{", "\tadmin off", "\tauto_https off", "\tpersist_config off", "}", "",
             f"http://127.0.0.1:{http_port}, http://localhost:{http_port} {{",
             "\tencode gzip", "\trequest_body {", "\t\tmax_size 64MB", "\t}",
             "\t# How the system is built is not for the public: metrics and the apps' OpenAPI documents are read",
             "\t# on the apps' own ports (the published API is contracts/http/).",
             "\t@internal path " + " ".join(INTERNAL_PATHS),
             "\thandle @internal {", "\t\trespond 404", "\t}"]
    for service, paths in ROUTES.items():
        if service == "portal":
            continue
        lines += [f"\t@{service} path " + " ".join(paths),
                  f"\thandle @{service} {{", f"\t\treverse_proxy 127.0.0.1:{web_ports[service]}", "\t}"]
    lines += ["\thandle {", f"\t\treverse_proxy 127.0.0.1:{web_ports['portal']}", "\t}", "}", ""]
    return "\n".join(lines)

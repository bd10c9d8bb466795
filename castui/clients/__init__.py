"""castui's clients: Kubernetes, the CAST AI API, Helm, Terraform, the status page."""

import sys

# httpx's own command line (`httpx.main`, castui never calls it) imports rich, click and pygments when
# they are installed, as Textual installs rich: ~80 modules, ~50 ms of a cold `castui diagnose`.
# Refused here, before any client imports httpx (httpx then defines a stand-in `main`).
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "refuse this import"

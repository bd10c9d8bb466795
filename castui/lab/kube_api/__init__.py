"""The Kubernetes API side of the lab: enough of a kube-apiserver for kubectl and
the official Python client.

Discovery, list/get/watch with label and field selectors and pagination, create,
replace, delete, the four PATCH flavours, `Table` output for kubectl, the `scale`,
`status` and `log` subresources, bearer-token authentication, a forbidden-list
authorisation (with SelfSubjectAccessReview for `kubectl auth can-i`), the OpenAPI v3
stubs that let plain `kubectl apply` validate, and protobuf bodies for kubectl's typed
`create` subcommands. Errors are `Status` objects worded like the real server's.

Requests are answered under `state.lock`; watches poll the store outside it.

One module per job: `routing` (paths, authentication, authorisation, the handler table),
`discovery` (and OpenAPI), `selectors`, `reads`, `writes`, `patches` (the PATCH flavours),
`subresources` (scale, log), `watch`, `tables`, `bodies` (JSON, YAML, protobuf) and `common`
(served types, errors, `Target`, object helpers).
"""

from castui.lab.kube_api.common import KubeError, _current_rv, _served, is_kube_path, status_body, status_response
from castui.lab.kube_api.routing import route

# `_current_rv` and `_served` stay reachable here: castui.lab.scale warms the list caches with them.
__all__ = ["KubeError", "_current_rv", "_served", "is_kube_path", "route", "status_body", "status_response"]

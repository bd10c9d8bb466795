"""`castui lab serve`: a lab in the foreground, for kubectl, curl and castui."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading

from castui.lab import start_lab


def serve(args: argparse.Namespace) -> int:
    if args.dir is not None and args.dir.exists() and (not args.dir.is_dir() or any(args.dir.iterdir())):
        # the lab writes a kubeconfig and terraform/ there: never over files the user has
        print(f"castui lab serve: {args.dir} is not an empty directory; the lab writes its kubeconfig and "
              "terraform/ there: choose a new or empty one", file=sys.stderr)
        return 2
    if args.fleet:
        from castui.lab.fleet import start_fleet

        running = start_fleet(workdir=args.dir, latency=args.latency)
        print(f"castui lab fleet: {len(running.labs)} clusters")
        for lab in running.labs:
            print(f"  context {lab.context}: scenario {lab.scenario} at {lab.url}")
        print("\nexport these to point kubectl and castui at it:")
        print(f"  export KUBECONFIG={shlex.quote(str(running.kubeconfig))}")
        print(f"  export CASTAI_API_URL={running.api_url} CASTAI_API_KEY={running.api_key}")
        print(f"  castui diagnose --all-contexts --helm-repo-url {running.api_url}/helm-charts --status-url {running.api_url}/status")
    else:
        cluster = None
        if args.scale:
            from castui.lab.scale import build_scaled, parse_scale

            spec = parse_scale(args.scale)
            if getattr(args, "pod_size", None):
                spec = spec.model_copy(update={"pod_size": args.pod_size})
            cluster = build_scaled(spec)
            print(f"castui lab: built {spec.describe()}", flush=True)
        elif getattr(args, "pod_size", None):
            print("castui lab: --pod-size applies to --scale only", file=sys.stderr)
            return 2
        running = start_lab(args.scenario if not args.scale else "scaled", port=args.port, workdir=args.dir, cluster=cluster)
        if cluster is not None:
            from castui.lab.scale import warm

            # every big list encoded once now, as a real API server's watch cache holds them: otherwise the
            # first diagnosis waits for the lab's encoder and its checks time out
            print(f"castui lab: encoded the big lists in {warm(cluster):.1f}s", flush=True)
        if args.latency:
            from castui.lab.state import Fault

            running.server.state.faults.append(Fault("latency", seconds=args.latency))
        print(f"castui lab: scenario {running.scenario} at {running.url}")
        print(f"kubeconfig: {running.kubeconfig}")
        print("\nexport these to point kubectl, curl and castui at it:")
        for key, value in running.environment().items():
            print(f"  export {key}={shlex.quote(value)}")
        print(f"  castui --helm-repo-url {running.url}/helm-charts --status-url {running.url}/status "
              f"--terraform-dir {shlex.quote(str(running.terraform_dir))}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # before saying so: a stop right after it is clean too
    try:
        print("\nserving; press Ctrl-C to stop", flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
        print("stopped", file=sys.stderr)
    return 0

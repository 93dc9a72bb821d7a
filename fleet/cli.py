"""`python -m fleet`: the headless CLI (see docs/cli.md and the contract in config-and-cli.md).

Exit status: 0 every cluster `ok`; 3 written, but at least one cluster not `ok`; 2 bad arguments
or config. Progress goes to stderr; data to stdout or the output file.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Callable, Sequence

import msgspec

from fleet.analysis import analyze, to_builtins
from fleet.config import DEFAULT_CONFIG_PATH, ConfigError, FleetConfig, load_config, write_atomically
from fleet.diff import diff_snapshots, to_text
from fleet.export import csv_tables, to_json
from fleet.model import Cluster, Snapshot, decode_snapshot
from fleet.poller import Poller
from fleet.source import Source

EXIT_OK, EXIT_BAD_INPUT, EXIT_NOT_ALL_OK = 0, 2, 3

# builds a collector from one cluster config; injected so the core knows no orchestrator
SourceFactory = Callable[..., Source]


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fleet", description="Podium headless CLI")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    snap = commands.add_parser("snapshot", help="collect every cluster once and write a v1 snapshot")
    snap.add_argument("--config", default=str(DEFAULT_CONFIG_PATH), help="clusters.yaml (default: %(default)s)")
    snap.add_argument("--output", default="-", help="file (json), folder (csv), or - for stdout (json only)")
    snap.add_argument("--format", choices=["json", "csv"], default="json")
    check = commands.add_parser("check", help="validate the config and try each cluster once")
    check.add_argument("--config", default=str(DEFAULT_CONFIG_PATH), help="clusters.yaml (default: %(default)s)")
    analysis = commands.add_parser("analyze", help="failure impact, balance, headroom and limits of a snapshot "
                                                   "as JSON; exit 3 unless every cluster survives losing any node")
    analysis.add_argument("snapshot", metavar="SNAPSHOT.json")
    analysis.add_argument("--all-nodes", action="store_true", help="also list the impact of losing each node")
    changes = commands.add_parser("diff", help="what changed between two snapshots")
    changes.add_argument("old", metavar="OLD.json")
    changes.add_argument("new", metavar="NEW.json")
    changes.add_argument("--json", action="store_true", help="JSON instead of text")
    return parser


def _progress(cluster: Cluster, seconds: float) -> None:
    detail = cluster.version or "" if cluster.status == "ok" else cluster.error or ""
    print(f"  {cluster.name}: {cluster.status} ({seconds:.1f}s) {detail}".rstrip(), file=sys.stderr)


def collect_once(config: FleetConfig, build: SourceFactory, *, progress: bool = True) -> Snapshot:
    sources = [build(cluster) for cluster in config.clusters]
    poller = Poller(sources, config.settings, on_cluster=_progress if progress else None)
    try:
        if progress:
            print(f"collecting {len(sources)} cluster(s) from {config.path} ...", file=sys.stderr)
        return poller.poll_once(force=True)
    finally:
        poller.stop()


def _exit_status(snapshot: Snapshot) -> int:
    return EXIT_OK if all(c.status == "ok" for c in snapshot.clusters) else EXIT_NOT_ALL_OK


def cmd_snapshot(args: argparse.Namespace, build: SourceFactory) -> int:
    if args.format == "csv" and args.output == "-":
        raise UsageError("--format csv writes a folder of tables: give --output FOLDER")
    config = load_config(args.config)
    snapshot = collect_once(config, build)
    if args.format == "json":
        data = to_json(snapshot)
        if args.output == "-":
            sys.stdout.buffer.write(data + b"\n")
            sys.stdout.flush()
        else:
            write_atomically(Path(args.output), data.decode("utf-8") + "\n")
    else:
        folder = Path(args.output)
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"--output {folder} exists and is not a folder")
        for name, text in csv_tables(snapshot).items():
            write_atomically(folder / name, text)
    if args.output != "-":
        print(f"wrote {args.output}", file=sys.stderr)
    return _exit_status(snapshot)


def cmd_check(args: argparse.Namespace, build: SourceFactory) -> int:
    config = load_config(args.config)
    print(f"{config.path}: valid, {len(config.clusters)} cluster(s)", file=sys.stderr)
    snapshot = collect_once(config, build, progress=False)
    width = max((len(c.name) for c in snapshot.clusters), default=4)
    for cluster in snapshot.clusters:
        detail = cluster.version or "" if cluster.status == "ok" else cluster.error or ""
        print(f"{cluster.name:<{width}}  {cluster.status:<12}  {detail}".rstrip())
    return _exit_status(snapshot)


def read_snapshot(path: str) -> Snapshot:
    """A v1 snapshot file; any problem is a UsageError naming the file and what is wrong."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: file not found") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return decode_snapshot(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UsageError(f"{path}: not a podium.snapshot/v1 document: {exc}") from None


def write_json(value: object) -> None:
    sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n")
    sys.stdout.flush()


def cmd_analyze(args: argparse.Namespace, build: SourceFactory) -> int:
    result = analyze(read_snapshot(args.snapshot))
    document = to_builtins(result)
    if not args.all_nodes:
        for cluster in document["clusters"]:
            del cluster["node_loss"]
    write_json(document)
    for cluster in result.clusters:
        verdict = {True: "N+1", False: "NOT N+1", None: "unknown (no nodes)"}[cluster.n_plus_1]
        print(f"  {cluster.cluster}: {verdict}", file=sys.stderr)
    return EXIT_OK if result.all_n_plus_1 else EXIT_NOT_ALL_OK


def cmd_diff(args: argparse.Namespace, build: SourceFactory) -> int:
    result = diff_snapshots(read_snapshot(args.old), read_snapshot(args.new))
    if args.json:
        write_json(result)
    else:
        sys.stdout.write(to_text(result))
    return EXIT_OK


COMMANDS = {"snapshot": cmd_snapshot, "check": cmd_check, "analyze": cmd_analyze, "diff": cmd_diff}


def main(argv: Sequence[str] | None, build: SourceFactory) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.ERROR, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args, build)
    except ConfigError as exc:
        print(f"error: invalid config\n{exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT

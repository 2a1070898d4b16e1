"""What the deploy files must agree with, read from the code: topology, topics, subscriptions.

The subscriptions are the apps' own (programmatic) ones: the orchestrator's from
`orchestrator.channel.subscriptions()`, and each gRPC app's `app.subscribe(...)` calls, read
from its package's source without running its wiring (their arguments are evaluated against
contracts.topics and the module's own constants).
"""

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts import topics
from fleet import topology
from fleet.paths import REPO_ROOT

# A gRPC subscription without routing rules is delivered on the empty path.
GRPC_DEFAULT_PATH = ""
# dapr.ext.grpc.App.subscribe's parameters, in order.
_SUBSCRIBE_PARAMS = ("pubsub_name", "topic", "metadata", "dead_letter_topic", "rule")


@dataclass(frozen=True)
class Subscription:
    app_id: str
    pubsub: str
    topic: str
    path: str
    metadata: tuple[tuple[str, str], ...]
    dead_letter_topic: str | None
    bulk_subscribe: tuple[tuple[str, Any], ...] = ()  # sorted settings; () when not bulk


def topic_names() -> set[str]:
    """Every topic the contracts name, and the dead-letter topic of each."""
    names = {
        value
        for key, value in vars(topics).items()
        if key.isupper() and isinstance(value, str) and value != topics.PUBSUB
    }
    return names | {topics.dead_letter(name) for name in names}


def subscriptions() -> list[Subscription]:
    subs = [_orchestrator(item) for item in _orchestrator_subscriptions()]
    for app in topology.APPS:
        if app.app_protocol == "grpc":
            subs += grpc_subscriptions(app.app_id, REPO_ROOT / Path(*app.module.split(".")))
    return sorted(subs, key=lambda s: (s.app_id, s.topic))


def _orchestrator_subscriptions() -> list[dict[str, Any]]:
    channel = importlib.import_module("orchestrator.channel")
    items: list[dict[str, Any]] = channel.subscriptions()
    return items


def _orchestrator(item: dict[str, Any]) -> Subscription:
    routes = item.get("routes") or {}
    return Subscription(
        app_id=topology.ORCHESTRATOR.app_id,
        pubsub=item["pubsubname"],
        topic=item["topic"],
        path=item.get("route") or routes.get("default", ""),
        metadata=tuple(sorted((item.get("metadata") or {}).items())),
        dead_letter_topic=item.get("deadLetterTopic"),
        bulk_subscribe=tuple(sorted((item.get("bulkSubscribe") or {}).items())),
    )


class UnreadableSubscription(ValueError):
    """An `app.subscribe(...)` call whose arguments are not constants we can evaluate."""


def grpc_subscriptions(app_id: str, package: Path) -> list[Subscription]:
    found: list[Subscription] = []
    for source in sorted(package.rglob("*.py")):
        tree = ast.parse(source.read_text(), filename=str(source))
        names = {**vars(topics), **_module_constants(tree)}
        for call in ast.walk(tree):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "subscribe"
            ):
                continue
            given = dict(zip(_SUBSCRIBE_PARAMS, call.args, strict=False))
            given.update({kw.arg: kw.value for kw in call.keywords if kw.arg})
            if not {"pubsub_name", "topic"} <= given.keys():
                continue  # some other subscribe(), e.g. a Kafka consumer's
            args = {key: _evaluate(value, names, source) for key, value in given.items()}
            if args.get("rule") is not None:
                raise UnreadableSubscription(f"{source}: routing rules are not mirrored yet")
            found.append(
                Subscription(
                    app_id=app_id,
                    pubsub=args["pubsub_name"],
                    topic=args["topic"],
                    path=GRPC_DEFAULT_PATH,
                    metadata=tuple(sorted((args.get("metadata") or {}).items())),
                    dead_letter_topic=args.get("dead_letter_topic"),
                )
            )
    return found


def _module_constants(tree: ast.Module) -> dict[str, Any]:
    constants: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return constants


def _evaluate(node: ast.expr, names: dict[str, Any], source: Path) -> Any:
    try:
        code = compile(ast.Expression(node), str(source), "eval")
        return eval(code, {"__builtins__": {}}, dict(names))
    except Exception as error:  # the message names the file and the expression
        raise UnreadableSubscription(f"{source}:{node.lineno}: {ast.unparse(node)}") from error

"""docs/iam-policy.json grants exactly the AWS actions the code can call: no more, no less.

The calls are collected statically. Every `recv.method(...)` in the floors below the app (base/,
warehouse/, ingest/, jobs/) and the CLI (genai_lens/) whose receiver can be a boto3 client is found
by following values through the code: a client is what `<anything>.client("<service>")` returns
(`ingest.aws.client`, the doctor's factory and boto3 sessions all end there), and it flows through
assignments, `a or b`, returns, arguments (by the call sites of a function), closures,
`functools.cache` and attributes (`self.s3`, by name). A method is then resolved against botocore's
model of that client's service, paginators by their operation; a method name that is an operation of
a service the code uses but whose receiver cannot be traced fails the test, so a new call cannot
slip past it.

The policy's placeholders, replaced per installation:

| placeholder        | what                                                              |
| ------------------ | ----------------------------------------------------------------- |
| `<LANDING_BUCKET>` | bucket of a landing zone (`s3://<LANDING_BUCKET>/<LANDING_PREFIX>`) |
| `<LANDING_PREFIX>` | its prefix, without slashes at the ends                           |
| `<REGION>`         | region of an invocation-log group                                 |
| `<ACCOUNT_ID>`     | account the log group, profiles or reader role live in            |
| `<LOG_GROUP>`      | the log group Bedrock delivers invocation logs to                 |
| `<READER_ROLE>`    | a `role_arn` named in the config (drop the statement if none)     |

Writing chargeback/FOCUS files to S3 (`genai-lens export --out s3://...` and `[[exports]]`) is the
one write the product makes; it has a policy of its own, docs/iam-policy-exports.json, attached only
to the role that exports (`<EXPORT_BUCKET>`/`<EXPORT_PREFIX>`: the destination's bucket and prefix),
so the reader's policy stays read-only.

Repeat a statement's resources per landing zone, log group or role. For a landing zone at a
bucket's root, drop the `s3:prefix` condition and use `arn:aws:s3:::<LANDING_BUCKET>/*`.
Buckets encrypted with SSE-KMS also need `kms:Decrypt` on their key, which no call names.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "docs" / "iam-policy.json"
PACKAGES = ("base", "warehouse", "ingest", "jobs", "genai_lens")
PLACEHOLDERS = {
    "LANDING_BUCKET",
    "LANDING_PREFIX",
    "REGION",
    "ACCOUNT_ID",
    "LOG_GROUP",
    "READER_ROLE",
}

# IAM's prefix for each service the code may call (not the signing name: cloudwatch signs as
# "monitoring"). A service missing here fails the test until its prefix is added.
IAM_PREFIX = {
    "s3": "s3",
    "logs": "logs",
    "cloudwatch": "cloudwatch",
    "cloudtrail": "cloudtrail",
    "ce": "ce",
    "bedrock": "bedrock",
    "service-quotas": "servicequotas",
    "sts": "sts",
    "pricing": "pricing",
}
# Operations whose IAM action has another name (S3's list and read permissions).
ACTION_OF = {
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
}
# "No permissions are required to perform this operation" (the STS API reference).
NO_PERMISSION = {("sts", "GetCallerIdentity")}
# boto3's S3 transfer methods and the operations s3transfer issues for them.
S3_TRANSFER = {
    "download_file": ["HeadObject", "GetObject"],
    "download_fileobj": ["HeadObject", "GetObject"],
    "upload_file": ["PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"],
    "upload_fileobj": [
        "PutObject",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
    ],
}
NOT_OPERATIONS = {"meta", "exceptions", "close", "can_paginate", "generate_presigned_url"}
# Actions with no resource-level permissions: their statements must say Resource "*".
STAR_ONLY = {
    "cloudwatch:ListMetrics",
    "cloudwatch:GetMetricData",
    "cloudtrail:LookupEvents",
    "ce:GetCostAndUsage",
    "pricing:GetProducts",
    "ce:GetCostForecast",
    "bedrock:GetModelInvocationLoggingConfiguration",
    "bedrock:ListFoundationModels",
    "servicequotas:ListServiceQuotas",
}
READ_VERBS = ("Get", "List", "Describe", "Filter", "Lookup")


@cache
def operations(service: str) -> dict[str, str]:
    """snake_case method name -> operation name, from botocore's model of the service."""
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(op): op for op in model.operation_names}


@cache
def services() -> frozenset[str]:
    return frozenset(botocore.session.get_session().get_available_services())


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    service: str


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Module:
    name: str  # ours (indexed) or external ("boto3", "functools")


@dataclass(frozen=True)
class External:
    name: str  # e.g. "functools.cache"


@dataclass(frozen=True, eq=False)
class Frame:
    """A scope: a module (fn None) or a function/lambda, with bound parameters when inlined
    (None: parameters take every value their call sites pass)."""

    module: str
    fn: ast.FunctionDef | ast.Lambda | None
    parent: Frame | None
    bindings: dict[str, frozenset[object]] | None = field(default=None)


@dataclass(frozen=True, eq=False)
class Func:
    module: str
    node: ast.FunctionDef | ast.Lambda
    env: Frame  # where it was defined (its closure)


Values = frozenset[object]
EMPTY: Values = frozenset()


# --- the code -------------------------------------------------------------------------------


class Code:
    def __init__(self, root: Path, packages: tuple[str, ...]) -> None:
        self.trees: dict[str, ast.Module] = {}
        for package in packages:
            for path in sorted((root / package).rglob("*.py")):
                name = ".".join(path.relative_to(root).with_suffix("").parts)
                self.trees[name.removesuffix(".__init__")] = ast.parse(path.read_text())
        self.parent: dict[ast.AST, ast.AST] = {}
        self.module_of: dict[ast.AST, str] = {}
        for name, tree in self.trees.items():
            for node in ast.walk(tree):
                self.module_of[node] = name
                for child in ast.iter_child_nodes(node):
                    self.parent[child] = node
        self.attr_assigns: dict[str, list[ast.Assign | ast.AnnAssign]] = {}
        for tree in self.trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign | ast.AnnAssign):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        if isinstance(target, ast.Attribute):
                            self.attr_assigns.setdefault(target.attr, []).append(node)
        self.active: set[tuple[object, ...]] = set()
        self.depth = 0

    # scopes

    def enclosing(self, node: ast.AST) -> ast.FunctionDef | ast.Lambda | ast.ClassDef | None:
        node = self.parent.get(node)  # type: ignore[assignment]
        while node is not None and not isinstance(
            node, ast.FunctionDef | ast.Lambda | ast.ClassDef
        ):
            node = self.parent.get(node)  # type: ignore[assignment]
        return node

    def frame_of(self, node: ast.AST) -> Frame:
        """The scope `node` sits in, parameters unbound."""
        chain = []
        scope = self.enclosing(node)
        while scope is not None:
            if not isinstance(scope, ast.ClassDef):
                chain.append(scope)
            scope = self.enclosing(scope)
        frame = Frame(self.module_of[node], None, None)
        for fn in reversed(chain):
            frame = Frame(frame.module, fn, frame)
        return frame

    def class_of(self, fn: ast.AST) -> ast.ClassDef | None:
        scope = self.enclosing(fn)
        return scope if isinstance(scope, ast.ClassDef) else None

    # evaluation

    def eval(self, expr: ast.expr | None, frame: Frame) -> Values:
        key = (id(expr), id(frame))
        if expr is None or key in self.active or self.depth > 40:
            return EMPTY
        self.active.add(key)
        self.depth += 1
        try:
            return self._eval(expr, frame)
        finally:
            self.depth -= 1
            self.active.discard(key)

    def _eval(self, expr: ast.expr, frame: Frame) -> Values:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return frozenset({Text(expr.value)})
        if isinstance(expr, ast.Name):
            return self.lookup(expr.id, frame)
        if isinstance(expr, ast.Attribute):
            return self.attribute(expr, frame)
        if isinstance(expr, ast.BoolOp):
            return frozenset().union(*(self.eval(v, frame) for v in expr.values))
        if isinstance(expr, ast.IfExp):
            return self.eval(expr.body, frame) | self.eval(expr.orelse, frame)
        if isinstance(expr, ast.Lambda):
            return frozenset({Func(frame.module, expr, frame)})
        if isinstance(expr, ast.Call):
            return self.call(expr, frame)
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
            return self.elements(expr.value.id, frame)
        return EMPTY

    def attribute(self, expr: ast.Attribute, frame: Frame) -> Values:
        out: set[object] = set()
        for base in self.eval(expr.value, frame):
            if isinstance(base, Module) and base.name in self.trees:
                out |= self.lookup(expr.attr, Frame(base.name, None, None))
            elif isinstance(base, Module):
                out.add(External(f"{base.name}.{expr.attr}"))
        if not out:  # an instance attribute, by name: `self.s3`, `landing.s3`
            for assign in self.attr_assigns.get(expr.attr, []):
                out |= self.eval(assign.value, self.frame_of(assign))
        return frozenset(out)

    def call(self, expr: ast.Call, frame: Frame) -> Values:
        out: set[object] = set()
        callees = self.eval(expr.func, frame)
        for callee in callees:
            if isinstance(callee, Func):
                out |= self.inline(callee, expr, frame)
            elif isinstance(callee, External) and callee.name in (
                "functools.cache",
                "functools.lru_cache",
            ):
                out |= self.eval(expr.args[0], frame) if expr.args else EMPTY
        session_client = isinstance(expr.func, ast.Attribute) and expr.func.attr == "client"
        if session_client and expr.args and not any(isinstance(c, Func) for c in callees):
            for name in self.eval(expr.args[0], frame):
                if isinstance(name, Text) and name.value in services():
                    out.add(Client(name.value))
        return frozenset(out)

    def inline(self, func: Func, call: ast.Call, frame: Frame) -> Values:
        """The values `func` returns when called from `frame` with `call`'s arguments."""
        args = func.node.args
        params = [a.arg for a in [*args.posonlyargs, *args.args]]
        if params[:1] in (["self"], ["cls"]) and isinstance(call.func, ast.Attribute):
            params = params[1:]
        bound: dict[str, frozenset[object]] = {}
        for name, arg in zip(params, call.args, strict=False):
            if not isinstance(arg, ast.Starred):
                bound[name] = self.eval(arg, frame)
        for kw in call.keywords:
            if kw.arg is not None:
                bound[kw.arg] = self.eval(kw.value, frame)
        inner = Frame(func.module, func.node, func.env, bound)
        if isinstance(func.node, ast.Lambda):
            return self.eval(func.node.body, inner)
        returns = [n for n in self.body_nodes(func.node) if isinstance(n, ast.Return)]
        return frozenset().union(*(self.eval(r.value, inner) for r in returns))

    def body_nodes(self, fn: ast.FunctionDef | ast.Lambda) -> Iterator[ast.AST]:
        """The nodes of `fn`'s own body, not of functions nested in it."""
        stack: list[ast.AST] = list(ast.iter_child_nodes(fn))
        while stack:
            node = stack.pop()
            yield node
            if not isinstance(node, ast.FunctionDef | ast.Lambda | ast.ClassDef):
                stack.extend(ast.iter_child_nodes(node))

    def lookup(self, name: str, frame: Frame) -> Values:
        if frame.fn is None:
            return self.module_name(name, frame.module)
        out: set[object] = set()
        found = False
        fn = frame.fn
        args = fn.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        if name in [a.arg for a in every]:
            found = True
            out |= self.parameter(name, frame)
        for node in self.body_nodes(fn):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    found = True
                    out |= self.eval(node.value, frame)
            elif isinstance(node, ast.FunctionDef) and node.name == name:
                found = True
                out.add(Func(frame.module, node, frame))
            elif isinstance(node, ast.Import | ast.ImportFrom) and (
                bound := self.imported(node, name)
            ):
                found = True
                out |= bound
        if found:
            return frozenset(out)
        return self.lookup(name, frame.parent) if frame.parent else EMPTY

    def parameter(self, name: str, frame: Frame) -> Values:
        fn = frame.fn
        assert fn is not None
        if frame.bindings is not None and name in frame.bindings:
            return frame.bindings[name]
        out = set(self.default(name, fn, frame))
        if frame.bindings is None:  # every value a call site passes
            for call, caller, skip in self.callers(fn):
                out |= self.argument(name, fn, call, caller, skip)
        return frozenset(out)

    def default(self, name: str, fn: ast.FunctionDef | ast.Lambda, frame: Frame) -> Values:
        args = fn.args
        positional = [*args.posonlyargs, *args.args]
        with_default = positional[len(positional) - len(args.defaults) :]
        pairs = list(zip(with_default, args.defaults, strict=True))
        pairs += [
            (a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None
        ]
        for arg, value in pairs:
            if arg.arg == name:
                return self.eval(value, frame.parent or frame)
        return EMPTY

    def argument(
        self, name: str, fn: ast.FunctionDef | ast.Lambda, call: ast.Call, caller: Frame, skip: int
    ) -> Values:
        for kw in call.keywords:
            if kw.arg == name:
                return self.eval(kw.value, caller)
        params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]][skip:]
        if name in params and params.index(name) < len(call.args):
            arg = call.args[params.index(name)]
            return EMPTY if isinstance(arg, ast.Starred) else self.eval(arg, caller)
        return EMPTY

    def callers(self, fn: ast.FunctionDef | ast.Lambda) -> list[tuple[ast.Call, Frame, int]]:
        return self.call_sites().get(fn, [])

    @cache  # noqa: B019 - one Code per test session
    def call_sites(self) -> dict[ast.AST, list[tuple[ast.Call, Frame, int]]]:
        """Every call whose callee is found by name: a function, a method through self, a class
        (its __init__) or module.function. Values passed around (callbacks) are not callers."""
        sites: dict[ast.AST, list[tuple[ast.Call, Frame, int]]] = {}
        for tree in self.trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    for fn, skip in self.named_callees(node):
                        sites.setdefault(fn, []).append((node, self.frame_of(node), skip))
        return sites

    def named_callees(self, call: ast.Call) -> list[tuple[ast.AST, int]]:
        func = call.func
        out: list[tuple[ast.AST, int]] = []
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id in ("self", "cls"):
                cls = self.class_of(self.enclosing(call) or call)
                for item in cls.body if cls else []:
                    if isinstance(item, ast.FunctionDef) and item.name == func.attr:
                        out.append((item, 1))
                return out
            for base in self.imports(func.value.id, self.frame_of(call)):
                if isinstance(base, Module) and base.name in self.trees:
                    out += self.defined(base.name, func.attr)
        elif isinstance(func, ast.Name):
            scope = self.frame_of(call)
            while scope.fn is not None:
                for node in self.body_nodes(scope.fn):
                    if isinstance(node, ast.FunctionDef) and node.name == func.id:
                        return [(node, 0)]
                scope = scope.parent  # type: ignore[assignment]
            out += self.defined(scope.module, func.id)
        return out

    def defined(self, module: str, name: str) -> list[tuple[ast.AST, int]]:
        """A module-level function (skip 0) or class's __init__ (skip 1), following imports."""
        for node in self.trees[module].body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return [(node, 0)]
            if isinstance(node, ast.ClassDef) and node.name == name:
                return [
                    (item, 1)
                    for item in node.body
                    if isinstance(item, ast.FunctionDef) and item.name == "__init__"
                ]
            if isinstance(node, ast.ImportFrom) and node.module in self.trees:
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        return self.defined(node.module, alias.name)
        return []

    def imported(self, node: ast.Import | ast.ImportFrom, name: str) -> Values:
        """What `name` is bound to by this import statement, if it binds it."""
        out: set[object] = set()
        for alias in node.names:
            if isinstance(node, ast.Import):
                if (alias.asname or alias.name.split(".")[0]) == name:
                    out.add(Module(alias.name if alias.asname else name))
            elif node.module and (alias.asname or alias.name) == name:
                full = f"{node.module}.{alias.name}"
                if full in self.trees:
                    out.add(Module(full))
                elif node.module in self.trees:
                    out |= self.module_name(alias.name, node.module)
                else:
                    out.add(External(full))
        return frozenset(out)

    def imports(self, name: str, frame: Frame) -> Values:
        """`name` as bound by an import in the scope chain (syntax only: no data flow)."""
        while frame.fn is not None:
            for node in self.body_nodes(frame.fn):
                if isinstance(node, ast.Import | ast.ImportFrom) and (
                    found := self.imported(node, name)
                ):
                    return found
            frame = frame.parent  # type: ignore[assignment]
        for node in self.trees[frame.module].body:
            if isinstance(node, ast.Import | ast.ImportFrom) and (
                found := self.imported(node, name)
            ):
                return found
        return EMPTY

    def module_name(self, name: str, module: str) -> Values:
        out: set[object] = set()
        frame = Frame(module, None, None)
        for node in self.trees[module].body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                out.add(Func(module, node, frame))
            elif isinstance(node, ast.Import | ast.ImportFrom):
                out |= self.imported(node, name)
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets
            ):
                out |= self.eval(node.value, frame)
        return frozenset(out)

    def elements(self, name: str, frame: Frame) -> Values:
        """`d[k]`: whatever is stored with `d[...] = value` in the same function."""
        if frame.fn is None:
            return EMPTY
        out: set[object] = set()
        for node in self.body_nodes(frame.fn):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == name
                    ):
                        out |= self.eval(node.value, frame)
        return frozenset(out)


# --- collecting the calls -------------------------------------------------------------------


@dataclass(frozen=True)
class Use:
    service: str
    operation: str
    where: str  # module:line


@cache
def collected() -> tuple[frozenset[Use], tuple[str, ...]]:
    """Every (service, operation) a client in the code can be asked for, and the calls whose
    receiver looks like a client but could not be traced."""
    code = Code(ROOT, PACKAGES)
    used = literal_services(code)
    methods = {m for s in used for m in operations(s)} | set(S3_TRANSFER) | {"get_paginator"}
    uses: set[Use] = set()
    untraced: list[str] = []
    for module, tree in code.trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            method = node.func.attr
            if method not in methods:
                continue
            where = f"{module}:{node.lineno}"
            clients = [
                v for v in code.eval(node.func.value, code.frame_of(node)) if isinstance(v, Client)
            ]
            if not clients:
                untraced.append(f"{where} .{method}()")
            for client in clients:
                uses |= {Use(client.service, op, where) for op in resolve(client, method, node)}
    return frozenset(uses), tuple(untraced)


def literal_services(code: Code) -> set[str]:
    """Services named by a string literal as a call's first argument (`client("s3", ...)`);
    a literal that only looks like one (`.get("forecast")`) just widens the search."""
    out = set()
    for tree in code.trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and first.value in services():
                    out.add(first.value)
    return out


def resolve(client: Client, method: str, call: ast.Call) -> list[str]:
    ops = operations(client.service)
    if method == "get_paginator":
        name = call.args[0]
        assert isinstance(name, ast.Constant), f"get_paginator({ast.unparse(name)}): use a literal"
        return [ops[name.value]]
    if method in S3_TRANSFER and client.service == "s3":
        return S3_TRANSFER[method]
    if method in NOT_OPERATIONS:
        return []
    assert method in ops, f"{client.service} client has no operation {method}"
    return [ops[method]]


def action(use: Use) -> str | None:
    if (use.service, use.operation) in NO_PERMISSION:
        return None
    assert use.service in IAM_PREFIX, f"add the IAM prefix of {use.service} to IAM_PREFIX"
    return ACTION_OF.get((use.service, use.operation), f"{IAM_PREFIX[use.service]}:{use.operation}")


def code_actions() -> set[str]:
    return {a for u in collected()[0] if (a := action(u)) is not None}


def policy() -> dict[str, object]:
    return json.loads(POLICY.read_text())


def statements() -> list[dict[str, object]]:
    found = policy()["Statement"]
    assert isinstance(found, list)
    return found


def as_list(value: object) -> list[str]:
    return [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]


def policy_actions() -> set[str]:
    return {a for s in statements() for a in as_list(s["Action"])}


# --- tests ----------------------------------------------------------------------------------


def test_every_client_call_is_traced() -> None:
    assert collected()[1] == ()


def test_the_calls_found_are_the_ones_the_ingesters_and_doctor_make() -> None:
    """A guard on the collector itself: these are known calls, each in its module."""
    found = {(u.service, u.operation, u.where.split(":")[0]) for u in collected()[0]}
    for expected in [
        ("s3", "ListObjectsV2", "ingest.landing"),
        ("s3", "GetObject", "ingest.landing"),  # get_object, streamed to the scratch file
        ("s3", "ListObjectsV2", "ingest.cost.exports"),
        ("logs", "FilterLogEvents", "ingest.invocation_logs.ingester"),
        ("cloudwatch", "GetMetricData", "ingest.metrics.queries"),
        ("cloudtrail", "LookupEvents", "ingest.cloudtrail.ingester"),
        ("ce", "GetCostAndUsage", "ingest.cost.explorer"),
        ("ce", "GetCostForecast", "ingest.cost.explorer"),
        ("bedrock", "ListTagsForResource", "ingest.invocation_logs.profiles"),
        ("sts", "AssumeRole", "ingest.aws"),
        ("bedrock", "GetModelInvocationLoggingConfiguration", "jobs.doctor"),
    ]:
        assert expected in found


def export_policy() -> dict[str, object]:
    return json.loads((POLICY.parent / "iam-policy-exports.json").read_text())


def test_policy_grants_exactly_what_the_code_calls() -> None:
    writes = {a for st in export_policy()["Statement"] for a in as_list(st["Action"])}  # type: ignore[index, union-attr]
    granted, needed = policy_actions() | writes, code_actions()
    assert granted - needed == set(), "granted but never called"
    assert needed - granted == set(), "called but not granted"


def test_policy_is_read_only() -> None:
    for act in policy_actions():
        assert "*" not in act and "?" not in act, act
        verb = act.split(":")[1]
        assert verb.startswith(READ_VERBS) or act == "sts:AssumeRole", f"{act} is not a read"


def test_the_export_policy_writes_only_under_the_export_prefix() -> None:
    [st] = export_policy()["Statement"]  # type: ignore[misc]
    assert st["Action"] == "s3:PutObject" and st["Effect"] == "Allow"
    assert st["Resource"] == "arn:aws:s3:::<EXPORT_BUCKET>/<EXPORT_PREFIX>/*"


def test_policy_shape() -> None:
    doc = policy()
    assert doc["Version"] == "2012-10-17"
    for st in statements():
        assert st["Effect"] == "Allow"
        assert not {"NotAction", "NotResource", "Principal"} & set(st), st["Sid"]
        resources = as_list(st["Resource"])
        if set(as_list(st["Action"])) <= STAR_ONLY:
            assert resources == ["*"], st["Sid"]
        else:
            assert "*" not in resources, f"{st['Sid']} can be scoped to its resources"


def test_placeholders_are_the_documented_ones() -> None:
    used = set(re.findall(r"<([A-Z_]+)>", POLICY.read_text()))
    assert used == PLACEHOLDERS
    assert __doc__ is not None
    assert all(f"`<{name}>`" in __doc__ for name in PLACEHOLDERS)


def test_s3_listing_is_limited_to_the_landing_prefix() -> None:
    [listing] = [s for s in statements() if "s3:ListBucket" in as_list(s["Action"])]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["<LANDING_PREFIX>/*"]}}


@pytest.mark.parametrize("package", PACKAGES)
def test_actions_named_in_messages_are_granted(package: str) -> None:
    """Error messages tell users what to grant: those names must be in the policy too."""
    named = set()
    for path in (ROOT / package).rglob("*.py"):
        named |= set(re.findall(r"\b(?:s3|logs|cloudwatch|cloudtrail|ce|bedrock|sts):[A-Z]\w+",
                                path.read_text()))  # fmt: skip
    named.discard("sts:GetCallerIdentity")  # needs no permission
    assert named - policy_actions() == set()

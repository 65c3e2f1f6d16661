#!/usr/bin/env python3
"""Drive an MCP server with the official Python SDK (mcp 2.3.0) through a JSON plan.

    client.py [--timeout S] [--mode M] --stdio PROGRAM [ARG...]  < plan.json
    client.py [--timeout S] [--mode M] --http URL [--key KEY]    < plan.json

Options go before --stdio: everything after it is the server's command line. The
child inherits this process's whole environment. --key sends `Authorization:
Bearer KEY` on every HTTP request. --mode is the SDK's connect mode: `auto` (its
default: probe `server/discover`, fall back to the `initialize` handshake),
`legacy` (handshake only) or `2026-07-28` (adopt that version without a probe).
--tasks declares the tasks extension (io.modelcontextprotocol/tasks); without it
the server answers every call in the plain way.

The plan is a JSON list of steps, each an object with one of these keys:
    {"list_tools": true}
    {"call": TOOL, "args": {...}, "progress": BOOL}
    {"call_task": TOOL, "args": {...}, "progress": BOOL}
    {"sleep": SECONDS}
    {"repeat_until": {"call": TOOL, "args": {...}, "path": "a.b", "in": [...],
                      "max_seconds": 60, "interval": 0.5, "progress": BOOL}}
A string "${N.dotted.path}" anywhere in args becomes the value at that path in
step N's structuredContent (0-based; digits index lists), keeping its JSON type.

Stdout gets one JSON document: {"server": {...}, "steps": [...], "received":
[every JSON-RPC message the server sent]}. Every call step reports isError
(null when there is no result), structured, text, progress, error (a
protocol-level failure), output_schema_error and task ({"id", "statuses"} when
the server answered with a task, else null); repeat_until adds attempts and
satisfied. call_task gives {"unsupported": why} on a connection where the SDK
cannot take a task result.

Exit status: 0 the plan ran (whatever the tools answered); 1 could not connect
or initialize (or the driver failed otherwise); 2 bad usage or plan; 3 the
whole run outlived --timeout. On 1 and 3 the partial document is still written.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio
import httpx2
import mcp.types as types
from jsonschema import Draft202012Validator, SchemaError
from jsonschema.exceptions import best_match
from mcp import Client, MCPError, StdioServerParameters, stdio_client
from mcp.client import ClientExtension, ClientSession, ResultClaim, Transport
from mcp.client.streamable_http import streamable_http_client
from mcp.types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import TypeAdapter, ValidationError
from referencing.exceptions import Unresolvable

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
STEP_KINDS = ("list_tools", "call", "call_task", "sleep", "repeat_until")
REFERENCE = re.compile(r"\$\{(\d+)\.([^}]+)\}")
MISSING = object()


class PlanError(Exception):
    """The plan asks for something that cannot be done (bad shape, dangling reference)."""


class TaskError(Exception):
    """A task ended without a tool result."""


class TaskState(types.Result):
    """The SEP-2663 task fields the driver reads; a task handle and a tasks/get result both carry them."""

    task_id: str
    status: str
    status_message: str | None = None
    poll_interval_ms: int | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class TaskHandle(TaskState):
    """A tools/call answered with a task instead of its result (SEP-2663 `CreateTaskResult`)."""

    result_type: Literal["task"]


class GetTaskRequest(types.GetTaskRequest):
    # SEP-2663: over Streamable HTTP, tasks/* carry the task id in the Mcp-Name header;
    # the SDK sets that header from `name_param`.
    name_param = "taskId"


class TasksExtension(ClientExtension):
    """Declares io.modelcontextprotocol/tasks through the SDK's extension API.

    mcp 2.3.0 has no tasks client of its own, but a result claim makes it advertise
    the extension, and accept `resultType: "task"` from tools/call, exactly on the
    connections where it can: 2026-07-28 ones. Claims are inactive on handshake-era
    versions, whose tools/call result the SDK validates as a plain CallToolResult.
    """

    identifier = TASKS_EXTENSION

    def claims(self) -> list[ResultClaim[Any]]:
        # `resolve` is what Client.call_tool would use. The driver sends tools/call itself
        # and calls follow_task directly, to record the statuses and to keep results
        # that fail output-schema validation (the SDK's own call path raises on those).
        return [
            ResultClaim(
                result_type="task",
                model=TaskHandle,
                resolve=lambda handle, ctx: follow_task(ctx.session, handle, []),
            )
        ]


CALL_RESULT: TypeAdapter[types.CallToolResult | TaskHandle] = TypeAdapter(types.CallToolResult | TaskHandle)


async def follow_task(session: ClientSession, handle: TaskState, statuses: list[str]) -> types.CallToolResult:
    """Poll tasks/get until the task leaves `working`; append each status change to `statuses`."""
    statuses.append(handle.status)
    state = handle
    while True:
        # A handle carries no result even when already completed, so poll at least once.
        await anyio.sleep((state.poll_interval_ms or 500) / 1000)
        request = GetTaskRequest(params=types.GetTaskRequestParams(task_id=handle.task_id))
        state = await session.send_request(request, TaskState)
        if state.status != statuses[-1]:
            statuses.append(state.status)
        if state.status != "working":
            break
    match state.status:
        case "completed" if state.result is not None:
            return types.CallToolResult.model_validate(state.result, by_name=False)
        case "completed":
            raise TaskError("task completed without a result")
        case "failed":
            raise TaskError(f"task failed: {json.dumps(state.error)}")
        case "cancelled":
            raise TaskError(f"task cancelled: {state.status_message}")
        case "input_required":
            raise TaskError("task requires client input, which this driver does not give")
        case other:
            raise TaskError(f"task has unknown status {other!r}")


class RecordingReadStream:
    """The transport's read stream, keeping a JSON copy of every message it delivers."""

    def __init__(self, inner: Any, sink: list[Any]) -> None:
        self._inner = inner
        self._sink = sink

    @property
    def last_context(self) -> Any:
        # The SDK's dispatcher reads the sender's contextvars from the stream it was handed.
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> Any:
        item = await self._inner.receive()
        if isinstance(item, Exception):
            self._sink.append({"transport_error": repr(item)})
        else:
            self._sink.append(item.message.model_dump(by_alias=True, mode="json", exclude_unset=True))
        return item

    def __aiter__(self) -> RecordingReadStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> RecordingReadStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


@asynccontextmanager
async def recording(transport: Transport, sink: list[Any]) -> AsyncIterator[Any]:
    async with transport as (read_stream, write_stream):
        yield RecordingReadStream(read_stream, sink), write_stream


async def note_http_error(response: httpx2.Response) -> None:
    # The SDK turns an HTTP error status into a bare JSON-RPC error; say what the server answered.
    if response.is_error:
        print(f"client.py: note: HTTP {response.status_code} for {response.request.method}", file=sys.stderr)


@asynccontextmanager
async def http_transport(url: str, key: str | None) -> AsyncIterator[Any]:
    # The SDK takes custom headers only through an HTTP client of the caller's, whose
    # lifetime is then the caller's too. Timeouts as the SDK's own default client.
    headers = {"Authorization": f"Bearer {key}"} if key is not None else None
    hooks = {"response": [note_http_error]}
    http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0), event_hooks=hooks)
    async with http, streamable_http_client(url, http_client=http) as streams:
        yield streams


def lookup(value: Any, path: str) -> Any:
    """The value at a dotted path (digits index lists), or MISSING."""
    for key in path.split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return MISSING
    return value


def substitute(value: Any, steps: list[dict[str, Any]]) -> Any:
    """Replace every "${N.path}" string in `value` by that value of step N's structuredContent."""
    if isinstance(value, str) and (ref := REFERENCE.fullmatch(value)):
        index, path = int(ref[1]), ref[2]
        if index >= len(steps):
            raise PlanError(f"{value}: step {index} has not run")
        found = lookup(steps[index].get("structured"), path)
        if found is MISSING:
            raise PlanError(f"{value}: step {index}'s structuredContent has no {path}")
        return found
    if isinstance(value, dict):
        return {key: substitute(item, steps) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, steps) for item in value]
    return value


def describe_error(error: Exception) -> str:
    if isinstance(error, MCPError):
        return f"MCP error {error.code}: {error.message}"
    if isinstance(error, ValidationError):
        return f"invalid message from server: {error}"
    if isinstance(error, PlanError):
        return f"plan: {error}"
    if isinstance(error, TaskError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def describe_tool(tool: types.Tool) -> dict[str, Any]:
    return {
        "name": tool.name,
        "description": tool.description,
        "inputSchema": tool.input_schema,
        "outputSchema": tool.output_schema,
        "annotations": tool.annotations.model_dump(by_alias=True, mode="json", exclude_none=True)
        if tool.annotations is not None
        else None,
    }


def schema_errors(tools: list[types.Tool]) -> list[dict[str, str]]:
    """Every tool schema that is not a valid JSON Schema.

    An inputSchema whose type is not "object" never gets here: the SDK rejects the
    whole tools/list result for it, which the step reports as its error.
    """
    errors = []
    for tool in tools:
        for key, schema in (("inputSchema", tool.input_schema), ("outputSchema", tool.output_schema)):
            if schema is None:
                continue
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as error:
                errors.append({"tool": tool.name, "schema": key, "error": error.message})
    return errors


def output_schema_error(tool: types.Tool | None, result: types.CallToolResult) -> str | None:
    # Tool errors are exempt, as in the SDK's own check: their content explains the failure.
    if result.is_error or tool is None or tool.output_schema is None:
        return None
    if result.structured_content is None:
        return "the tool declares an outputSchema but returned no structuredContent"
    try:
        Draft202012Validator.check_schema(tool.output_schema)
        error = best_match(Draft202012Validator(tool.output_schema).iter_errors(result.structured_content))
    except (SchemaError, Unresolvable) as invalid:
        return f"the outputSchema cannot be applied: {invalid}"
    return None if error is None else f"{error.message} (at {error.json_path})"


class Driver:
    def __init__(self, client: Client, steps: list[dict[str, Any]]) -> None:
        self.client = client
        self.steps = steps
        self.tools: dict[str, types.Tool] | None = None

    async def run(self, plan: list[dict[str, Any]]) -> None:
        for step in plan:
            self.steps.append(await self.run_step(step))

    async def run_step(self, step: dict[str, Any]) -> dict[str, Any]:
        if "list_tools" in step:
            return await self.list_tools()
        if "sleep" in step:
            await anyio.sleep(step["sleep"])
            return {"slept": step["sleep"]}
        if "call" in step:
            return await self.call(step["call"], step.get("args", {}), step.get("progress", False))
        if "call_task" in step:
            version = self.client.protocol_version
            if version not in MODERN_PROTOCOL_VERSIONS:
                return {
                    "unsupported": f"mcp 2.3.0 takes task results only on {'/'.join(MODERN_PROTOCOL_VERSIONS)} "
                    f"connections; this one negotiated {version}"
                }
            return await self.call(step["call_task"], step.get("args", {}), step.get("progress", False))
        return await self.repeat_until(step["repeat_until"])

    async def fetch_tools(self) -> list[types.Tool]:
        tools: list[types.Tool] = []
        cursor = None
        while True:
            page = await self.client.list_tools(cursor=cursor)
            tools += page.tools
            cursor = page.next_cursor
            if cursor is None:
                break
        self.tools = {tool.name: tool for tool in tools}
        return tools

    async def list_tools(self) -> dict[str, Any]:
        try:
            tools = await self.fetch_tools()
        except (MCPError, ValidationError) as error:
            return {"tools": [], "schema_errors": [], "error": describe_error(error)}
        return {"tools": [describe_tool(tool) for tool in tools], "schema_errors": schema_errors(tools), "error": None}

    async def call(self, name: str, args: Any, track_progress: bool) -> dict[str, Any]:
        updates: list[dict[str, Any]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            updates.append({"progress": progress, "total": total, "message": message})

        out: dict[str, Any] = {
            "isError": None,
            "structured": None,
            "text": "",
            "progress": updates,
            "error": None,
            "output_schema_error": None,
            "task": None,
        }
        # Listed before the first call: the output schemas are needed afterwards, and on
        # 2026-07-28 the SDK derives a tool's Mcp-Param-* headers from its listing. A listing
        # that fails leaves the call to be made all the same, only unchecked.
        listing_error = None
        if self.tools is None:
            try:
                await self.fetch_tools()
            except (MCPError, ValidationError) as error:
                listing_error = describe_error(error)
        try:
            arguments = substitute(args, self.steps)
            # Not session.call_tool: it raises on structuredContent that fails the outputSchema,
            # and the driver reports such a result along with the failure.
            request = types.CallToolRequest(params=types.CallToolRequestParams(name=name, arguments=arguments))
            result = await self.client.session.send_request(
                request, CALL_RESULT, progress_callback=on_progress if track_progress else None
            )
            if isinstance(result, TaskHandle):
                out["task"] = {"id": result.task_id, "statuses": []}
                result = await follow_task(self.client.session, result, out["task"]["statuses"])
        except (MCPError, ValidationError, PlanError, TaskError) as error:
            out["error"] = describe_error(error)
            return out
        out["isError"] = result.is_error
        out["structured"] = result.structured_content
        out["text"] = "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))
        if self.tools is None:
            out["output_schema_error"] = f"not checked, tools/list failed: {listing_error}"
        else:
            out["output_schema_error"] = output_schema_error(self.tools.get(name), result)
        return out

    async def repeat_until(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Call until structuredContent's `path` is one of `in`, the call fails, or time runs out."""
        deadline = anyio.current_time() + spec.get("max_seconds", 60)
        interval = spec.get("interval", 0.5)
        attempts = 0
        while True:
            out = await self.call(spec["call"], spec.get("args", {}), spec.get("progress", False))
            attempts += 1
            satisfied = out["error"] is None and lookup(out["structured"], spec["path"]) in spec["in"]
            # A protocol-level error is not a state the tool moves out of: stop on it.
            if satisfied or out["error"] is not None or anyio.current_time() + interval > deadline:
                return {**out, "attempts": attempts, "satisfied": satisfied}
            await anyio.sleep(interval)


def describe_server(client: Client) -> dict[str, Any]:
    info = client.server_info  # None from a 2026-07-28 server that does not name itself
    return {
        "name": info.name if info is not None else None,
        "version": info.version if info is not None else None,
        "protocol_version": client.protocol_version,
        "capabilities": client.server_capabilities.model_dump(by_alias=True, mode="json", exclude_none=True),
        "instructions": client.instructions,
    }


async def run(args: argparse.Namespace, plan: list[dict[str, Any]], doc: dict[str, Any]) -> None:
    if args.stdio:
        # The SDK hands the child only HOME, LOGNAME, PATH, SHELL, TERM and USER unless told
        # otherwise; tests configure the server through its environment.
        server = StdioServerParameters(command=args.stdio[0], args=args.stdio[1:], env=dict(os.environ))
        transport = stdio_client(server)
    else:
        transport = http_transport(args.http, args.key)
    recorded = recording(transport, doc["received"])
    with anyio.fail_after(args.timeout):
        # Declared only on request: a client that supports tasks lets the server pick them for
        # every call, and the tests need the plain (progress-notifying) path as well.
        extensions = [TasksExtension()] if args.tasks else []
        client = Client(recorded, mode=args.mode, extensions=extensions, cache=None)
        async with client:
            doc["server"] = describe_server(client)
            await Driver(client, doc["steps"]).run(plan)


def load_plan(text: str) -> list[dict[str, Any]]:
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanError(f"not JSON: {error}") from None
    if not isinstance(plan, list):
        raise PlanError("not a JSON list of steps")
    for index, step in enumerate(plan):
        kinds = [kind for kind in STEP_KINDS if isinstance(step, dict) and kind in step]
        if len(kinds) != 1:
            raise PlanError(f"step {index}: needs exactly one of {', '.join(STEP_KINDS)}")
        if kinds == ["sleep"] and not isinstance(step["sleep"], int | float):
            raise PlanError(f"step {index}: sleep takes a number of seconds")
        spec = step.get("repeat_until")
        if kinds == ["repeat_until"] and not (
            isinstance(spec, dict) and {"call", "path", "in"} <= spec.keys() and isinstance(spec["in"], list)
        ):
            raise PlanError(f"step {index}: repeat_until needs call, path and a list in")
    return plan


def leaf_errors(error: Exception) -> list[Exception]:
    """The SDK's task groups wrap failures in exception groups; their leaves say what went wrong."""
    if isinstance(error, ExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaf_errors(inner)]
    return [error]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run a JSON plan (stdin) against an MCP server.")
    parser.add_argument("--stdio", nargs=argparse.REMAINDER, metavar="PROGRAM [ARG...]")
    parser.add_argument("--http", metavar="URL")
    parser.add_argument("--key", help="send Authorization: Bearer KEY (HTTP only)")
    parser.add_argument("--timeout", type=float, default=120.0, help="whole-run limit in seconds")
    parser.add_argument("--mode", choices=("auto", "legacy", *MODERN_PROTOCOL_VERSIONS), default="auto")
    parser.add_argument(
        "--tasks",
        action="store_true",
        help="declare the tasks extension: a server may then answer any tools/call with a task",
    )
    args = parser.parse_args()
    if bool(args.stdio) == bool(args.http):
        parser.error("give exactly one of --stdio PROGRAM [ARG...] and --http URL")
    if args.key is not None and not args.http:
        parser.error("--key goes with --http")
    return args


def main() -> int:
    args = parse_args()
    try:
        plan = load_plan(sys.stdin.read())
    except PlanError as error:
        print(f"client.py: plan: {error}", file=sys.stderr)
        return 2
    doc: dict[str, Any] = {"server": None, "steps": [], "received": []}

    def where() -> str:
        return "connecting" if doc["server"] is None else f"running step {len(doc['steps'])}"

    try:
        anyio.run(run, args, plan, doc)
        status = 0
    except TimeoutError:
        print(f"client.py: gave up after {args.timeout:g}s while {where()}", file=sys.stderr)
        status = 3
    except Exception as error:
        causes = "; ".join(describe_error(leaf) for leaf in leaf_errors(error))
        print(f"client.py: failed while {where()}: {causes}", file=sys.stderr)
        status = 1
    print(json.dumps(doc))
    return status


if __name__ == "__main__":
    sys.exit(main())

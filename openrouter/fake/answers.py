"""What the double answers a chat completion with, beyond plain text: tool calls
(``tools``, ``tool_choice``, ``parallel_tool_calls``), a follow-up on tool results,
structured output (``response_format``), ``logprobs`` and ``reasoning``.

A model honours a feature when its catalogue entry lists it in ``supported_parameters``;
as OpenRouter does, an unsupported ``tools`` is a 404 (no endpoint supports tool use),
other unsupported parameters are ignored unless ``provider.require_parameters`` is set.

When tools are offered, the double calls one when ``tool_choice`` asks for it
(``"required"`` or a named function) or, with ``"auto"``, when the last user message
names a tool (``get_weather`` or ``get weather``) or says "call" / "use the tool";
every tool it names is called (one per call when ``parallel_tool_calls`` is false).
Arguments are the smallest JSON that fits the tool's ``parameters`` (schema.instance).
After ``tool`` messages it answers in text, quoting what each tool returned.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import media
from .media import digest
from .replies import BadRequest, NoEndpoints
from .schema import SchemaError, instance

ROLES = ("system", "developer", "user", "assistant", "tool")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
MAX_TOP_LOGPROBS = 20
_ASKS_FOR_A_TOOL = re.compile(r"\b(call|use)\b.*\b(tool|function)s?\b|\bcall\b", re.IGNORECASE)


@dataclass
class Answer:
    """One assistant turn: text pieces, or tool calls; maybe reasoning; maybe logprobs."""

    pieces: list[str] = field(default_factory=list)
    tool_calls: list[dict] = field(default_factory=list)
    reasoning: str | None = None
    reasoning_tokens: int = 0
    top_logprobs: int | None = None  # None: no logprobs block
    finish_reason: str = "stop"
    extra_prompt_tokens: int = 0
    structured: bool = False  # the text is JSON (response_format)

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": None if self.tool_calls else self.text}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        if self.reasoning is not None:
            message["reasoning"] = self.reasoning
        message["refusal"] = None
        return message

    def logprobs(self) -> dict | None:
        if self.top_logprobs is None:
            return None
        return {"content": [logprob_entry(piece, self.top_logprobs) for piece in self.pieces], "refusal": None}


def check_messages(messages: list) -> None:
    """The roles OpenAI defines; tool messages answer an earlier call; an assistant
    message without content carries tool calls."""
    called: set[str] = set()
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise BadRequest(f"messages[{index}].role must be one of {', '.join(ROLES)}.")
        role, content = message["role"], message.get("content")
        calls = message.get("tool_calls")
        if role == "assistant" and calls is not None:
            if not isinstance(calls, list):
                raise BadRequest(f"messages[{index}].tool_calls must be a list.")
            for call in calls:
                function = call.get("function") if isinstance(call, dict) else None
                if not isinstance(function, dict) or not isinstance(call.get("id"), str):
                    raise BadRequest(f"messages[{index}].tool_calls items need an id and a function.")
                called.add(call["id"])
        if role == "tool":
            if message.get("tool_call_id") not in called:
                raise BadRequest(
                    f"messages[{index}]: a message with role 'tool' must answer a preceding message's tool_calls "
                    "(tool_call_id)."
                )
        if content is None and not (role == "assistant" and calls):
            raise BadRequest(f"messages[{index}].content is required (null only beside tool_calls).")


def plan(body: dict, model_id: str, supported: tuple[str, ...], messages: list) -> Answer:
    """The answer to a text chat completion (before max_tokens cuts it)."""
    require = (
        bool((body.get("provider") or {}).get("require_parameters"))
        if isinstance(body.get("provider"), dict)
        else False
    )

    def honoured(name: str, parameter: str) -> bool:
        if body.get(name) in (None, False):
            return False
        if parameter in supported:
            return True
        if require:
            raise NoEndpoints(f"No endpoints found that can handle the requested parameters ({name}) for {model_id}.")
        return False

    tools = _tools(body.get("tools"))
    if tools and "tools" not in supported:
        raise NoEndpoints(f"No endpoints found that support tool use for {model_id}.")
    choice = _tool_choice(body.get("tool_choice"), tools)
    answer = Answer(extra_prompt_tokens=media.count_tokens(json.dumps(tools)) if tools else 0)
    prompt = media.last_user_text(messages)
    if honoured("reasoning", "reasoning"):
        _reason(answer, body["reasoning"], prompt)
    if honoured("logprobs", "logprobs"):
        answer.top_logprobs = _top_logprobs(body)
    elif body.get("top_logprobs") is not None and not body.get("logprobs"):
        raise BadRequest("top_logprobs needs logprobs: true.")
    results = _tool_results(messages)
    if tools and choice != "none" and not results:
        chosen = _tools_to_call(tools, choice, prompt, body.get("parallel_tool_calls") is not False)
        if chosen:
            answer.tool_calls = [_call(tool, prompt, index) for index, tool in enumerate(chosen)]
            answer.finish_reason = "tool_calls"
            return answer
    if results:
        text = f"Offline answer from {model_id}. " + " ".join(
            f"The tool {name} returned: {content}." for name, content in results
        )
    else:
        text, answer.structured = _formatted(body.get("response_format"), model_id, messages, honoured)
    answer.pieces = media.words_of(text)
    return answer


def _tools(value: Any) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest("tools must be a list.")
    tools = []
    for index, tool in enumerate(value):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            raise BadRequest(f"tools[{index}] must be {{type: function, function: {{name, parameters}}}}.")
        name = function.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise BadRequest(f"tools[{index}].function.name must be 1-64 letters, digits, _ or -.")
        parameters = function.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(parameters, dict):
            raise BadRequest(f"tools[{index}].function.parameters must be a JSON schema object.")
        tools.append({"name": name, "parameters": parameters})
    return tools


def _tool_choice(value: Any, tools: list[dict]) -> str:
    """ "auto", "none", "required" or the name of the function to call."""
    if value is None:
        return "auto"
    if value in ("auto", "none", "required"):
        if value == "required" and not tools:
            raise BadRequest("tool_choice 'required' needs tools.")
        return value
    function = value.get("function") if isinstance(value, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str) or value.get("type") != "function":
        raise BadRequest("tool_choice must be none, auto, required or {type: function, function: {name}}.")
    if name not in {tool["name"] for tool in tools}:
        raise BadRequest(f"tool_choice names {name!r}, which is not among the tools.")
    return name


def _named(tool: dict, prompt: str) -> bool:
    lowered = prompt.lower()
    name = tool["name"].lower()
    return name in lowered or name.replace("_", " ").replace("-", " ") in lowered


def _tools_to_call(tools: list[dict], choice: str, prompt: str, parallel: bool) -> list[dict]:
    if choice not in ("auto", "required"):
        return [tool for tool in tools if tool["name"] == choice]
    named = [tool for tool in tools if _named(tool, prompt)]
    if not named and (choice == "required" or _ASKS_FOR_A_TOOL.search(prompt)):
        named = tools[:1]
    return named if parallel else named[:1]


def _call(tool: dict, prompt: str, index: int) -> dict:
    try:
        arguments = instance(tool["parameters"], seed=f"{tool['name']}\n{prompt}")
    except SchemaError as exc:
        raise BadRequest(f"tools: the parameters of {tool['name']} cannot be read: {exc}") from exc
    call_id = "call_" + digest(f"{tool['name']}\n{prompt}\n{index}").hex()[:24]
    return {"id": call_id, "type": "function", "function": {"name": tool["name"], "arguments": json.dumps(arguments)}}


def _tool_results(messages: list) -> list[tuple[str, str]]:
    """(function name, content) of the tool messages after the last assistant turn."""
    names: dict[str, str] = {}
    results: list[tuple[str, str]] = []
    for message in messages:
        if message.get("role") == "assistant":
            results = []
            for call in message.get("tool_calls") or []:
                names[call["id"]] = str(call["function"].get("name"))
        elif message.get("role") == "tool":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            results.append((names.get(message.get("tool_call_id"), "?"), str(content)))
        elif message.get("role") == "user":
            results = []
    return results


def _formatted(response_format: Any, model_id: str, messages: list, honoured) -> tuple[str, bool]:
    """The answer's text (plain, a JSON object, or JSON fitting a schema) and whether it is JSON."""
    plain = media.reply_text(model_id, messages), False
    if response_format is None:
        return plain
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise BadRequest("response_format.type must be text, json_object or json_schema.")
    if kind == "text":
        return plain
    if kind == "json_object":
        if not honoured("response_format", "response_format"):
            return plain
        return json.dumps({"answer": plain[0]}), True
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
        raise BadRequest("response_format.json_schema needs a name and a schema.")
    schema = spec.get("schema", {})
    if not isinstance(schema, dict):
        raise BadRequest("response_format.json_schema.schema must be a JSON schema object.")
    if not honoured("response_format", "structured_outputs"):
        return plain
    try:
        return json.dumps(instance(schema, seed=media.last_user_text(messages))), True
    except SchemaError as exc:
        raise BadRequest(f"response_format.json_schema.schema: {exc}") from exc


def _reason(answer: Answer, reasoning: Any, prompt: str) -> None:
    if not isinstance(reasoning, dict):
        raise BadRequest("reasoning must be an object: {effort, max_tokens, exclude}.")
    effort = reasoning.get("effort", "medium")
    if effort not in REASONING_EFFORTS:
        raise BadRequest(f"reasoning.effort must be one of {', '.join(REASONING_EFFORTS)}.")
    if effort == "none" or reasoning.get("enabled") is False:
        return
    words = media.words_of(f"Thinking ({effort} effort) about: {prompt.strip()[:160]}. The answer follows.")
    limit = reasoning.get("max_tokens")
    if isinstance(limit, int) and limit > 0:
        words = words[:limit]
    answer.reasoning_tokens = len(words)
    if not reasoning.get("exclude"):
        answer.reasoning = "".join(words).rstrip()


def _top_logprobs(body: dict) -> int:
    top = body.get("top_logprobs")
    if top is None:
        return 0
    if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= MAX_TOP_LOGPROBS:
        raise BadRequest(f"top_logprobs must be an integer from 0 to {MAX_TOP_LOGPROBS}.")
    return top


def logprob_entry(token: str, top: int) -> dict:
    """A token's logprob (negative, from its hash) and ``top`` alternatives, the token first."""
    seed = digest(token)
    logprob = -round(seed[0] / 255 * 2, 6)
    alternatives = [{"token": token, "logprob": logprob, "bytes": list(token.encode())}]
    for index in range(1, top):
        other = media.WORDS[seed[index % len(seed)] % len(media.WORDS)] + " "
        alternatives.append({"token": other, "logprob": round(logprob - index - 0.5, 6), "bytes": list(other.encode())})
    return {"token": token, "logprob": logprob, "bytes": list(token.encode()), "top_logprobs": alternatives[:top]}

"""The quickstarts of widely used OpenAI clients, run against Studio's /v1/: which features
work with which client.

The clients run in a virtualenv of their own under var/client-quickstarts (made, and the
pinned versions below installed, on the first run; not the project's requirements). By
default Studio is started as `make run` starts its web process (tests/support/stack.py:
the Procfile's web line on a fresh store) with the offline OpenRouter double in this
process; with --base-url and --api-key the quickstarts run against a Studio already
running (e.g. `make run`, with a personal API key made on the profile page).

Each quickstart is the library's own documented way of doing the thing (langchain-openai's
ChatOpenAI with bind_tools and with_structured_output, pydantic-ai's Agent with a tool and
an output type and its Embedder, litellm's completion, embedding and responses), pointed at
Studio by base URL and key.
A feature passes when the client returns what the feature promises (a tool call with
arguments, a parsed object of the asked type, vectors of the asked size, ...); the
table says pass, FAIL (with the first line of the reason below it) or - (not run).

    .venv/bin/python bench/client_quickstarts.py [--base-url URL --api-key KEY] [--model M]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.stack import ROOT, Stack  # noqa: E402

PINS = ("langchain-openai==1.8.1", "pydantic-ai-slim[openai]==2.78.0", "litellm==1.110.2")
VENV = ROOT / "var" / "client-quickstarts"
EMAIL, PASSWORD = "quickstarts@example.com", "correct-horse-battery-staple"
CHAT_MODEL = "openai/gpt-4o-mini"
EMBEDDING_MODEL = "openai/text-embedding-3-small"
FEATURES = (
    "chat",
    "stream",
    "tools",
    "structured output",
    "embeddings",
    "responses",
)

# Shared by every quickstart: where Studio is, and how a result is reported.
PRELUDE = """
import json, os, sys, traceback

BASE_URL = os.environ["STUDIO_BASE_URL"]
API_KEY = os.environ["STUDIO_API_KEY"]
MODEL = os.environ["STUDIO_CHAT_MODEL"]
EMBEDDING_MODEL = os.environ["STUDIO_EMBEDDING_MODEL"]


def check(feature):
    def run(function):
        try:
            detail = function()
            print(json.dumps({"feature": feature, "ok": True, "detail": str(detail)[:200]}), flush=True)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            print(json.dumps({"feature": feature, "ok": False, "detail": reason}), flush=True)
            traceback.print_exc(file=sys.stderr)
        return function
    return run
"""

QUICKSTARTS = {
    "langchain-openai": '''
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from pydantic import BaseModel

llm = ChatOpenAI(model=MODEL, base_url=BASE_URL, api_key=API_KEY, max_retries=0)


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny, 21 C in {city}"


class Capital(BaseModel):
    country: str
    city: str


@check("chat")
def chat():
    answer = llm.invoke("Say hello")
    assert isinstance(answer.content, str) and answer.content, answer
    return answer.content


@check("stream")
def stream():
    pieces = [chunk.content for chunk in llm.stream("Tell me a story")]
    assert len(pieces) > 1 and "".join(pieces), pieces
    return f"{len(pieces)} chunks"


@check("tools")
def tools():
    with_tools = llm.bind_tools([get_weather])
    question = HumanMessage("Call get_weather for Paris")
    answer = with_tools.invoke([question])
    [call] = answer.tool_calls
    assert call["name"] == "get_weather" and "city" in call["args"], answer.tool_calls
    result = get_weather.invoke(call["args"])
    final = with_tools.invoke([question, answer, ToolMessage(result, tool_call_id=call["id"])])
    assert "sunny" in final.content, final.content
    return f"{call['name']}({call['args']}) -> {final.content[:60]}"


@check("structured output")
def structured():
    capital = llm.with_structured_output(Capital).invoke("The capital of France?")
    assert isinstance(capital, Capital), capital
    return repr(capital)


@check("embeddings")
def embeddings():
    # check_embedding_ctx_length=False: the texts go as texts (the default tokenizes them with
    # tiktoken, whose tables are downloaded at first use).
    model = OpenAIEmbeddings(
        model=EMBEDDING_MODEL, base_url=BASE_URL, api_key=API_KEY, dimensions=256, check_embedding_ctx_length=False
    )
    vectors = model.embed_documents(["red", "green"])
    assert len(vectors) == 2 and len(vectors[0]) == 256, [len(v) for v in vectors]
    return f"{len(vectors)} x {len(vectors[0])}"


@check("responses")
def responses():
    answer = ChatOpenAI(model=MODEL, base_url=BASE_URL, api_key=API_KEY, use_responses_api=True).invoke("Say hello")
    assert answer.text, answer
    return answer.text
''',
    "pydantic-ai": '''
from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider

provider = OpenAIProvider(base_url=BASE_URL, api_key=API_KEY)
model = OpenAIChatModel(MODEL, provider=provider)


class Capital(BaseModel):
    country: str
    city: str


@check("chat")
def chat():
    result = Agent(model).run_sync("Say hello")
    assert isinstance(result.output, str) and result.output, result
    return result.output


@check("stream")
def stream():
    async def run():
        async with Agent(model).run_stream("Tell me a story") as result:
            return [text async for text in result.stream_text(delta=True)]

    import asyncio

    pieces = asyncio.run(run())
    assert len(pieces) > 1, pieces
    return f"{len(pieces)} deltas"


@check("tools")
def tools():
    agent = Agent(model, system_prompt="Use the tools you are given.")
    called = []

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city."""
        called.append(city)
        return f"sunny, 21 C in {city}"

    result = agent.run_sync("Call get_weather for Paris")
    assert called and "sunny" in result.output, (called, result.output)
    return f"get_weather({called[0]!r}) -> {result.output[:60]}"


@check("structured output")
def structured():
    # The default: the result comes as a call of an output tool.
    result = Agent(model, output_type=Capital).run_sync("The capital of France?")
    assert isinstance(result.output, Capital), result.output
    # NativeOutput: the result comes as JSON matching response_format's json_schema.
    native = Agent(model, output_type=NativeOutput(Capital)).run_sync("The capital of France?")
    assert isinstance(native.output, Capital), native.output
    return f"tool output {result.output!r}; native {native.output!r}"


@check("embeddings")
def embeddings():
    from pydantic_ai import Embedder
    from pydantic_ai.embeddings.openai import OpenAIEmbeddingModel

    embedder = Embedder(OpenAIEmbeddingModel(EMBEDDING_MODEL, provider=provider), settings={"dimensions": 256})
    result = embedder.embed_documents_sync(["red", "green"])
    assert len(result.embeddings) == 2 and len(result.embeddings[0]) == 256, [len(v) for v in result.embeddings]
    return f"{len(result.embeddings)} x {len(result.embeddings[0])}"


@check("responses")
def responses():
    result = Agent(OpenAIResponsesModel(MODEL, provider=provider)).run_sync("Say hello")
    assert isinstance(result.output, str) and result.output, result
    return result.output
''',
    "litellm": """
import base64

import litellm

common = dict(api_base=BASE_URL, api_key=API_KEY)
# litellm's "openai/" prefix picks its OpenAI client; the rest is the model id sent.
LITELLM_MODEL = f"openai/{MODEL}"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@check("chat")
def chat():
    answer = litellm.completion(model=LITELLM_MODEL, messages=[{"role": "user", "content": "Say hello"}], **common)
    text = answer.choices[0].message.content
    assert text and answer.usage.total_tokens > 0, answer
    return text


@check("stream")
def stream():
    chunks = litellm.completion(
        model=LITELLM_MODEL, messages=[{"role": "user", "content": "Tell me a story"}], stream=True, **common
    )
    pieces = [chunk.choices[0].delta.content for chunk in chunks if chunk.choices and chunk.choices[0].delta.content]
    assert len(pieces) > 1, pieces
    return f"{len(pieces)} chunks"


@check("tools")
def tools():
    ask = [{"role": "user", "content": "Call get_weather for Paris"}]
    answer = litellm.completion(model=LITELLM_MODEL, messages=ask, tools=[WEATHER], **common)
    message = answer.choices[0].message
    [call] = message.tool_calls
    assert call.function.name == "get_weather" and "city" in json.loads(call.function.arguments), message
    follow_up = litellm.completion(
        model=LITELLM_MODEL,
        tools=[WEATHER],
        messages=[*ask, message.model_dump(), {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"}],
        **common,
    )
    text = follow_up.choices[0].message.content
    assert "sunny" in text, text
    return f"{call.function.name}({call.function.arguments}) -> {text[:60]}"


@check("structured output")
def structured():
    from pydantic import BaseModel

    class Capital(BaseModel):
        country: str
        city: str

    answer = litellm.completion(
        model=LITELLM_MODEL,
        messages=[{"role": "user", "content": "The capital of France?"}],
        response_format=Capital,
        **common,
    )
    capital = Capital.model_validate_json(answer.choices[0].message.content)
    return repr(capital)


@check("embeddings")
def embeddings():
    answer = litellm.embedding(model=f"openai/{EMBEDDING_MODEL}", input=["red", "green"], dimensions=256, **common)
    vectors = [item["embedding"] for item in answer.data]
    assert len(vectors) == 2 and len(vectors[0]) == 256, [len(v) for v in vectors]
    return f"{len(vectors)} x {len(vectors[0])}"


@check("responses")
def responses():
    answer = litellm.responses(model=LITELLM_MODEL, input="Say hello", **common)
    text = "".join(
        part.text for item in answer.output if item.type == "message" for part in item.content if part.type == "output_text"
    )
    assert text, answer
    return text
""",
}


def ensure_venv(python: str) -> Path:
    """The clients' virtualenv, made and filled with PINS when missing or different."""
    marker = VENV / "pins.txt"
    wanted = "\n".join(PINS)
    if marker.exists() and marker.read_text() == wanted:
        return VENV / "bin" / "python"
    if not (VENV / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    print(f"installing {', '.join(PINS)} into {VENV} ...", flush=True)
    subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", *PINS], check=True)
    marker.write_text(wanted)
    return VENV / "bin" / "python"


def run_quickstart(venv_python: Path, client: str, env: dict, folder: Path) -> dict[str, dict]:
    script = folder / f"{client.replace('-', '_')}_quickstart.py"
    script.write_text(PRELUDE + textwrap.dedent(QUICKSTARTS[client]))
    done = subprocess.run(
        [str(venv_python), str(script)], env=env, capture_output=True, text=True, timeout=600, cwd=folder
    )
    results = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            result = json.loads(line)
            results[result["feature"]] = result
    if done.returncode != 0 and not results:
        results["chat"] = {"ok": False, "detail": (done.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    (folder / f"{client}.stderr.log").write_text(done.stderr)
    return results


def table(results: dict[str, dict[str, dict]]) -> str:
    clients = list(results)
    width = max(len(feature) for feature in FEATURES)
    lines = [f"| {'feature'.ljust(width)} | " + " | ".join(clients) + " |"]
    lines.append(f"|{'-' * (width + 2)}|" + "|".join("-" * (len(c) + 2) for c in clients) + "|")
    for feature in FEATURES:
        cells = []
        for client in clients:
            result = results[client].get(feature)
            cells.append(("-" if result is None else "pass" if result["ok"] else "FAIL").ljust(len(client)))
        lines.append(f"| {feature.ljust(width)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_all(base_url: str, api_key: str, venv_python: Path, model: str, folder: Path) -> dict[str, dict[str, dict]]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(folder),
        "STUDIO_BASE_URL": base_url,
        "STUDIO_API_KEY": api_key,
        "STUDIO_CHAT_MODEL": model,
        "STUDIO_EMBEDDING_MODEL": EMBEDDING_MODEL,
        # litellm reads its model prices from the network unless told to use its own copy.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    results = {}
    for client in QUICKSTARTS:
        print(f"running the {client} quickstart ...", flush=True)
        results[client] = run_quickstart(venv_python, client, env, folder)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="a running Studio's /v1/ URL, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--api-key", help="a personal API key of that Studio")
    parser.add_argument("--model", default=CHAT_MODEL, help="the chat model the quickstarts use")
    args = parser.parse_args()
    venv_python = ensure_venv(sys.executable)
    with tempfile.TemporaryDirectory(prefix="client-quickstarts-") as tmp:
        folder = Path(tmp)
        if args.base_url:
            if not args.api_key:
                parser.error("--base-url needs --api-key")
            results = run_all(args.base_url.rstrip("/"), args.api_key, venv_python, args.model, folder)
        else:
            from openrouter.fake import FakeOpenRouter

            with FakeOpenRouter(port=0) as fake, Stack(folder / "stack", fake=fake) as stack:
                stack.prepare(users=[(EMAIL, PASSWORD)])
                stack.start_web_only()
                session = stack.api(EMAIL, PASSWORD)
                created = session.post(stack.url("/api/keys"), json={"name": "quickstarts"}, timeout=30)
                created.raise_for_status()
                results = run_all(stack.url("/v1"), created.json()["key"], venv_python, args.model, folder)
        print()
        print(table(results))
        failures = [
            f"{client} / {feature}: {result['detail']}"
            for client, found in results.items()
            for feature, result in found.items()
            if not result["ok"]
        ]
        if failures:
            print("\nfailures:\n" + "\n".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

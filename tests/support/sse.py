"""Reading a streamed (text/event-stream) answer in tests."""

import json


def parse_events(text: str) -> list[tuple[str, object]]:
    """SSE text -> [(event name, decoded data)]; an event without a name is "message"."""
    events = []
    for block in text.strip().split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        events.append((name, json.loads("\n".join(data))))
    return events

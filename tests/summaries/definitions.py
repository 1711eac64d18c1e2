"""Topic definitions the summaries tests draft with (read from their files, never edited here)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from evidencepress.demo.loader import DATA_DIR
from evidencepress.evidence.topic_definition import (
    TopicDefinition,
    parse_definition,
    read_definition,
)

DEMO_PATH = Path(DATA_DIR) / "topics" / "imiquimod-angiosarcoma.json"
DEMO_DATA: dict[str, Any] = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
DEMO: TopicDefinition = read_definition(DEMO_PATH.read_text(encoding="utf-8"), source="demo")


def changed(**sections: Any) -> TopicDefinition:
    """The demo definition with some top-level sections replaced (checked like any file)."""
    data = copy.deepcopy(DEMO_DATA)
    data.update(sections)
    return parse_definition(data, source="test")

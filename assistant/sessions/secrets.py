"""Defence in depth against API keys leaking into saved sessions and exports.

Owns: `scrub_secrets(text)` and `scrub_data(obj)`. The store never receives
keys (settings keep them apart), but a provider's error text may echo one
back; anything that looks like a common API key or bearer token is replaced
by `[redacted]` before it is saved as an error or written to an export.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"

_PATTERNS = [
    re.compile(r"\bsk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_\-]{12,}"),  # OpenAI / Anthropic style
    re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{16,}"),  # GitHub tokens
    re.compile(r"\bxox[abpors]-[A-Za-z0-9\-]{10,}"),  # Slack
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}"),  # Google API key
    re.compile(r"\bhf_[A-Za-z0-9]{20,}"),  # Hugging Face
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._\-+/=]{12,}"),
    re.compile(r"(?i)\b(api[_-]?key|x-api-key|authorization|access[_-]?token|secret)"
               r"(\s*[:=]\s*[\"']?)[^\s\"',;]{8,}"),
]


def scrub_secrets(text: str) -> str:
    """`text` with anything that looks like an API key or token replaced by [redacted]."""
    if not text:
        return text
    for pattern in _PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def scrub_data(obj: Any) -> Any:
    """Scrub every string in a JSON-like structure (dict keys included)."""
    if isinstance(obj, str):
        return scrub_secrets(obj)
    if isinstance(obj, dict):
        return {scrub_data(k): scrub_data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub_data(v) for v in obj]
    return obj

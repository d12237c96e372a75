"""Model providers behind one async interface (`Provider.complete`): the
offline engine, OpenAI-compatible chat completions, Anthropic Messages and
Ollama's native chat. `make_provider` builds the one the settings name."""

from __future__ import annotations

import httpx

from assistant.config import Settings
from assistant.domain import ProviderName
from assistant.reasoning.providers.anthropic import AnthropicProvider
from assistant.reasoning.providers.base import Completion, ModelRequest, Provider, RequestRejected
from assistant.reasoning.providers.offline import OfflineContext, OfflineProvider
from assistant.reasoning.providers.ollama import OllamaProvider
from assistant.reasoning.providers.openai import OpenAIProvider

__all__ = [
    "AnthropicProvider", "Completion", "ModelRequest", "OfflineContext", "OfflineProvider", "OllamaProvider",
    "OpenAIProvider", "Provider", "RequestRejected", "configuration_problem", "make_provider",
]


def configuration_problem(settings: Settings, name: ProviderName) -> str | None:
    """Why provider `name` cannot be used with these settings, or None when it can."""
    if name == ProviderName.OFFLINE:
        return None
    if name == ProviderName.OPENAI and not (settings.api_key or settings.base_url):
        return "No API key or base URL is set for the OpenAI-compatible provider."
    if name == ProviderName.ANTHROPIC and not settings.api_key:
        return "No API key is set for the Anthropic provider."
    if name == ProviderName.OLLAMA and not (settings.model or settings.base_url):
        return "No model or base URL is set for the Ollama provider."
    return None


def make_provider(settings: Settings, name: ProviderName | str | None = None, *,
                  transport: httpx.AsyncBaseTransport | None = None) -> Provider:
    name = ProviderName(name or settings.provider)
    if name == ProviderName.OFFLINE:
        return OfflineProvider()
    cls = {ProviderName.OPENAI: OpenAIProvider, ProviderName.ANTHROPIC: AnthropicProvider,
           ProviderName.OLLAMA: OllamaProvider}[name]
    return cls(settings, transport=transport)

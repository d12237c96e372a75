"""Fieldlens engine: imaging, perception, library, reasoning and sessions behind `assistant.service`."""

__version__ = "0.1.0"

"""The ground floor: settings, errors, logs, the clock, redaction and shared value types.

Imports nothing of genai-lens above it.
"""

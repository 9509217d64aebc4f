"""Offline evaluation of the models on labelled datasets (`genai-lens eval ...`)."""

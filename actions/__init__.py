"""Rasa custom actions: a thin layer over the `traeningsguide` rules module (arrives with the assistant issue)."""

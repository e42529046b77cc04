"""Rasa input channels of the project (Rasa-specific; the rules module stays Rasa-free)."""

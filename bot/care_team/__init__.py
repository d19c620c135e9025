"""The channel between a patient and their care team: what patients send, and what staff answer."""

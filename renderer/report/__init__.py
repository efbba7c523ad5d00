"""Reporters: turn results into text. Nothing else in rail prints."""

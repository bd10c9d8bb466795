"""The key a person presses for an action now (after the config file's keymap), for hints on screen.

Hints are never typed in as literals: a rebound key would leave them wrong."""

from __future__ import annotations

from textual.dom import DOMNode


def key_of(node: DOMNode, action_id: str, default: str) -> str:
    """The current key of `action_id` as the footer shows it; `default` outside the castui app."""
    key_for = getattr(node.app, "key_for", None)
    return key_for(action_id) if key_for is not None else default

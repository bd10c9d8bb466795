"""castui: from "CAST AI is misbehaving on my cluster" to a confirmed cause and a safe fix."""

__version__ = "0.1.0"

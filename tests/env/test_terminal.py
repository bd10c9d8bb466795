"""Terminals castui meets outside a developer's laptop: no TTY (cron, CI, `ssh host castui`,
`castui > file`), TERM=dumb, NO_COLOR, locales that cannot encode its symbols; shell completion;
a scheme-less API host."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from castui.config import load_settings
from tests.core.helpers import castui

BASH = "/bin/bash" if os.access("/bin/bash", os.X_OK) else None


def test_the_app_without_a_terminal_says_so_and_exits_2_at_once(tmp_path: Path) -> None:
    out, err = tmp_path / "out", tmp_path / "err"
    started = time.monotonic()
    with open(os.devnull) as stdin, out.open("w") as stdout, err.open("w") as stderr:
        code = subprocess.run([sys.executable, "-m", "castui", "--lab", "demo"], stdin=stdin, stdout=stdout,
                              stderr=stderr, timeout=60).returncode
    assert code == 2
    assert time.monotonic() - started < 10  # the app never starts: no lab, no Textual
    message = err.read_text()
    assert "needs a terminal" in message and "castui diagnose" in message
    assert "\x1b" not in out.read_text() + message  # not one escape sequence


def test_term_dumb_gets_no_full_screen_app_and_no_colour() -> None:
    pty, tty = os.openpty()  # a real terminal on every stream, so only TERM=dumb stands in the way
    try:
        proc = subprocess.Popen([sys.executable, "-m", "castui", "--lab", "demo"], stdin=tty, stdout=tty, stderr=tty,
                                env={**os.environ, "TERM": "dumb"})
        os.close(tty)
        code = proc.wait(timeout=60)
        said = b""
        while True:
            try:
                chunk = os.read(pty, 65536)
            except OSError:
                break
            if not chunk:
                break
            said += chunk
    finally:
        os.close(pty)
    message = said.decode()
    assert code == 2 and "TERM=dumb" in message and "castui diagnose" in message
    assert "\x1b" not in message


@pytest.mark.parametrize("env", [{"TERM": "dumb"}, {"NO_COLOR": "1"}], ids=["dumb", "no-color"])
def test_diagnose_on_a_terminal_has_no_colour_for_dumb_or_no_color(env: dict[str, str]) -> None:
    pty, tty = os.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "castui", "diagnose", "--lab", "demo"], stdin=subprocess.DEVNULL,
                                stdout=tty, stderr=subprocess.DEVNULL, env={**os.environ, "TERM": "xterm-256color", **env})
        os.close(tty)
        chunks = []
        while True:
            try:
                chunk = os.read(pty, 65536)
            except OSError:  # EIO: the writer closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=60) == 1
    finally:
        os.close(pty)
    text = b"".join(chunks).decode()
    assert "confirmed" in text and "\x1b[" not in text


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_an_ascii_or_latin1_locale_reads_well_with_the_same_exit_code(encoding: str, fmt: str) -> None:
    utf8 = castui("diagnose", "--lab", "demo", "--format", fmt, env={"PYTHONIOENCODING": "utf-8"})
    narrow = castui("diagnose", "--lab", "demo", "--format", fmt, env={"PYTHONIOENCODING": encoding})
    assert narrow.returncode == utf8.returncode == 1, narrow.stderr
    assert "Traceback" not in narrow.stderr and "UnicodeEncodeError" not in narrow.stderr
    assert "\\u" not in narrow.stdout and "\\x" not in narrow.stdout
    narrow.stdout.encode(encoding)  # everything it printed is in the locale's charset
    assert "✓" in utf8.stdout or "✗" in utf8.stdout
    if fmt == "text":  # every state keeps its word and an ASCII symbol
        assert "x confirmed" in narrow.stdout
        assert narrow.stdout.count("confirmed") == utf8.stdout.count("confirmed")


def test_a_scheme_less_api_host_means_https() -> None:
    settings = load_settings({}, env={"CASTAI_API_URL": "api.eu.cast.ai"})
    assert settings.api_url == "https://api.eu.cast.ai"
    assert load_settings({"api_url": "api.cast.ai:8443/"}, env={}).api_url == "https://api.cast.ai:8443"
    refused = castui("config", "show", env={"CASTAI_API_URL": "ftp://api.cast.ai"})
    assert refused.returncode == 2 and "not an http(s) URL" in refused.stderr


def _complete(script: str, *words: str) -> list[str]:
    """What bash offers after `castui WORDS…` (the last word is being typed)."""
    import shlex

    quoted = " ".join(shlex.quote(w) for w in ("castui", *words))
    program = (script + f"\nCOMP_WORDS=({quoted}); COMP_CWORD={len(words)}; _castui; "
               + "printf '%s\\n' \"${COMPREPLY[@]}\"")
    assert BASH is not None
    result = subprocess.run([BASH, "--norc", "-c", program], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.skipif(BASH is None, reason="no bash")
def test_bash_completion_offers_commands_flags_and_values() -> None:
    result = castui("completion", "bash")
    assert result.returncode == 0
    assert _complete(result.stdout, "dia") == ["diagnose"]
    assert "--symptom" in _complete(result.stdout, "diagnose", "--sy")
    assert _complete(result.stdout, "diagnose", "--symptom", "no-scale") == ["no-scale-down", "no-scale-up"]
    assert _complete(result.stdout, "diagnose", "--format", "m") == ["markdown"]
    assert _complete(result.stdout, "completion", "") == ["bash", "zsh", "fish"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_name_every_command(shell: str) -> None:
    result = castui("completion", shell)
    assert result.returncode == 0
    for word in ("diagnose", "suppress", "completion", "agent-crashloop", "--all-contexts" if shell == "zsh" else "all-contexts"):
        assert word in result.stdout
    if shell == "zsh":
        assert result.stdout.startswith("#compdef castui") and "bashcompinit" in result.stdout
    binary = f"/usr/bin/{shell}"
    if os.access(binary, os.X_OK):  # the shell itself parses it, where it is installed
        check = [binary, "-n"] if shell == "fish" else [binary, "-n", "-c", result.stdout]
        assert subprocess.run(check, input=result.stdout, text=True, capture_output=True).returncode == 0


def _latin1_locale(tmp_path: Path) -> dict[str, str] | None:
    """A real ISO-8859-1 locale, compiled with localedef into tmp_path (none is installed here)."""
    localedef = "/usr/bin/localedef"
    if not os.access(localedef, os.X_OK):
        return None
    built = subprocess.run([localedef, "-i", "en_US", "-f", "ISO-8859-1", str(tmp_path / "en_US.ISO-8859-1")],
                           capture_output=True, timeout=60)
    if not (tmp_path / "en_US.ISO-8859-1").exists():
        return None
    del built
    return {"LOCPATH": str(tmp_path), "LANG": "en_US.ISO-8859-1", "LC_ALL": "en_US.ISO-8859-1", "PYTHONIOENCODING": ""}


def test_a_real_iso_8859_1_locale(tmp_path: Path) -> None:
    env = _latin1_locale(tmp_path)
    if env is None:
        pytest.skip("localedef cannot build an ISO-8859-1 locale here")
    env = {k: v for k, v in {**os.environ, **env}.items() if v}
    result = subprocess.run([sys.executable, "-c", "import sys; print(sys.stdout.encoding)"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.stdout.strip().lower().replace("-", "") in ("iso88591", "latin1")
    raw = subprocess.run([sys.executable, "-m", "castui", "diagnose", "--lab", "demo"], env=env, capture_output=True,
                         timeout=120)
    assert raw.returncode == 1 and b"Traceback" not in raw.stderr
    text = raw.stdout.decode("latin-1")
    assert "x confirmed" in text and "\\u" not in text


@pytest.mark.tmux
def test_the_app_in_an_ascii_terminal_shows_ascii_symbols_not_escapes(tmp_path: Path) -> None:
    import shutil

    if shutil.which("tmux") is None:
        pytest.skip("no tmux")
    from tests.app.test_tmux import castui_in_tmux, tmux, wait_for_text

    # waits wake on the app's own terminal output (tmux pipe-pane into a FIFO), never on a timer
    with castui_in_tmux(tmp_path, "--lab", "healthy", env={"PYTHONIOENCODING": "ascii"}):
        wait_for_text("Run every check", timeout=40)
        tmux("send-keys", "-t", "castui", "a")
        screen = wait_for_text("+ HEALTHY", timeout=40)  # the verdict's ASCII symbol and word
        assert "cluster + answers" in screen  # the header's state symbols, too
        assert "\\u" not in screen and "\\x" not in screen

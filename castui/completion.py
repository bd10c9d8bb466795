"""Shell completion scripts (`castui completion bash|zsh|fish`), generated from the argument
parser so they cannot drift from the flags: subcommands, their flags, and the values castui
knows (symptom ids, formats, lab scenarios, kube contexts asked of castui itself at TAB time)."""

from __future__ import annotations

import argparse
import shlex

#: flags whose values are kube contexts, listed by the script at TAB time
CONTEXT_FLAGS = ("--context",)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # noqa: SLF001 - argparse has no public walk
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            return dict(action.choices)
    return {}


def _flags(parser: argparse.ArgumentParser) -> list[str]:
    return [opt for action in parser._actions for opt in action.option_strings if opt.startswith("--")]  # noqa: SLF001


def _choices(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Flag → its fixed values (argparse choices, and castui's symptom ids and scenarios)."""
    from castui.tree import BY_ID

    found: dict[str, list[str]] = {}
    for action in parser._actions:  # noqa: SLF001
        for opt in action.option_strings:
            if action.choices and not isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
                found[opt] = [str(c) for c in action.choices]
    for opt in ("--symptom", "-s"):
        if any(opt in a.option_strings for a in parser._actions):  # noqa: SLF001
            found[opt] = list(BY_ID)
    if any("--lab" in a.option_strings for a in parser._actions):  # noqa: SLF001
        from castui.lab.scenarios import SCENARIOS

        found["--lab"] = list(SCENARIOS)
    return found


def _model(parser: argparse.ArgumentParser) -> dict[str, tuple[list[str], dict[str, list[str]], list[str]]]:
    """'' (top level) and each command: (flags, flag → values, sub-actions or positional values)."""
    model = {}
    commands = _subparsers(parser)
    model[""] = (_flags(parser), _choices(parser), list(commands))
    for name, sub in commands.items():
        positional = list(_subparsers(sub))
        for action in sub._actions:  # noqa: SLF001
            if not action.option_strings and action.choices and not isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
                positional += [str(c) for c in action.choices]
        model[name] = (_flags(sub), _choices(sub), positional)
    return model


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    model = _model(parser)
    return {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell](model)


def _bash(model: dict[str, tuple[list[str], dict[str, list[str]], list[str]]]) -> str:
    words = []
    for command, (flags, _choices, positional) in model.items():
        key = command or "_"
        words.append(f"    {key}) flags={shlex.quote(' '.join(flags))}; words={shlex.quote(' '.join(positional))} ;;")
    values = []
    for flag in sorted({f for _, (_, ch, _) in model.items() for f in ch}):
        merged = sorted({v for _, (_, ch, _) in model.items() for v in ch.get(flag, [])})
        values.append(f"    {flag}) COMPREPLY=($(compgen -W {shlex.quote(' '.join(merged))} -- \"$cur\")); return ;;")
    return f"""# castui bash completion: eval "$(castui completion bash)" in ~/.bashrc
_castui() {{
  local cur prev cmd w flags words
  cur="${{COMP_WORDS[COMP_CWORD]}}"; prev="${{COMP_WORDS[COMP_CWORD-1]}}"; cmd=_
  for w in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
    case "$w" in -*) ;; *) [ "$cmd" = _ ] && cmd="$w" ;; esac
  done
  case "$prev" in
{chr(10).join(values)}
    --context) COMPREPLY=($(compgen -W "$(kubectl config get-contexts -o name 2>/dev/null)" -- "$cur")); return ;;
    --kubeconfig|--config|--output|-o|--terraform-dir|--terraform-var-file|--bundle|--dir) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  case "$cmd" in
{chr(10).join(words)}
    *) flags=""; words="" ;;
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); else COMPREPLY=($(compgen -W "$words" -- "$cur")); fi
}}
complete -F _castui castui
"""


def _zsh(model: dict[str, tuple[list[str], dict[str, list[str]], list[str]]]) -> str:
    # zsh runs bash completion functions through bashcompinit: one logic for both shells
    return ("#compdef castui\n# castui zsh completion: eval \"$(castui completion zsh)\" in ~/.zshrc\n"
            "autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n"
            + _bash(model).split("\n", 1)[1])


def _fish(model: dict[str, tuple[list[str], dict[str, list[str]], list[str]]]) -> str:
    top_flags, top_choices, commands = model[""]
    lines = ["# castui fish completion: castui completion fish > ~/.config/fish/completions/castui.fish",
             "complete -c castui -f",
             f"complete -c castui -n __fish_use_subcommand -a {shlex.quote(' '.join(commands))}"]
    for command, (flags, choices, positional) in model.items():
        cond = "__fish_use_subcommand" if not command else f"__fish_seen_subcommand_from {command}"
        if command and positional:
            lines.append(f"complete -c castui -n {shlex.quote(cond)} -a {shlex.quote(' '.join(positional))}")
        for flag in flags:
            values = choices.get(flag)
            extra = f" -r -a {shlex.quote(' '.join(values))}" if values else ""
            if flag in CONTEXT_FLAGS:
                extra = " -r -a '(kubectl config get-contexts -o name 2>/dev/null)'"
            lines.append(f"complete -c castui -n {shlex.quote(cond)} -l {flag[2:]}{extra}")
    return "\n".join(lines) + "\n"

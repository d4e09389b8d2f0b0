#!/usr/bin/env python3
"""Refreshes the output blocks in the examples' READMEs from the real binary.

A block is `<!-- output: `CMD` -->` ... `<!-- /output -->`; CMD is run from the repository
root with target/debug/meshplan standing in for `meshplan`, and the block is replaced by
the command and what it printed. tests/examples.rs checks the blocks are current, so run
this after changing a rule or an example (`cargo build` first).
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLOCK = re.compile(
    r"<!-- output: (?:paste )?`(?P<cmd>[^`]+)`(?: here)? -->\n.*?<!-- /output -->", re.S
)


def render(cmd: str) -> str:
    argv = cmd.split()
    assert argv[0] == "meshplan", cmd
    argv[0] = os.path.join(ROOT, "target", "debug", "meshplan")
    env = dict(os.environ, NO_COLOR="1")
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    text = out.stdout + out.stderr
    return (
        f"<!-- output: `{cmd}` -->\n```console\n$ {cmd}\n{text.rstrip()}\n"
        f"(exit code {out.returncode})\n```\n<!-- /output -->"
    )


def main() -> int:
    readmes = sorted(glob.glob(os.path.join(ROOT, "examples", "**", "README.md"), recursive=True))
    for path in readmes:
        with open(path) as f:
            text = f.read()
        new = BLOCK.sub(lambda m: render(m.group("cmd")), text)
        if new != text:
            with open(path, "w") as f:
                f.write(new)
            print(f"updated {os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The README's Python quick start runs as written and its figures are sane."""

import contextlib
import io
import os
import re

from conftest import REPO


def test_readme_python_quick_start(tmp_path):
    text = (REPO / "README.md").read_text()
    section = text.split("## Quick start (Python)", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(code) == 2, "the quick start and the real-valued units' block"
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    scope = {}
    try:
        with contextlib.redirect_stdout(out):
            for block in code:  # in order, in one namespace, as a reader runs them
                exec(compile(block, "README.md", "exec"), scope)
    finally:
        os.chdir(cwd)
    grey = scope["grey"]
    assert grey.sigma_.shape == (64,) and (grey.sigma_ > 0).all()
    assert not hasattr(grey, "score_samples")
    printed = out.getvalue()
    accuracy = float(re.search(r"accuracy (\S+)", printed).group(1))
    assert accuracy > 0.9, printed
    ll = re.search(r"AIS log-likelihood (\S+) nats \[(\S+), (\S+)\]", printed)
    mean, lower, upper = (float(g) for g in ll.groups())
    assert lower <= mean <= upper < 0, printed
    assert (tmp_path / "digits.onsager").is_file()

"""`spfbuild render` over many domains: one domain's failure is that domain's alone."""

from __future__ import annotations

import io
from pathlib import Path

from typer.testing import CliRunner

from spfbuild.cli import application
from spfbuild.cli.progress import Progress

app = application()
runner = CliRunner()


def test_twenty_domains_with_one_over_ten_lookups_emit_the_other_nineteen(tmp_path: Path) -> None:
    lines = ["defaults:", "  policy: fail", "domains:"]
    for n in range(20):
        lines += [f"  c{n:02}.example:", "    senders:", f"      - ip4: [198.51.100.{n}]"]
        if n == 4:
            lines += [f"      - include: p{p}.example" for p in range(11)]
    config = tmp_path / "senders.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["render", "-q", str(config), "-F", "zone"])
    assert result.exit_code == 1
    emitted = [line.split(".\t")[0] for line in result.stdout.splitlines() if not line.startswith(";")]
    assert emitted == [f"c{n:02}.example" for n in range(20) if n != 4]
    (line,) = result.stderr.splitlines()
    assert line.startswith("spfbuild: error: c04.example: ") and "11" in line


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_is_drawn_on_a_terminal_only() -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress(3, stream, "flattened")
        for _ in range(3):
            progress.advance()
        progress.clear()
    assert "\rflattened 1/3" in terminal.getvalue() and "\rflattened 2/3" in terminal.getvalue()
    assert pipe.getvalue() == ""

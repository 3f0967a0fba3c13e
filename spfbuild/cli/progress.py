"""A progress line on stderr for runs over many domains ("checked 12/200"), redrawn in place and
shown only when stderr is a terminal, so that scripts and cron mail never see it."""

from __future__ import annotations

from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO, verb: str = "checked"):
        self.total, self.stream, self.verb, self.done = total, stream, verb, 0
        self.enabled = stream.isatty() and total > 1

    def advance(self) -> None:
        self.done += 1
        if self.enabled and self.done < self.total:
            self.stream.write(f"\r{self.verb} {self.done}/{self.total}")
            self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()

"""Macro-compiled SPF (`flatten.mode: macro`): any number of senders in one lookup, as a static
zone any authoritative DNS server can serve.

The declared record's exact result for every address (the partition ranges mode uses) becomes
TXT records at octet and nibble boundaries with RFC 4592 wildcards (`blocks`), under a
content-addressed label (`names`); the main record sends each client to its own name with
`redirect=%{ir}.%{v}.<label>` after the terms that must stay as written (`build`). The
self-check (`check`) resolves the client names against the zone as a server would (`zone`).

Modules: source (what the flattener computed), blocks, names, build, zone, check, report.
"""

from __future__ import annotations

from dataclasses import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from spfbuild.compiled.build import Compiled
    from spfbuild.compiled.check import Checked
    from spfbuild.compiled.source import Segments
    from spfbuild.config import DomainSpec
    from spfbuild.emit import RecordSet
    from spfbuild.layout import Top
    from spfbuild.partition import Partition
    from spfbuild.tree import Fetched


@dataclass(frozen=True)
class Publication:
    """A macro-compiled flattening: its SPF records (the flattening adds the DKIM and DMARC
    records beside them), the terms kept as written (indexes into the composed record's
    mechanisms), and for reports and --explain what they were compiled from."""

    record_set: RecordSet
    kept: tuple[int, ...]
    compiled: Compiled
    segments: Segments
    checked: Checked | None

    @property
    def lookups(self) -> int:
        return self.compiled.lookups

    @property
    def checked_addresses(self) -> int:
        return self.checked.addresses if self.checked else 0


async def compile_domain(spec: DomainSpec, top: Top, root: Fetched, partition: Partition,
                         main_budget: int, *, declared: str | None = None,
                         instead_of: str | None = None) -> Publication:
    """The domain's macro-compiled publication, self-checked against `declared` (the declaration
    as written) when given. `instead_of` is why ranges did not fit (`flatten.mode: auto`): a
    refusal names both."""
    from spfbuild.partition import FlattenError

    try:
        return await _compile(spec, top, root, partition, main_budget, declared)
    except FlattenError as exc:
        if instead_of is None:
            raise
        raise FlattenError(f"{exc} (flatten.mode auto compiled it because the ranges do not fit: "
                           f"{instead_of.removeprefix(spec.domain + ': ')})") from None


async def _compile(spec: DomainSpec, top: Top, root: Fetched, partition: Partition,
                   main_budget: int, declared: str | None) -> Publication:
    from spfbuild.compiled.build import compile_segments
    from spfbuild.compiled.check import check_compiled
    from spfbuild.compiled.source import segments as read_segments
    from spfbuild.emit import RecordSet, TxtRecord
    from spfbuild.partition import FlattenError

    settings = spec.flatten
    segments = read_segments(top)
    compiled = compile_segments(segments, spec.domain, settings.macro_zone or spec.domain,
                                settings.macro_max_records)
    kept = sorted(top.forced)
    if compiled.lookups > settings.max_lookups:
        names = ", ".join(str(top.mechanisms[i]) for i in kept) or "none"
        raise FlattenError(f"{spec.domain}: the compiled record needs {compiled.lookups} DNS lookups, over the "
                           f"budget of {settings.max_lookups} (kept: {names})")
    main = TxtRecord(spec.domain, compiled.main, spec.ttl)
    if main.size > main_budget:
        raise FlattenError(f"{spec.domain}: the compiled main record takes {main.size} bytes, over the budget of "
                           f"{main_budget}: {compiled.main}")
    checked = None
    if declared is not None:
        checked = await check_compiled(root, partition.graph, segments, compiled, partition.walker.resolver,
                                       declared, partition.verdicts)
    records = (main, *(TxtRecord(name, value, spec.ttl) for name, value in compiled.records()))
    return Publication(RecordSet(spec.domain, records, compiled=True), tuple(kept), compiled, segments, checked)

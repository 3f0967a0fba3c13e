"""Two large tenants as fixtures: their senders' records (one zone, `senders.test`) and their
configs, built from a fixed seed so that every run sees the same world.

* `seventeen()`: the 17 senders of the capacity issue, in its order: Microsoft 365, Google,
  MailChimp, Mimecast global, SendGrid, Amazon SES, a record with `-ip4:` exclusions, a
  `?include:`, a `~all` record, a `redirect=`, `a/24` + `mx/24//64`, a sender whose record holds
  `exists:%{i}._spf.<its domain>` (kept: its result depends on the client), a 4-deep include
  chain, Zendesk, Mailgun, Postmark, Atlassian.
* `forty()`: 40 senders with about 1,200 ranges of IPv4 and IPv6, many off octet and nibble
  boundaries, with exclusions inside includes, a `-ip4:` sender (fail), a `~include:`
  (softfail) and a `?include:` (neutral).
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

ZONE = "senders.test"


@dataclass(frozen=True)
class Tenant:
    config: str  # the senders.yaml body after `domain:`
    records: tuple[tuple[str, str, str], ...]  # (absolute owner, type, master-file value) in senders.test

    def zone_text(self) -> str:
        lines = ["$TTL 300", f"@ SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300", "@ NS ns", "ns A 127.0.0.1"]
        lines += [f"{owner}. 300 IN {rtype} {value}" for owner, rtype, value in self.records]
        return "\n".join(lines) + "\n"


def _txt(text: str) -> str:
    """A TXT value in master-file form, cut into strings of at most 255 octets."""
    return " ".join(f'"{text[i:i + 250]}"' for i in range(0, len(text), 250))


class _World:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.records: list[tuple[str, str, str]] = []
        self.used: set[int] = set()

    def spf(self, name: str, terms: list[str], end: str = "-all") -> str:
        owner = f"{name}.{ZONE}"
        self.records.append((owner, "TXT", _txt(" ".join(["v=spf1", *terms, end]).strip())))
        return owner

    def v4(self, prefixes: list[int]) -> str:
        prefix = self.rng.choice(prefixes)
        while True:  # a /16 of its own per range: ranges of different senders rarely touch
            slot = self.rng.randrange(1, 223 * 256)
            if slot // 256 not in (10, 127) and slot not in self.used:
                self.used.add(slot)
                break
        base = (slot << 16) | (self.rng.randrange(0, 1 << 16) & ~((1 << (32 - max(prefix, 16))) - 1))
        return f"ip4:{ipaddress.ip_network((base, prefix), strict=False)}"

    def v6(self, prefixes: list[int]) -> str:
        prefix = self.rng.choice(prefixes)
        base = (0x2001 << 112) | (self.rng.randrange(1, 1 << 16) << 96) | (self.rng.randrange(0, 1 << 32) << 64)
        return f"ip6:{ipaddress.ip_network((base, prefix), strict=False)}"

    def ranges(self, count: int, v4: list[int], v6: list[int], share6: float = 0.15) -> list[str]:
        return [self.v6(v6) if self.rng.random() < share6 else self.v4(v4) for _ in range(count)]

    def provider(self, name: str, ranges: list[str], per_record: int = 14, end: str = "-all") -> str:
        """A provider's record: its ranges in sub-records of `per_record` each, as the big ones publish."""
        if len(ranges) <= per_record:
            return self.spf(name, ranges, end)
        parts = [ranges[i:i + per_record] for i in range(0, len(ranges), per_record)]
        subs = [self.spf(f"s{n}.{name}", part) for n, part in enumerate(parts, 1)]
        return self.spf(name, [f"include:{s}" for s in subs], end)


def seventeen() -> Tenant:
    w = _World(15)
    common4, common6 = [14, 16, 18, 20, 21, 22, 23, 24, 25, 26, 27, 28], [32, 36, 40, 44, 46, 48, 52, 56]
    senders: list[str] = []

    def include(owner: str, qualifier: str | None = None) -> None:
        senders.append(f"  - include: {owner}" + (f"\n    qualifier: {qualifier}" if qualifier else ""))

    include(w.provider("spf.protection.outlook", w.ranges(24, common4, common6, 0.4)))  # Microsoft 365
    google = [w.spf(f"_netblocks{n}.google", w.ranges(10, common4, common6, 0.4), "~all") for n in ("", "2", "3")]
    include(w.spf("_spf.google", [f"include:{g}" for g in google], "~all"))
    include(w.provider("servers.mcsv", w.ranges(8, [20, 22, 24, 25, 27], common6, 0)))  # MailChimp
    include(w.provider("_netblocks.mimecast", w.ranges(12, [22, 24, 25, 26], common6, 0.1)))
    include(w.provider("sendgrid", w.ranges(12, [19, 24, 28, 32], common6, 0)))
    include(w.provider("amazonses", w.ranges(8, [19, 20, 22, 24], common6, 0.1)))
    # Exclusions inside a covering range: the excluded addresses are "no match", not fail.
    base = w.v4([20]).split(":")[1]
    net = ipaddress.ip_network(base)
    excluded = [f"-ip4:{net.network_address + k}" for k in (7, 9, 300, 1025)] + [f"-ip4:{net.network_address + 512}/28"]
    include(w.spf("excl.partner", [*excluded, f"ip4:{net}"]))
    include(w.spf("spf.neutral-partner", w.ranges(4, [24, 26, 32], common6, 0.25)), "neutral")
    include(w.spf("spf.soft-partner", w.ranges(5, [24, 25, 29], common6, 0.2), "~all"))
    target = w.spf("_spf.redir-target", w.ranges(6, [22, 24, 27], common6, 0.2))
    include(w.spf("redir", [], f"redirect={target}"))
    # a/24 and mx/24//64 of the tenant's own hosts.
    for n, host in enumerate(("mail", "mx1", "mx2"), 1):
        w.records.append((f"{host}.own.{ZONE}", "A", f"198.18.{n * 4}.{n * 11}"))
        w.records.append((f"{host}.own.{ZONE}", "AAAA", f"2001:db8:{n}::{n}"))
    w.records += [(f"own.{ZONE}", "MX", f"10 mx1.own.{ZONE}."), (f"own.{ZONE}", "MX", f"20 mx2.own.{ZONE}.")]
    senders.append(f"  - a: mail.own.{ZONE}/24")
    senders.append(f"  - mx: own.{ZONE}/24//64")
    crm = f"_spf.crm.{ZONE}"
    include(w.spf("_spf.crm", [f"exists:%{{i}}.{crm}", *w.ranges(6, [22, 24, 25], common6, 0)]))
    chain = w.spf("chain4", w.ranges(5, [24, 26, 28], common6, 0.2))
    for depth in (3, 2, 1):
        chain = w.spf(f"chain{depth}", [f"include:{chain}", *w.ranges(2, [24, 27], common6, 0)])
    include(chain)
    for name, count in (("mail.zendesk", 6), ("mailgun", 8), ("spf.mtasv", 4), ("_spf.atlassian", 6)):
        include(w.provider(name, w.ranges(count, [20, 22, 24, 25, 26, 28], common6, 0.15)))
    return Tenant("policy: fail\nsenders:\n" + "\n".join(senders) + "\n", tuple(w.records))


def forty() -> Tenant:
    w = _World(16)
    prefixes4 = [16, 18, 20, 21, 22, 23, 24, 24, 24, 24, 24, 26, 28, 29, 30, 31, 32, 32, 32]
    prefixes6 = [32, 36, 40, 44, 46, 48, 48, 52, 56, 60, 64]
    senders: list[str] = []
    for n in range(1, 38):
        ranges = w.ranges(31, prefixes4, prefixes6, 0.15)
        if n % 6 == 0:  # exclusions inside the sender's own covering range
            net = ipaddress.ip_network(ranges[0].split(":", 1)[1])
            if net.version == 4 and net.num_addresses > 64:
                ranges = [f"-ip4:{net.network_address + 5}", f"-ip4:{net.network_address + 33}/30", *ranges]
        owner = w.provider(f"p{n}", ranges, end="~all" if n % 5 == 0 else "-all")
        senders.append(f"  - include: {owner}")
    soft = w.spf("soft", w.ranges(12, prefixes4, prefixes6, 0.2))
    neutral = w.spf("neutral", w.ranges(12, prefixes4, prefixes6, 0.2))
    senders.insert(3, f"  - include: {soft}\n    qualifier: softfail")
    senders.insert(10, f"  - include: {neutral}\n    qualifier: neutral")
    blocked = [w.v4([24, 28, 32]).split(":", 1)[1] for _ in range(8)]
    senders.insert(0, "  - ip4: [" + ", ".join(blocked) + "]\n    qualifier: fail")
    return Tenant("policy: fail\nsenders:\n" + "\n".join(senders) + "\n", tuple(w.records))

"""The `publish:` key: where `flatten --state` publishes a domain with RFC 2136, each error
naming the file, line and column."""

from __future__ import annotations

from pathlib import Path

import yaml

from spfbuild.config.model import PUBLISH_KEYS, PublishSpec
from spfbuild.config.nodes import NodeReader
from spfbuild.dnsname import name_problem


class PublishReader(NodeReader):
    """Reads `publish: {rfc2136: URL, tsig_key: FILE, zone: ZONE}`."""

    def publish(self, node: yaml.Node, domain: str) -> PublishSpec:
        from spfbuild.pushserver import PublishError, in_zone, parse_push_server

        items = self.mapping(node, "publish")
        self.refuse_unknown(items, PUBLISH_KEYS, "publish")
        for key in ("rfc2136", "tsig_key"):
            if key not in items:
                raise self.error(node, f"publish needs '{key}:' (rfc2136: \"rfc2136://HOST[:PORT][/ZONE]\", "
                                       "tsig_key: FILE)")
        url_node = items["rfc2136"][1]
        try:
            server, zone = parse_push_server(self.text(url_node, "publish.rfc2136"))
        except PublishError as exc:
            raise self.error(url_node, f"publish.rfc2136: {exc}") from None
        zone_node = url_node
        if "zone" in items:
            zone_node = items["zone"][1]
            named = self.zone_name(zone_node)
            if zone is not None and named != zone:
                raise self.error(zone_node, f"publish.zone {named!r} differs from the zone {zone!r} in publish.rfc2136")
            zone = named
        if zone is not None and not in_zone(domain, zone):
            raise self.error(zone_node, f"domain '{domain}' is not inside the publish zone '{zone}'")
        key_node = items["tsig_key"][1]
        path = Path(self.text(key_node, "publish.tsig_key")).expanduser()
        if not path.is_absolute():  # relative to the config file, wherever the run starts
            path = Path(self.filename).resolve().parent / path
        return PublishSpec(server.host, server.port, path, zone, self.loc(node))

    def zone_name(self, node: yaml.Node) -> str:
        zone = self.text(node, "publish.zone").lower().rstrip(".")
        if not zone.isascii() or name_problem(zone) is not None:
            raise self.error(node, f"publish.zone {zone!r} is not a DNS name (use the IDNA/punycode form)")
        return zone

"""The protocol's parts: wire messages, payload codec, relay (client and server), gateway base and templates."""

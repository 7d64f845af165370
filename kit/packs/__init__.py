"""Competition packs: one package per competition, each behind the `kit.pack.Pack` interface."""

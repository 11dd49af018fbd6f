"""Stacks compose constructs and wire them together; they hold no resource logic."""

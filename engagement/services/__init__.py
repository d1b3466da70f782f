"""Writes for council engagement: snapshots, and the council team (officer invitations)."""

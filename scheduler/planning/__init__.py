"""Routines and settings turned into firings: what `next` previews and the daemon fires."""

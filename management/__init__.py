"""Stores: voices, vc_inputs and outputs on disk."""

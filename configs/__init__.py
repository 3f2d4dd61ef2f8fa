"""Example experiment configs, shipped as package data."""

"""Thin command-line front ends: each parses arguments and calls the library."""

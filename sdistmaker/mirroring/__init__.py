"""A complete index: what the private packages and MIRROR's requirements need, resolved by uv
against an upstream index, downloaded once, checked against upstream's hashes and kept beside
the built files, so that installs need no other index."""

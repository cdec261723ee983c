"""The intake service's pure domain: regions, identifiers, the Mine and Application aggregates, materials.

No I/O here (no pymongo, kafka, flask or marshmallow).  See docs/intake-domain.md.
"""

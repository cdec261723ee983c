"""The intake service's pure domain: identifiers, the Mine and Application aggregates, materials, commands.

No pymongo, kafka, flask or marshmallow here, no clock and no configuration; the one file read is reference data
(the minerals vocabulary, at import).  See docs/intake-domain.md.
"""

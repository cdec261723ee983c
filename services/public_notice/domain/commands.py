"""Commands of the public_notice service: small frozen dataclasses named imperatively, one handler each
(see docs/conventions.md). None yet: the public notice (公示), objections and the green-mine list (名录) is still
to be built."""
from __future__ import annotations

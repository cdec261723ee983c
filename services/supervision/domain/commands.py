"""Commands of the supervision service: small frozen dataclasses named imperatively, one handler each
(see docs/conventions.md). None yet: dynamic supervision (标注 / 限期整改 / 移出名录) is still to be built."""
from __future__ import annotations

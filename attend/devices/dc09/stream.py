"""Cut a TCP byte stream into DC-09 frames (`<LF>` … `<CR>`), whatever the segmenting."""

from __future__ import annotations

__all__ = ["MAX_FRAME", "FrameSplitter"]

# LF + CRC + length + 0xFFF body bytes + CR.
MAX_FRAME = 1 + 8 + 0xFFF + 1


class FrameSplitter:
    """Feed it bytes as they arrive; it returns the complete frames so far.

    Bytes before an LF are noise and dropped; an LF before the CR starts the frame
    again (frames never contain LF); a frame that outgrows `MAX_FRAME` is dropped, so a
    peer cannot make us buffer without bound.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        frames: list[bytes] = []
        while (frame := self._next()) is not None:
            frames.append(frame)
        return frames

    def _next(self) -> bytes | None:
        buffer = self._buffer
        start = buffer.find(b"\n")
        if start < 0:
            self._discard(len(buffer))
            return None
        self._discard(start)
        end = buffer.find(b"\r", 1)
        restart = buffer.find(b"\n", 1, end if end >= 0 else len(buffer))
        if restart > 0:
            self._discard(restart)
            return self._next()
        if end < 0:
            if len(buffer) > MAX_FRAME:
                self._discard(len(buffer))
            return None
        frame = bytes(buffer[: end + 1])
        del buffer[: end + 1]
        return frame if len(frame) <= MAX_FRAME else None

    def _discard(self, count: int) -> None:
        if count:
            self.dropped += count
            del self._buffer[:count]

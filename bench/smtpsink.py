"""A minimal SMTP sink on loopback for the fan-out benchmark: it speaks enough SMTP for Django's
smtp backend (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), accepts every message, keeps none,
and counts them with the time of the first and the last.

Hand-written rather than aiosmtpd: the sink shares the two cores with the worker it measures, so
it does the least work a real SMTP server must (one read per message body, no parsing), which
keeps its own cost out of the deliveries/s figure as far as an honest network hop allows.
"""

import asyncio
import contextlib
import threading
import time


class SmtpSink:
    def __init__(self) -> None:
        self.messages = 0
        self.connections = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b"220 bench-sink ESMTP\r\n")
        try:
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-bench-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 end with <CRLF>.<CRLF>\r\n")
                    await writer.drain()
                    await reader.readuntil(b"\r\n.\r\n")
                    now = time.monotonic()
                    self.first_at = self.first_at or now
                    self.last_at = now
                    self.messages += 1
                    writer.write(b"250 2.0.0 accepted\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    break
                else:  # HELO, MAIL, RCPT, RSET, NOOP
                    writer.write(b"250 OK\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._session, "127.0.0.1", 0, limit=2**22, backlog=256)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await server.serve_forever()

    def _run(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):  # __exit__ stops the server
            self._loop.run_until_complete(self._serve())

    def __enter__(self) -> "SmtpSink":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        for task in asyncio.all_tasks(self._loop):
            self._loop.call_soon_threadsafe(task.cancel)
        self._thread.join(5)

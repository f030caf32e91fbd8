#!/usr/bin/env python3
"""A SIA DC-09 receiver for tests and benchmarks: pysiaalarm's parser and answers on loopback.

Every block that arrives is read by pysiaalarm 3.2.2 (CRC, length, decryption, timestamp window,
account, code) and answered with the answer pysiaalarm builds for it (ACK, NAK with its own time,
DUH), unless told to misbehave for COUNT blocks (after the first AFTER, default 0):

  duh    answer DUH as pysiaalarm does for a code it does not know
  late   answer after --late seconds (beyond the sender's timeout)
  never  read and never answer, keeping the connection open
  drop   read and close the connection without answering (TCP)

Prints one JSON line per block: what pysiaalarm read and what was answered. The first line is
{"listening": PORT}. Usage:
  dc09_receiver.py --port P --account 1234 [--key CHARS] [--udp] [--misbehave MODE --count N [--after N]] [--late S]
pysiaalarm takes the key as text and uses its characters' bytes as the AES key.
"""
import argparse
import asyncio
import json
import sys

from pysiaalarm import SIAAccount
from pysiaalarm.aio.server import SIAServerTCP
from pysiaalarm.event import NAKEvent, SIAEvent
from pysiaalarm.utils import Counter


def emit(record):
    print(json.dumps(record, sort_keys=True), flush=True)


class Receiver:
    def __init__(self, options):
        self.options = options
        self.remaining = options.count
        self.good = options.after
        accounts = {options.account: SIAAccount(options.account, options.key)}
        self.server = SIAServerTCP(accounts, self.on_event, Counter())
        # Called with each record as it arrives, and once its answer is written (Benchmarks/dc09_latency.py
        # times presses by the second and prints nothing).
        self.received = emit
        self.answered = lambda record: None

    async def on_event(self, event):
        return None

    def misbehaviour(self):
        if self.good > 0:
            self.good -= 1
            return None
        if self.remaining > 0:
            self.remaining -= 1
            return self.options.misbehave
        return None

    def answer(self, data):
        """pysiaalarm's reading of one block, its answer, and how this receiver behaves."""
        event = self.server.parse_and_check_event(data)
        if event is None:
            return None, None, None
        record = {"raw": data.decode("ascii", "replace").strip()}
        if isinstance(event, NAKEvent) or not isinstance(event, SIAEvent):
            record.update(parsed=False)
        else:
            record.update(
                parsed=True,
                account=event.account,
                sequence=event.sequence,
                message_type=getattr(event.message_type, "value", event.message_type),
                encrypted=event.encrypted,
                code=event.code,
                ri=event.ri,
                message=event.message,
                qualifier=event.event_qualifier,
                event_type=event.event_type,
                partition=event.partition,
                timestamp=event.timestamp.isoformat() if hasattr(event.timestamp, "isoformat") else event.timestamp,
                extended={x.identifier: x.value for x in (event.extended_data or [])},
                valid_crc=event.valid_message,
                valid_timestamp=event.valid_timestamp,
            )
        response = event.create_response()
        behaviour = self.misbehaviour()
        if behaviour == "duh" and isinstance(event, SIAEvent):
            res = f'"DUH"{event.sequence}{event.receiver}{event.line}#{event.account}[]'
            response = f"\n{SIAEvent._crc_calc(res)}{len(res):04X}{res}\r".encode("ascii")
        record["response"] = response.decode("ascii", "replace").strip()
        record["behaviour"] = behaviour or "answer"
        return record, response, behaviour

    async def handle_tcp(self, reader, writer):
        try:
            while True:
                data = await reader.readuntil(b"\r")
                record, response, behaviour = self.answer(data)
                if record is None:
                    continue
                self.received(record)
                if behaviour == "drop":
                    break
                if behaviour == "never":
                    continue
                if behaviour == "late":
                    await asyncio.sleep(self.options.late)
                writer.write(response)
                self.answered(record)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionResetError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


class UDPProtocol(asyncio.DatagramProtocol):
    def __init__(self, receiver):
        self.receiver = receiver
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        record, response, behaviour = self.receiver.answer(data)
        if record is None:
            return
        self.receiver.received(record)
        if behaviour in ("drop", "never"):
            return
        delay = self.receiver.options.late if behaviour == "late" else 0

        def answer():
            self.transport.sendto(response, addr)
            self.receiver.answered(record)
        asyncio.get_running_loop().call_later(delay, answer)


def parse_options(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--key")
    parser.add_argument("--udp", action="store_true")
    parser.add_argument("--misbehave", choices=["duh", "late", "never", "drop"])
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--after", type=int, default=0)
    parser.add_argument("--late", type=float, default=3.0)
    return parser.parse_args(argv)


async def serve(receiver, ready):
    """Listens on 127.0.0.1 until cancelled; calls `ready` once it accepts blocks."""
    options = receiver.options
    if options.udp:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: UDPProtocol(receiver), local_addr=("127.0.0.1", options.port))
        ready()
        await asyncio.Event().wait()
    else:
        server = await asyncio.start_server(receiver.handle_tcp, "127.0.0.1", options.port)
        ready()
        async with server:
            await server.serve_forever()


async def main():
    receiver = Receiver(parse_options())
    await serve(receiver, lambda: emit({"listening": receiver.options.port}))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)

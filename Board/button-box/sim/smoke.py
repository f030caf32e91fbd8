#!/usr/bin/env python3
"""Smoke test of the button box firmware image in plbx-sim, speaking as the agent over the pty.

Checks what a technician would: the box offers PLBX 2, numbers its presses, repeats them until
STORED, keeps unconfirmed presses and its numbering across a reset and a power loss (EEPROM file),
answers as protocol 1 with the jumper, and falls back to protocol 1 when nobody answers.
Standard library only:  python3 sim/smoke.py --sim build/plbx-sim --firmware build/plbx-box.elf
"""
import argparse
import os
import select
import subprocess
import sys
import tempfile
import termios
import time
import tty


def checksum(body):
    value = 0
    for byte in body.encode():
        value ^= byte
    return "%02X" % value


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


class Box:
    """plbx-sim running the firmware, with its pty open as the agent would have it."""

    def __init__(self, sim, firmware, directory, eeprom, protocol1=False):
        self.link = os.path.join(directory, "box-%d" % time.monotonic_ns())
        command = [sim, "--firmware", firmware, "--link", self.link, "--eeprom", eeprom]
        if protocol1:
            command.append("--protocol1")
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.events, self.frames, self.all_events = [], [], []
        self.event_buffer = self.line_buffer = b""
        self.seq = 0
        self.fd = None
        self.wait_event(lambda e: e == "ready", 5, "plbx-sim says ready")
        self.fd = os.open(self.link, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        attributes = termios.tcgetattr(self.fd)
        attributes[4] = attributes[5] = termios.B9600
        termios.tcsetattr(self.fd, termios.TCSANOW, attributes)

    def pump(self, seconds):
        """Reads events and frames for `seconds`."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.read_once(end - time.monotonic())

    def read_once(self, timeout):
        """Reads what comes first within `timeout`: a chunk of events or of frames."""
        sources = [self.process.stdout] + ([self.fd] if self.fd is not None else [])
        ready, _, _ = select.select(sources, [], [], max(timeout, 0))
        if self.process.stdout in ready:
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                raise Failure("plbx-sim exited (status %s)" % self.process.wait())
            self.event_buffer += chunk
            while b"\n" in self.event_buffer:
                line, self.event_buffer = self.event_buffer.split(b"\n", 1)
                text = line.decode()  # "<simMicros> <event>", or "ready"
                event = text.split(" ", 1)[1] if text[0].isdigit() else text
                self.events.append(event)
                self.all_events.append(event)
        if self.fd is not None and self.fd in ready:
            self.line_buffer += os.read(self.fd, 4096)
            while b"\n" in self.line_buffer:
                line, self.line_buffer = self.line_buffer.split(b"\n", 1)
                text = line.decode(errors="replace").strip()
                if "$" not in text:
                    continue  # the tail of a frame sent before the port was opened
                text = text[text.rindex("$"):]
                body, _, sent = text[1:].partition("*")
                # A pty loses nothing: a bad frame is a fault of the harness or the firmware, or
                # another process reading this pty (an agent left running, configured with the
                # /dev/pts/N that this pty reuses), which takes bytes from the middle of frames.
                check(sent == checksum(body), "frame with a bad checksum: %r (if bytes are missing, "
                      "look for another process with %s open)" % (text, os.path.realpath(self.link)))
                self.frames.append(body.split(",")[1:])  # [seq, TYPE, fields...]

    def wait_event(self, predicate, seconds, what):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for index, event in enumerate(self.events):
                if predicate(event):
                    del self.events[: index + 1]
                    return event
            self.read_once(end - time.monotonic())
        raise Failure("no %s within %.1f s (events: %s)" % (what, seconds, self.events))

    def wait_frame(self, predicate, seconds, what):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for index, frame in enumerate(self.frames):
                if predicate(frame):
                    del self.frames[: index + 1]
                    return frame
            self.read_once(end - time.monotonic())
        raise Failure("no %s within %.1f s (frames: %s)" % (what, seconds, self.frames))

    def frames_during(self, seconds):
        self.frames.clear()
        self.pump(seconds)
        return list(self.frames)

    def say(self, *fields):
        body = ",".join(["PLBX", str(self.seq)] + [str(f) for f in fields])
        self.seq += 1
        os.write(self.fd, ("$%s*%s\r\n" % (body, checksum(body))).encode())

    def command(self, line):
        self.process.stdin.write((line + "\n").encode())
        self.process.stdin.flush()

    def hello(self):
        """The agent opening the port: QUERY, then ACK and PROTO,2 for a PLBX 2 hello."""
        self.say("QUERY")
        frame = self.wait_frame(lambda f: f[1] == "HELLO", 3, "HELLO")
        if len(frame) == 7:
            self.say("ACK", frame[0])
            self.say("PROTO", 2)
        return frame

    def close(self):
        self.process.stdin.close()
        status = self.process.wait(5)
        os.close(self.fd)
        check(status == 0, "plbx-sim exit status %s on stdin EOF" % status)
        check("boot watchdog" not in self.all_events, "the watchdog reset a healthy box: %s" % self.all_events)


def press_and_release(box, button, hold):
    box.command("press %d" % button)
    down = box.wait_frame(lambda f: f[1] == "DOWN" and f[2] == str(button), 2, "DOWN of button %d" % button)
    box.pump(hold)
    box.command("release %d" % button)
    up = box.wait_frame(lambda f: f[1] == "UP" and f[2] == str(button), 2, "UP of button %d" % button)
    return down, up


def plbx2(sim, firmware, directory):
    eeprom = os.path.join(directory, "box.eeprom")
    box = Box(sim, firmware, directory, eeprom)
    box.wait_event(lambda e: e == "boot power-on", 3, "boot power-on")
    hello = box.hello()
    check(len(hello) == 7 and hello[5] == "2" and len(hello[6]) == 8, "PLBX 2 HELLO offers 2: %s" % hello)
    incarnation = hello[6]

    box.command("press 3")
    down = box.wait_frame(lambda f: f[1] == "DOWN", 2, "DOWN")
    check(down[2:] [:2] == ["3", "1"], "first press of button 3 is press 1: %s" % down)
    repeat = box.wait_frame(lambda f: f[1] == "DOWN", 2, "repeated DOWN")
    check(repeat[3] == "1" and int(repeat[4]) >= 1000, "DOWN repeated with its age: %s" % repeat)
    box.command("release 3")
    up = box.wait_frame(lambda f: f[1] == "UP", 2, "UP")
    check(up[2:4] == ["3", "1"] and int(up[4]) >= 1000 and len(up) == 5, "UP of press 1 with its hold: %s" % up)
    box.say("STORED", 1)
    box.say("LED", 1, "ON")
    box.wait_event(lambda e: e == "led 1 on", 2, "LED 1 on after LED,1,ON")
    after = box.frames_during(2.5)
    check(not [f for f in after if f[1] in ("UP", "DOWN")], "STORED ends the repeats: %s" % after)

    _, up = press_and_release(box, 4, 0.3)
    check(up[3] == "2", "the next press is 2: %s" % up)
    box.wait_frame(lambda f: f[1] == "UP" and f[3] == "2", 1, "UP of press 2 repeated")
    box.command("reset")
    box.wait_event(lambda e: e == "boot external", 3, "boot external after reset")
    hello = box.hello()
    check(hello[6] == incarnation, "same incarnation after a reset: %s" % hello)
    up = box.wait_frame(lambda f: f[1] == "UP", 3, "unconfirmed press resent after the reset")
    check(up[2:4] == ["4", "2"], "press 2 resent as UP: %s" % up)
    heartbeat = box.wait_frame(lambda f: f[1] == "HB", 2, "HB")
    check(heartbeat[4] == "2", "HB lastPress 2: %s" % heartbeat)
    box.say("STORED", 2)
    after = box.frames_during(2)
    check(not [f for f in after if f[1] == "UP"], "STORED,2 ends the repeats: %s" % after)

    box.command("press 16")
    box.wait_frame(lambda f: f[1] == "DOWN" and f[2] == "16", 2, "DOWN of button 16")
    box.pump(1.5)
    box.command("power off")
    box.pump(0.2)
    box.say("LED", 2, "ON")  # to a box without power: lost, not kept for the next boot
    box.pump(0.3)
    box.command("power on")
    box.wait_event(lambda e: e == "boot power-on", 3, "boot power-on after power loss")
    hello = box.hello()
    check(hello[6] == incarnation, "same incarnation after power loss: %s" % hello)
    down = box.wait_frame(lambda f: f[1] == "DOWN", 2, "held press goes on after power loss")
    check(down[2:4] == ["16", "3"] and int(down[4]) >= 1000, "the same press 3, age from EEPROM: %s" % down)
    box.command("release 16")
    up = box.wait_frame(lambda f: f[1] == "UP", 2, "UP after power loss")
    check(up[2:4] == ["16", "3"] and up[5:] == ["R"], "UP of press 3 marked R: %s" % up)
    box.say("STORED", 3)
    check("led 2 on" not in box.all_events, "a frame sent while the box was off reached it")
    box.close()

    box = Box(sim, firmware, directory, eeprom)
    hello = box.hello()
    check(hello[6] == incarnation, "EEPROM file kept the incarnation over a harness restart")
    _, up = press_and_release(box, 1, 0.1)
    check(up[3] == "4", "numbering goes on at 4: %s" % up)
    box.close()


def protocol1(sim, firmware, directory):
    box = Box(sim, firmware, directory, os.path.join(directory, "p1.eeprom"), protocol1=True)
    hello = box.hello()
    check(len(hello) == 5, "the jumper: a 3-field HELLO: %s" % hello)
    box.say("ACK", hello[0])
    box.command("press 2")
    first = box.wait_frame(lambda f: f[1] == "DOWN", 2, "protocol 1 DOWN")
    check(first[2:] == ["2"], "DOWN,<button> only: %s" % first)
    again = box.wait_frame(lambda f: f[1] == "DOWN", 1, "repeated DOWN")
    check(again == first, "repeated with the same number: %s" % again)
    box.say("ACK", first[0])
    heartbeat = box.wait_frame(lambda f: f[1] == "HB", 2, "HB")
    check(len(heartbeat) == 4 and heartbeat[3] == "2", "protocol 1 HB with mask 2: %s" % heartbeat)
    after = box.frames_during(1)
    check(not [f for f in after if f[1] == "DOWN"], "ACK ends the repeats: %s" % after)
    box.close()

    box = Box(sim, firmware, directory, os.path.join(directory, "fallback.eeprom"))
    first = box.wait_frame(lambda f: f[1] == "HELLO", 2, "HELLO")
    check(len(first) == 7, "offers 2 first")
    fallback = box.wait_frame(lambda f: f[1] == "HELLO" and len(f) == 5, 7, "protocol 1 HELLO after 20 repeats")
    box.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sim", required=True)
    parser.add_argument("--firmware", required=True)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        for test in (plbx2, protocol1):
            try:
                test(arguments.sim, arguments.firmware, directory)
                print("sim smoke test %s: passed" % test.__name__)
            except Failure as failure:
                print("sim smoke test %s: FAILED: %s" % (test.__name__, failure), file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

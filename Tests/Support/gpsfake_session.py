"""gpsd under gpsfake, started until its gpsd really has the fake receiver.

gpsfake hands gpsd the receiver's pseudo-terminal through gpsd's control socket as soon as the socket
file exists, which is before gpsd listens on it; on a loaded machine the hand-over is refused and
gpsfake carries on without a word, leaving a gpsd with no receiver. Such a gpsfake is stopped and
started again. (PatrolTestSupport's GPSFake does the same for the Swift tests.)

As a module: `start_gpsfake(arguments, port, log_path)`. As a command, for shell scripts, it stays
in front of gpsfake and ends with it, passing SIGTERM on:

    python3 Tests/Support/gpsfake_session.py PORT -- GPSFAKE-ARGUMENTS...
"""

import signal, socket, subprocess, sys, time

ATTEMPTS = 3
# Far longer than gpsfake's hand-over takes.
RECEIVER_WAIT_S = 3


def gpsd_has_receiver(port):
    """Whether gpsd on 127.0.0.1:`port` lists a device; None while it does not answer. `?DEVICES;`
    does not start gpsd reading the device, so nothing of the log is played to this probe."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"?DEVICES;\n")
            received = b""
            while b'"class":"DEVICES"' not in received or not received.endswith(b"\n"):
                chunk = connection.recv(4096)
                if not chunk or len(received) > 65536:
                    return None
                received += chunk
    except OSError:
        return None
    devices = next(line for line in received.split(b"\n") if b'"class":"DEVICES"' in line)
    return b'"path"' in devices


def start_gpsfake(arguments, port, log_path, timeout=15):
    """Runs `gpsfake ARGUMENTS` (which must serve `port`, `-P`), output appended to `log_path`, and
    returns its Popen once gpsd has the receiver. Stop it with terminate(): gpsfake stops its gpsd."""
    for attempt in range(1, ATTEMPTS + 1):
        with open(log_path, "a") as log:
            process = subprocess.Popen(["gpsfake"] + arguments, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        listening_since = None
        while process.poll() is None and time.monotonic() < deadline:
            has_receiver = gpsd_has_receiver(port)
            if has_receiver:
                return process
            if has_receiver is False:
                listening_since = listening_since or time.monotonic()
                if time.monotonic() - listening_since > RECEIVER_WAIT_S:
                    break
            time.sleep(0.02)
        process.terminate()
        process.wait()
    raise RuntimeError(f"gpsfake did not start gpsd with its receiver on port {port} in {ATTEMPTS} attempts; see {log_path}")


def main():
    if len(sys.argv) < 3 or sys.argv[2] != "--":
        sys.exit("usage: gpsfake_session.py PORT -- GPSFAKE-ARGUMENTS...")
    process = start_gpsfake(sys.argv[3:], int(sys.argv[1]), "/dev/stderr")
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    signal.signal(signal.SIGINT, lambda *_: process.terminate())
    sys.exit(process.wait())


if __name__ == "__main__":
    main()

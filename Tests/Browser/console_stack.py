"""The real parts the console's browser tests run against, as scripts/demo.sh sets them up: gpsd
under gpsfake replaying a recorded receiver log, a patrol-agent recording it with a button box on a
pseudo-terminal and sending to a patrol-centre on 127.0.0.1, whose `serve` also serves the console.
Staff accounts are made with `patrol-centre staff add`, as a centre's admin would."""
import json, os, re, shutil, sqlite3, subprocess, sys, tempfile, time

from console_browser import ROOT

sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))
from agent_rig import Box, agent_config, free_port, start_agent, stop  # noqa: E402  (the benchmarks' box and agent)
from ingest_benchmark import wait_for_port  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "Tests", "Support"))
from gpsfake_session import start_gpsfake  # noqa: E402

BUILD = os.path.join(ROOT, ".build", "debug")
PLAN = os.path.join(ROOT, "Config", "plan.example.toml")
GPS_LOG = os.path.join(ROOT, "Tests", "Fixtures", "gpsd-logs", "bundg_zeus_9.log")  # the demo's boat, 2018-08-20
DEVICE = "demo-car"  # the plan's unit
# The recording's day and demo-car's morning shift in the plan (time zone UTC).
SHIFT_DATE, SHIFT_FROM, SHIFT_TO = "2018-08-20", "2018-08-20T09:00:00Z", "2018-08-20T11:00:00Z"
STAFF = {"operator": ("olga", "operator-pass-1"), "supervisor": ("sven", "supervisor-pass-2"), "admin": ("ada", "admin-pass-3")}


class ConsoleStack:
    """Starts everything in a fresh folder; `close()` stops it and removes the folder."""

    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="patrol-console-")
        self.processes = []
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        self.centre_binary = os.path.join(BUILD, "patrol-centre")
        agent_binary = os.path.join(BUILD, "patrol-agent")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = os.path.join(self.work, "centre.toml")
        with open(self.config, "w") as f:
            f.write(f'[server]\naddress = "127.0.0.1"\nport = {self.port}\n[storage]\ndatabase = "centre.db"\n'
                    f'[console]\ntime_zone = "Asia/Shanghai"\nplans = ["{PLAN}"]\n')
        added = self.centre("devices", "add", DEVICE)
        key_file = os.path.join(self.work, "device.key")
        with open(key_file, "w") as f:
            f.write(re.findall(r"^[0-9a-f]{64}$", added, re.M)[0] + "\n")
        os.chmod(key_file, 0o600)
        for role, (name, password) in STAFF.items():
            self.centre("staff", "add", name, "--role", role, stdin=password + "\n")
        self.spawn([self.centre_binary, "serve", "--config", self.config], "centre.log")
        wait_for_port(self.port)

        gpsd_port = free_port()
        self.gpsfake = start_gpsfake(["-1", "-q", "-c", "0.004", "-W", "2", "-P", str(gpsd_port), GPS_LOG], gpsd_port,
                                     os.path.join(self.work, "gpsfake.log"))
        self.processes.append(self.gpsfake)
        self.box = Box()
        agent_toml = os.path.join(self.work, "agent.toml")
        with open(agent_toml, "w") as f:
            f.write(agent_config(self.work, self.box.path, f'[gps]\nsource = "gpsd"\ngpsd_host = "127.0.0.1"\ngpsd_port = {gpsd_port}\n'
                                 f'rollover_pivot = "2017-01-01"\n[track]\nprofile = "car"',
                                 f'[[uplink]]\nname = "centre"\nkind = "centre-http"\nurl = "{self.url}"\n'
                                 f'key_file = "{key_file}"\nheartbeat_s = 5', device=DEVICE))
        self.agent = start_agent(agent_binary, agent_toml, self.box, os.path.join(self.work, "agent.log"))
        self.processes.append(self.agent)

    def spawn(self, command, log_name):
        with open(os.path.join(self.work, log_name), "w") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def centre(self, *arguments, stdin=None):
        """Runs a patrol-centre subcommand on this centre's configuration; returns what it printed."""
        done = subprocess.run([self.centre_binary, *arguments, "--config", self.config], input=stdin, capture_output=True,
                              text=True, timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"patrol-centre {' '.join(arguments)} failed: {done.stderr}")
        return done.stdout

    def open_alarms(self):
        """The open alarms as `patrol-centre alarms --open` lists them: (id, device) pairs."""
        rows = [line.split("\t") for line in self.centre("alarms", "--open").splitlines()]
        return [(row[0], row[1]) for row in rows if len(row) > 1 and row[0].isdigit()]

    def press_panic(self):
        """The guard presses and releases the panic button."""
        self.box.send("DOWN", 1)
        time.sleep(0.3)
        self.box.send("UP", 1)

    def coverage_json(self):
        return json.loads(self.centre("coverage", "--plan", PLAN, "--from", SHIFT_FROM, "--to", SHIFT_TO, "--format", "json"))

    def wait_for_track(self, timeout=180):
        """Waits until gpsfake has played the whole log and the centre's coverage of the shift has
        stopped changing (the agent has sent what it recorded); returns that coverage."""
        deadline = time.monotonic() + timeout
        previous, stable_since = None, time.monotonic()
        while time.monotonic() < deadline:
            report = self.coverage_json()
            if report != previous:
                previous, stable_since = report, time.monotonic()
            elif self.gpsfake.poll() is not None and time.monotonic() - stable_since > 6:
                return report
            time.sleep(1)
        raise AssertionError("the centre's coverage of the shift never settled")

    def age_sessions(self, name, hours):
        """Moves `name`'s console sessions `hours` into the past, in the centre's own SQLite file:
        the only way to let a sign-in expire without waiting for it (the centre's clock is real)."""
        with sqlite3.connect(os.path.join(self.work, "centre.db"), timeout=10) as database:
            shift = hours * 3_600_000
            database.execute("UPDATE staff_sessions SET created_ms = created_ms - ?, last_used_ms = last_used_ms - ? WHERE name = ?",
                             (shift, shift, name))

    def log(self, name):
        with open(os.path.join(self.work, name), errors="replace") as f:
            return f.read()

    def close(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                stop(process)
        shutil.rmtree(self.work, ignore_errors=True)

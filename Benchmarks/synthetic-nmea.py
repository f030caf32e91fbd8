#!/usr/bin/env python3
"""Writes a synthetic 1 Hz NMEA log of a patrol car driving a street grid (GGA, RMC, GSA per second).

Used where a long real-time feed is needed (footprint benchmarks at 1 Hz for many minutes): the real
receiver logs in ../shared/gpsd-logs are minutes long at most, and gpsfake replaying them in a loop
would repeat their timestamps.

  synthetic-nmea.py --seconds 3600 [--start 2026-05-01T08:00:00] [--noise] > drive.log

--noise adds what a real receiver reports on top of the ideal path (position wander of about a
metre, speed, course, altitude, HDOP and satellite count changing from second to second), for
measurements where compressibility matters (bytes per point on the uplink).
"""
import argparse, math, random
from datetime import datetime, timedelta, timezone


def checksum(body):
    c = 0
    for ch in body.encode():
        c ^= ch
    return f"{c:02X}"


def sentence(body):
    return f"${body}*{checksum(body)}\r\n"


def nmea_coord(value, is_lat):
    hemi = ("N" if value >= 0 else "S") if is_lat else ("E" if value >= 0 else "W")
    value = abs(value)
    deg = int(value)
    minutes = (value - deg) * 60
    return (f"{deg:02d}{minutes:07.4f}" if is_lat else f"{deg:03d}{minutes:07.4f}"), hemi


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=3600)
    ap.add_argument("--start", default="2026-05-01T08:00:00")
    ap.add_argument("--lat", type=float, default=52.3700)
    ap.add_argument("--lon", type=float, default=4.8900)
    ap.add_argument("--noise", action="store_true")
    args = ap.parse_args()
    noise = random.Random(7) if args.noise else None
    wander_n = wander_e = 0.0
    t = datetime.fromisoformat(args.start).replace(tzinfo=timezone.utc)
    lat, lon = args.lat, args.lon
    heading = 90.0
    # Drive 400 m blocks at 14 m/s (50 km/h), turn right at each corner, stop 60 s every 10 blocks.
    block, travelled, stopped_for, blocks = 400.0, 0.0, 0, 0
    for _ in range(args.seconds):
        speed = 0.0 if stopped_for > 0 else 14.0
        if stopped_for > 0:
            stopped_for -= 1
        else:
            travelled += speed
            if travelled >= block:
                travelled = 0.0
                heading = (heading + 90) % 360
                blocks += 1
                if blocks % 10 == 0:
                    stopped_for = 60
        dn = speed * math.cos(math.radians(heading))
        de = speed * math.sin(math.radians(heading))
        lat += dn / 111195.0
        lon += de / (111195.0 * math.cos(math.radians(lat)))
        hhmmss = t.strftime("%H%M%S") + ".00"
        ddmmyy = t.strftime("%d%m%y")
        shown_lat, shown_lon, shown_speed, course, alt, hdop, sats = lat, lon, speed, heading, 12.3, 0.9, 9
        if noise:
            # A slowly wandering offset (metres) plus per-fix jitter, as multipath and atmosphere give.
            wander_n = 0.95 * wander_n + noise.gauss(0, 0.3)
            wander_e = 0.95 * wander_e + noise.gauss(0, 0.3)
            shown_lat += (wander_n + noise.gauss(0, 0.4)) / 111195.0
            shown_lon += (wander_e + noise.gauss(0, 0.4)) / (111195.0 * math.cos(math.radians(lat)))
            shown_speed = max(0.0, speed + noise.gauss(0, 0.3)) if speed > 0 else abs(noise.gauss(0, 0.05))
            course = (heading + noise.gauss(0, 1.5)) % 360
            alt = 12.3 + noise.gauss(0, 1.0)
            hdop = round(0.7 + abs(noise.gauss(0, 0.2)), 1)
            sats = noise.choice([8, 9, 9, 10, 10, 11])
        la, ns = nmea_coord(shown_lat, True)
        lo, ew = nmea_coord(shown_lon, False)
        knots = shown_speed * 3600 / 1852
        print(sentence(f"GPGGA,{hhmmss},{la},{ns},{lo},{ew},1,{sats:02d},{hdop:.1f},{alt:.1f},M,46.9,M,,"), end="")
        print(sentence(f"GPGSA,A,3,01,03,06,09,12,17,19,22,28,,,,1.6,{hdop:.1f},1.3"), end="")
        print(sentence(f"GPRMC,{hhmmss},A,{la},{ns},{lo},{ew},{knots:.2f},{course:.1f},{ddmmyy},,,A"), end="")
        t += timedelta(seconds=1)


if __name__ == "__main__":
    main()

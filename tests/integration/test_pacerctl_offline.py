#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""pacerctl's offline verbs, run as a user would: the real binary, its stdout,
stderr and exit codes (DESIGN.md section 4)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

PACERCTL = os.environ.get("PACERCTL", "pacerctl")
DATA = os.environ.get("PACER_TEST_DATA", os.path.join(os.path.dirname(__file__), "..", "data"))

EX_USAGE, EX_DATAERR, EX_NOINPUT = 64, 65, 66


def run(*args):
    return subprocess.run([PACERCTL, *args], capture_output=True, text=True, timeout=30)


class Decode(unittest.TestCase):
    def decode(self, uuid, hexstr):
        p = run("decode", uuid, hexstr)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 1, "one JSON object on one line")
        return json.loads(lines[0])

    def assert_malformed(self, *args):
        p = run("decode", *args)
        self.assertEqual(p.returncode, EX_DATAERR, f"{args}: {p.stderr}")
        self.assertEqual(p.stdout, "")
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        return p.stderr

    # Reference §1.1, each payload as captured from the strap named
    def test_heart_rate_real_payloads(self):
        cases = [
            ("06 3c", 60, "detected", []),                        # Polar H7
            ("16 3c 11 04", 60, "detected", [1016.6015625]),      # Polar H7
            ("16 3c f5 03", 60, "detected", [989.2578125]),       # Polar H7
            ("10 43 72 03 8a 03", 67, "unsupported", [861.328125, 884.765625]),  # Polar H10
            ("10 44 92 03", 68, "unsupported", [892.578125]),     # Polar H10
            ("10 3c 8c 04", 60, "unsupported", [1136.71875]),     # Polar H10
            ("00 40", 64, "unsupported", []),                     # Polar H10
            ("04 00", 0, "not_detected", []),                     # Zwift Hub, no contact
        ]
        for hexstr, hr, contact, rr in cases:
            with self.subTest(hexstr=hexstr):
                v = self.decode("2a37", hexstr)
                self.assertEqual(v, {"type": "heart_rate", "hr_bpm": hr, "contact": contact,
                                     "energy_kj": None, "rr_ms": rr})
                self.assertAlmostEqual(sum(rr), sum(v["rr_ms"]))

    def test_rr_rounds_as_the_reference_says(self):
        v = self.decode("2a37", "16 3c 11 04")
        self.assertEqual(round(v["rr_ms"][0], 1), 1016.6)

    def test_uuid_forms(self):
        for uuid in ("2a37", "2A37", "0x2A37", "00002a37-0000-1000-8000-00805f9b34fb",
                     "00002A37-0000-1000-8000-00805F9B34FB"):
            with self.subTest(uuid=uuid):
                self.assertEqual(self.decode(uuid, "06 3c")["hr_bpm"], 60)

    def test_hex_forms(self):
        for form in (["163c1104"], ["16:3c:11:04"], ["16 3c 11 04"], ["16", "3c", "11", "04"]):
            with self.subTest(form=form):
                p = run("decode", "2a37", *form)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(json.loads(p.stdout)["rr_ms"], [1016.6015625])

    def test_rsc(self):  # OpenTracks' test bytes, reference §1.4
        self.assertEqual(self.decode("2a53", "02 00 05 50 ff ff 00 01"),
                         {"type": "rsc", "speed_mps": 5, "cadence_raw": 80, "stride_m": None,
                          "distance_m": 1684275.1, "running": False})

    def test_treadmill_cs_wp8(self):  # reference §1.8 worked decode
        v = self.decode("2acd", "84 24 2c 01 31 00 00 02 00 00 00 00 3d 00 5b 00 00")
        expected = dict.fromkeys(
            ["speed_kmh", "avg_speed_kmh", "distance_m", "incline_pct", "ramp_deg",
             "elevation_gain_m", "elevation_loss_m", "pace_s_per_km", "avg_pace_s_per_km",
             "energy_kcal", "energy_kcal_per_h", "energy_kcal_per_min", "hr_bpm", "met",
             "elapsed_s", "remaining_s", "force_n", "power_w"])
        expected.update(type="treadmill", speed_kmh=3, distance_m=49, energy_kcal=2,
                        energy_kcal_per_h=0, energy_kcal_per_min=0, elapsed_s=61)
        self.assertEqual(v, expected)

    def test_treadmill_not_available_is_null(self):
        v = self.decode("2acd", "80 00 c8 00 05 00 ff ff ff")
        self.assertEqual(v["speed_kmh"], 2)
        self.assertEqual(v["energy_kcal"], 5)
        self.assertIsNone(v["energy_kcal_per_h"])
        self.assertIsNone(v["energy_kcal_per_min"])

    def test_fitness_machine_feature(self):  # CS-WP8, reference §1.9
        v = self.decode("2acc", "44 12 00 00 01 00 00 00")
        self.assertEqual(v["type"], "fitness_machine_feature")
        on = sorted(k for k, b in v.items() if b is True)
        self.assertEqual(on, ["elapsed_time", "expended_energy", "step_count", "target_speed",
                              "total_distance"])
        self.assertEqual(len(v), 1 + 17 + 17)

    def test_battery_location_rsc_feature(self):
        self.assertEqual(self.decode("2a19", "55"), {"type": "battery", "percent": 85})
        self.assertEqual(self.decode("2a38", "01"),
                         {"type": "body_sensor_location", "location": "chest"})
        self.assertEqual(self.decode("2a38", "09")["location"], "reserved")
        v = self.decode("2a54", "07 00")
        self.assertEqual(v["type"], "rsc_feature")
        self.assertTrue(v["walking_running"])
        self.assertFalse(v["calibration"])

    def test_every_truncation_is_rejected(self):
        for uuid, hexstr in (("2a37", "16 3c 11 04"), ("2a53", "02 00 05 50 ff ff 00 01"),
                             ("2acd", "84 24 2c 01 31 00 00 02 00 00 00 00 3d 00"),
                             ("2acc", "44 12 00 00 01 00 00 00")):
            data = hexstr.split()
            for cut in range(len(data)):
                with self.subTest(uuid=uuid, cut=cut):
                    err = self.assert_malformed(uuid, " ".join(data[:cut]))
                    self.assertIn("malformed", err)

    def test_empty_payload(self):
        for uuid in ("2a37", "2a38", "2a53", "2a54", "2acd", "2acc", "2a19"):
            with self.subTest(uuid=uuid):
                self.assert_malformed(uuid, "")

    def test_bad_hex_and_out_of_range(self):
        self.assertIn("column 4", self.assert_malformed("2a37", "06 3"))
        self.assert_malformed("2a37", "06 zz")
        self.assert_malformed("2a19", "65")  # 101 % is reserved
        self.assert_malformed("2a37", "00 " * 600)

    def test_usage_errors(self):
        for args in ([], ["decode"], ["decode", "2a37"], ["nonsense"], ["decode", "2a3", "00"],
                     ["decode", "zz37", "00"], ["dump"], ["dump", "--bogus", "x"]):
            with self.subTest(args=args):
                p = run(*args)
                self.assertEqual(p.returncode, EX_USAGE, p.stderr)
                self.assertEqual(p.stdout, "")

    def test_unknown_uuid_is_a_clear_error(self):
        p = run("decode", "2a99", "00")
        self.assertEqual(p.returncode, EX_USAGE)
        self.assertEqual(p.stdout, "")
        self.assertIn("no decoder for UUID '2a99'", p.stderr)
        self.assertIn("2acd", p.stderr)  # and it says which ones exist


class Dump(unittest.TestCase):
    def test_cs_wp8_session(self):
        path = os.path.join(DATA, "cs-wp8-walk.capture")
        p = run("dump", "--json", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual(len(rows), 197)
        self.assertTrue(all(r["type"] == "treadmill" and r["uuid"] == "2acd" for r in rows))
        self.assertEqual(max(r["distance_m"] for r in rows), 49)
        self.assertEqual(max(r["speed_kmh"] for r in rows), 3)
        self.assertEqual(max(r["elapsed_s"] for r in rows), 70)
        # the belt stops and every counter restarts from zero
        self.assertEqual(rows[-1]["distance_m"], 0)
        times = [r["t_s"] for r in rows]
        self.assertEqual(times, sorted(times))

    def test_readable_output(self):
        p = run("dump", os.path.join(DATA, "hr-straps.capture"))
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 10)
        self.assertIn("67 bpm, contact unsupported, RR ms 861.3 884.8", lines[3])
        self.assertEqual(lines[-1], "9 notifications over 8.0 s, 0 malformed")

    def capture(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".capture", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_syntax_error_names_line_and_column(self):
        path = self.capture("# ok\n1.0 C0:FF:EE:00:00:01 2a37 06 3c\n2.0 C0:FF:EE:00:00 2a37 06\n")
        p = run("dump", path)
        self.assertEqual(p.returncode, EX_DATAERR)
        self.assertEqual(p.stderr.strip(),
                         f"{path}:3:5: expected a Bluetooth address such as C0:FF:EE:00:00:01")

    def test_malformed_payload_is_reported_and_the_rest_kept(self):
        path = self.capture("1.0 C0:FF:EE:00:00:01 2a37 06 3c\n"
                            "2.0 C0:FF:EE:00:00:01 2a37 16\n"
                            "3.0 C0:FF:EE:00:00:01 2a37 06 3d\n")
        p = run("dump", "--json", path)
        self.assertEqual(p.returncode, EX_DATAERR)
        self.assertEqual([json.loads(x)["hr_bpm"] for x in p.stdout.splitlines()], [60, 61])
        self.assertEqual(len(p.stderr.splitlines()), 1)
        self.assertIn(f"{path}:2:", p.stderr)

    def test_missing_file(self):
        p = run("dump", "/nonexistent/file.capture")
        self.assertEqual(p.returncode, EX_NOINPUT)
        self.assertEqual(p.stdout, "")
        self.assertIn("No such file", p.stderr)


class Zones(unittest.TestCase):
    def zones(self, *args):
        p = run("zones", *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 1, "one JSON object on one line")
        return json.loads(lines[0])

    def assert_usage_error(self, *args):
        p = run("zones", *args)
        self.assertEqual(p.returncode, EX_USAGE, f"{args}: {p.stderr}")
        self.assertEqual(p.stdout, "")
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertTrue(p.stderr.startswith("pacerctl: zones"), p.stderr)
        return p.stderr

    def test_race(self):  # reference §3.3: 19:57 5K is VDOT 49.95, T 4:15/km
        v = self.zones("--race", "5k=19:57")
        self.assertAlmostEqual(v["vdot"], 49.95, delta=0.05)
        self.assertEqual(sorted(v["pace_zones"]), ["E", "I", "M", "R", "T"])
        fast, slow = v["pace_zones"]["T"]
        self.assertLessEqual(fast, 255)
        self.assertGreaterEqual(slow, 255)
        for fast, slow in v["pace_zones"].values():
            self.assertLess(fast, slow)
        self.assertEqual(sorted(v["predictions"]), ["10k", "5k", "half", "marathon"])
        self.assertAlmostEqual(v["predictions"]["5k"], 1197, delta=1)
        self.assertAlmostEqual(v["predictions"]["marathon"], 3 * 3600 + 10 * 60 + 49, delta=60)
        self.assertIsNone(v["hr_zones"])
        self.assertIsNone(v["hr_model"])
        self.assertIsNone(v["max_hr_bpm"])

    def test_race_forms(self):
        a = self.zones("--race=10k=40:00")
        b = self.zones("--race", "10000=0:40:00")
        self.assertEqual(a, b)
        self.assertAlmostEqual(a["vdot"], 51.94, delta=0.01)  # reference §3.1

    def test_percent_max(self):  # reference §3.5
        v = self.zones("--max-hr", "190")
        self.assertEqual(v["hr_model"], "percent_max")
        self.assertEqual(v["max_hr_bpm"], 190)
        self.assertEqual([z["min_bpm"] for z in v["hr_zones"]], [95, 114, 133, 152, 171])
        self.assertEqual([z["zone"] for z in v["hr_zones"]], [1, 2, 3, 4, 5])
        self.assertEqual(v["hr_zones"][-1]["max_bpm"], 190)
        self.assertEqual(set(v["hr_zones"][0]), {"zone", "label", "name", "min_bpm", "max_bpm"})
        self.assertIsNone(v["vdot"])
        self.assertIsNone(v["pace_zones"])
        self.assertIsNone(v["predictions"])

    def test_karvonen(self):  # reference §3.5
        v = self.zones("--max-hr=190", "--resting-hr=60")
        self.assertEqual(v["hr_model"], "karvonen")
        self.assertEqual([z["min_bpm"] for z in v["hr_zones"]], [125, 138, 151, 164, 177])

    def test_lthr(self):  # reference §3.5, bounds rounded half up
        v = self.zones("--lthr", "170")
        self.assertEqual(v["hr_model"], "lthr")
        self.assertEqual([z["label"] for z in v["hr_zones"]],
                         ["Z1", "Z2", "Z3", "Z4", "Z5a", "Z5b", "Z5c"])
        self.assertEqual([z["min_bpm"] for z in v["hr_zones"]],
                         [None, 145, 153, 162, 170, 175, 180])
        self.assertIsNone(v["hr_zones"][-1]["max_bpm"])
        self.assertIsNone(v["max_hr_bpm"])

    def test_age(self):  # Tanaka: 208 - 0.7 * 40 = 180
        v = self.zones("--age", "40")
        self.assertEqual(v["max_hr_bpm"], 180)
        self.assertEqual(v["hr_model"], "percent_max")
        self.assertEqual(v["hr_zones"][-1]["max_bpm"], 180)

    def test_everything(self):
        v = self.zones("--lthr", "170", "--max-hr", "190", "--resting-hr", "50", "--age", "40",
                       "--race", "half=1:31:35")
        self.assertEqual(v["hr_model"], "lthr")
        self.assertEqual(v["max_hr_bpm"], 190)
        self.assertAlmostEqual(v["vdot"], 50, delta=0.1)

    def test_bad_inputs(self):
        for args in ([], ["--bogus", "1"], ["--max-hr"], ["--max-hr="], ["--max-hr", "abc"],
                     ["--max-hr", "190x"], ["--max-hr", " 190"], ["--max-hr", "1e2"],
                     ["--max-hr", "300"], ["--max-hr", "-190"], ["--age", "2"],
                     ["--lthr", "99999999999999999999"], ["190"],
                     ["--max-hr", "190", "--max-hr", "180"],
                     ["--resting-hr", "60"], ["--max-hr", "150", "--resting-hr", "160"],
                     ["--age", "40", "--lthr", "185"],
                     ["--race", "5k"], ["--race", "=20:00"], ["--race", "5k="],
                     ["--race", "5x=20:00"], ["--race", "5k=20:60"], ["--race", "5k=0:00"],
                     ["--race", "5k=1:00"], ["--race", "-5k=20:00"],
                     ["--race", "5k=20:00", "extra"]):
            with self.subTest(args=args):
                self.assert_usage_error(*args)

    def test_race_errors_name_the_part(self):
        self.assertIn("DIST '5x'", self.assert_usage_error("--race", "5x=20:00"))
        self.assertIn("TIME '20:61'", self.assert_usage_error("--race", "5k=20:61"))
        self.assertIn("DIST=TIME", self.assert_usage_error("--race", "5k"))



class Plan(unittest.TestCase):
    INTERVALS = "10min@E, 4x(400m@5k, 2min rest), 10min@E"

    def run_plan(self, *args, env=None):
        full_env = dict(os.environ)
        full_env.pop("PACER_PRESETS", None)
        full_env.update(env or {})
        return subprocess.run([PACERCTL, "plan", *args], capture_output=True, text=True,
                              timeout=30, env=full_env)

    def plan(self, *args, env=None):
        p = self.run_plan(*args, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 1, "one JSON object on one line")
        return json.loads(lines[0])

    def assert_fails(self, code, *args, env=None):
        p = self.run_plan(*args, env=env)
        self.assertEqual(p.returncode, code, f"{args}: {p.stderr}")
        self.assertEqual(p.stdout, "")
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertTrue(p.stderr.startswith("pacerctl: plan"), p.stderr)
        return p.stderr

    def presets_file(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_intervals(self):
        v = self.plan(self.INTERVALS, "--race", "5k=20:00")
        self.assertEqual(v["workout"], self.INTERVALS)
        self.assertIsNone(v["preset"])
        steps = v["steps"]
        self.assertEqual([s["kind"] for s in steps],
                         ["warmup"] + ["run", "rest"] * 4 + ["cooldown"])
        self.assertEqual([s["index"] for s in steps], list(range(10)))
        self.assertEqual(steps[0]["duration_s"], 600)
        self.assertNotIn("distance_m", steps[0])
        self.assertEqual(steps[1]["distance_m"], 400)
        self.assertNotIn("duration_s", steps[1])
        self.assertEqual(steps[1]["target"]["label"], "5k")
        fast, slow = steps[1]["target"]["pace_s_per_km"]  # 20:00 5k: 4:00/km +- 2 %
        self.assertAlmostEqual(fast, 235.2, delta=0.05)
        self.assertAlmostEqual(slow, 244.8, delta=0.05)
        self.assertIsNone(steps[2]["target"])
        self.assertEqual([(s["rep"], s["reps"]) for s in steps[1:9]],
                         [(k, 4) for k in (1, 1, 2, 2, 3, 3, 4, 4)])
        self.assertIsNone(steps[0]["rep"])
        self.assertIsNone(v["total_duration_s"])
        self.assertIsNone(v["total_distance_m"])

    def test_design_examples(self):
        examples = {
            "10min@E, 4x(400m@5k, 2min rest), 10min@E": 10,
            "15min@E, 20min@T, 10min@E": 3,
            "10min@E, 8x(30s@hill, 90s jog), 10min@E": 18,
            "1mi@6:40/mi negative": 4,
            "45min@z2": 1,
            "3x(1km@4:10-4:20/km+cad175-185, 400m jog)": 6,
        }
        for text, n in examples.items():
            with self.subTest(text=text):
                v = self.plan(text, "--race", "5k=20:00", "--max-hr", "190")
                self.assertEqual(len(v["steps"]), n)

    def test_heart_rate_and_negative(self):
        v = self.plan("45min@z2", "--max-hr=190")
        self.assertEqual(v["steps"][0]["target"]["hr_bpm"], [114, 132])
        self.assertIsNone(v["steps"][0]["target"]["pace_s_per_km"])
        self.assertEqual(v["total_duration_s"], 2700)
        v = self.plan("1mi@6:40/mi negative")
        self.assertEqual([s["distance_m"] for s in v["steps"]], [400, 400, 400, 409.344])
        self.assertEqual([s["segment"] for s in v["steps"]], [1, 2, 3, 4])
        self.assertIsNone(v["steps"][3]["target"]["pace_s_per_km"][0])  # all-out
        self.assertEqual(v["total_distance_m"], 1609.344)

    def test_preset(self):
        v = self.plan("intervals", "--race", "5k=20:00")
        self.assertEqual(v["preset"], "intervals")
        self.assertEqual(v["workout"], self.INTERVALS)
        self.assertEqual(len(v["steps"]), 10)
        self.assertEqual(v["steps"][0]["kind"], "warmup")

    def test_every_shipped_preset(self):
        for name in ("easy", "long", "intervals", "tempo", "hills", "negative-mile",
                     "cadence", "5k-time-trial"):
            with self.subTest(name=name):
                self.assertEqual(self.plan(name, "--race", "5k=20:00")["preset"], name)

    def test_presets_option_and_variable(self):
        path = self.presets_file("# mine\nshort = 5min, 2x400m@4:00/km\n")
        v = self.plan("short", "--presets", path)
        self.assertEqual(v["preset"], "short")
        self.assertEqual(len(v["steps"]), 3)
        v = self.plan("short", env={"PACER_PRESETS": path})
        self.assertEqual(v["workout"], "5min, 2x400m@4:00/km")
        # the option wins over the variable; the installed presets are not consulted
        other = self.presets_file("short = 1min\n")
        v = self.plan("short", "--presets", other, env={"PACER_PRESETS": path})
        self.assertEqual(v["workout"], "1min")
        self.assert_fails(EX_DATAERR, "intervals", "--presets", other)

    def test_syntax_error(self):
        err = self.assert_fails(EX_DATAERR, "10min@E, 4x(400m@5k 2min rest)", "--race",
                                "5k=20:00")
        self.assertEqual(err.strip(), "pacerctl: plan: column 21: expected ',' between "
                                      "steps or ')' to close the repeat")
        err = self.assert_fails(EX_DATAERR, "10min@E,", "--race", "5k=20:00")
        self.assertIn("column 9: expected a distance or a duration", err)

    def test_missing_race_or_hr(self):
        err = self.assert_fails(EX_DATAERR, self.INTERVALS)
        self.assertIn("column 7", err)
        self.assertIn("--race", err)
        err = self.assert_fails(EX_DATAERR, "intervals")
        self.assertIn("preset 'intervals'", err)
        self.assertIn("--race", err)
        err = self.assert_fails(EX_DATAERR, "45min@z2", "--race", "5k=20:00")
        self.assertIn("--max-hr", err)

    def test_unknown_word_lists_presets(self):
        err = self.assert_fails(EX_DATAERR, "intervalz")
        self.assertIn("column 1", err)
        self.assertIn("intervals", err)

    def test_usage_errors(self):
        for args in ([], ["--race", "5k=20:00"], ["10min", "--bogus"], ["10min", "--presets"],
                     ["10min", "--max-hr", "abc"], ["10min", "--race", "5x=1:00"],
                     ["10min", "--presets", "a", "--presets", "b"]):
            with self.subTest(args=args):
                self.assert_fails(EX_USAGE, *args)

    def test_unreadable_presets(self):
        err = self.assert_fails(EX_NOINPUT, "easy", "--presets", "/nonexistent/presets.conf")
        self.assertIn("/nonexistent/presets.conf", err)

    def test_unquoted_words_are_joined(self):
        v = self.plan("10min@E,", "20min@T", "--race", "5k=20:00")
        self.assertEqual(v["workout"], "10min@E, 20min@T")
        self.assertEqual(len(v["steps"]), 2)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    if result.skipped:
        sys.exit(77)
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)

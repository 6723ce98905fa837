#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""pacerctl simulate and replay, run as a user would: the virtual runner does a
workout, its capture goes through decoders, metrics and coach, and the coaching
events (DESIGN.md sections 4 and 5) are checked as a script would read them."""

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import unittest

PACERCTL = os.environ.get("PACERCTL", "pacerctl")
DATA = os.environ.get("PACER_TEST_DATA", os.path.join(os.path.dirname(__file__), "..", "data"))
PRESETS = os.environ.get("PACER_PRESETS_FILE",
                         os.path.join(DATA, "..", "..", "config", "presets.conf"))

EX_USAGE, EX_DATAERR, EX_NOINPUT = 64, 65, 66

INTERVALS = "10min@E, 4x(400m@5k, 2min rest), 10min@E"
ATHLETE = ["--race", "5k=20:00", "--max-hr", "190"]
ALERTS = {"pace_high", "pace_low", "hr_high", "hr_low", "cadence_high", "cadence_low"}
# "*_on_target" only follows an alert, so none of these may appear without one either
PACE_HR_CADENCE = ("pace_", "hr_", "cadence_")


def run(*args, stdin=None):
    return subprocess.run([PACERCTL, *args], capture_output=True, text=True, timeout=120,
                          input=stdin)


def data_lines(capture):
    return [line for line in capture.splitlines() if line.strip() and not line.startswith("#")]


class Case(unittest.TestCase):
    """Helpers: simulate into a temporary capture file, replay it, parse the JSON Lines."""

    def write_capture(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".capture", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def simulate(self, workout, *extra, seed=1, athlete=ATHLETE):
        p = run("simulate", "--workout", workout, "--seed", str(seed), "--presets", PRESETS,
                *athlete, *extra)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        self.assertTrue(data_lines(p.stdout), "the capture has notifications")
        return p.stdout

    def replay_raw(self, path, *args):
        return run("replay", path, *args)

    def parse_events(self, stdout):
        """Every line is one JSON object; the last is the summary, and only the last."""
        lines = stdout.splitlines()
        self.assertTrue(lines, "replay printed nothing")
        objs = []
        for n, line in enumerate(lines, 1):
            try:
                obj = json.loads(line)
            except ValueError as e:
                self.fail(f"stdout line {n} is not JSON ({e}): {line!r}")
            self.assertIsInstance(obj, dict, line)
            objs.append(obj)
        summary = objs[-1]
        self.assertEqual(summary["type"], "summary", lines[-1])
        events = objs[:-1]
        self.assertNotIn("summary", [e["type"] for e in events])
        return events, summary

    def replay(self, capture, *args, workout=INTERVALS, athlete=ATHLETE):
        """Replays capture text (written to a file); returns (events, summary)."""
        path = self.write_capture(capture)
        wargs = ["--workout", workout, "--presets", PRESETS] if workout else []
        p = self.replay_raw(path, *wargs, *athlete, *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        events, summary = self.parse_events(p.stdout)
        self.assert_event_basics(events, summary)
        return events, summary

    def assert_event_basics(self, events, summary):
        # DESIGN §5: every event has type, seq, elapsed_s, step, message
        for e in events:
            for key in ("type", "seq", "elapsed_s", "step", "message"):
                self.assertIn(key, e, e)
            self.assertIsInstance(e["message"], str)
            self.assertTrue(e["message"], e)
        self.assertEqual([e["seq"] for e in events], list(range(1, len(events) + 1)))
        times = [e["elapsed_s"] for e in events]
        self.assertEqual(times, sorted(times), "elapsed_s never goes back")
        self.assertEqual(summary["events"], len(events))

    def of_type(self, events, t):
        return [e for e in events if e["type"] == t]

    def finished(self, events):
        fin = self.of_type(events, "workout_finished")
        self.assertEqual(len(fin), 1, "exactly one workout_finished")
        self.assertIs(events[-1], fin[0], "workout_finished is the last event")
        return fin[0]

    def assert_no_alerts(self, events, what=""):
        bad = [(e["type"], e["step"], e["elapsed_s"]) for e in events
               if e["type"].startswith(PACE_HR_CADENCE)]
        self.assertEqual(bad, [], f"no alert expected {what}")


class DesignExample(Case):
    """DESIGN §4: the intervals example, simulated and replayed with the same athlete."""

    def test_intervals_event_sequence(self):
        capture = self.simulate(INTERVALS, seed=1)
        events, summary = self.replay(capture)
        types = [e["type"] for e in events]

        self.assertEqual(types[:2], ["sensor_connected", "sensor_connected"])
        self.assertEqual(sorted(e["kind"] for e in events[:2]), ["footpod", "heart_rate"])

        started = self.of_type(events, "workout_started")
        self.assertEqual(len(started), 1)
        self.assertEqual(started[0]["steps"], 10)
        self.assertIs(started[0]["free_run"], False)
        self.assertEqual(started[0]["workout"], INTERVALS)
        self.assertLess(types.index("workout_started"), types.index("step_started"))

        step_started = self.of_type(events, "step_started")
        self.assertEqual([e["kind"] for e in step_started],
                         ["warmup"] + ["run", "rest"] * 4 + ["cooldown"])
        self.assertEqual([e["step"] for e in step_started], list(range(10)))
        self.assertEqual([e["rep"] for e in step_started if e["kind"] == "run"], [1, 2, 3, 4])
        self.assertEqual([e["reps"] for e in step_started if e["kind"] == "run"], [4] * 4)

        # steps follow one another: started(i) ... ended(i), started(i + 1); in between,
        # every event belongs to step i
        open_step, last_ended = None, -1
        for e in events[types.index("workout_started") + 1:]:
            if e["type"] == "step_started":
                self.assertIsNone(open_step, f"step {e['step']} started inside another: {e}")
                self.assertEqual(e["step"], last_ended + 1)
                open_step = e["step"]
            elif e["type"] == "step_ended":
                self.assertEqual(e["step"], open_step, e)
                last_ended, open_step = e["step"], None
            elif e["type"] != "workout_finished":
                self.assertEqual(e["step"], open_step, f"event outside its step: {e}")
        self.assertIsNone(open_step)
        self.assertEqual(last_ended, 9)
        self.assertEqual(len(self.of_type(events, "step_ended")), 10)

        # one countdown per step, inside it
        self.assertEqual(sorted(e["step"] for e in self.of_type(events, "step_countdown")),
                         list(range(10)))

        fin = self.finished(events)
        splits = self.of_type(events, "split")
        n = math.floor(fin["distance_m"] / 400)
        self.assertGreater(n, 10)
        self.assertEqual([s["split"] for s in splits], list(range(1, n + 1)))
        self.assertEqual([s["distance_m"] for s in splits], [400 * k for k in range(1, n + 1)])

        self.assertIs(fin["completed"], True)
        self.assertIs(fin["free_run"], False)
        self.assertEqual(len(fin["steps"]), 10)
        self.assertEqual([s["index"] for s in fin["steps"]], list(range(10)))
        for s in fin["steps"]:
            if s["kind"] == "run":
                self.assertAlmostEqual(s["actual_distance_m"], 400, delta=1, msg=s)
            if s["kind"] in ("warmup", "cooldown", "rest"):
                self.assertAlmostEqual(s["actual_duration_s"],
                                       600 if s["kind"] != "rest" else 120, delta=1, msg=s)

        self.assert_no_alerts(events, "when the runner runs the plan")

        self.assertEqual(summary["notifications"], len(data_lines(capture)))
        self.assertEqual(summary["malformed"], 0)
        self.assertEqual(summary["unknown"], 0)
        self.assertIs(summary["workout_finished"], True)
        self.assertEqual(len(summary["sensors"]), 2)
        self.assertEqual(sorted(s["kind"] for s in summary["sensors"]), ["footpod", "heart_rate"])
        self.assertEqual(sum(s["notifications"] for s in summary["sensors"]),
                         summary["notifications"])

    def test_preset_and_text_give_the_same_coach(self):
        by_text = self.replay(self.simulate(INTERVALS))
        by_name = self.replay(self.simulate("intervals"), workout="intervals")
        self.assertEqual(by_text, by_name)


class FastRep(Case):
    """The runner goes out too fast in rep 2 (step 3); the coach says so, only there."""

    def test_too_fast_in_rep_2(self):
        for seed in range(1, 6):
            with self.subTest(seed=seed):
                events, _ = self.replay(self.simulate("intervals", "--fast-rep", "2", seed=seed))
                high = self.of_type(events, "pace_high")
                self.assertGreaterEqual(len(high), 1)
                self.assertEqual({e["step"] for e in high}, {3})
                self.assertEqual(self.of_type(events, "pace_low"), [])
                self.assertEqual([e["type"] for e in events if e["type"] in ALERTS
                                  and e["type"] != "pace_high"], [])
                fin = self.finished(events)
                self.assertIs(fin["completed"], True)
                on_target = {s["index"]: s["on_target"] for s in fin["steps"]}
                self.assertIs(on_target[3], False)
                self.assertIs(on_target[1], True)
                # BUG (reported): reps 3 and 4 (steps 5, 7) start from the standing 2 min
                # rest; the virtual runner accelerates with a 2 s lag towards the band's
                # centre (lib/pacer-sim.c SPEED_UP_TAU_S) and loses ~2 s, so those 400 m
                # come out at 245-246 s/km against a 235.2-244.8 band and the finish
                # summary calls them off target although the runner ran the target pace
                # and the coach raised no pace alert.
                self.assertIs(on_target[5], True, fin["steps"][5])
                self.assertIs(on_target[7], True, fin["steps"][7])

    def test_reps_after_a_standing_rest_are_on_target(self):
        # BUG (reported), the same as above without any script: every rep after a
        # standing rest is judged off target (step_ended on_target false) while no
        # pace_low alert is raised during it.
        for seed in range(1, 4):
            with self.subTest(seed=seed):
                events, _ = self.replay(self.simulate("intervals", seed=seed))
                self.assert_no_alerts(events)
                verdicts = [(e["step"], e["pace_s_per_km"], e["on_target"])
                            for e in self.of_type(events, "step_ended") if e["kind"] == "run"]
                self.assertEqual([v[2] for v in verdicts], [True] * 4, verdicts)


class NoFalseAlarms(Case):
    WORKOUTS = ["easy", "intervals", "tempo", "hills", "negative-mile", "cadence",
                "5k-time-trial", "3x(1km@4:10-4:20/km+cad175-185, 400m jog)", "45min@z2"]

    def check(self, workout, seed):
        events, summary = self.replay(self.simulate(workout, seed=seed), workout=workout)
        self.assertEqual([e["type"] for e in events if e["type"] in ALERTS], [])
        self.assertEqual(self.of_type(events, "workout_paused"), [])
        self.assertEqual(self.of_type(events, "workout_resumed"), [])
        self.assertEqual(len(self.of_type(events, "workout_started")), 1)
        fin = self.finished(events)
        self.assertIs(fin["completed"], True)
        self.assertIs(summary["workout_finished"], True)
        self.assertEqual(summary["malformed"], 0)

    def test_presets_and_examples(self):
        for workout in self.WORKOUTS:
            for seed in (1, 2, 3):
                with self.subTest(workout=workout, seed=seed):
                    self.check(workout, seed)

    def test_long_run(self):  # 90 minutes: one seed
        self.check("long", 1)


class NegativeMile(Case):
    def test_verdict(self):
        for seed in (1, 2):
            with self.subTest(seed=seed):
                events, _ = self.replay(self.simulate("negative-mile", seed=seed),
                                        workout="negative-mile")
                ns = self.finished(events)["negative_split"]
                self.assertIsNotNone(ns)
                self.assertEqual(ns["verdict"], "negative")
                self.assertLess(ns["second_half_pace_s_per_km"], ns["first_half_pace_s_per_km"])

    def test_no_verdict_without_negative(self):
        events, _ = self.replay(self.simulate("intervals"))
        self.assertIsNone(self.finished(events)["negative_split"])


class Determinism(Case):
    def test_same_seed_same_bytes(self):
        a = self.simulate("intervals", seed=7)
        b = self.simulate("intervals", seed=7)
        self.assertEqual(a, b)

    def test_different_seeds_differ(self):
        # the header names the seed, so compare the notifications only
        a = data_lines(self.simulate("intervals", seed=1))
        b = data_lines(self.simulate("intervals", seed=2))
        self.assertNotEqual(a, b)

    def test_replay_twice_same_output(self):
        path = self.write_capture(self.simulate("intervals", "--fast-rep", "2"))
        args = ["--workout", "intervals", "--presets", PRESETS, *ATHLETE]
        p1 = self.replay_raw(path, *args)
        p2 = self.replay_raw(path, *args)
        self.assertEqual(p1.returncode, 0, p1.stderr)
        self.assertEqual((p1.returncode, p1.stdout, p1.stderr),
                         (p2.returncode, p2.stdout, p2.stderr))

    def test_header_records_the_arguments(self):
        # The header says "replay with the same athlete options", so it must name them.
        # BUG (reported): the arguments line is printed from argv after the athlete
        # options were compacted out of it, so --race/--max-hr are missing and the last
        # arguments are repeated:
        #   # seed 1; arguments: '--workout' 'intervals' '--seed' '1' '--max-hr' '190' '--seed' '1'
        args = ["--workout", "intervals", "--race", "5k=20:00", "--max-hr", "190", "--seed", "1"]
        p = run("simulate", *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        header = [line for line in p.stdout.splitlines() if line.startswith("#")]
        self.assertEqual(header[0], f"# pacerctl simulate: {INTERVALS}")
        line = next(h for h in header if "arguments:" in h)
        self.assertTrue(line.startswith("# seed 1; arguments:"), line)
        self.assertEqual(re.findall(r"'([^']*)'", line.split("arguments:", 1)[1]), args)


class Sensors(Case):
    def test_strides_are_normalised_to_steps(self):
        capture = self.simulate("intervals", "--strides")
        # the pod itself reports strides: 2A53 byte 3 is the cadence as sent
        raw = [int(line.split()[6], 16) for line in data_lines(capture)
               if line.split()[2] == "2a53"]
        self.assertTrue(raw)
        self.assertLess(max(raw), 110, "the pod sends strides per minute")
        self.assertGreater(max(raw), 70)
        events, _ = self.replay(capture)
        runs = [e for e in self.of_type(events, "step_ended")
                if e["kind"] in ("warmup", "run", "cooldown")]
        self.assertEqual(len(runs), 6)
        for e in runs:
            self.assertIsNotNone(e["cadence_spm"], e)
            self.assertTrue(150 <= e["cadence_spm"] <= 200, e)
        self.assertIs(self.finished(events)["completed"], True)

    def test_treadmill(self):
        capture = self.simulate("intervals", "--treadmill")
        uuids = {line.split()[2] for line in data_lines(capture)}
        self.assertEqual(uuids, {"2a37", "2acd"})
        events, summary = self.replay(capture)
        self.assertIs(self.finished(events)["completed"], True)
        self.assertEqual(sorted(s["kind"] for s in summary["sensors"]), ["heart_rate", "treadmill"])
        self.assertEqual(summary["notifications"], len(data_lines(capture)))
        self.assertEqual([e["type"] for e in events if e["type"] in ALERTS], [])
        for s in self.finished(events)["steps"]:
            if s["kind"] == "run":
                self.assertAlmostEqual(s["actual_distance_m"], 400, delta=1, msg=s)

    def test_contact_loss(self):
        capture = self.simulate("intervals", "--contact-loss", "700:30")
        lost = [line for line in data_lines(capture)
                if line.split()[2] == "2a37" and 700 <= float(line.split()[0]) < 730]
        self.assertTrue(lost)
        # the strap keeps notifying, with contact "not detected" and 0 bpm
        for line in lost:
            self.assertEqual(line.split()[3:], ["04", "00"], line)
        events, summary = self.replay(capture)
        self.assertIs(self.finished(events)["completed"], True)
        self.assertEqual([e["type"] for e in events if e["type"].startswith("hr_")], [])
        self.assertEqual(self.of_type(events, "sensor_lost"), [])
        for e in self.of_type(events, "zone_changed"):
            self.assertIsNotNone(e["hr_bpm"], e)
            self.assertGreater(e["hr_bpm"], 30, e)
        # readings without contact are left out of the step's heart rate, not averaged as 0:
        # the runner's body is the same as without the script (separate random streams)
        base, _ = self.replay(self.simulate("intervals"))
        hr = [e["hr_bpm"] for e in self.of_type(events, "step_ended")]
        hr_base = [e["hr_bpm"] for e in self.of_type(base, "step_ended")]
        self.assertEqual(len(hr), len(hr_base))
        for got, want in zip(hr, hr_base):
            self.assertIsNotNone(got)
            self.assertLessEqual(abs(got - want), 15, (hr, hr_base))
        self.assertEqual(summary["malformed"], 0)


class FreeRun(Case):
    def test_free_run(self):
        capture = self.simulate("intervals")
        events, summary = self.replay(capture, workout=None)
        started = self.of_type(events, "workout_started")
        self.assertEqual(len(started), 1)
        self.assertIs(started[0]["free_run"], True)
        self.assertIsNone(started[0]["workout"])
        fin = self.finished(events)
        self.assertIs(fin["free_run"], True)
        self.assertIs(fin["completed"], False, "the capture ended the free run")
        splits = self.of_type(events, "split")
        n = math.floor(fin["distance_m"] / 400)
        self.assertGreater(n, 10)
        self.assertEqual([s["split"] for s in splits], list(range(1, n + 1)))
        self.assertEqual([s["distance_m"] for s in splits], [400 * k for k in range(1, n + 1)])
        self.assertEqual(self.of_type(events, "step_countdown"), [])
        self.assertEqual(summary["notifications"], len(data_lines(capture)))
        self.assertIs(summary["workout_finished"], True)

    def test_cs_wp8_walking_pad(self):
        path = os.path.join(DATA, "cs-wp8-walk.capture")
        p = self.replay_raw(path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        events, summary = self.parse_events(p.stdout)
        self.assert_event_basics(events, summary)
        self.assertEqual(summary["distance_m"], 49)
        self.assertEqual(len(summary["sensors"]), 1)
        self.assertEqual(summary["sensors"][0]["kind"], "treadmill")
        self.assertEqual(summary["sensors"][0]["notifications"], 197)
        self.assertEqual(summary["notifications"], 197)
        self.assertEqual(summary["malformed"], 0)
        # 3 km/h is 0.83 m/s, below the 1 m/s that counts as moving: no auto-start
        self.assertEqual(self.of_type(events, "workout_started"), [])
        self.assertIs(summary["workout_finished"], False)
        self.assertEqual([e["type"] for e in events], ["sensor_connected"])


class Text(Case):
    LINE = re.compile(r"^ *(\d+):([0-5]\d)  ([a-z_]+) +(\S.*)$")
    SUMMARY = re.compile(r"^(\d+) notifications from (\d+) sensors? over ([\d.]+) s "
                         r"\((\d+) malformed\), (\d+) m, (\d+) events$")

    def test_text_output(self):
        path = self.write_capture(self.simulate("intervals"))
        args = ["--workout", "intervals", "--presets", PRESETS, *ATHLETE]
        text = self.replay_raw(path, *args, "--text")
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertEqual(text.stderr, "")
        events, summary = self.parse_events(self.replay_raw(path, *args).stdout)
        lines = text.stdout.splitlines()
        self.assertEqual(len(lines), len(events) + 1)
        for line in lines:
            self.assertFalse(line.lstrip().startswith(("{", "[")), line)
        for line, e in zip(lines, events):
            m = self.LINE.match(line)
            self.assertIsNotNone(m, line)
            self.assertEqual(m.group(3), e["type"])
            self.assertEqual(m.group(4), e["message"])
            # whole seconds (the JSON has tenths, rounded from the same time)
            self.assertLessEqual(abs(int(m.group(1)) * 60 + int(m.group(2)) - e["elapsed_s"]),
                                 0.55, line)
            # the type is padded to one column, the messages line up
            self.assertEqual(line.index(m.group(4)), line.index(m.group(3)) + 18, line)
        m = self.SUMMARY.match(lines[-1])
        self.assertIsNotNone(m, lines[-1])
        self.assertEqual(int(m.group(1)), summary["notifications"])
        self.assertEqual(int(m.group(2)), len(summary["sensors"]))
        self.assertEqual(int(m.group(4)), 0)
        self.assertEqual(int(m.group(6)), len(events))
        self.assertAlmostEqual(int(m.group(5)), summary["distance_m"], delta=1)


class Errors(Case):
    def assert_fails(self, code, *args, stdin=None):
        p = run(*args, stdin=stdin)
        self.assertEqual(p.returncode, code, f"{args}: {p.stderr}")
        self.assertEqual(p.stdout, "", args)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        return p.stderr

    def assert_json_lines(self, stdout):
        for line in stdout.splitlines():
            obj = json.loads(line)
            self.assertIsInstance(obj, dict)
            self.assertNotEqual(obj["type"], "summary")

    def test_missing_file(self):
        err = self.assert_fails(EX_NOINPUT, "replay", "/nonexistent/file.capture")
        self.assertIn("/nonexistent/file.capture", err)

    def test_syntax_error(self):
        path = self.write_capture("1.0 C0:FF:EE:00:00:01 2a37 06 3c\n"
                                  "2.0 C0:FF:EE:00:00:01 2a37 06 3d\n"
                                  "3.0 C0:FF:EE:00:00 2a37 06\n"
                                  "4.0 C0:FF:EE:00:00:01 2a37 06 3e\n")
        p = self.replay_raw(path)
        self.assertEqual(p.returncode, EX_DATAERR, p.stderr)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertRegex(p.stderr.strip(), "^" + re.escape(path) + r":3:\d+: expected ")
        self.assertEqual(p.stderr.strip(), f"{path}:3:5: expected a Bluetooth address such as "
                                           "C0:FF:EE:00:00:01")
        self.assert_json_lines(p.stdout)

    def test_time_goes_back(self):
        path = self.write_capture("# a comment\n"
                                  "1.0 C0:FF:EE:00:00:01 2a37 06 3c\n"
                                  "2.0 C0:FF:EE:00:00:01 2a37 06 3c\n"
                                  "1.5 C0:FF:EE:00:00:01 2a37 06 3c\n")
        p = self.replay_raw(path)
        self.assertEqual(p.returncode, EX_DATAERR, p.stderr)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertTrue(p.stderr.startswith(f"{path}:4:"), p.stderr)
        self.assert_json_lines(p.stdout)

    def test_malformed_payload_is_skipped(self):
        path = self.write_capture("1.0 C0:FF:EE:00:00:01 2a37 06 3c\n"
                                  "2.0 C0:FF:EE:00:00:01 2a37 16\n"
                                  "3.0 C0:FF:EE:00:00:01 2a37 06 3d\n")
        p = self.replay_raw(path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertTrue(p.stderr.startswith(f"{path}:2:"), p.stderr)
        self.assertIn("malformed", p.stderr)
        events, summary = self.parse_events(p.stdout)
        self.assertEqual(summary["malformed"], 1)
        self.assertEqual(summary["notifications"], 2)
        self.assertEqual(summary["sensors"][0]["malformed"], 1)

    def test_usage_errors(self):
        cap = self.write_capture("1.0 C0:FF:EE:00:00:01 2a37 06 3c\n")
        for args in (["replay"], ["replay", cap, "--bogus"], ["replay", cap, "--config", "x"],
                     ["replay", cap, cap], ["replay", cap, "--workout"],
                     ["simulate"], ["simulate", "--race", "5k=20:00"],
                     ["simulate", "--workout", "intervals", "--race", "5k=20:00",
                      "--fast-rep", "abc"],
                     ["simulate", "--workout", "intervals", "--race", "5k=20:00",
                      "--fast-rep", "0"],
                     ["simulate", "--workout", "intervals", "--race", "5k=20:00",
                      "--seed", "-1"],
                     ["simulate", "--workout", "intervals", "--race", "5k=20:00",
                      "--seed", "abc"],
                     ["simulate", "--workout", "intervals", "--race", "5k=20:00",
                      "--contact-loss", "700"],
                     ["simulate", "--workout", "intervals", "--race", "5k=20:00", "extra"],
                     ["simulate", "--workout", "intervals", "--race", "5k=20:00", "--bogus"]):
            with self.subTest(args=args):
                self.assert_fails(EX_USAGE, *args)

    def test_seed_must_be_a_whole_number(self):
        # BUG (reported): --seed goes through strtod, so '1.5' runs seed 1 (and '1e3', '0x10'
        # and ' 1' are taken) where --fast-rep and the zones options reject such values
        for seed in ("1.5", "1e3", "0x10", " 1"):
            with self.subTest(seed=seed):
                self.assert_fails(EX_USAGE, "simulate", "--workout", "intervals", "--race",
                                  "5k=20:00", "--seed", seed)

    def test_workout_errors(self):
        for args in (["simulate", "--workout", "4x(400m", "--race", "5k=20:00"],
                     ["simulate", "--workout", "intervals"],  # race pace without --race
                     ["simulate", "--workout", "intervalz", "--presets", PRESETS],
                     ["replay", "-", "--workout", "4x(400m", "--race", "5k=20:00"]):
            with self.subTest(args=args):
                err = self.assert_fails(EX_DATAERR, *args, stdin="")
                self.assertIn("column", err)


class Stdin(Case):
    def test_replay_from_stdin(self):
        capture = self.simulate("intervals")
        path = self.write_capture(capture)
        args = ["--workout", "intervals", "--presets", PRESETS, *ATHLETE]
        from_file = self.replay_raw(path, *args)
        from_stdin = run("replay", "-", *args, stdin=capture)
        self.assertEqual(from_stdin.returncode, 0, from_stdin.stderr)
        self.assertEqual(from_stdin.stderr, "")
        self.assertEqual(from_stdin.stdout, from_file.stdout)
        events, _ = self.parse_events(from_stdin.stdout)
        self.assertIs(self.finished(events)["completed"], True)

    def test_stdin_errors_name_the_stream(self):
        p = run("replay", "-", stdin="1.0 C0:FF:EE:00:00:01 2a37 06 3c\n1.0 C0:FF:EE 2a37 06\n")
        self.assertEqual(p.returncode, EX_DATAERR)
        self.assertTrue(p.stderr.startswith("-:2:"), p.stderr)

    def test_empty_stdin(self):
        p = run("replay", "-", stdin="")
        self.assertEqual(p.returncode, 0, p.stderr)
        events, summary = self.parse_events(p.stdout)
        self.assertEqual(events, [])
        self.assertEqual(summary["notifications"], 0)
        self.assertEqual(summary["sensors"], [])
        self.assertIs(summary["workout_finished"], False)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    if result.skipped:
        sys.exit(77)
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)

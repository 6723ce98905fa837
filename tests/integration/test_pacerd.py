#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Integration tests of pacerd (issue 5): the real daemon against the fake
bluetoothd on a private system bus, observed through --events (one JSON
event a line on stdout) and its log (stderr); plus its command-line and
configuration contracts (DESIGN.md sections 4, 5 and 8).

A strap notifies once a second and a footpod four times a second, from a
feeder thread; the footpod's distance counter follows the wall clock at the
speed the test sets, so pacerd sees a runner who is consistent with itself.

Run: /usr/bin/python3 tests/integration/test_pacerd.py [-k pattern]
(PACERD=path/to/pacerd; PACER_TEST_KEEP=1 keeps the temporary folders;
VALGRIND=1 runs pacerd under valgrind).'''

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pacertest  # noqa: E402  pylint: disable=wrong-import-position
from pacertest import uuid128, wait_until  # noqa: E402  pylint: disable=wrong-import-position
from gi.repository import Gio, GLib  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
PACERD = os.environ.get('PACERD') or os.path.join(SOURCE_ROOT, 'build', 'daemon', 'pacerd')
DATA = os.environ.get('PACER_TEST_DATA') or os.path.join(SOURCE_ROOT, 'tests', 'data')
EXAMPLE_CONFIG = os.path.join(SOURCE_ROOT, 'config', 'pacer.conf')

EX_OK, EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_CONFIG = 0, 64, 65, 66, 78

HR = 'C0:FF:EE:00:00:01'
POD = 'C0:FF:EE:00:00:02'
ABSENT = 'C0:FF:EE:00:00:99'

FIVE_K_PACE_MPS = 1000.0 / 240.0        # race = 5k=20:00: 4:00/km
ALERTS = ('pace_high', 'pace_low', 'hr_high', 'hr_low', 'cadence_high', 'cadence_low')

# a time the bounded waits may take on a noisy 2-core machine (more under valgrind)
SLOW = 3.0 if os.environ.get('VALGRIND', '0') not in ('', '0') else 1.0


def hr_payload(bpm):
    '''2A37: flags 0x16 (uint8 HR, contact detected, RR present), HR, one RR in 1/1024 s.'''
    rr = round(60.0 / bpm * 1024)
    return bytes([0x16, bpm, rr & 0xff, rr >> 8])


def rsc_payload(speed_mps, cadence, distance_dm, running=True):
    '''2A53: flags 0x06 (total distance, running) or 0x02 (walking), speed in
    1/256 m/s, cadence, total distance in 1/10 m (uint32).'''
    raw = round(speed_mps * 256)
    d = int(distance_dm) & 0xffffffff
    return bytes([0x06 if running else 0x02, raw & 0xff, raw >> 8, cadence]) + d.to_bytes(4, 'little')


def quantised(speed_mps):
    '''The speed a footpod can send (1/256 m/s).'''
    return round(speed_mps * 256) / 256.0


# --------------------------------------------------------------------------
# The runner: a strap at 1 Hz, a footpod at 4 Hz
# --------------------------------------------------------------------------

class Feeder(threading.Thread):
    '''Pushes sensor data through the fake: every 0.25 s one footpod
    notification (speed, cadence, a total distance counter that follows
    the wall clock), every second one strap notification; both in one
    NotifyMany call.  Calls that fail (bluetoothd gone) are ignored.'''

    def __init__(self, fake, hr=HR, pod=POD, bpm=140, speed=0.0):
        super().__init__(daemon=True)
        self.fake = fake
        self.hr = hr
        self.pod = pod
        self.lock = threading.Lock()
        self.bpm = bpm
        self.speed = quantised(speed)
        self.distance_m = 1000.0        # the pod has been used before
        self.last = time.monotonic()
        self.stopping = threading.Event()
        self.sent = 0
        self.errors = 0

    def _advance(self, now):
        self.distance_m += self.speed * (now - self.last)
        self.last = now

    def set_speed(self, speed):
        with self.lock:
            self._advance(time.monotonic())
            self.speed = quantised(speed)

    def set_hr(self, bpm):
        with self.lock:
            self.bpm = bpm

    def run(self):
        tick = 0
        next_t = time.monotonic()
        while not self.stopping.is_set():
            with self.lock:
                self._advance(time.monotonic())
                speed, bpm, dist = self.speed, self.bpm, self.distance_m
            items = []
            if self.pod:
                running = speed >= 2.0
                cadence = 170 if running else (110 if speed > 0 else 0)
                items.append((self.pod, '2a53', rsc_payload(speed, cadence, round(dist * 10), running)))
            if self.hr and bpm and tick % 4 == 0:
                items.append((self.hr, '2a37', hr_payload(bpm)))
            if items:
                try:
                    self.fake.notify_many(items)
                    self.sent += 1
                except GLib.Error:
                    self.errors += 1
            tick += 1
            next_t += 0.25
            delay = next_t - time.monotonic()
            if delay < 0:                   # fell behind (a busy machine): no burst to catch up
                next_t = time.monotonic()
                delay = 0
            self.stopping.wait(delay)

    def stop(self):
        self.stopping.set()
        if self.is_alive():
            self.join(5)


# --------------------------------------------------------------------------
# pacerd and its events
# --------------------------------------------------------------------------

class Pacerd:
    '''A running pacerd: its process, the events it prints (each with its
    arrival time in '_t'), and its log.'''

    def __init__(self, test, proc, log_path):
        self.test = test
        self.proc = proc
        self.log_path = log_path
        self.lock = threading.Lock()
        self.events = []
        self.junk = []          # stdout lines that are not JSON objects
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        try:
            for raw in self.proc.stdout:
                line = raw.decode('utf-8', 'replace').rstrip('\n')
                now = time.monotonic()
                try:
                    obj = json.loads(line)
                except ValueError:
                    obj = None
                with self.lock:
                    if isinstance(obj, dict) and 'type' in obj:
                        obj['_t'] = now
                        self.events.append(obj)
                    else:
                        self.junk.append(line)
        except (ValueError, OSError):
            pass

    # ---- events

    def mark(self):
        with self.lock:
            return len(self.events)

    def all(self, etype=None, start=0, **fields):
        with self.lock:
            evs = list(self.events[start:])
        return [e for e in evs if (etype is None or e['type'] == etype)
                and all(e.get(k) == v for k, v in fields.items())]

    def types(self, start=0):
        return [e['type'] for e in self.all(start=start)]

    def wait(self, etype, start=0, timeout=20.0, pred=None, **fields):
        '''The first event of etype (with these fields, satisfying pred)
        at index >= start; fails at once if pacerd exits.'''
        def find():
            for e in self.all(etype, start, **fields):
                if pred is None or pred(e):
                    return e
            if self.proc.poll() is not None:
                self.reader.join(2)
                for e in self.all(etype, start, **fields):
                    if pred is None or pred(e):
                        return e
                raise AssertionError(f'pacerd exited with {self.proc.returncode} while waiting for '
                                     f'{etype} {fields or ""}; events: {self.types()}')
            return None
        return wait_until(find, timeout * SLOW, interval=0.05, what=f'event {etype} {fields or ""}')

    def index_of(self, event):
        with self.lock:
            for i, e in enumerate(self.events):
                if e is event:
                    return i
        raise ValueError('not an event of this pacerd')

    # ---- the process

    def alive(self):
        return self.proc.poll() is None

    def log(self):
        return pacertest.read_text(self.log_path)

    def wait_log(self, pattern, timeout=10.0):
        regex = re.compile(pattern)

        def found():
            m = regex.search(self.log())
            if not m and not self.alive():
                raise AssertionError(f'pacerd exited with {self.proc.returncode}; no /{pattern}/ in its log')
            return m
        return wait_until(found, timeout * SLOW, interval=0.05, what=f'/{pattern}/ in the log of pacerd')

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        '''Send sig and wait for pacerd to exit; returns its exit status
        after every event it printed has been read.'''
        if self.alive():
            self.proc.send_signal(sig)
        try:
            status = self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f'pacerd did not exit within {timeout * SLOW:g} s of {sig!r}') from None
        self.reader.join(5)
        self.test.processes.stop(self.proc)
        return status


BASE_CONFIG = {
    'athlete': {'max_hr': '190', 'race': '5k=20:00'},
    'coach': {'split_m': '100', 'grace_s': '2'},
    'mqtt': {'enabled': 'false'},
    'dbus': {'enabled': 'false'},
    'record': {'formats': ''},
}


def config_text(overrides=None, base=None):
    groups = {g: dict(keys) for g, keys in (BASE_CONFIG if base is None else base).items()}
    for group, keys in (overrides or {}).items():
        groups.setdefault(group, {}).update(keys)
    lines = []
    for group, keys in groups.items():
        lines.append(f'[{group}]')
        lines += [f'{k} = {v}' for k, v in keys.items()]
        lines.append('')
    return '\n'.join(lines)


class PacerdCase(pacertest.TestCase):
    '''The test world: a private bus, the fake bluetoothd, sensors, a
    runner (Feeder), pacerd with a generated config and --events.'''

    def setUp(self):
        super().setUp()
        if not os.access(PACERD, os.X_OK):
            self.fail(f'no pacerd at {PACERD} (set PACERD)')

    def start_world(self, hr=True, pod=True, hr_battery=85, pod_battery=60,
                    hr_battery_as='battery1', pod_battery_as='battery1'):
        self.bus = self.start_bus()
        self.fake = self.start_fake_bluez(self.bus)
        if hr:
            self.fake.add_sensor(HR, 'Polar H10 TEST', 'heart_rate', hr_battery, hr_battery_as)
        if pod:
            self.fake.add_sensor(POD, 'Stryd TEST', 'footpod', pod_battery, pod_battery_as)
        return self.fake

    def start_feeder(self, **kwargs):
        feeder = Feeder(self.fake, **kwargs)
        feeder.start()
        # cleanups run last-in first-out: the feeder stops before the fake goes
        self.addCleanup(feeder.stop)
        return feeder

    def write_config(self, overrides=None, name='pacer.conf', base=None):
        '''A config file: BASE_CONFIG (or base) with overrides; activity
        files, if any, go to the test's folder.'''
        path = os.path.join(self.tmpdir, name)
        records = os.path.join(self.tmpdir, 'records')
        os.makedirs(records, exist_ok=True)
        overrides = dict(overrides or {})
        overrides['record'] = {'dir': records, **overrides.get('record', {})}
        with open(path, 'w', encoding='utf-8') as f:
            f.write(config_text(overrides, base))
        return path

    def start_pacerd(self, config=None, args=(), title='pacerd'):
        '''pacerd --config FILE --events [args]; config: overrides of
        BASE_CONFIG, or the path of a config file.'''
        path = config if isinstance(config, str) else self.write_config(config)
        log_path = os.path.join(self.tmpdir, title + '.log')
        proc = self.spawn(title, [PACERD, '--config', path, '--events', *args], valgrind=True,
                          stdout=subprocess.PIPE)
        daemon = Pacerd(self, proc, log_path)
        self.add_log(f'{title} events', lambda: '\n'.join(json.dumps({k: v for k, v in e.items() if k != '_t'})
                                                          for e in daemon.all()) +
                     ('\nnot JSON:\n' + '\n'.join(daemon.junk) if daemon.junk else ''))
        return daemon

    def wait_connected(self, daemon, addresses=(HR, POD), start=0, timeout=15.0):
        '''Waits for sensor_connected of each address (after index start); returns them.'''
        kinds = {HR: 'heart_rate', POD: 'footpod'}
        out = []
        for address in addresses:
            e = daemon.wait('sensor_connected', start, timeout, address=address)
            if address in kinds:
                self.assertEqual(e['kind'], kinds[address], e)
            out.append(e)
        return out

    def assert_no_event(self, daemon, etype, start=0, window=0.0, **fields):
        '''No such event after index start (watching for `window` seconds:
        an observation window for something that must not happen).'''
        deadline = time.monotonic() + window * SLOW
        while True:
            found = daemon.all(etype, start, **fields)
            self.assertEqual(found, [], f'unexpected {etype}')
            if time.monotonic() >= deadline:
                return
            time.sleep(0.05)

    def stop_clean(self, daemon):
        status = daemon.stop()
        self.assertEqual(status, EX_OK, f'pacerd exit status after SIGTERM; log:\n{daemon.log()[-3000:]}')
        self.assertEqual(daemon.junk, [], 'stdout carries only JSON events')

    def assert_step_order(self, daemon, n_steps, start=0):
        '''workout_started, then step_started(i) ... step_ended(i) for each
        step in order, then workout_finished.'''
        seq = [(e['type'], e['step']) for e in daemon.all(start=start)
               if e['type'] in ('workout_started', 'step_started', 'step_ended', 'workout_finished')]
        want = [('workout_started', 0)]
        for i in range(n_steps):
            want += [('step_started', i), ('step_ended', i)]
        want.append(('workout_finished', n_steps - 1))
        self.assertEqual(seq, want)


# --------------------------------------------------------------------------
# Live sensors
# --------------------------------------------------------------------------

class LiveTest(PacerdCase):

    def test_strap_and_footpod_free_run(self):
        '''Both sensors connect with AcquireNotify; the free run starts after
        3 s of running, splits every split_m as the distance counter
        advances; SIGTERM finishes the run and exits 0.'''
        fake = self.start_world()
        feeder = self.start_feeder(bpm=150, speed=0.0)
        d = self.start_pacerd()
        connected = self.wait_connected(d)
        self.assertEqual({e['address'] for e in connected}, {HR, POD})
        self.assertEqual(fake.get_notify_sessions(HR, '2a37'), (0, True), 'pacerd acquired 2a37')
        self.assertEqual(fake.get_notify_sessions(POD, '2a53'), (0, True), 'pacerd acquired 2a53')
        wait_until(lambda: fake.get_characteristic(POD, '2a53')['delivered'] >= 4, 10 * SLOW,
                   what='standing footpod data delivered')
        self.assert_no_event(d, 'workout_started')

        speed = 6.0     # 2:47/km: 100 m splits come every 17 s
        t_move = time.monotonic()
        feeder.set_speed(speed)
        started = d.wait('workout_started', timeout=15)
        self.assertGreaterEqual(started['_t'] - t_move, 2.5, 'auto start after 3 s of running')
        self.assertIs(started['free_run'], True)
        self.assertIsNone(started['workout'])
        self.assertEqual(d.wait('step_started')['step'], 0)

        s1 = d.wait('split', split=1, timeout=40)
        s2 = d.wait('split', split=2, timeout=40)
        for n, s in ((1, s1), (2, s2)):
            self.assertEqual(s['distance_m'], 100.0 * n, s)
            self.assertAlmostEqual(s['split_s'], 100.0 / speed, delta=3.0, msg=s)
            self.assertAlmostEqual(s['pace_s_per_km'], 1000.0 / speed, delta=30.0, msg=s)
            self.assertEqual(s['hr_bpm'], 150, s)
        self.assertAlmostEqual(s2['elapsed_s'] - s1['elapsed_s'], 100.0 / speed, delta=3.0)

        self.stop_clean(d)
        fin = d.all('workout_finished')
        self.assertEqual(len(fin), 1, d.types())
        fin = fin[0]
        self.assertIs(fin['completed'], False)
        self.assertIs(fin['free_run'], True)
        self.assertGreaterEqual(fin['distance_m'], 200.0)
        self.assertAlmostEqual(fin['distance_m'], fin['duration_s'] * speed, delta=15.0)
        self.assertEqual(fin['hr_bpm'], 150)
        self.assertEqual(d.types()[-2:], ['step_ended', 'workout_finished'])
        self.assertEqual(d.all('sensor_lost'), [])
        self.assertEqual(len(d.all('split')), int(fin['distance_m'] // 100))

    def test_workout_end_to_end(self):
        '''[coach] workout queued from the config; the runner follows the
        coach (runs the target pace in run steps, stands in rests) by reading
        the events; every step starts and ends in order; the workout
        completes.'''
        workout = '2x(60m@5k, 5s rest)'
        self.start_world()
        feeder = self.start_feeder(bpm=150, speed=0.0)
        d = self.start_pacerd({'coach': {'workout': workout}})
        self.wait_connected(d)
        feeder.set_speed(FIVE_K_PACE_MPS)
        started = d.wait('workout_started', timeout=15)
        self.assertIs(started['free_run'], False)
        self.assertEqual(started['workout'], workout)
        self.assertEqual(started['steps'], 4)

        # follow the coach: each step_started says what to do
        seen = d.index_of(started)
        while True:
            e = wait_until(lambda: [x for x in d.all(start=seen + 1)
                                    if x['type'] in ('step_started', 'workout_finished')],
                           40 * SLOW, what='the next step or the end')[0]
            seen = d.index_of(e)
            if e['type'] == 'workout_finished':
                break
            if e['kind'] == 'rest':
                feeder.set_speed(0.0)
                feeder.set_hr(120)
            else:
                feeder.set_speed(FIVE_K_PACE_MPS)
                feeder.set_hr(160)
        fin = e
        self.assertIs(fin['completed'], True, fin)
        self.assertIs(fin['free_run'], False)
        self.assertEqual(fin['workout'], workout)
        self.assertEqual(len(fin['steps']), 4)
        self.assertEqual([s['kind'] for s in fin['steps']], ['run', 'rest', 'run', 'rest'])
        self.assert_step_order(d, 4)

        ended = d.all('step_ended')
        for i in (0, 2):
            st = ended[i]
            self.assertEqual(st['kind'], 'run')
            self.assertEqual(st['distance_m'], 60)
            self.assertAlmostEqual(st['actual_distance_m'], 60.0, delta=1.0, msg=st)
            # 4:00/km: judged after the grace (2 s), inside the 5k band 235.2-244.8; the
            # whole step's pace includes the runner's reaction to step_started
            self.assertIs(st['on_target'], True, st)
            self.assertAlmostEqual(st['pace_s_per_km'], 240.0, delta=15.0, msg=st)
            self.assertEqual(st['rep'], i // 2 + 1)
            # the strap notifies once a second: the first second may still be the rest's 120
            self.assertAlmostEqual(st['hr_bpm'], 160, delta=6, msg=st)
        for i in (1, 3):
            st = ended[i]
            self.assertEqual(st['kind'], 'rest')
            self.assertAlmostEqual(st['actual_duration_s'], 5.0, delta=0.5, msg=st)
        self.assertEqual(len(d.all('split')), 1, 'one split at 100 m of 120 m (split_m 100)')
        self.assertEqual([e['type'] for e in d.all() if e['type'] in ALERTS], [],
                         'the runner kept the target: no alerts')
        # standing after the end: no new workout; SIGTERM then exits cleanly
        self.stop_clean(d)
        self.assertEqual(len(d.all('workout_started')), 1)
        self.assertEqual(len(d.all('workout_finished')), 1)

    def test_link_loss_and_reconnect(self):
        '''DropLink on the strap mid-workout: sensor_lost, then
        sensor_connected again within 3 s; the workout goes on and uses the
        strap's data after the reconnection.'''
        fake = self.start_world()
        feeder = self.start_feeder(bpm=140, speed=0.0)
        d = self.start_pacerd({'coach': {'workout': '8s, 8s'}})
        self.wait_connected(d)
        feeder.set_speed(4.0)
        d.wait('workout_started', timeout=15)
        step0 = d.wait('step_started', step=0)
        wait_until(lambda: time.monotonic() - step0['_t'] >= 2.0, 5, what='2 s into step 0')
        mark = d.mark()
        self.assertTrue(fake.drop_link(HR))
        lost = d.wait('sensor_lost', mark, address=HR)
        self.assertEqual(lost['kind'], 'heart_rate')
        back = d.wait('sensor_connected', mark, address=HR)
        self.assertLess(back['_t'] - lost['_t'], 3.0, 'reconnected within 3 s')
        self.assertEqual(d.all('step_ended', mark), [], 'the drop was early in step 0')
        feeder.set_hr(175)

        fin = d.wait('workout_finished', mark, timeout=30)
        self.assertIs(fin['completed'], True, fin)
        self.assert_step_order(d, 2)
        self.assertEqual(len(d.all('workout_started')), 1)
        self.assertEqual(len(d.all('sensor_lost')), 1, 'the link loss is reported once')
        self.assertEqual(len(d.all('sensor_connected', address=HR)), 2)
        self.assertEqual(d.all('sensor_lost', address=POD), [], 'the footpod stayed')
        # step 1 began after the reconnection: its heart rate is the strap's new one
        self.assertEqual(d.all('step_ended', step=1)[0]['hr_bpm'], 175)
        self.assertEqual(fake.get_notify_sessions(HR, '2a37'), (0, True), 're-acquired after reconnecting')
        self.stop_clean(d)

    def test_bluetoothd_restart_mid_workout(self):
        '''bluetoothd restarts during a workout: both sensors lost, both back
        once it returns; the same workout carries on to its end; pacerd
        never exits.'''
        fake = self.start_world()
        feeder = self.start_feeder(bpm=140, speed=0.0)
        d = self.start_pacerd({'coach': {'workout': '10s, 10s'}})
        self.wait_connected(d)
        feeder.set_speed(4.0)
        d.wait('workout_started', timeout=15)
        step0 = d.wait('step_started', step=0)
        wait_until(lambda: time.monotonic() - step0['_t'] >= 2.0, 5, what='2 s into step 0')

        mark = d.mark()
        fake.vanish()
        for address in (HR, POD):
            d.wait('sensor_lost', mark, address=address)
        self.assertTrue(d.alive())
        fake.reappear()
        self.wait_connected(d, start=mark, timeout=20)
        feeder.set_hr(172)
        self.assertTrue(d.alive(), 'pacerd survived the restart')

        fin = d.wait('workout_finished', mark, timeout=40)
        self.assertIs(fin['completed'], True, fin)
        self.assertEqual(len(d.all('workout_started')), 1, 'the same workout: no new one')
        self.assertEqual(len(d.all('workout_finished')), 1)
        # steps in order (a pause while the sensors were away is allowed)
        steps = [(e['type'], e['step']) for e in d.all()
                 if e['type'] in ('step_started', 'step_ended')]
        self.assertEqual(steps, [('step_started', 0), ('step_ended', 0), ('step_started', 1), ('step_ended', 1)])
        last = d.all('step_ended', step=1)[0]
        if d.all('sensor_connected', mark, address=HR)[0]['_t'] < d.all('step_started', step=1)[0]['_t']:
            self.assertEqual(last['hr_bpm'], 172, 'the strap is used again after the restart')
        self.assertEqual(fake.get_notify_sessions(HR, '2a37'), (0, True))
        self.assertEqual(fake.get_notify_sessions(POD, '2a53'), (0, True))
        self.assertTrue(d.alive())
        self.stop_clean(d)

    def test_malformed_notifications(self):
        '''Malformed payloads mixed with good ones: ignored, logged at most
        once a minute per sensor, never a crash or a link loss; the good data
        still counts.'''
        fake = self.start_world()
        feeder = self.start_feeder(bpm=163, speed=0.0)
        d = self.start_pacerd()
        self.wait_connected(d)
        feeder.set_speed(4.0)
        d.wait('workout_started', timeout=15)

        bad_hr = [b'\x16', b'\x17\x3c', b'\x16\x8c\x10', b'\x10', b'\x11\x3c']
        bad_pod = [b'\x06', b'\x06\x00\x04', b'\x06\x00\x04\xaa\x01\x02', b'\x07\x00']
        good_hr = hr_payload(163)
        sent = 0
        for i in range(50):
            items = [(HR, '2a37', bad_hr[i % len(bad_hr)]), (HR, '2a37', good_hr)]
            if i % 2 == 0:
                items.append((POD, '2a53', bad_pod[i % len(bad_pod)]))
            sent += fake.notify_many(items)
            time.sleep(0.06)        # spread over 3 s, as a flaky sensor would
        self.assertEqual(sent, 50 * 2 + 25, 'every notification reached pacerd')
        wait_until(lambda: re.search(POD + r': malformed', d.log()), 10 * SLOW, what='the footpod warning')
        self.assertTrue(d.alive())
        self.stop_clean(d)

        log = d.log()
        hr_warnings = [line for line in log.splitlines() if 'malformed' in line and HR in line]
        pod_warnings = [line for line in log.splitlines() if 'malformed' in line and POD in line]
        self.assertEqual(len(hr_warnings), 1, 'logged once a minute per sensor:\n' + '\n'.join(hr_warnings))
        self.assertEqual(len(pod_warnings), 1, 'logged once a minute per sensor:\n' + '\n'.join(pod_warnings))
        self.assertEqual(d.all('sensor_lost'), [], 'malformed data is not a link loss')
        fin = d.all('workout_finished')[0]
        self.assertEqual(fin['hr_bpm'], 163, 'the good heart-rate values still count')
        self.assertGreater(fin['distance_m'], 0)

    def test_empty_notification_is_malformed_not_link_loss(self):
        '''A zero-length notification (an ATT notification with no value, as
        a buggy sensor sends) is a malformed value: counted and logged, not a
        link loss.

        Regression (fixed): daemon/pacer-bluez.c on_notify_fd() reads the acquired
        SOCK_SEQPACKET socket with recv() and takes a 0 return as "the other
        end closed"; but on a SEQPACKET socket a zero-length packet also reads
        as 0, so an empty notification makes pacerd tear the sensor down
        ("notification socket closed"): sensor_lost, a reconnection, and the
        empty value is never counted as malformed.  EOF is G_IO_HUP on that
        socket; a 0 read without HUP is an empty notification.'''
        fake = self.start_world()
        self.start_feeder(bpm=150, speed=0.0)
        d = self.start_pacerd()
        self.wait_connected(d)
        mark = d.mark()
        self.assertEqual(fake.notify(HR, '2a37', b''), 1, 'the empty notification reached pacerd')
        self.assert_no_event(d, 'sensor_lost', mark, window=3.0)
        self.assertRegex(d.log(), HR + r': malformed 2a37 value of 0 bytes')
        self.assertTrue(d.alive())
        self.stop_clean(d)

    def test_sensor_that_never_appears(self):
        '''[sensors] heart_rate names a strap that is not there: pacerd uses
        the footpod, keeps a filtered LE discovery running for the strap, and
        connects it when it turns up.'''
        fake = self.start_world(hr=False)
        feeder = self.start_feeder(hr=None, bpm=150, speed=0.0)
        d = self.start_pacerd({'sensors': {'heart_rate': ABSENT}})
        self.wait_connected(d, (POD,))

        def filtered_discovery():
            sessions = fake.get_discovery_sessions()
            filters = fake.get_discovery_filters()
            return sessions and all(c in filters for c in sessions) and (sessions, filters)
        sessions, filters = wait_until(filtered_discovery, 10 * SLOW, what='a filtered discovery session')
        self.assertEqual(len(sessions), 1, sessions)
        flt = filters[sessions[0]]
        self.assertEqual(flt.get('Transport'), 'le', flt)
        self.assertEqual(sorted(flt.get('UUIDs', [])), sorted(uuid128(u) for u in ('180d', '1814', '1826')), flt)

        feeder.set_speed(4.0)
        d.wait('workout_started', timeout=15)
        # still looking for the strap while the run goes on (sampled over a second)
        for _ in range(4):
            self.assertEqual(fake.get_discovery_sessions(), sessions)
            time.sleep(0.25)
        self.assertEqual([e['address'] for e in d.all('sensor_connected')], [POD])
        self.assertTrue(d.alive())

        # the strap is switched on at last: found by the running discovery
        mark = d.mark()
        fake.add_sensor(ABSENT, 'Late Strap TEST', 'heart_rate', 90, 'battery1')
        feeder.hr = ABSENT
        e = d.wait('sensor_connected', mark, timeout=15, address=ABSENT)
        self.assertEqual(e['kind'], 'heart_rate')
        wait_until(lambda: fake.get_characteristic(ABSENT, '2a37')['delivered'] >= 3, 10 * SLOW,
                   what='heart rate from the late strap')
        self.assertEqual(d.all('workout_finished'), [])
        self.stop_clean(d)
        self.assertEqual(d.all('workout_finished')[0]['hr_bpm'], 150)

    def test_connect_failures_are_retried(self):
        '''The strap's first two connection attempts fail: pacerd backs off
        (1 s, then 2 s) and connects on the third; no sensor_lost for a
        sensor that never connected.'''
        fake = self.start_world()
        fake.set_connect_failures(HR, 2)
        t0 = time.monotonic()
        d = self.start_pacerd()
        self.wait_connected(d, (POD,))
        e = d.wait('sensor_connected', timeout=20, address=HR)
        self.assertLess(e['_t'] - t0, 10.0 * SLOW, 'connected after two failures within ~6 s')
        self.assertEqual(fake.get_device(HR)['connect_failures'], 0)
        self.assertEqual(d.all('sensor_lost'), [])
        self.assertEqual(fake.get_notify_sessions(HR, '2a37'), (0, True))

        # the attempts, from pacerd's log: at least 1 s, then 2 s apart
        stamps = [ts for ts in re.findall(r'(\d\d:\d\d:\d\d\.\d{3}): heart_rate: connecting to', d.log())]
        self.assertEqual(len(stamps), 3, d.log())

        def secs(ts):
            h, m, s = ts.split(':')
            return int(h) * 3600 + int(m) * 60 + float(s)
        gaps = [secs(b) - secs(a) for a, b in zip(stamps, stamps[1:])]
        self.assertGreaterEqual(gaps[0], 0.9, gaps)
        self.assertGreaterEqual(gaps[1], 1.9, gaps)
        self.assertEqual(len(re.findall(r'C0:FF:EE:00:00:01: connecting failed, will retry', d.log())), 2)
        self.stop_clean(d)

    def test_battery_low(self):
        '''A strap at 12 % (Battery1): battery_low when it connects; a footpod
        whose Battery1 level falls to 9 % while streaming: battery_low then,
        once.'''
        fake = self.start_world(hr_battery=12, pod_battery=60)
        d = self.start_pacerd()
        self.wait_connected(d)
        e = d.wait('battery_low', address=HR)
        self.assertEqual(e['battery_pct'], 12)
        self.assertEqual(e['kind'], 'heart_rate')
        self.assertEqual(d.all('battery_low', address=POD), [])

        mark = d.mark()
        fake.set_battery(POD, 9)
        e = d.wait('battery_low', mark, address=POD)
        self.assertEqual(e['battery_pct'], 9)
        self.assertEqual(e['kind'], 'footpod')
        fake.set_battery(POD, 8)
        fake.set_battery(HR, 11)
        self.assert_no_event(d, 'battery_low', d.index_of(e) + 1, window=1.0)
        self.stop_clean(d)

    def test_sighup_reload(self):
        '''SIGHUP reloads a valid config (at once while idle, after the
        running workout otherwise) and keeps the old one when the new one is
        invalid; pacerd keeps running and keeps its sensors.'''
        self.start_world()
        feeder = self.start_feeder(bpm=150, speed=0.0)
        path = self.write_config({'coach': {'workout': '4s'}})
        d = self.start_pacerd(path)
        self.wait_connected(d)

        # idle: applied at once
        self.write_config({'coach': {'workout': '4s'}, 'athlete': {'max_hr': '180'}})
        mark = d.mark()
        d.send_signal(signal.SIGHUP)
        d.wait_log(r'configuration reloaded from ' + re.escape(path))
        self.assertTrue(d.alive())
        self.assertEqual(d.all('sensor_lost', mark), [], 'the sensors stay')

        # an invalid file: the old configuration stays
        self.write_config({'athlete': {'max_hr': '400'}})
        d.send_signal(signal.SIGHUP)
        d.wait_log(r'configuration not reloaded, the old one stays: .*max_hr')
        self.assertTrue(d.alive())

        # during a workout: read now, applied when it ends
        feeder.set_speed(4.0)
        d.wait('workout_started', timeout=15)
        self.write_config({'coach': {'workout': '4s'}, 'athlete': {'max_hr': '185'}})
        d.send_signal(signal.SIGHUP)
        d.wait_log(r'applied when the running workout ends')
        self.assertEqual(d.log().count('configuration reloaded from'), 1)
        fin = d.wait('workout_finished', timeout=20)
        self.assertIs(fin['completed'], True)
        feeder.set_speed(0.0)
        wait_until(lambda: d.log().count('configuration reloaded from') == 2, 10 * SLOW,
                   what='the deferred reload')
        self.assertTrue(d.alive())
        self.assertEqual(d.all('sensor_lost'), [])
        self.stop_clean(d)

    def test_sighup_reload_keeps_event_seq(self):
        '''After a reload, event seq goes on increasing: consumers (MQTT,
        D-Bus, scripts reading --events) order and de-duplicate on it.

        Regression (fixed): daemon/pacer-daemon.c apply_reload() calls
        make_pipeline(), which frees the pipeline and builds a new one; the
        new coach numbers events from 1 again, so one pacerd prints seq 1, 2,
        then 1, 2, ... after each SIGHUP.  Reproducer: start pacerd with the
        two sensors, SIGHUP, drop a link: sensor_lost comes with seq 1.'''
        fake = self.start_world()
        self.start_feeder(bpm=150, speed=0.0)
        d = self.start_pacerd()
        self.wait_connected(d)
        before = max(e['seq'] for e in d.all())
        d.send_signal(signal.SIGHUP)
        d.wait_log(r'configuration reloaded from ')
        mark = d.mark()
        fake.drop_link(POD)
        d.wait('sensor_connected', mark, address=POD)
        self.stop_clean(d)
        seqs = [e['seq'] for e in d.all()]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)), f'seq goes on after a reload (it was {before})')

    def test_reload_at_workout_end_does_not_restart_it(self):
        '''A reload deferred to the end of a workout does not start the
        workout again while the runner is still moving: as without a reload,
        the coach waits until the runner has stood.

        Regression (fixed): the deferred apply_reload() (daemon/pacer-daemon.c,
        on_event_reload) rebuilds the pipeline with make_pipeline(): the new
        coach has forgotten that a workout has just finished
        (PacerCoach.stood_since_finish in lib/pacer-coach.c) and [coach]
        workout is queued again, so a runner jogging on after the finish gets
        a new workout_started about 3 s after the reload.  Reproducer: this
        test ([coach] workout = 3s, SIGHUP during the workout, keep running).'''
        self.start_world()
        feeder = self.start_feeder(bpm=150, speed=0.0)
        d = self.start_pacerd({'coach': {'workout': '3s'}})
        self.wait_connected(d)
        feeder.set_speed(4.0)
        d.wait('workout_started', timeout=15)
        d.send_signal(signal.SIGHUP)
        d.wait_log(r'applied when the running workout ends')
        fin = d.wait('workout_finished', timeout=20)
        self.assertIs(fin['completed'], True)
        d.wait_log(r'(?s)applied when the running workout ends.*configuration reloaded from ')
        # the runner jogs on after the end: no new workout (watched for longer than auto start's 3 s)
        self.assert_no_event(d, 'workout_started', d.index_of(fin) + 1, window=4.0)
        self.stop_clean(d)

# --------------------------------------------------------------------------
# Bridged sensors, raw values, and an idle pacerd that does not tick
# --------------------------------------------------------------------------

BRIDGED_HR = 'C0:FF:EE:00:00:11'
BRIDGED_POD = 'C0:FF:EE:00:00:12'


class MqttWatcher:
    '''Every message under pacer/<node>/ with its arrival time (paho).'''

    def __init__(self, port, node, username=None, password=None):
        import paho.mqtt.client as mqtt  # pylint: disable=import-outside-toplevel
        self.base = f'pacer/{node}/'
        self.lock = threading.Lock()
        self.msgs = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(client_id=f'watch-{os.getpid()}')
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, u, f, rc: c.subscribe(self.base + '#', qos=1)
        self.client.on_subscribe = lambda c, u, mid, q: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect('127.0.0.1', port)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise AssertionError('the test subscriber could not subscribe')

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.msgs.append((time.monotonic(), msg.topic[len(self.base):], msg.payload))

    def all(self, topic, since=0.0):
        with self.lock:
            return [p for t, top, p in self.msgs if top == topic and t >= since]

    def json(self, topic, since=0.0):
        return [json.loads(p) for p in self.all(topic, since) if p]

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


RAW_CLIENT = 'pacer-bridge-raw'     # the raw link's client id: [mqtt] node 'bridge'
RAW_FAILED = r'WARNING.*mqtt: raw values: their own connection'


class BridgeTest(PacerdCase):

    def start_mqtt_world(self, broker=None, port=None, auth=None, **sensors):
        '''A broker (or the given one), a watcher on it, and a config with
        [mqtt] raw on for pacerd at `port` (default the broker's).'''
        broker = broker or self.start_mosquitto()
        watcher = MqttWatcher(broker.port, 'bridge', *(auth or ()))
        self.addCleanup(watcher.close)
        config = {'mqtt': {'enabled': 'true', 'uri': f'tcp://127.0.0.1:{port or broker.port}',
                           'node': 'bridge', 'raw': 'true', 'ha_discovery': 'false',
                           'interval': '0.5'},
                  'sensors': {'treadmill': 'none', **sensors}}
        return watcher, config

    def proxy(self, broker):
        '''A relay between pacerd and the broker that knows the client ids (test_mqtt.Proxy).'''
        from test_mqtt import Proxy  # pylint: disable=import-outside-toplevel
        proxy = Proxy(broker.port)
        self.addCleanup(proxy.close)
        return proxy

    def log_lines(self, daemon, pattern):
        return [line for line in daemon.log().splitlines() if re.search(pattern, line)]

    def check_pod_in_order(self, watcher, since=0.0):
        '''The footpod's total distance never goes back: its raw values came in order.'''
        dist = [p['distance_m'] for p in watcher.json(f'raw/{POD}', since) if p['type'] == 'rsc']
        self.assertGreater(len(dist), 3, dist)
        self.assertEqual(dist, sorted(dist), 'raw values of one sensor out of order')
        return dist

    def test_bridged_sensors_are_published_raw_and_never_coach(self):
        '''[sensors] bridge connects further sensors by address (their kind
        from their services); with [mqtt] raw every value of every sensor is
        published decoded on raw/<address> as it comes; the bridged ones are
        listed under sensor/<address> but never count in the runner's
        metrics or events; a malformed bridged value is one log line.'''
        fake = self.start_world()
        fake.add_sensor(BRIDGED_HR, 'Partner strap', 'heart_rate', 70)
        fake.add_sensor(BRIDGED_POD, 'Partner pod', 'footpod', -1, 'none')
        watcher, config = self.start_mqtt_world(heart_rate=HR, footpod=POD,
                                                bridge=f'{BRIDGED_HR},{BRIDGED_POD.lower()}')
        feeder = self.start_feeder(bpm=120, speed=3.0)
        d = self.start_pacerd(config)
        self.wait_connected(d)
        d.wait_log(r'bridged heart_rate .*' + BRIDGED_HR + r'.*: streaming', timeout=15 * SLOW)
        d.wait_log(r'bridged footpod .*' + BRIDGED_POD + r'.*: streaming', timeout=15 * SLOW)
        fake.wait_notify_sessions(BRIDGED_HR, '2a37', 0, acquired=True)
        fake.wait_notify_sessions(BRIDGED_POD, '2a53', 0, acquired=True)

        self.add_log('mqtt messages', lambda: '\n'.join(f'{t:.3f} {top} {p!r}' for t, top, p in watcher.msgs))
        # values that come before the broker connection are dropped, not queued
        wait_until(lambda: watcher.all('status') == [b'online'], 10 * SLOW, what='pacerd online')
        since = time.monotonic()
        for i in range(5):
            fake.notify_many([(BRIDGED_HR, '2a37', hr_payload(151)),
                              (BRIDGED_POD, '2a53', rsc_payload(2.5, 80, 4321 + i))])
            time.sleep(0.2)
        wait_until(lambda: len([p for p in watcher.json(f'raw/{BRIDGED_POD}', since) if p['type'] == 'rsc']) >= 5,
                   10 * SLOW,
                   what='five raw values of the bridged footpod')
        hr_raw = [p for p in watcher.json(f'raw/{BRIDGED_HR}', since) if p['type'] == 'heart_rate']
        pod_raw = [p for p in watcher.json(f'raw/{BRIDGED_POD}', since) if p['type'] == 'rsc']
        self.assertEqual(len(hr_raw), 5, hr_raw)
        self.assertEqual(hr_raw[0]['type'], 'heart_rate')
        self.assertEqual(hr_raw[0]['hr_bpm'], 151)
        self.assertEqual(hr_raw[0]['contact'], 'detected')
        self.assertAlmostEqual(hr_raw[0]['rr_ms'][0], round(60 / 151 * 1024) * 1000 / 1024, places=2)
        self.assertEqual([round(p['distance_m'] * 10) for p in pod_raw], [4321 + i for i in range(5)])
        self.assertEqual(pod_raw[0]['type'], 'rsc')
        self.assertEqual(pod_raw[0]['speed_mps'], 2.5)
        # the runner's own sensors are published raw as well
        wait_until(lambda: watcher.json(f'raw/{HR}', since), 5 * SLOW, what='a raw value of the strap')
        self.assertEqual(watcher.json(f'raw/{HR}', since)[0]['hr_bpm'], 120)
        wait_until(lambda: watcher.json(f'raw/{POD}', since), 5 * SLOW, what='a raw value of the footpod')

        # the bridged sensors are listed, and are not the runner's
        wait_until(lambda: watcher.json(f'sensor/{BRIDGED_HR}'), 5 * SLOW, what='the bridged strap listed')
        state = watcher.json(f'sensor/{BRIDGED_HR}')[-1]
        self.assertEqual((state['kind'], state['connected'], state['name']),
                         ('heart_rate', True, 'Partner strap'))
        wait_until(lambda: any(m['hr_bpm'] == 120 for m in watcher.json('metrics')), 5 * SLOW,
                   what="metrics with the runner's heart rate")
        self.assertEqual({m['hr_bpm'] for m in watcher.json('metrics')} - {None}, {120},
                         "only the runner's strap counts")
        for e in d.all('sensor_connected'):
            self.assertIn(e['address'], (HR, POD), 'no coaching events for bridged sensors')

        fake.notify(BRIDGED_HR, '2a37', b'\x16')
        d.wait_log(BRIDGED_HR + r': malformed 2a37 value of 1 bytes', timeout=5 * SLOW)
        self.assertTrue(d.alive())

        # a bridged sensor that goes away is reconnected like the runner's
        reconnect = time.monotonic()
        fake.drop_link(BRIDGED_HR)
        wait_until(lambda: (watcher.json(f'sensor/{BRIDGED_HR}') or [{}])[-1].get('connected') is False,
                   5 * SLOW, what='the bridged strap shown disconnected')
        wait_until(lambda: (watcher.json(f'sensor/{BRIDGED_HR}') or [{}])[-1].get('connected') is True,
                   10 * SLOW, what='the bridged strap back')
        # what it reads after connecting (location, battery) goes the same way
        wait_until(lambda: {'type': 'battery', 'percent': 70} in watcher.json(f'raw/{BRIDGED_HR}', reconnect),
                   5 * SLOW, what='the battery level read after reconnecting')
        self.assertIn({'type': 'body_sensor_location', 'location': 'chest'},
                      watcher.json(f'raw/{BRIDGED_HR}', reconnect))
        self.assertEqual(d.all('sensor_lost'), [], "a bridged sensor's loss is no coaching event")
        feeder.stop()
        self.stop_clean(d)

    def test_reload_changes_the_bridged_sensors(self):
        '''SIGHUP with another bridge list: the sensor left out is let go
        (disconnected, shown disconnected), the new one connects; the
        runner's sensors are untouched.'''
        fake = self.start_world()
        fake.add_sensor(BRIDGED_HR, 'Partner strap', 'heart_rate', 70)
        fake.add_sensor(BRIDGED_POD, 'Partner pod', 'footpod', -1, 'none')
        watcher, config = self.start_mqtt_world(heart_rate=HR, footpod=POD, bridge=BRIDGED_HR)
        path = self.write_config(config)
        d = self.start_pacerd(path)
        self.wait_connected(d)
        d.wait_log(r'bridged heart_rate .*' + BRIDGED_HR + r'.*: streaming', timeout=15 * SLOW)
        self.assertFalse(fake.is_connected(BRIDGED_POD))

        def shown_connected(address):
            states = watcher.json(f'sensor/{address}')
            return states[-1]['connected'] if states else None
        wait_until(lambda: shown_connected(BRIDGED_HR) is True, 10 * SLOW, what='the bridged strap listed')

        config['sensors']['bridge'] = BRIDGED_POD
        self.write_config(config)
        d.send_signal(signal.SIGHUP)
        d.wait_log(r'configuration reloaded', timeout=10 * SLOW)
        d.wait_log(r'bridged footpod .*' + BRIDGED_POD + r'.*: streaming', timeout=15 * SLOW)
        wait_until(lambda: not fake.is_connected(BRIDGED_HR), 10 * SLOW, what='the left-out strap let go')
        wait_until(lambda: shown_connected(BRIDGED_HR) is False, 5 * SLOW,
                   what='the left-out strap shown disconnected')
        self.assertEqual(d.all('sensor_lost'), [], "the runner's sensors stay")
        self.assertTrue(fake.is_connected(HR) and fake.is_connected(POD))
        self.stop_clean(d)

    def test_idle_pacerd_does_not_tick(self):
        '''Without sensors or a workout the pipeline does not run (no metrics
        messages: an idle pacerd does not wake up); a sensor starts it, and
        a few seconds after the last one is lost it rests again.'''
        fake = self.start_world(hr=True, pod=False)
        watcher, config = self.start_mqtt_world(heart_rate=HR, footpod='none')
        fake.set_present(HR, False)
        d = self.start_pacerd(config, args=['--verbose'])
        wait_until(lambda: watcher.all('status') and watcher.all('status')[-1] == b'online', 10 * SLOW,
                   what='pacerd online')
        time.sleep(2.0)     # an observation window: nothing may tick
        self.assertEqual(watcher.all('metrics'), [], 'an idle pacerd publishes no metrics')

        fake.set_present(HR, True)
        feeder = self.start_feeder(bpm=130, pod=None)
        self.wait_connected(d, addresses=(HR,))
        wait_until(lambda: watcher.json('metrics'), 5 * SLOW, what='metrics with a sensor')
        feeder.stop()
        fake.set_present(HR, False)
        d.wait('sensor_lost', address=HR, timeout=10 * SLOW)
        d.wait_log(r'nothing to tick for: the pipeline rests', timeout=15 * SLOW)
        last = watcher.json('metrics')[-1]
        self.assertIsNone(last['hr_bpm'], "the lost strap's value went null before the pipeline rested")
        rested = time.monotonic()
        time.sleep(1.5)     # an observation window: nothing may tick
        self.assertEqual(watcher.all('metrics', rested + 0.3), [], 'no metrics once it rests')
        self.stop_clean(d)


    def test_raw_values_have_their_own_connection(self):
        '''With a tcp:// broker the raw values go on a second connection,
        client id <client_id>-raw, written by pacerd itself; the first value
        opens it (it goes through the main connection meanwhile), and the
        values of each sensor arrive in order. The main connection carries
        the rest, and raw values no more.'''
        fake = self.start_world()
        fake.add_sensor(BRIDGED_POD, 'Partner pod', 'footpod', -1, 'none')
        broker = self.start_mosquitto()
        proxy = self.proxy(broker)
        watcher, config = self.start_mqtt_world(broker, proxy.port, heart_rate=HR, footpod=POD,
                                                bridge=BRIDGED_POD)
        self.add_log('mqtt messages', lambda: '\n'.join(f'{t:.3f} {top} {p!r}' for t, top, p in watcher.msgs))
        self.start_feeder(bpm=130, speed=3.0)
        d = self.start_pacerd(config)
        self.wait_connected(d)
        d.wait_log(r"mqtt: raw values go on their own connection to 'tcp://127\.0\.0\.1:\d+' as "
                   f"'{RAW_CLIENT}'", timeout=15 * SLOW)
        wait_until(lambda: f'as {RAW_CLIENT} (p2, c1, k30)' in broker.log(), 5 * SLOW,
                   what='mosquitto: the raw client connected')
        d.wait_log(r'bridged footpod .*' + BRIDGED_POD + r'.*: streaming', timeout=15 * SLOW)
        # once the link is up, every raw value takes it, in order
        wait_until(lambda: len(proxy.publishes(RAW_CLIENT)) >= 4, 10 * SLOW, what='raw values on the link')
        since = time.monotonic()
        on_main = len(proxy.publishes('pacer-bridge', 'pacer/bridge/raw/'))
        for i in range(20):
            fake.notify(BRIDGED_POD, '2a53', rsc_payload(2.5, 80, 5000 + i))
            time.sleep(0.02)
        # measurements only: the pod's feature read may come late as well (under valgrind, ASan)
        def measured():
            return [round(p['distance_m'] * 10) for p in watcher.json(f'raw/{BRIDGED_POD}', since)
                    if p['type'] == 'rsc']
        wait_until(lambda: len(measured()) >= 20, 10 * SLOW, what='twenty raw values of the bridged pod')
        self.assertEqual(measured(), [5000 + i for i in range(20)])
        self.assertEqual(len(proxy.publishes('pacer-bridge', 'pacer/bridge/raw/')), on_main,
                         'raw values went through the main connection while the raw link was up')
        self.assertGreaterEqual(len(proxy.publishes(RAW_CLIENT, f'pacer/bridge/raw/{BRIDGED_POD}')), 20)
        self.assertEqual(set(proxy.publishes(RAW_CLIENT)) - {f'pacer/bridge/raw/{a}' for a in (HR, POD, BRIDGED_POD)},
                         set(), 'the raw link carries raw values only')
        wait_until(lambda: len([p for p in watcher.json(f'raw/{POD}') if p['type'] == 'rsc']) > 3, 10 * SLOW,
                   what="the runner's footpod's raw values")
        self.check_pod_in_order(watcher)
        # the rest still goes on the main connection
        self.assertTrue(proxy.publishes('pacer-bridge', 'pacer/bridge/metrics'))
        self.assertEqual(proxy.connect_count(RAW_CLIENT), 1)
        self.assertEqual(self.log_lines(d, 'WARNING.*mqtt'), [])
        self.stop_clean(d)
        # a clean goodbye on both
        wait_until(lambda: f'Client {RAW_CLIENT} disconnected.' in broker.log(), 5 * SLOW,
                   what='the raw client said DISCONNECT')

    def test_raw_link_with_passwords(self):
        '''A broker that wants a user name and password: both connections
        give them. With a wrong password neither connects or publishes, and
        pacerd runs on with one log line.'''
        self.require('mosquitto_passwd')
        passwd = pacertest.mosquitto_password_file(os.path.join(self.tmpdir, 'passwd'),
                                                   {'runner': 's3cret', 'watch': 'w'})
        broker = self.start_mosquitto(extra_config=f'allow_anonymous false\npassword_file {passwd}\n')
        right = os.path.join(self.tmpdir, 'right')
        wrong = os.path.join(self.tmpdir, 'wrong')
        with open(right, 'w', encoding='utf-8') as f:
            f.write('s3cret\n')
        with open(wrong, 'w', encoding='utf-8') as f:
            f.write('guess\n')
        self.start_world(pod=False)
        watcher, config = self.start_mqtt_world(broker, auth=('watch', 'w'), heart_rate=HR, footpod='none')
        self.start_feeder(bpm=130, pod=None)

        config['mqtt'].update({'username': 'runner', 'password_file': wrong})
        d = self.start_pacerd(self.write_config(config, 'wrong.conf'), title='pacerd-wrong')
        self.wait_connected(d, addresses=(HR,))
        wait_until(lambda: broker.log().count('not authorised') >= 3, 20 * SLOW,
                   what='three refused attempts')
        lines = self.log_lines(d, 'WARNING.*mqtt')
        self.assertEqual(len(lines), 1, d.log())
        self.assertIn('not authorised', lines[0])
        self.assertNotIn(RAW_CLIENT, broker.log())
        self.assertEqual(watcher.all('status'), [])
        self.assertEqual(watcher.all(f'raw/{HR}'), [])
        self.assertTrue(d.alive())
        self.stop_clean(d)

        config['mqtt']['password_file'] = right
        d = self.start_pacerd(self.write_config(config, 'right.conf'), title='pacerd-right')
        wait_until(lambda: f"as {RAW_CLIENT} (p2, c1, k30, u'runner')" in broker.log(), 15 * SLOW,
                   what='the raw client authenticated')
        self.assertIn("as pacer-bridge (p2, c1, k30, u'runner')", broker.log())
        since = time.monotonic()
        wait_until(lambda: len(watcher.json(f'raw/{HR}', since)) >= 2, 10 * SLOW,
                   what='raw values through the raw link')
        self.assertEqual(self.log_lines(d, 'WARNING.*mqtt'), [])
        self.stop_clean(d)

    def test_raw_values_across_a_broker_restart(self):
        '''The broker restarts: raw values are dropped while it is away (and
        counted in status/detail's dropped_raw), and resume on the raw link
        once the main connection is back; the broker going away is said
        once, by the main connection.'''
        self.start_world()
        broker = self.start_mosquitto()
        watcher, config = self.start_mqtt_world(broker, heart_rate=HR, footpod=POD)
        self.start_feeder(bpm=130, speed=3.0)
        d = self.start_pacerd(config)
        self.wait_connected(d)
        d.wait_log('mqtt: raw values go on their own connection', timeout=15 * SLOW)
        wait_until(lambda: len(watcher.json(f'raw/{POD}')) >= 4, 10 * SLOW, what='raw values')

        broker.stop()
        d.wait_log('mqtt: lost the connection', timeout=10 * SLOW)
        time.sleep(1.0)     # the footpod sends 4 values a second: some are dropped
        broker.start()
        d.wait_log(r'(?s)lost the connection.*connected to', timeout=20 * SLOW)
        back = time.monotonic()
        wait_until(lambda: len(watcher.json(f'raw/{POD}', back)) >= 4, 15 * SLOW,
                   what='raw values after the restart')
        wait_until(lambda: broker.log().count(f'as {RAW_CLIENT} (p2') >= 1, 5 * SLOW,
                   what='the raw link connected to the restarted broker')
        details = [p for p in watcher.json('status/detail') if p.get('connects') == 2]
        self.assertTrue(details, watcher.json('status/detail'))
        self.assertGreater(details[-1]['dropped_raw'], 0, details[-1])
        self.check_pod_in_order(watcher)
        self.assertEqual(self.log_lines(d, RAW_FAILED), [], 'the broker going away is said once')
        self.assertEqual(len(self.log_lines(d, 'WARNING.*mqtt: lost the connection')), 1, d.log())
        self.stop_clean(d)

    def test_raw_link_refused_or_dropped_alone(self):
        '''The raw link refused (CONNACK 5 to its client id alone) or cut
        while the main connection stays: one log line per kind of failure,
        raw values go through the main connection meanwhile, the link is
        tried again after 1, 2, 4 ... s and takes over when it connects;
        the main connection is never disturbed.'''
        self.start_world()
        broker = self.start_mosquitto()
        proxy = self.proxy(broker)
        proxy.refused.add(RAW_CLIENT)
        watcher, config = self.start_mqtt_world(broker, proxy.port, heart_rate=HR, footpod=POD)
        self.start_feeder(bpm=130, speed=3.0)
        d = self.start_pacerd(config)
        self.wait_connected(d)
        t0 = time.monotonic()
        # attempts at about 0, 1, 3 and 7 s
        wait_until(lambda: proxy.connect_count(RAW_CLIENT) >= 4, 20 * SLOW, what='four raw attempts')
        self.assertGreater(time.monotonic() - t0, 5.0, 'the attempts back off')
        lines = self.log_lines(d, RAW_FAILED)
        self.assertEqual(len(lines), 1, d.log())
        self.assertIn('not authorized', lines[0])
        # meanwhile the values go on the main connection
        since = time.monotonic()
        wait_until(lambda: len(watcher.json(f'raw/{POD}', since)) >= 4, 10 * SLOW,
                   what='raw values through the main connection')
        self.assertTrue(proxy.publishes('pacer-bridge', f'pacer/bridge/raw/{POD}'))
        self.assertEqual(proxy.publishes(RAW_CLIENT), [])

        # allowed again: the next attempt (after 8 s) connects and takes over
        proxy.refused.clear()
        d.wait_log(f"raw values go on their own connection to .* as '{RAW_CLIENT}' again",
                   timeout=20 * SLOW)
        wait_until(lambda: len(proxy.publishes(RAW_CLIENT, f'pacer/bridge/raw/{POD}')) >= 4, 10 * SLOW,
                   what='raw values on the raw link')

        # the raw link cut alone: said once, tried again after 1 s
        attempts = proxy.connect_count(RAW_CLIENT)
        proxy.drop_client(RAW_CLIENT)
        wait_until(lambda: proxy.connect_count(RAW_CLIENT) > attempts, 10 * SLOW, what='the raw link again')
        d.wait_log(r"raw values go on their own connection to .* again(?s:.*)again", timeout=10 * SLOW)
        lines = self.log_lines(d, RAW_FAILED)
        self.assertEqual(len(lines), 2, d.log())
        self.assertRegex(lines[1], 'closed the connection|cannot (send|receive)')
        cut = time.monotonic()
        wait_until(lambda: len(watcher.json(f'raw/{POD}', cut)) >= 4, 10 * SLOW, what='raw values again')

        # the main connection saw none of it
        self.assertEqual(proxy.connect_count('pacer-bridge'), 1)
        self.assertEqual(len(self.log_lines(d, 'mqtt: connected to')), 1, d.log())
        self.assertEqual(self.log_lines(d, 'lost the connection'), [])
        self.check_pod_in_order(watcher)
        self.assertTrue(d.alive())
        self.stop_clean(d)


class ServiceManagerTest(PacerdCase):
    '''pacerd speaks systemd's notification protocol (Type=notify,
    WatchdogSec=): a datagram socket stands in for the manager.'''

    def manager_socket(self, abstract=False):
        import socket  # pylint: disable=import-outside-toplevel
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f'pacer-test-notify-{os.getpid()}-{time.monotonic_ns()}'
            sock.bind('\0' + name)
            address = '@' + name
        else:
            address = os.path.join(self.tmpdir, 'notify')
            sock.bind(address)
        sock.settimeout(10 * SLOW)
        self.addCleanup(sock.close)
        return sock, address

    def spawn_notified(self, address, **env):
        config = self.write_config()
        environ = dict(os.environ, NOTIFY_SOCKET=address, **env)
        return self.spawn('pacerd', [PACERD, '--config', config], env=environ, valgrind=True)

    def test_ready_watchdog_stopping(self):
        '''READY=1 once running, WATCHDOG=1 at half the asked interval,
        STOPPING=1 on SIGTERM; an abstract socket name works too.'''
        self.start_world(hr=False, pod=False)
        for abstract in (False, True):
            sock, address = self.manager_socket(abstract)
            proc = self.spawn_notified(address, WATCHDOG_USEC='400000')
            self.assertEqual(sock.recv(256), b'READY=1')
            t0 = time.monotonic()
            self.assertEqual([sock.recv(256) for _ in range(3)], [b'WATCHDOG=1'] * 3)
            self.assertLess(time.monotonic() - t0, 3.0 * SLOW, 'pings come every 0.2 s')
            proc.send_signal(signal.SIGTERM)
            while True:
                state = sock.recv(256)
                if state != b'WATCHDOG=1':
                    break
            self.assertEqual(state, b'STOPPING=1')
            self.assertEqual(proc.wait(10 * SLOW), EX_OK)

    def test_ready_once_the_bus_name_is_ours(self):
        '''With the D-Bus service on, READY=1 waits until io.pacer.Pacer1 is
        owned, so a unit ordered after pacerd finds the API; with the name
        taken by someone else pacerd still gets ready (it coaches on).'''
        self.start_world(hr=False, pod=False)
        conn = self.bus.connect()
        self.addCleanup(conn.close_sync, None)

        def name_owned():
            reply = conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                                   'NameHasOwner', GLib.Variant('(s)', ('io.pacer.Pacer1',)),
                                   GLib.VariantType('(b)'), Gio.DBusCallFlags.NONE, 5000, None)
            return reply.unpack()[0]

        sock, address = self.manager_socket()
        config = self.write_config({'dbus': {'enabled': 'true', 'bus': 'system'}})
        environ = dict(os.environ, NOTIFY_SOCKET=address)
        proc = self.spawn('pacerd', [PACERD, '--config', config], env=environ, valgrind=True)
        self.assertEqual(sock.recv(256), b'READY=1')
        self.assertTrue(name_owned(), 'the name is ours before READY=1')
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(sock.recv(256), b'STOPPING=1')
        self.assertEqual(proc.wait(10 * SLOW), EX_OK)

        # another owner: not ours, ready all the same
        reply = conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                               'RequestName', GLib.Variant('(su)', ('io.pacer.Pacer1', 4)),
                               GLib.VariantType('(u)'), Gio.DBusCallFlags.NONE, 5000, None)
        self.assertEqual(reply.unpack()[0], 1, 'the test holds the name')
        proc = self.spawn('pacerd', [PACERD, '--config', config], env=environ, valgrind=True)
        self.assertEqual(sock.recv(256), b'READY=1')
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(sock.recv(256), b'STOPPING=1')
        self.assertEqual(proc.wait(10 * SLOW), EX_OK)

    def test_watchdog_for_another_process_is_ignored(self):
        '''WATCHDOG_PID names the main process: another PID means no pings;
        no NOTIFY_SOCKET means nothing is sent and pacerd runs as usual.'''
        self.start_world(hr=False, pod=False)
        sock, address = self.manager_socket()
        proc = self.spawn_notified(address, WATCHDOG_USEC='200000', WATCHDOG_PID='1')
        self.assertEqual(sock.recv(256), b'READY=1')
        sock.settimeout(1.0)
        import socket  # pylint: disable=import-outside-toplevel
        with self.assertRaises(socket.timeout, msg='no watchdog pings for another PID'):
            sock.recv(256)
        proc.send_signal(signal.SIGTERM)
        sock.settimeout(10 * SLOW)
        self.assertEqual(sock.recv(256), b'STOPPING=1')
        self.assertEqual(proc.wait(10 * SLOW), EX_OK)


# --------------------------------------------------------------------------
# Command line, configuration, replay and simulation (no bus needed)
# --------------------------------------------------------------------------

def offline_env():
    '''No bus: if pacerd ever tried BlueZ here it would find nothing.'''
    env = dict(os.environ)
    env['DBUS_SYSTEM_BUS_ADDRESS'] = 'unix:path=/nonexistent/pacer-test-bus'
    env.pop('DBUS_SESSION_BUS_ADDRESS', None)
    return env


def run_pacerd(*args, timeout=60):
    return subprocess.run(pacertest.valgrind_argv([PACERD, *args]), capture_output=True, text=True,
                          timeout=timeout * SLOW, env=offline_env(), check=False)


# (name, config text, expected line, group and key or None for a syntax error)
BAD_CONFIGS = [
    ('max_hr out of range', '[athlete]\nmax_hr = 300\n', 2, 'athlete', 'max_hr'),
    ('resting_hr above max_hr', '[athlete]\nmax_hr = 150\nresting_hr = 160\n', 3, 'athlete', 'resting_hr'),
    ('bad address', '[sensors]\nfootpod = auto\nheart_rate = 00:11:22:33:44\n', 3, 'sensors', 'heart_rate'),
    ('address not hex', '[sensors]\nheart_rate = GG:11:22:33:44:55\n', 2, 'sensors', 'heart_rate'),
    ('bad adapter', '[sensors]\nadapter = wlan0\n', 2, 'sensors', 'adapter'),
    ('unknown cadence_unit', '[footpod]\ncadence_unit = paces\n', 2, 'footpod', 'cadence_unit'),
    ('calibration not a number', '[footpod]\ncalibration = abc\n', 2, 'footpod', 'calibration'),
    ('bad race time', '[athlete]\nrace = 5k=fast\n', 2, 'athlete', 'race'),
    ('bad race distance', '[athlete]\nrace = moon=20:00\n', 2, 'athlete', 'race'),
    ('bad workout syntax', '[athlete]\nrace = 5k=20:00\n\n[coach]\nworkout = 2x(100m@5k, 10s rest\n',
     5, 'coach', 'workout'),
    ('workout needs a race', '[coach]\nworkout = 4x(400m@5k, 2min rest)\n', 2, 'coach', 'workout'),
    ('unknown preset', '[coach]\nworkout = nosuchpreset\n', 2, 'coach', 'workout'),
    ('split_m out of range', '[coach]\nsplit_m = 50\n', 2, 'coach', 'split_m'),
    ('bad bool', '[coach]\nauto_start = maybe\n', 2, 'coach', 'auto_start'),
    ('bad cadence band', '[coach]\ncadence_target = 180-170\n', 2, 'coach', 'cadence_target'),
    ('bad units', '[coach]\nunits = furlongs\n', 2, 'coach', 'units'),
    ('bad mqtt uri', '[mqtt]\nuri = http://broker:1883\n', 2, 'mqtt', 'uri'),
    ('bad mqtt node', '[mqtt]\nnode = a/b\n', 2, 'mqtt', 'node'),
    ('key without cert', '[mqtt]\nkey_file = /tmp/k.pem\n', 2, 'mqtt', 'key_file'),
    ('bad record format', '[record]\nformats = gpx\n', 2, 'record', 'formats'),
    ('bad dbus bus', '[dbus]\nbus = user\n', 2, 'dbus', 'bus'),
    ('trailing comment', '[athlete]\nmax_hr = 190 # mine\n', 2, 'athlete', 'max_hr'),
    ('syntax error line', '[athlete]\nmax_hr = 190\nthis is not a key file line\n', 3, None, None),
    ('broken group header', '[athlete]\nmax_hr = 190\n[coach\n', 3, None, None),
]


class CommandLineTest(pacertest.TestCase):

    def setUp(self):
        super().setUp()
        if not os.access(PACERD, os.X_OK):
            self.fail(f'no pacerd at {PACERD} (set PACERD)')

    def write(self, name, text):
        path = os.path.join(self.tmpdir, name)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return path

    def assert_one_error_line(self, p, pattern):
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, f'exactly one line on stderr:\n{p.stderr}')
        self.assertRegex(lines[0], pattern)
        self.assertEqual(p.stdout, '', 'nothing on stdout on error')

    def test_bad_configurations(self):
        '''Every kind of bad value: exit 78, one line FILE:LINE: [group] key: ...,
        with and without --check-config, before pacerd touches anything.'''
        for name, text, line, group, key in BAD_CONFIGS:
            path = self.write(re.sub(r'\W+', '-', name) + '.conf', text)
            if group:
                pattern = rf'^pacerd: {re.escape(path)}:{line}: \[{group}\] {key}: \S.*$'
            else:
                pattern = rf'^pacerd: {re.escape(path)}:{line}: \S.*$'
            for extra in (['--check-config'], ['--events']):
                with self.subTest(config=name, args=extra):
                    p = run_pacerd('--config', path, *extra, timeout=20)
                    self.assertEqual(p.returncode, EX_CONFIG, p.stderr)
                    self.assert_one_error_line(p, pattern)

    def test_missing_config_file(self):
        missing = os.path.join(self.tmpdir, 'nope', 'pacer.conf')
        for extra in (['--check-config'], ['--events']):
            with self.subTest(args=extra):
                p = run_pacerd('--config', missing, *extra, timeout=20)
                self.assertEqual(p.returncode, EX_CONFIG, p.stderr)
                self.assert_one_error_line(p, rf'^pacerd: {re.escape(missing)}: .+$')

    def test_unknown_keys_only_warn(self):
        path = self.write('unknown.conf', '[athlete]\nmax_hr = 190\nfavourite_colour = red\n\n'
                                          '[bogus]\nx = 1\n[mqtt]\nenabled = false\n')
        p = run_pacerd('--config', path, '--check-config', timeout=20)
        self.assertEqual(p.returncode, EX_OK, p.stderr)
        self.assertRegex(p.stderr, rf'(?m)^pacerd: warning: {re.escape(path)}:3: \[athlete\] favourite_colour: ')
        self.assertRegex(p.stderr, rf'(?m)^pacerd: warning: {re.escape(path)}:5: \[bogus\]')
        self.assertIn('configuration is valid', p.stdout)

    def test_shipped_example_config_is_valid(self):
        p = run_pacerd('--config', EXAMPLE_CONFIG, '--check-config', timeout=20)
        self.assertEqual(p.returncode, EX_OK, p.stderr)
        self.assertEqual(p.stderr, '')
        self.assertEqual(p.stdout.strip(), f'{EXAMPLE_CONFIG}: configuration is valid')

    def test_usage_errors(self):
        config = self.write('ok.conf', config_text())
        capture = os.path.join(DATA, 'hr-straps.capture')
        cases = [
            ['--bogus'],
            ['--config', config, '--replay', capture, '--simulate', '400m@5k'],
            ['--config', config, '--replay', capture, '--speedup', '-1'],
            ['--config', config, '--replay', capture, '--speedup', '1e9'],
            ['--config', config, '--replay', capture, '--speedup', 'fast'],
            ['--config', config, '--simulate', '400m@5k', '--seed', '-1'],
            ['--config', config, 'extra-argument'],
        ]
        for args in cases:
            with self.subTest(args=args):
                p = run_pacerd(*args, timeout=20)
                self.assertEqual(p.returncode, EX_USAGE, p.stderr)
                self.assert_one_error_line(p, r'^pacerd: \S.*$')

    def test_usage_speedup_zero(self):
        '''--speedup 0 is outside 0.1-100000: a usage error (exit 64).

        Regression (fixed): daemon/main.c parse_options() checks
        `o->speedup != 0 && !(o->speedup >= 0.1 && ...)`: 0 stands for "not
        given" (the default of the zeroed Options), so an explicit
        --speedup 0 passes and pacerd_daemon_new() silently turns it into 1
        (real time).  Reproducer: pacerd --config F --replay
        tests/data/hr-straps.capture --speedup 0; echo $? -> 0 (after
        replaying at real time), expected 64 at once.'''
        config = self.write('ok.conf', config_text())
        capture = self.write('one.capture', f'0.000 {HR} 2a37 16 8c 00 04\n')
        p = run_pacerd('--config', config, '--replay', capture, '--speedup', '0', timeout=20)
        self.assertEqual(p.returncode, EX_USAGE, p.stderr)
        self.assert_one_error_line(p, r'^pacerd: .*speedup.*$')

    def test_replay_capture(self):
        config = self.write('ok.conf', config_text())
        p = run_pacerd('--config', config, '--replay', os.path.join(DATA, 'cs-wp8-walk.capture'),
                       '--speedup', '1000', '--events')
        self.assertEqual(p.returncode, EX_OK, p.stderr)
        events = [json.loads(line) for line in p.stdout.splitlines()]
        connected = [e for e in events if e['type'] == 'sensor_connected']
        self.assertEqual(len(connected), 1, events)
        self.assertEqual(connected[0]['kind'], 'treadmill')
        self.assertEqual(connected[0]['address'], 'B1:72:47:A8:AA:F0')
        self.assertEqual([e['seq'] for e in events], list(range(1, len(events) + 1)))

    def test_simulate_workout(self):
        workout = '2x(200m@5k, 30s rest)'
        # the athlete only: the coach's defaults (15 s grace before pace alerts)
        config = self.write('sim.conf', '[athlete]\nrace = 5k=20:00\nmax_hr = 190\n\n'
                                        '[mqtt]\nenabled = false\n\n[dbus]\nenabled = false\n')
        p = run_pacerd('--config', config, '--simulate', workout, '--speedup', '500', '--events')
        self.assertEqual(p.returncode, EX_OK, p.stderr)
        events = [json.loads(line) for line in p.stdout.splitlines()]
        types = [e['type'] for e in events]
        self.assertEqual(types.count('workout_started'), 1, types)
        fin = [e for e in events if e['type'] == 'workout_finished']
        self.assertEqual(len(fin), 1, types)
        self.assertIs(fin[0]['completed'], True)
        self.assertEqual(fin[0]['workout'], workout)
        self.assertEqual(len(fin[0]['steps']), 4)
        self.assertEqual(types[-1], 'workout_finished')
        self.assertEqual([t for t in types if t.startswith('pace_')], [], 'no pace alerts')
        self.assertEqual([e['step'] for e in events if e['type'] == 'step_ended'], [0, 1, 2, 3])

    def test_footpod_factor_kept_across_runs(self):
        '''A footpod factor measured against a treadmill (auto_calibrate) is
        kept by footpod address in the record folder and starts the next
        run with that footpod alone; off with auto_calibrate = false.'''
        pacerctl = os.path.join(os.path.dirname(PACERD), 'pacerctl')
        captures = {}
        for name, args in (('both', ['--workout', '2 km', '--treadmill-and-footpod', '--seed', '1']),
                           ('pod', ['--workout', '1 km', '--seed', '2'])):
            p = subprocess.run([pacerctl, 'simulate', *args, '--footpod-factor', '0.95'], capture_output=True,
                               text=True, timeout=60 * SLOW, check=True)
            captures[name] = self.write(f'{name}.capture', p.stdout)
        records = os.path.join(self.tmpdir, 'records')
        kept = os.path.join(records, 'footpod-calibration')
        config = self.write('cal.conf', config_text({'record': {'dir': records}}))

        def replay(name, config_path=config):
            p = run_pacerd('--config', config_path, '--replay', captures[name], '--speedup', '1000', '--events')
            self.assertEqual(p.returncode, EX_OK, p.stderr)
            fin = [json.loads(line) for line in p.stdout.splitlines() if '"workout_finished"' in line]
            self.assertEqual(len(fin), 1, p.stdout)
            return p.stderr, fin[0]['distance_m']

        # the pod alone, nothing kept yet: its own distance
        log, plain_m = replay('pod')
        self.assertFalse(os.path.exists(kept), log)
        # treadmill and pod: the factor is measured and kept
        log, _ = replay('both')
        self.assertRegex(log, r'footpod C0:FF:EE:00:00:02: factor 1\.05\d+ measured against the treadmill, '
                              r'kept in ' + re.escape(kept))
        text = pacertest.read_text(kept)
        factor = float(re.search(r'^factor=(\S+)$', text, re.M).group(1))
        self.assertAlmostEqual(factor, 1 / 0.95, delta=0.01 / 0.95, msg=text)
        self.assertIn('[C0:FF:EE:00:00:02]', text)
        self.assertRegex(text, r'(?m)^learned=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        # the pod alone again: it starts with the kept factor
        log, kept_m = replay('pod')
        self.assertRegex(log, r'footpod C0:FF:EE:00:00:02: factor 1\.05\d+ from ' + re.escape(kept))
        self.assertAlmostEqual(kept_m / plain_m, factor, delta=0.002)
        self.assertEqual(len([f for f in os.listdir(records) if not f.endswith(('.fit', '.tcx'))]), 1,
                         'nothing but the factor file and the runs')
        # auto_calibrate = false: neither used nor kept
        off = self.write('off.conf', config_text({'record': {'dir': records}, 'footpod': {'auto_calibrate': 'false'}}))
        log, off_m = replay('pod', off)
        self.assertNotIn('footpod C0:FF:EE:00:00:02: factor', log)
        self.assertAlmostEqual(off_m, plain_m, delta=0.05)
        # a broken value is one warning, and the pod goes by its own distance
        with open(kept, 'w', encoding='utf-8') as f:
            f.write('[C0:FF:EE:00:00:02]\nfactor=2.5\n')
        log, bad_m = replay('pod')
        self.assertRegex(log, r'footpod-calibration: \[C0:FF:EE:00:00:02\] factor: outside 0\.5-1\.5; not used')
        self.assertAlmostEqual(bad_m, plain_m, delta=0.05)

    def test_replay_missing_file(self):
        config = self.write('ok.conf', config_text())
        missing = os.path.join(self.tmpdir, 'missing.capture')
        p = run_pacerd('--config', config, '--replay', missing, '--events', timeout=20)
        self.assertEqual(p.returncode, EX_NOINPUT, p.stderr)
        self.assert_one_error_line(p, rf'^pacerd: {re.escape(missing)}: .+$')

    def test_replay_capture_syntax_error(self):
        config = self.write('ok.conf', config_text())
        capture = self.write('bad.capture', '# a capture\n'
                                            f'0.000 {HR} 2a37 16 8c 00 04\n'
                                            f'1.000 {HR} 2a37 16 8c 0\n')
        p = run_pacerd('--config', config, '--replay', capture, '--speedup', '100', timeout=20)
        self.assertEqual(p.returncode, EX_DATAERR, p.stderr)
        errors = [line for line in p.stderr.splitlines() if line.startswith('pacerd: ')]
        self.assertEqual(len(errors), 1, p.stderr)
        self.assertRegex(errors[0], rf'^pacerd: {re.escape(capture)}:3:\d+: \S.*$')

    def test_verbose_keeps_stdout_for_events(self):
        '''--verbose adds debug messages to the log, never to stdout, where
        --events promises one JSON event a line (DESIGN.md section 4).

        Regression (fixed): with --verbose, GLib's default log writer sends
        G_LOG_LEVEL_DEBUG (and INFO) messages to stdout, so every
        "pacerd-DEBUG: ... event: ..." line lands between the JSON events.
        daemon/main.c enables debug output (g_log_set_debug_enabled) without
        g_log_writer_default_set_use_stderr(TRUE) (GLib >= 2.68) or its own
        writer.  Reproducer: pacerd --simulate 200m@5k --speedup 500 --events
        --verbose 2>/dev/null | grep -v '^{' '''
        config = self.write('ok.conf', config_text())
        p = subprocess.run(pacertest.valgrind_argv([PACERD, '--config', config, '--simulate', '200m@5k',
                                                    '--speedup', '500', '--events', '--verbose']),
                           capture_output=True, text=True, timeout=60 * SLOW, env=offline_env(), check=False)
        self.assertEqual(p.returncode, EX_OK, p.stderr)
        lines = p.stdout.splitlines()
        self.assertTrue(lines)
        not_json = [line for line in lines if not line.startswith('{')]
        self.assertEqual(not_json, [], 'stdout has only JSON events with --verbose')


if __name__ == '__main__':
    pacertest.main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Integration tests of pacerd's D-Bus service, pacerctl's online verbs and
the systemd install (issue 7).

The bus is a private dbus-daemon with the system bus's default policy (deny
owning names and calling methods) plus the project's own policy file,
systemd/io.pacer.Pacer1.conf, so that the policy under test is the one that
gets installed. That policy lets only user 'pacer' own io.pacer.Pacer1, so
pacerd runs as user pacer, as pacerd.service does; the tests create it (and
two test users) when missing, which needs root. pacerd runs against the fake
bluetoothd, or with its virtual runner (--simulate).

Users: pacer (system user, group pacer, in bluetooth: as sysusers.d makes
it), pacer-test-nobody (no groups: may read, may not drive), pacer-test-runner
(in group pacer: may drive workouts).

Run: /usr/bin/python3 tests/integration/test_dbus.py [-k pattern]
(PACERD, PACERCTL, PACER_BUILD_ROOT; PACER_TEST_KEEP=1 keeps the temporary
folders; VALGRIND=1 runs pacerd under valgrind).'''

import grp
import json
import math
import os
import pty
import pwd
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pacertest  # noqa: E402  pylint: disable=wrong-import-position
from pacertest import wait_until  # noqa: E402  pylint: disable=wrong-import-position
from gi.repository import Gio, GLib  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
BUILD_ROOT = os.environ.get('PACER_BUILD_ROOT') or os.path.join(SOURCE_ROOT, 'build')
PACERD = os.environ.get('PACERD') or os.path.join(BUILD_ROOT, 'daemon', 'pacerd')
PACERCTL = os.environ.get('PACERCTL') or os.path.join(BUILD_ROOT, 'daemon', 'pacerctl')
POLICY = os.path.join(SOURCE_ROOT, 'systemd', 'io.pacer.Pacer1.conf')
API_XML = os.path.join(SOURCE_ROOT, 'daemon', 'dbus', 'io.pacer.Pacer1.xml')

NAME = 'io.pacer.Pacer1'
PATH = '/io/pacer/Pacer1'
COACH = 'io.pacer.Pacer1.Coach'
SENSOR = 'io.pacer.Pacer1.Sensor'
PROPS = 'org.freedesktop.DBus.Properties'
OM = 'org.freedesktop.DBus.ObjectManager'
ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'

EX_USAGE, EX_DATAERR, EX_UNAVAILABLE, EX_TEMPFAIL, EX_NOPERM = 64, 65, 69, 75, 77

DAEMON_USER = 'pacer'
NOBODY = 'pacer-test-nobody'
RUNNER = 'pacer-test-runner'

HR = 'C0:FF:EE:00:00:01'
POD = 'C0:FF:EE:00:00:02'

METRIC_KEYS = ['elapsed_s', 'distance_m', 'speed_mps', 'pace_s_per_km', 'cadence_spm', 'stride_m',
               'hr_bpm', 'hr_zone', 'pace_zone', 'rr_ms', 'rmssd_ms', 'incline_pct', 'step']

SLOW = 3.0 if os.environ.get('VALGRIND', '0') not in ('', '0') else 1.0

CONFIG = '''[athlete]
max_hr = 190
resting_hr = 50
race = 5k=20:00
[coach]
auto_start = false
auto_pause = false
[mqtt]
enabled = false
[record]
formats =
'''

# the virtual runner follows the coach: its workout must start by itself
SIM_CONFIG = CONFIG.replace('auto_start = false', 'auto_start = true')


# --------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------

def ensure_user(name, groups=(), user_group=True):
    '''Creates a system user when missing (as systemd-sysusers would for
    pacer); returns its passwd entry.'''
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    argv = ['useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent',
            '--shell', '/usr/sbin/nologin']
    argv += ['--user-group'] if user_group else ['--no-user-group']
    present = [g for g in groups if _group_exists(g)]
    if present:
        argv += ['-G', ','.join(present)]
    for _ in range(20):
        p = subprocess.run(argv + [name], capture_output=True, text=True, check=False)
        try:
            return pwd.getpwnam(name)
        except KeyError:
            time.sleep(0.1)   # another test process holds the passwd lock
    raise AssertionError(f'useradd {name} failed: {p.stderr}')


def _group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def ensure_users():
    ensure_user(DAEMON_USER, groups=('bluetooth',))
    ensure_user(NOBODY, user_group=False)
    ensure_user(RUNNER, groups=(DAEMON_USER,), user_group=False)
    runner = pwd.getpwnam(RUNNER).pw_name
    if runner not in grp.getgrnam(DAEMON_USER).gr_mem:
        subprocess.run(['usermod', '-a', '-G', DAEMON_USER, RUNNER], check=True)



def let_others_reach(path):
    '''pacerd runs as user pacer: it must be able to reach the binary (and the
    source tree's presets beside it) even when the clone lives in a private
    folder such as one made by mktemp -d (mode 0700). Adds only the search
    bit (o+x) to the folders above it that lack it.'''
    d = os.path.dirname(os.path.realpath(path))
    while d and d != '/':
        mode = os.stat(d).st_mode
        if not mode & 0o001:
            os.chmod(d, mode | 0o001)
        d = os.path.dirname(d)

def as_user(name):
    '''Popen keyword arguments that run a child as `name` (its groups from /etc/group).'''
    entry = pwd.getpwnam(name)
    groups = [g.gr_gid for g in grp.getgrall() if name in g.gr_mem]
    return {'user': entry.pw_uid, 'group': entry.pw_gid, 'extra_groups': groups, 'cwd': '/'}


# --------------------------------------------------------------------------
# Bus helpers
# --------------------------------------------------------------------------

def pump():
    ctx = GLib.MainContext.default()
    while ctx.iteration(False):
        pass


class Signals:
    '''Records signals from io.pacer.Pacer1 on a connection: (monotonic
    time, path, interface, member, unpacked parameters).'''

    def __init__(self, conn, interface=None, member=None, path=None, arg0=None):
        self.conn = conn
        self.items = []
        self.sub = conn.signal_subscribe(NAME, interface, member, path, arg0, Gio.DBusSignalFlags.NONE,
                                         self._on_signal)

    def _on_signal(self, conn, sender, path, interface, member, params):
        self.items.append((time.monotonic(), path, interface, member, params.unpack()))

    def close(self):
        self.conn.signal_unsubscribe(self.sub)

    def wait(self, predicate, timeout=10.0, what='a signal', start=0):
        '''The first recorded item (from index start) for which predicate is true.'''
        def found():
            pump()
            for item in self.items[start:]:
                if predicate(item):
                    return item
            return None
        return wait_until(found, timeout * SLOW, what=what)


def call(conn, method, args=None, reply='()', iface=COACH, path=PATH, timeout=10.0):
    return pacertest.bus_call(conn, NAME, path, iface, method, args, reply, timeout)


def error_name(fn, *args, **kwargs):
    '''The D-Bus error name fn raises (None if it does not), and the message.'''
    try:
        fn(*args, **kwargs)
    except GLib.Error as e:
        return pacertest.dbus_error_name(e), re.sub(r'^GDBus\.Error:[^ ]+: ', '', e.message)
    return None, None


def get_all(conn, iface=COACH, path=PATH):
    return call(conn, 'GetAll', GLib.Variant('(s)', (iface,)), '(a{sv})', iface=PROPS, path=path)[0]


def get_prop(conn, name, iface=COACH, path=PATH):
    return call(conn, 'Get', GLib.Variant('(ss)', (iface, name)), '(v)', iface=PROPS, path=path)[0]


def managed_objects(conn):
    return call(conn, 'GetManagedObjects', None, '(a{oa{sa{sv}}})', iface=OM)[0]


def sensor_path(address):
    return PATH + '/sensor/' + address.replace(':', '_')


def hr_payload(bpm):
    '''2A37: flags 0x16 (uint8, contact detected, RR present), HR, one RR in 1/1024 s.'''
    rr = round(60.0 / bpm * 1024)
    return bytes([0x16, bpm, rr & 0xff, rr >> 8])


def rsc_payload(speed_mps, cadence, distance_dm):
    '''2A53: flags 0x06 (total distance, running), speed 1/256 m/s, cadence, distance 1/10 m.'''
    raw = round(speed_mps * 256)
    return bytes([0x06, raw & 0xff, raw >> 8, cadence]) + (int(distance_dm) & 0xffffffff).to_bytes(4, 'little')


class Feeder(threading.Thread):
    '''A runner at 3.3 m/s: a footpod notification every 0.25 s, the strap every second.'''

    def __init__(self, fake, bpm=150):
        super().__init__(daemon=True)
        self.fake = fake
        self.bpm = bpm
        self.halt = threading.Event()

    def run(self):
        t0 = time.monotonic()
        n = 0
        while not self.halt.wait(0.25):
            dist_dm = (time.monotonic() - t0) * 3.3 * 10
            items = [(POD, '2a53', rsc_payload(3.3, 85, dist_dm))]
            if n % 4 == 0:
                items.append((HR, '2a37', hr_payload(self.bpm)))
            n += 1
            try:
                self.fake.notify_many(items)
            except GLib.Error:
                pass

    def stop(self):
        self.halt.set()
        self.join(5)


# --------------------------------------------------------------------------
# The test world
# --------------------------------------------------------------------------

class DBusCase(pacertest.TestCase):
    '''A private system bus enforcing the installed policy, optionally the
    fake bluetoothd, and pacerd as user pacer.'''

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest('these tests create users and run processes as them: run them as root')
        ensure_users()

    def setUp(self):
        super().setUp()
        for program in (PACERD, PACERCTL):
            if not os.access(program, os.X_OK):
                self.fail(f'no {program}')
        # pacerd and the test users reach the bus socket and the config here
        os.chmod(self.tmpdir, 0o755)
        self.bus = self.start_bus(policy='system', policy_files=[POLICY])
        self.conn = self.bus.connect()
        self.addCleanup(self.conn.close_sync, None)
        self.config = self.write_config('pacer.conf', CONFIG)
        self.fake = None

    def env(self, **extra):
        env = self.bus.env()
        env['G_DEBUG'] = 'fatal-criticals'
        env['HOME'] = self.tmpdir
        env.update(extra)
        return env

    def write_config(self, name, text):
        path = os.path.join(self.tmpdir, name)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def start_pacerd(self, args=(), user=DAEMON_USER, title='pacerd', config=None, env=None, wait=True,
                     **kwargs):
        '''pacerd as `user` (BlueZ mode unless args say otherwise); waits until it owns the name.'''
        if user:
            let_others_reach(PACERD)
        argv = [PACERD, '--config', config or self.config, *args]
        proc = self.spawn(title, argv, env=env or self.env(), valgrind=True,
                          **(as_user(user) if user else {}), **kwargs)
        # a clean exit on SIGTERM, also under ASan (leaks) and valgrind
        self.addCleanup(self.stop_pacerd, proc)
        if wait:
            def owned():
                if proc.poll() is not None:
                    raise AssertionError(f'pacerd exited with {proc.returncode}')
                return pacertest.name_owner(self.conn, NAME)
            wait_until(owned, 10 * SLOW, what=f'{NAME} on the test bus')
        return proc

    def stop_pacerd(self, proc):
        status = self.processes.stop(proc, timeout=10 * SLOW)
        self.assertEqual(status, 0, 'pacerd exits 0 (on SIGTERM, or at the end of a simulation)')

    def start_world(self):
        self.fake = self.start_fake_bluez(self.bus)
        self.fake.add_sensor(HR, 'Polar H10 TEST', 'heart_rate', 85)
        self.fake.add_sensor(POD, 'Stryd TEST', 'footpod', 60)
        return self.fake

    def pacerctl(self, *args, user=None, env=None, timeout=20):
        return subprocess.run([PACERCTL, *args], capture_output=True, text=True, timeout=timeout * SLOW,
                              env=env or self.env(), check=False, **(as_user(user) if user else {}))

    def assert_fails(self, p, status, pattern):
        '''Exit status, one line on stderr matching pattern, nothing on stdout.'''
        self.assertEqual(p.returncode, status, p.stderr)
        self.assertEqual(p.stdout, '')
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertRegex(p.stderr, pattern)

    def coach_state(self):
        return get_prop(self.conn, 'State')

    def wait_state(self, state, timeout=5.0):
        wait_until(lambda: self.coach_state() == state, timeout * SLOW, what=f'State {state}')


# --------------------------------------------------------------------------
# The bus policy
# --------------------------------------------------------------------------

UNPRIVILEGED_CLIENT = r'''
import json, sys
from gi.repository import Gio, GLib
conn = Gio.DBusConnection.new_for_address_sync(
    sys.argv[1], Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
    Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
calls = [
    ('Introspect', '/io/pacer/Pacer1', 'org.freedesktop.DBus.Introspectable', 'Introspect', None),
    ('Get', '/io/pacer/Pacer1', 'org.freedesktop.DBus.Properties', 'Get',
     GLib.Variant('(ss)', ('io.pacer.Pacer1.Coach', 'State'))),
    ('GetAll', '/io/pacer/Pacer1', 'org.freedesktop.DBus.Properties', 'GetAll',
     GLib.Variant('(s)', ('io.pacer.Pacer1.Coach',))),
    ('Set', '/io/pacer/Pacer1', 'org.freedesktop.DBus.Properties', 'Set',
     GLib.Variant('(ssv)', ('io.pacer.Pacer1.Coach', 'State', GLib.Variant('s', 'running')))),
    ('Ping', '/io/pacer/Pacer1', 'org.freedesktop.DBus.Peer', 'Ping', None),
    ('GetManagedObjects', '/io/pacer/Pacer1', 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects', None),
    ('GetMetrics', '/io/pacer/Pacer1', 'io.pacer.Pacer1.Coach', 'GetMetrics', None),
    ('Start', '/io/pacer/Pacer1', 'io.pacer.Pacer1.Coach', 'Start', GLib.Variant('(s)', ('',))),
    ('Lap', '/io/pacer/Pacer1', 'io.pacer.Pacer1.Coach', 'Lap', None),
    ('Pause', '/io/pacer/Pacer1', 'io.pacer.Pacer1.Coach', 'Pause', None),
    ('Resume', '/io/pacer/Pacer1', 'io.pacer.Pacer1.Coach', 'Resume', None),
    ('Stop', '/io/pacer/Pacer1', 'io.pacer.Pacer1.Coach', 'Stop', None),
    ('RequestName', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'RequestName',
     GLib.Variant('(su)', ('io.pacer.Pacer1', 4))),
]
out = {}
for name, path, iface, method, args in calls:
    dest = 'org.freedesktop.DBus' if name == 'RequestName' else 'io.pacer.Pacer1'
    try:
        reply = conn.call_sync(dest, path, iface, method, args, None, Gio.DBusCallFlags.NO_AUTO_START,
                               5000, None)
        out[name] = 'ok' if name != 'RequestName' else 'reply %d' % reply.unpack()[0]
    except GLib.Error as e:
        out[name] = Gio.DBusError.get_remote_error(e) or e.message
print(json.dumps(out))
'''


class PolicyTest(DBusCase):
    '''systemd/io.pacer.Pacer1.conf, enforced by a real dbus-daemon.'''

    def setUp(self):
        super().setUp()
        self.start_world()
        self.pacerd = self.start_pacerd()

    def client(self, user):
        p = subprocess.run([pacertest.PYTHON, '-c', UNPRIVILEGED_CLIENT, self.bus.address],
                           capture_output=True, text=True, timeout=30 * SLOW, env=self.env(), check=False,
                           **as_user(user))
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_only_pacer_owns_the_name(self):
        owner = pacertest.name_owner(self.conn, NAME)
        uid = pacertest.bus_call(self.conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus',
                                 'org.freedesktop.DBus', 'GetConnectionUnixUser',
                                 GLib.Variant('(s)', (owner,)), '(u)')[0]
        self.assertEqual(pwd.getpwuid(uid).pw_name, DAEMON_USER)
        # not even root may take it
        name, _ = error_name(pacertest.bus_call, self.conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus',
                             'org.freedesktop.DBus', 'RequestName', GLib.Variant('(su)', (NAME, 4)), '(u)')
        self.assertEqual(name, ACCESS_DENIED)

    def test_anyone_reads_only_root_and_group_pacer_drive(self):
        results = self.client(NOBODY)
        for allowed in ('Introspect', 'Get', 'GetAll', 'Ping', 'GetManagedObjects', 'GetMetrics'):
            self.assertEqual(results[allowed], 'ok', f'{allowed} as {NOBODY}: {results}')
        for denied in ('Start', 'Stop', 'Lap', 'Pause', 'Resume'):
            self.assertEqual(results[denied], ACCESS_DENIED, f'{denied} as {NOBODY}: {results}')
        self.assertEqual(results['RequestName'], ACCESS_DENIED)
        # Set passes the policy (Properties) but every property is read-only
        self.assertNotIn(results['Set'], ('ok', ACCESS_DENIED))
        self.assertEqual(self.coach_state(), 'idle', 'nothing changed')

        # pacerctl, the same user: reads work, driving is refused with 77
        p = self.pacerctl('status', user=NOBODY)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r'(?m)^State +idle$')
        p = self.pacerctl('sensors', '--json', user=NOBODY)
        self.assertEqual(p.returncode, 0, p.stderr)
        for verb in ('start', 'stop', 'lap', 'pause', 'resume'):
            p = self.pacerctl(verb, user=NOBODY)
            self.assert_fails(p, EX_NOPERM, rf"^pacerctl: {verb}: permission denied: only root and members "
                                            r"of group 'pacer' may")

        # a member of group pacer drives workouts
        results = self.client(RUNNER)
        self.assertEqual(results['Start'], 'ok', results)
        self.assertEqual(results['Lap'], 'ok', results)
        self.assertEqual(results['Pause'], 'ok', results)
        self.assertEqual(results['Resume'], 'ok', results)
        self.assertEqual(results['Stop'], 'ok', results)
        self.assertEqual(results['RequestName'], ACCESS_DENIED)
        p = self.pacerctl('start', '10min@E', user=RUNNER)
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "Started '10min@E'.\n", ''))
        p = self.pacerctl('stop', user=RUNNER)
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, 'Stopped.\n', ''))

    def test_pacerd_reaches_bluez_as_pacer(self):
        '''User pacer talks to org.bluez (bluetooth.conf, and our policy's own rule).'''
        self.fake.wait_connected(HR, timeout=20 * SLOW)
        self.fake.wait_notify_sessions(HR, '2a37', 0, acquired=True, timeout=20 * SLOW)


# --------------------------------------------------------------------------
# The API: methods, properties, signals, errors
# --------------------------------------------------------------------------

def xml_members():
    '''(methods, signals, properties {name: type}) of each interface in the installed XML.'''
    root = ET.parse(API_XML).getroot()
    out = {}
    for iface in root.findall('interface'):
        out[iface.get('name')] = (
            {m.get('name') for m in iface.findall('method')},
            {s.get('name') for s in iface.findall('signal')},
            {p.get('name'): p.get('type') for p in iface.findall('property')})
    return out


class ApiTest(DBusCase):
    '''pacerd with the fake bluetoothd; the test process is root (may drive).'''

    def setUp(self):
        super().setUp()
        self.start_world()
        self.pacerd = self.start_pacerd()
        self.events = Signals(self.conn, COACH, 'Event', PATH)
        self.addCleanup(self.events.close)

    def wait_event(self, etype, start=0, timeout=10.0):
        return self.events.wait(lambda i: i[4][0] == etype, timeout, f'event {etype}', start)[4][1]

    def introspect(self, path=PATH):
        xml = call(self.conn, 'Introspect', None, '(s)', iface='org.freedesktop.DBus.Introspectable', path=path)[0]
        return Gio.DBusNodeInfo.new_for_xml(xml)

    def test_introspection_matches_the_xml(self):
        wait_until(lambda: sensor_path(HR) in managed_objects(self.conn), 20 * SLOW, what='the strap object')
        node = self.introspect()
        names = {i.name for i in node.interfaces}
        self.assertTrue({COACH, OM, PROPS}.issubset(names), names)
        self.assertIn('sensor', {n.path for n in node.nodes})
        sensor = self.introspect(sensor_path(HR)).lookup_interface(SENSOR)
        expected = xml_members()
        self.assertEqual({p.name: p.signature for p in sensor.properties}, expected[SENSOR][2])
        coach = node.lookup_interface(COACH)
        methods, signals, props = expected[COACH]
        self.assertEqual({m.name for m in coach.methods}, methods)
        self.assertEqual({s.name for s in coach.signals}, signals)
        self.assertEqual({p.name: p.signature for p in coach.properties}, props)
        for p in coach.properties:
            self.assertEqual(p.flags, Gio.DBusPropertyInfoFlags.READABLE, f'{p.name} is read-only')

    def test_properties_when_idle(self):
        props = get_all(self.conn)
        self.assertEqual(set(props), set(xml_members()[COACH][2]))
        self.assertEqual(props['State'], 'idle')
        self.assertEqual(props['Workout'], '')
        self.assertFalse(props['FreeRun'])
        self.assertEqual(props['StepIndex'], -1)
        self.assertEqual(props['StepCount'], 0)
        for key in ('StepKind', 'StepTarget', 'StepDescription', 'StepRemainingUnit', 'PaceZone'):
            self.assertEqual(props[key], '', key)
        for key in ('StepRemaining', 'ElapsedSeconds', 'DistanceMeters', 'SpeedMps', 'PaceSecondsPerKm',
                    'CadenceSpm', 'StrideMeters', 'RmssdMs', 'InclinePercent'):
            self.assertTrue(math.isnan(props[key]), f'{key} unknown is NaN, not {props[key]}')
        self.assertEqual(props['HeartRateBpm'], 0)
        self.assertEqual(props['HeartRateZone'], 0)
        self.assertEqual(call(self.conn, 'GetMetrics', None, '(a{sv})')[0], {'rr_ms': []})

    def test_commands_states_events_and_errors(self):
        c = self.conn
        # nothing runs: the commands that need a workout say so, by name
        for method in ('Stop', 'Lap', 'Pause', 'Resume'):
            name, message = error_name(call, c, method)
            self.assertEqual(name, 'io.pacer.Pacer1.Error.NotRunning', method)
            self.assertRegex(message, rf'^cannot {method.lower()}: no workout is running$')

        # a bad workout is an error reply and changes nothing
        before = get_all(c)
        name, message = error_name(call, c, 'Start', GLib.Variant('(s)', ('10min@E, 4x(400m@5k',)))
        self.assertEqual(name, 'io.pacer.Pacer1.Error.InvalidWorkout')
        self.assertRegex(message, r'column \d+: expected')
        name, _ = error_name(call, c, 'Start', GLib.Variant('(s)', ('no-such-preset',)))
        self.assertEqual(name, 'io.pacer.Pacer1.Error.InvalidWorkout')
        self.assertEqual([i for i in self.events.items if i[4][0].startswith('workout_')], [], 'no workout event')
        self.assertEqual(get_all(c)['State'], before['State'])

        # a workout: state, step and events follow
        workout = '2min@E, 2x(400m@5k, 1min rest), 1min@E'
        call(c, 'Start', GLib.Variant('(s)', (workout,)))
        started = self.wait_event('workout_started')
        self.assertEqual(started['workout'], workout)
        self.assertIs(started['free_run'], False)
        self.assertEqual(started['steps'], 6.0)
        self.assertIsInstance(started['seq'], float, 'every number is a double')
        self.assertEqual(started['type'], 'workout_started')
        self.assertIn('message', started)
        self.assertNotIn('previous_zone', started)
        step = self.wait_event('step_started')
        self.assertEqual(step['kind'], 'warmup')
        self.assertEqual(step['target']['label'], 'E')
        self.assertEqual(len(step['target']['pace_s_per_km']), 2)
        self.assertNotIn('hr_bpm', step['target'], 'null members are left out')
        self.assertNotIn('rep', step)
        self.wait_state('running')
        props = get_all(c)
        self.assertEqual(props['Workout'], workout)
        self.assertEqual((props['StepIndex'], props['StepCount']), (0, 6))
        self.assertEqual((props['StepKind'], props['StepTarget'], props['StepRemainingUnit']),
                         ('warmup', 'E', 's'))
        self.assertEqual(props['StepDescription'], 'Warm-up: 2 minutes easy.')
        self.assertTrue(0 < props['StepRemaining'] <= 120, props['StepRemaining'])
        self.assertGreaterEqual(props['ElapsedSeconds'], 0)
        self.assertEqual(call(c, 'GetMetrics', None, '(a{sv})')[0]['step'], 0)

        # Busy: one workout at a time, and a bad text is still refused for that first
        name, message = error_name(call, c, 'Start', GLib.Variant('(s)', ('',)))
        self.assertEqual(name, 'io.pacer.Pacer1.Error.Busy')
        self.assertEqual(message, 'cannot start: a workout is already running')

        n = len(self.events.items)
        call(c, 'Lap')
        ended = self.wait_event('step_ended', n)
        self.assertIs(ended['lapped'], True)
        self.wait_event('step_started', n)
        wait_until(lambda: get_prop(c, 'StepIndex') == 1, 5 * SLOW, what='step 1')
        props = get_all(c)
        self.assertEqual((props['StepKind'], props['StepTarget'], props['StepRemainingUnit']), ('run', '5k', 'm'))

        n = len(self.events.items)
        call(c, 'Pause')
        self.assertIs(self.wait_event('workout_paused', n)['auto'], False)
        self.wait_state('paused')
        name, _ = error_name(call, c, 'Pause')
        self.assertEqual(name, 'io.pacer.Pacer1.Error.Busy')
        call(c, 'Resume')
        self.assertIs(self.wait_event('workout_resumed', n)['auto'], False)
        self.wait_state('running')
        name, _ = error_name(call, c, 'Resume')
        self.assertEqual(name, 'io.pacer.Pacer1.Error.Busy')

        n = len(self.events.items)
        call(c, 'Stop')
        finished = self.wait_event('workout_finished', n)
        self.assertIs(finished['completed'], False)
        self.assertEqual(finished['workout'], workout)
        self.assertIsInstance(finished['steps'], list)
        self.assertIsInstance(finished['steps'][0], dict)
        self.assertEqual(finished['steps'][0]['kind'], 'warmup')
        self.wait_state('finished')
        self.assertEqual(get_prop(c, 'Workout'), workout, 'the last workout')
        self.assertEqual(get_prop(c, 'StepIndex'), -1)
        self.assertNotIn('step', call(c, 'GetMetrics', None, '(a{sv})')[0])
        name, _ = error_name(call, c, 'Stop')
        self.assertEqual(name, 'io.pacer.Pacer1.Error.NotRunning')

        # a free run: none is queued
        self.stop_pacerd(self.pacerd)
        self.pacerd = self.start_pacerd()
        n = len(self.events.items)
        call(c, 'Start', GLib.Variant('(s)', ('',)))
        self.assertIs(self.wait_event('workout_started', n)['free_run'], True)
        wait_until(lambda: get_prop(c, 'FreeRun') is True, 5 * SLOW, what='FreeRun')
        self.assertEqual(get_prop(c, 'Workout'), '')
        self.assertEqual(get_prop(c, 'StepKind'), '')

    def test_live_metrics_sensors_and_rate(self):
        c = self.conn
        added = Signals(c, OM, 'InterfacesAdded', PATH)
        removed = Signals(c, OM, 'InterfacesRemoved', PATH)
        changed = Signals(c, PROPS, 'PropertiesChanged', None)
        for s in (added, removed, changed):
            self.addCleanup(s.close)
        feeder = Feeder(self.fake, bpm=150)
        feeder.start()
        self.addCleanup(feeder.stop)

        # a Sensor object per sensor, announced with its properties
        def connected_sensors():
            pump()
            objects = managed_objects(c)
            return {p: o[SENSOR] for p, o in objects.items() if SENSOR in o and o[SENSOR]['Connected']}
        sensors = wait_until(lambda: len(connected_sensors()) == 2 and connected_sensors(), 30 * SLOW,
                             what='two connected sensors')
        hr = sensors[sensor_path(HR)]
        self.assertEqual(hr['Address'], HR)
        self.assertEqual(hr['Name'], 'Polar H10 TEST')
        self.assertEqual(hr['Kind'], 'heart_rate')
        self.assertEqual(sensors[sensor_path(POD)]['Kind'], 'footpod')
        wait_until(lambda: get_prop(c, 'Battery', SENSOR, sensor_path(HR)) == 85, 10 * SLOW,
                   what='the strap battery')
        self.assertIsInstance(get_prop(c, 'Rssi', SENSOR, sensor_path(HR)), int)
        added.wait(lambda i: i[4][0] == sensor_path(HR) and SENSOR in i[4][1], what='InterfacesAdded')

        # live metrics, as properties and from GetMetrics
        wait_until(lambda: get_prop(c, 'HeartRateBpm') == 150, 15 * SLOW, what='HeartRateBpm 150')
        wait_until(lambda: abs(get_prop(c, 'SpeedMps') - 3.3) < 0.1, 15 * SLOW, what='SpeedMps')
        wait_until(lambda: abs(get_prop(c, 'CadenceSpm') - 170) < 2, 15 * SLOW, what='CadenceSpm (strides doubled)')
        props = get_all(c)
        self.assertAlmostEqual(props['PaceSecondsPerKm'], 1000 / 3.3, delta=10)
        self.assertAlmostEqual(props['CadenceSpm'], 170, delta=2)
        self.assertAlmostEqual(props['StrideMeters'], 3.3 * 60 / 170, delta=0.05)
        self.assertGreater(props['HeartRateZone'], 0)
        self.assertIn(props['PaceZone'], ('E', 'M', 'T', 'I', 'R', ''))
        self.assertTrue(math.isnan(props['InclinePercent']), 'no treadmill')
        self.assertTrue(math.isnan(props['ElapsedSeconds']), 'no workout runs')
        metrics = call(c, 'GetMetrics', None, '(a{sv})')[0]
        self.assertTrue(set(metrics) <= set(METRIC_KEYS), metrics)
        self.assertEqual(metrics['hr_bpm'], 150)
        self.assertAlmostEqual(metrics['speed_mps'], 3.3, delta=0.1)
        self.assertNotIn('elapsed_s', metrics)
        self.assertNotIn('incline_pct', metrics)
        rr = wait_until(lambda: call(c, 'GetMetrics', None, '(a{sv})')[0]['rr_ms'], 10 * SLOW, what='rr_ms')
        self.assertAlmostEqual(rr[0], 400, delta=5)

        # PropertiesChanged on the coach: at most once a second, while everything moves
        call(c, 'Start', GLib.Variant('(s)', ('',)))
        wait_until(lambda: get_prop(c, 'State') == 'running', 5 * SLOW, what='a free run')
        pump()   # (what waited in the queue would arrive at once)
        start = len(changed.items)
        deadline = time.monotonic() + 4.5
        while time.monotonic() < deadline:
            pump()
            time.sleep(0.02)
        coach = [i[0] for i in changed.items[start:] if i[1] == PATH and i[4][0] == COACH]
        self.assertGreaterEqual(len(coach), 3, 'the metrics change every second')
        gaps = [b - a for a, b in zip(coach, coach[1:])]
        self.assertGreater(min(gaps), 0.75, f'PropertiesChanged gaps {gaps}')
        self.assertLessEqual(len(coach), 6)

        # a link loss: Connected false on the sensor object
        self.fake.drop_link(HR)
        changed.wait(lambda i: i[1] == sensor_path(HR) and i[4][0] == SENSOR and i[4][1].get('Connected') is False,
                     10, 'Connected false')
        # bluetoothd goes: pacerd drops its sensors, and so do their objects
        feeder.stop()
        self.fake.vanish()
        removed.wait(lambda i: i[4][0] == sensor_path(POD) and SENSOR in i[4][1], 15, 'InterfacesRemoved')
        wait_until(lambda: not any(SENSOR in o for o in managed_objects(c).values()), 10 * SLOW,
                   what='no sensor objects')


class SimulateTest(DBusCase):
    '''pacerd with its virtual runner at 60 times real speed, observed through D-Bus and pacerctl.'''

    def test_watch_events_and_finish(self):
        events = Signals(self.conn, COACH, 'Event', PATH)
        self.addCleanup(events.close)
        self.pacerd = self.start_pacerd(['--simulate', '40min@E', '--speedup', '60'],
                                        config=self.write_config('sim.conf', SIM_CONFIG))

        # watch, not a terminal: plain lines; Ctrl-C ends it with 0
        watch = self.spawn('pacerctl watch', [PACERCTL, 'watch'], env=self.env(), stdout=subprocess.PIPE)
        watch_json = self.spawn('pacerctl watch --json', [PACERCTL, 'watch', '--json'], env=self.env(),
                                stdout=subprocess.PIPE)
        events.wait(lambda i: i[4][0] == 'workout_started', 20, 'workout_started')
        wait_until(lambda: not math.isnan(get_prop(self.conn, 'SpeedMps')), 10 * SLOW, what='speed')
        time.sleep(2.5)   # a few refreshes for watch to show
        for proc in (watch, watch_json):
            proc.send_signal(signal.SIGINT)
        out, _ = watch.communicate(timeout=10 * SLOW)
        out_json, _ = watch_json.communicate(timeout=10 * SLOW)
        self.assertEqual(watch.returncode, 0)
        self.assertEqual(watch_json.returncode, 0)
        lines = out.decode().splitlines()
        self.assertGreaterEqual(len([ln for ln in lines if re.match(r'^ *[\d:-]+  status +running, step 1 of 1', ln)]),
                                2, out.decode())
        self.assertTrue(all(re.match(r'^ *([\d:]+|-)  [a-z_]+ +\S', ln) for ln in lines), out.decode())
        self.assertNotIn('\033', out.decode(), 'no terminal codes in a pipe')
        objs = [json.loads(line) for line in out_json.decode().splitlines()]
        statuses = [o for o in objs if o['type'] == 'status']
        self.assertGreaterEqual(len(statuses), 2)
        self.assertEqual(set(statuses[-1]['metrics']), set(METRIC_KEYS))
        self.assertEqual(statuses[-1]['step']['kind'], 'run')
        self.assertIsNotNone(statuses[-1]['metrics']['speed_mps'])
        # events with the keys of the JSON event (numbers as written, nulls left out)
        for o in objs:
            if o['type'] != 'status':
                self.assertIn('seq', o)
                self.assertIn('message', o)

        # in a terminal: the screen is cleared and redrawn, the status on top, events below
        screen = self.watch_in_terminal()
        self.assertGreaterEqual(screen.count('\033[H\033[2J'), 2, screen)
        last = screen.split('\033[H\033[2J')[-1]
        self.assertIn('pacerd on the system bus (Ctrl-C to quit)', last)
        self.assertRegex(last, r'(?m)^State +running\r?$')
        self.assertRegex(last, r'(?m)^Step +1 of 1: ')
        self.assertRegex(last, r'(?m)^Events\r?$')

        # virtual sensors appear as objects too
        objects = managed_objects(self.conn)
        self.assertIn(sensor_path(HR), objects)
        self.assertEqual(objects[sensor_path(POD)][SENSOR]['Kind'], 'footpod')

        # Stop ends the workout (and the simulation): its summary goes out as an event
        call(self.conn, 'Stop')
        finished = events.wait(lambda i: i[4][0] == 'workout_finished', 10, 'workout_finished')[4][1]
        self.assertIs(finished['completed'], False)
        self.assertIsInstance(finished['time_in_zone_s'], list)
        self.assertEqual(self.pacerd.wait(timeout=30 * SLOW), 0)
        # pacerd has gone: pacerctl says so
        self.assert_fails(self.pacerctl('status'), EX_UNAVAILABLE,
                          r'^pacerctl: status: pacerd is not running \(nobody owns io\.pacer\.Pacer1 on the '
                          r'system bus\)$')


    def watch_in_terminal(self, seconds=2.5):
        '''What `pacerctl watch` draws on a terminal in `seconds`, then Ctrl-C (exit 0).'''
        master, slave = pty.openpty()
        proc = self.spawn('pacerctl watch (terminal)', [PACERCTL, 'watch'], env=self.env(), stdout=slave)
        os.close(slave)
        out = b''
        deadline = time.monotonic() + seconds * SLOW
        while True:
            if time.monotonic() >= deadline and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                deadline = float('inf')
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:   # EIO: the other side has gone
                    chunk = b''
                if not chunk and proc.poll() is not None:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        os.close(master)
        self.assertEqual(proc.wait(timeout=10 * SLOW), 0)
        return out.decode()


# --------------------------------------------------------------------------
# pacerctl's output
# --------------------------------------------------------------------------

class PacerctlTest(DBusCase):

    def test_not_running(self):
        for verb in ('status', 'watch', 'sensors', 'start', 'stop', 'lap', 'pause', 'resume'):
            for extra in ((), ('--json',)):
                p = self.pacerctl(verb, *extra)
                self.assert_fails(p, EX_UNAVAILABLE, rf'^pacerctl: {verb}: pacerd is not running')
        # no bus at all
        p = self.pacerctl('status', env=self.env(DBUS_SYSTEM_BUS_ADDRESS='unix:path=/nonexistent/bus'))
        self.assert_fails(p, EX_UNAVAILABLE, r'^pacerctl: status: cannot connect to the system bus: ')
        # usage errors are found first
        self.assert_fails(self.pacerctl('status', 'now'), EX_USAGE, r"unexpected argument 'now'")
        self.assert_fails(self.pacerctl('lap', '--fast'), EX_USAGE, r"unknown option '--fast'")

    def test_both_forms(self):
        self.start_world()
        self.pacerd = self.start_pacerd()
        feeder = Feeder(self.fake)
        feeder.start()
        self.addCleanup(feeder.stop)
        wait_until(lambda: get_prop(self.conn, 'HeartRateBpm') > 0, 30 * SLOW, what='a heart rate')

        p = self.pacerctl('status')
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = dict(re.match(r'^(\S+(?: rate)?) +(.*)$', line).groups() for line in p.stdout.splitlines())
        self.assertEqual(list(rows), ['State', 'Workout', 'Step', 'Time', 'Distance', 'Pace', 'Speed',
                                      'Cadence', 'Stride', 'Heart rate', 'RMSSD', 'Incline'])
        self.assertEqual((rows['State'], rows['Workout'], rows['Step'], rows['Time'], rows['Incline']),
                         ('idle', '-', '-', '-', '-'))
        self.assertRegex(rows['Heart rate'], r'^150 bpm \(zone \d\)$')
        self.assertRegex(rows['Speed'], r'^3\.\d\d m/s$')
        self.assertRegex(rows['Pace'], r'^5:0\d/km( \(zone [EMTIR]\))?$')

        p = self.pacerctl('status', '--json')
        self.assertEqual(p.returncode, 0, p.stderr)
        status = json.loads(p.stdout)
        self.assertEqual(list(status), ['state', 'workout', 'free_run', 'step', 'metrics'])
        self.assertEqual((status['state'], status['workout'], status['step']), ('idle', None, None))
        self.assertEqual(list(status['metrics']), METRIC_KEYS)
        self.assertEqual(status['metrics']['hr_bpm'], 150)
        self.assertIsNone(status['metrics']['elapsed_s'])
        self.assertIsNone(status['metrics']['incline_pct'])

        p = self.pacerctl('sensors')
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertRegex(lines[0], r'^ADDRESS +KIND +STATE +BATTERY +RSSI +NAME$')
        self.assertRegex(p.stdout, re.compile(rf'^{HR}  heart_rate  connected     85 %     (-?\d+ dBm|-) +Polar H10 TEST$',
                                              re.M))
        self.assertRegex(p.stdout, rf'(?m)^{POD}  footpod  ')
        p = self.pacerctl('sensors', '--json')
        self.assertEqual(p.returncode, 0, p.stderr)
        sensors = json.loads(p.stdout)['sensors']
        self.assertEqual([s['address'] for s in sensors], [HR, POD])
        self.assertEqual(list(sensors[0]), ['address', 'name', 'kind', 'connected', 'battery', 'rssi'])
        self.assertEqual((sensors[0]['kind'], sensors[0]['battery'], sensors[0]['connected']),
                         ('heart_rate', 85, True))

        # the commands, in both forms
        self.assertEqual(self.pacerctl('start', '10min@E,', '2x(400m@5k,', '1min', 'rest)').stdout,
                         "Started '10min@E, 2x(400m@5k, 1min rest)'.\n")
        self.wait_state('running')
        p = self.pacerctl('status', '--json')
        step = json.loads(p.stdout)['step']
        self.assertEqual(step, {'index': 0, 'count': 5, 'kind': 'warmup', 'target': 'E',
                                'description': 'Warm-up: 10 minutes easy.', 'remaining': step['remaining'],
                                'remaining_unit': 's'})
        p = self.pacerctl('status')
        self.assertRegex(p.stdout, r'(?m)^Step +1 of 5: Warm-up: 10 minutes easy\. \(\d+:\d\d left\)$')
        for verb, done in (('lap', 'Lap.'), ('pause', 'Paused.'), ('resume', 'Resumed.'), ('stop', 'Stopped.')):
            p = self.pacerctl(verb)
            self.assertEqual((p.returncode, p.stdout, p.stderr), (0, done + '\n', ''), verb)
        self.wait_state('finished')
        for verb in ('start', 'lap', 'pause', 'resume', 'stop'):
            p = self.pacerctl(verb, '--json')
            self.assertEqual(p.returncode, 0, p.stderr)
            expected = {'command': verb, 'ok': True}
            if verb == 'start':
                expected['workout'] = None
            self.assertEqual(json.loads(p.stdout), expected)

        # errors: a named error becomes an exit status and one line
        self.assert_fails(self.pacerctl('stop'), EX_TEMPFAIL, r'^pacerctl: stop: cannot stop: no workout is running$')
        self.assert_fails(self.pacerctl('start', '--json', '4x(400m@5k'), EX_DATAERR,
                          r'^pacerctl: start: column \d+: expected ')
        self.assertEqual(self.pacerctl('start', 'easy').returncode, 0)
        self.assert_fails(self.pacerctl('start', 'easy'), EX_TEMPFAIL,
                          r'^pacerctl: start: cannot start: a workout is already running$')

    def test_session_bus(self):
        '''--session (and [dbus] bus = session) for development; pacerctl picks the bus the same way.'''
        session_dir = os.path.join(self.tmpdir, 'session')
        os.mkdir(session_dir)
        session = pacertest.DBusDaemon(session_dir, self.processes, policy='permissive')
        session.start()
        self.addCleanup(session.stop)
        env = self.env(DBUS_SESSION_BUS_ADDRESS=session.address)
        config = os.path.join(self.tmpdir, 'session.conf')
        with open(config, 'w', encoding='utf-8') as f:
            f.write(CONFIG + '[dbus]\nbus = session\n')
        for args, conf in ((['--session'], self.config), ([], config)):
            proc = self.start_pacerd(args, user=None, config=conf, env=env, wait=False, title='pacerd-session')
            conn = Gio.DBusConnection.new_for_address_sync(
                session.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
                Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
            wait_until(lambda c=conn: pacertest.name_owner(c, NAME), 10 * SLOW, what='the name on the session bus')
            conn.close_sync(None)
            p = self.pacerctl('status', '--session', env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertRegex(p.stdout, r'(?m)^State +idle$')
            self.assert_fails(self.pacerctl('status', env=env), EX_UNAVAILABLE, r'on the system bus\)$')
            self.assert_fails(self.pacerctl('status', '--session', '--system', env=env), EX_UNAVAILABLE,
                              r'on the system bus\)$')
            self.stop_pacerd(proc)

    def test_name_not_ours_coaching_goes_on(self):
        '''Root may not own the name under the policy: pacerd says so and coaches on.'''
        p = subprocess.run(pacertest.valgrind_argv([PACERD, '--config', self.write_config('sim.conf', SIM_CONFIG),
                                                    '--simulate', '3min@E',
                                                    '--speedup', '300', '--events']),
                           capture_output=True, text=True, timeout=60 * SLOW, env=self.env(), check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stderr, r"no D-Bus API: the name 'io\.pacer\.Pacer1' on the system bus is not ours")
        self.assertEqual(json.loads(p.stdout.splitlines()[-1])['type'], 'workout_finished')


# --------------------------------------------------------------------------
# The systemd install
# --------------------------------------------------------------------------

class InstallTest(pacertest.TestCase):

    def install(self):
        self.require('meson', 'systemd-analyze')
        destdir = os.path.join(self.tmpdir, 'root')
        p = subprocess.run(['meson', 'install', '-C', BUILD_ROOT, '--no-rebuild', '--destdir', destdir],
                           capture_output=True, text=True, timeout=120, check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        installed = {}
        for line in p.stdout.splitlines():
            m = re.match(r'^Installing (\S+) to (\S+)$', line)
            if m:
                installed[os.path.basename(m.group(1))] = m.group(2)
        return destdir, installed

    def find(self, destdir, *parts):
        matches = []
        for root, _, files in os.walk(destdir):
            for f in files:
                path = os.path.join(root, f)
                if path.endswith(os.path.join(*parts)):
                    matches.append(path)
        self.assertEqual(len(matches), 1, f'{parts}: {matches}')
        return matches[0]

    def test_unit_verifies_and_is_hardened(self):
        destdir, _ = self.install()
        unit = self.find(destdir, 'lib', 'systemd', 'system', 'pacerd.service')
        with open(unit, encoding='utf-8') as f:
            text = f.read()
        exec_start = re.search(r'(?m)^ExecStart=(\S+)', text).group(1)
        self.assertTrue(os.access(destdir + exec_start, os.X_OK), f'{exec_start} is installed')
        for setting in ('Type=notify', 'WatchdogSec=', 'Restart=on-failure', 'User=pacer', 'NoNewPrivileges=yes',
                        'ProtectSystem=strict', 'CapabilityBoundingSet=\n', 'StateDirectory=pacer'):
            self.assertIn(setting, text)

        # verify inside the DESTDIR, so that ExecStart= is found where meson put it. The
        # DESTDIR holds no system units (sysinit.target) and no /bin/kill (ExecReload=):
        # check this unit only, and give the root the one program every system has.
        os.makedirs(os.path.join(destdir, 'bin'), exist_ok=True)
        shutil.copy('/bin/kill', os.path.join(destdir, 'bin', 'kill'))
        in_root = unit[len(destdir):]
        p = subprocess.run(['systemd-analyze', 'verify', '--man=no', '--generators=no', '--recursive-errors=no',
                            f'--root={destdir}', in_root], capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ''))

        p = subprocess.run(['systemd-analyze', 'security', '--offline=true', unit], capture_output=True, text=True,
                           timeout=60, check=False)
        m = re.search(r'Overall exposure level for pacerd\.service: (\d+\.\d+)', p.stdout)
        self.assertIsNotNone(m, p.stdout + p.stderr)
        sys.stderr.write(f'\nexposure: {m.group(1)}\n')
        self.assertLessEqual(float(m.group(1)), 2.0, p.stdout)

    def test_user_state_directory_and_policy(self):
        destdir, _ = self.install()
        self.require('systemd-sysusers', 'systemd-tmpfiles', 'xmllint')
        sysroot = os.path.join(self.tmpdir, 'sysroot')
        os.makedirs(os.path.join(sysroot, 'etc'))
        sysusers = self.find(destdir, 'lib', 'sysusers.d', 'pacer.conf')
        p = subprocess.run(['systemd-sysusers', f'--root={sysroot}', sysusers], capture_output=True, text=True,
                           check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(sysroot, 'etc', 'passwd'), encoding='utf-8') as f:
            self.assertRegex(f.read(), r'(?m)^pacer:x:\d+:\d+:[^:]*:/var/lib/pacer:')
        with open(os.path.join(sysroot, 'etc', 'group'), encoding='utf-8') as f:
            groups = f.read()
        self.assertRegex(groups, r'(?m)^bluetooth:x:\d+:pacer$')
        self.assertRegex(groups, r'(?m)^pacer:x:\d+:$')
        tmpfiles = self.find(destdir, 'lib', 'tmpfiles.d', 'pacer.conf')
        p = subprocess.run(['systemd-tmpfiles', f'--root={sysroot}', '--create', tmpfiles], capture_output=True,
                           text=True, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        st = os.stat(os.path.join(sysroot, 'var', 'lib', 'pacer'))
        self.assertEqual(oct(st.st_mode & 0o7777), '0o750')

        policy = self.find(destdir, 'share', 'dbus-1', 'system.d', 'io.pacer.Pacer1.conf')
        xml = self.find(destdir, 'share', 'dbus-1', 'interfaces', 'io.pacer.Pacer1.xml')
        for path in (policy, xml):
            p = subprocess.run(['xmllint', '--noout', path], capture_output=True, text=True, check=False)
            self.assertEqual(p.returncode, 0, p.stderr)
        with open(policy, 'rb') as f, open(POLICY, 'rb') as g:
            self.assertEqual(f.read(), g.read(), 'the policy under test is the one installed')


if __name__ == '__main__':
    pacertest.main()

# SPDX-License-Identifier: LGPL-2.1-or-later
'''Harness for Pacer's integration tests: a private system bus, the fake
bluetoothd (fakebluez.py), mosquitto, bounded waits and process cleanup.

Typical use:

    import pacertest

    class MyTest(pacertest.TestCase):
        def setUp(self):
            super().setUp()
            self.bus = self.start_bus()                 # DBUS_SYSTEM_BUS_ADDRESS set
            self.bluez = self.start_fake_bluez(self.bus)
            self.bluez.add_sensor('C0:FF:EE:00:00:01', 'Polar H10', 'heart_rate', 85)
            self.broker = self.start_mosquitto()
            self.daemon = self.spawn('pacerd', [PACERD, ...], valgrind=True)
        def test_x(self):
            self.bluez.wait_notify_sessions('C0:FF:EE:00:00:01', '2a37', 1)
            self.bluez.notify('C0:FF:EE:00:00:01', '2a37', bytes.fromhex('10437203'))
            self.bluez.start_streams([('C0:FF:EE:00:00:01', 50, 1.0, 500)])  # generated data
            self.bluez.wait_streams_done(30)
            self.bluez.drop_link('C0:FF:EE:00:00:01')     # link loss
            self.bluez.vanish(); self.bluez.reappear()     # bluetoothd restarts

    if __name__ == '__main__':
        pacertest.main()

Everything started through a TestCase (or a Processes registry) is killed
and reaped when the test ends, whatever happened; the logs of a failed test
are printed to stderr.  Run with /usr/bin/python3 (Debian's modules).
'''

import atexit
import importlib.util
import json
import os
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402  pylint: disable=wrong-import-position

PYTHON = '/usr/bin/python3'
HERE = os.path.dirname(os.path.abspath(__file__))
FAKEBLUEZ_TEMPLATE = os.path.join(HERE, 'fakebluez.py')
BUS_CONFIG_TEMPLATE = os.path.join(HERE, 'dbus-system.conf.in')
BLUEZ_POLICY = '/etc/dbus-1/system.d/bluetooth.conf'
CONTROL_IFACE = 'org.pacer.FakeBlueZ'
EXIT_SKIP = 77

DEFAULT_TIMEOUT = 10.0


def uuid128(uuid):
    ''''2a37' -> '00002a37-0000-1000-8000-00805f9b34fb' (lower case).'''
    u = uuid.lower()
    if u.startswith('0x'):
        u = u[2:]
    if len(u) == 4:
        return '0000' + u + '-0000-1000-8000-00805f9b34fb'
    return u


def device_path(address, adapter='hci0'):
    return f'/org/bluez/{adapter}/dev_' + address.upper().replace(':', '_')


# --------------------------------------------------------------------------
# Waiting
# --------------------------------------------------------------------------

class WaitTimeout(AssertionError):
    '''A bounded wait ran out (an AssertionError so it counts as a failure).'''


def wait_until(predicate, timeout=DEFAULT_TIMEOUT, interval=0.02, what=None):
    '''Call predicate() every interval seconds until it returns something
    true, and return that; raise WaitTimeout after timeout seconds.'''
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f'timed out after {timeout:g} s waiting for '
                              f'{what or getattr(predicate, "__name__", "condition")}')
        time.sleep(interval)


def free_port(host='127.0.0.1'):
    '''A TCP port that was free a moment ago.'''
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def mosquitto_password_file(path, users):
    '''Writes a mosquitto password file at path for users ({name: password})
    with mosquitto_passwd, readable by the broker; returns path.'''
    for i, (user, password) in enumerate(users.items()):
        subprocess.run(['mosquitto_passwd', '-b', *(['-c'] if i == 0 else []), path, user, password],
                       check=True, capture_output=True, timeout=30)
    os.chmod(path, 0o644)
    return path


def port_open(port, host='127.0.0.1'):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------

class Processes:
    '''Registry of child processes; kill_all() kills and reaps them all.'''

    _all = []   # every registry, for the atexit safety net

    def __init__(self):
        self.procs = []
        Processes._all.append(self)

    def spawn(self, argv, log_path=None, env=None, stdin=subprocess.DEVNULL, stdout=None, stderr=None,
              **kwargs):
        '''Start argv; stdout and stderr go to log_path unless given.'''
        log = open(log_path, 'ab') if log_path else subprocess.DEVNULL  # pylint: disable=consider-using-with
        try:
            proc = subprocess.Popen(argv, stdin=stdin,  # pylint: disable=consider-using-with
                                    stdout=stdout if stdout is not None else log,
                                    stderr=stderr if stderr is not None else log, env=env, **kwargs)
        finally:
            if log_path:
                log.close()
        self.procs.append(proc)
        return proc

    def stop(self, proc, sig=signal.SIGTERM, timeout=5.0):
        '''Send sig, wait up to timeout s, then SIGKILL; always reaps.
        Returns the exit status.'''
        if proc.poll() is None:
            try:
                proc.send_signal(sig)
                return proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
            if proc.poll() is None:
                proc.kill()
        status = proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream:
                stream.close()
        if proc in self.procs:
            self.procs.remove(proc)
        return status

    def kill_all(self):
        for proc in reversed(list(self.procs)):
            self.stop(proc, timeout=3.0)


@atexit.register
def _kill_leftovers():
    for registry in Processes._all:  # pylint: disable=protected-access
        registry.kill_all()


# --------------------------------------------------------------------------
# Private system bus
# --------------------------------------------------------------------------

PERMISSIVE_POLICY = '''  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>'''

# Debian's /usr/share/dbus-1/system.conf default policy: deny owning names
# and calling methods unless a policy file punches a hole.
SYSTEM_POLICY = '''  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>'''


class DBusDaemon:
    '''A private dbus-daemon with a system-bus-like configuration.

    policy='permissive' (default) allows everything; policy='system' uses
    the system bus defaults (deny own/method calls) plus policy_files, which
    are <include>d after the base policy (BlueZ's bluetooth.conf is added
    automatically in that mode so the fake can own org.bluez).'''

    def __init__(self, tmpdir, processes, policy='permissive', policy_files=()):
        self.tmpdir = tmpdir
        self.processes = processes
        self.policy = policy
        self.policy_files = list(policy_files)
        self.socket_path = os.path.join(tmpdir, 'system_bus_socket')
        self.config_path = os.path.join(tmpdir, 'dbus-system.conf')
        self.log_path = os.path.join(tmpdir, 'dbus-daemon.log')
        self.address = None
        self.proc = None

    def write_config(self):
        with open(BUS_CONFIG_TEMPLATE, encoding='utf-8') as f:
            text = f.read()
        files = list(self.policy_files)
        if self.policy == 'system':
            base = SYSTEM_POLICY
            if os.path.exists(BLUEZ_POLICY) and BLUEZ_POLICY not in files:
                files.insert(0, BLUEZ_POLICY)
        elif self.policy == 'permissive':
            base = PERMISSIVE_POLICY
        else:
            raise ValueError(f'unknown policy {self.policy!r}')
        includes = '\n'.join(f'  <include>{os.path.abspath(p)}</include>' for p in files)
        text = (text.replace('@SOCKET@', self.socket_path).replace('@BASE_POLICY@', base)
                .replace('@INCLUDES@', includes))
        with open(self.config_path, 'w', encoding='utf-8') as f:
            f.write(text)

    def start(self, timeout=DEFAULT_TIMEOUT):
        self.write_config()
        self.proc = self.processes.spawn(
            ['dbus-daemon', '--config-file', self.config_path, '--nofork', '--nopidfile',
             '--print-address=1'], log_path=self.log_path, stdout=subprocess.PIPE)
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().decode().strip() if ready else ''
        if not line:
            self.stop()
            raise RuntimeError(f'dbus-daemon did not start: {read_text(self.log_path)}')
        self.address = line
        return self.address

    def env(self, base=None):
        '''Environment for children: DBUS_SYSTEM_BUS_ADDRESS points here;
        the session bus is unset so nothing reaches a real one.'''
        env = dict(os.environ if base is None else base)
        env['DBUS_SYSTEM_BUS_ADDRESS'] = self.address
        env.pop('DBUS_SESSION_BUS_ADDRESS', None)
        return env

    def connect(self):
        '''A new Gio.DBusConnection to this bus (caller closes it).'''
        return Gio.DBusConnection.new_for_address_sync(
            self.address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)

    def stop(self):
        if self.proc is not None:
            self.processes.stop(self.proc)
            self.proc = None


def bus_call(conn, dest, path, iface, method, args=None, reply_type=None, timeout=DEFAULT_TIMEOUT,
             fd_list=None):
    '''Synchronous call; args is a GLib.Variant tuple or None; returns the
    unpacked reply tuple (and the Gio.UnixFDList if fd_list is True).'''
    if fd_list:
        reply, fds = conn.call_with_unix_fd_list_sync(
            dest, path, iface, method, args, GLib.VariantType(reply_type) if reply_type else None,
            Gio.DBusCallFlags.NO_AUTO_START, int(timeout * 1000), None, None)
        return reply.unpack(), fds
    reply = conn.call_sync(dest, path, iface, method, args,
                           GLib.VariantType(reply_type) if reply_type else None,
                           Gio.DBusCallFlags.NO_AUTO_START, int(timeout * 1000), None)
    return reply.unpack() if reply is not None else ()


def name_owner(conn, name):
    try:
        return bus_call(conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                        'GetNameOwner', GLib.Variant('(s)', (name,)), '(s)')[0]
    except GLib.Error:
        return None


def dbus_error_name(error):
    '''The D-Bus error name of a GLib.Error from a Gio call.'''
    return Gio.DBusError.get_remote_error(error)


# --------------------------------------------------------------------------
# The fake bluetoothd
# --------------------------------------------------------------------------

class FakeBlueZ:
    '''Runs fakebluez.py under python-dbusmock and drives its control
    interface (org.pacer.FakeBlueZ on /).'''

    def __init__(self, bus, tmpdir, processes, params=None, template=FAKEBLUEZ_TEMPLATE):
        self.bus = bus
        self.tmpdir = tmpdir
        self.processes = processes
        self.params = dict(params or {})
        self.template = template
        self.proc = None
        self.owner = None
        self.starts = 0
        self.log_paths = []
        self.conn = bus.connect()

    # ---- process

    @property
    def log_path(self):
        return self.log_paths[-1] if self.log_paths else None

    def start(self, params=None, timeout=DEFAULT_TIMEOUT):
        '''Start bluetoothd (the fake) and wait until it owns org.bluez.'''
        if self.proc is not None:
            raise RuntimeError('fake bluetoothd already running')
        if params is not None:
            self.params = dict(params)
        self.starts += 1
        log = os.path.join(self.tmpdir, f'fakebluez-{self.starts}.log')
        self.log_paths.append(log)
        argv = [PYTHON, '-m', 'dbusmock', '--system', '-t', self.template, '-l', log]
        if self.params:
            argv += ['-p', json.dumps(self.params)]
        self.proc = self.processes.spawn(argv, log_path=log + '.stderr', env=self.bus.env())

        def owned():
            if self.proc.poll() is not None:
                raise RuntimeError(f'fake bluetoothd exited with {self.proc.returncode}:\n'
                                   + read_text(log + '.stderr') + read_text(log))
            return name_owner(self.conn, 'org.bluez')
        self.owner = wait_until(owned, timeout, what='org.bluez on the test bus')
        return self

    def stop(self, timeout=DEFAULT_TIMEOUT):
        '''Stop the process and wait until org.bluez has no owner.'''
        if self.proc is None:
            return
        self.processes.stop(self.proc)
        self.proc = None
        wait_until(lambda: name_owner(self.conn, 'org.bluez') is None, timeout,
                   what='org.bluez to vanish')
        self.owner = None

    def vanish(self):
        '''bluetoothd stops: remember its state (sensors, which devices are
        stored), kill it; every client sees org.bluez lose its owner.'''
        self.params = json.loads(self.get_state())
        self.stop()

    def reappear(self, timeout=DEFAULT_TIMEOUT):
        '''bluetoothd starts again with the adapter, the same sensors and
        the devices it had stored (those connected before), none connected.'''
        return self.start(timeout=timeout)

    def restart(self):
        self.vanish()
        return self.reappear()

    def close(self):
        self.stop()
        self.conn.close_sync(None)

    def log(self):
        return ''.join(read_text(p + '.stderr') + read_text(p) for p in self.log_paths)

    # ---- control interface

    def call(self, method, signature=None, args=(), reply_type=None, timeout=DEFAULT_TIMEOUT):
        variant = GLib.Variant(f'({signature})', tuple(args)) if signature else None
        return bus_call(self.conn, 'org.bluez', '/', CONTROL_IFACE, method, variant, reply_type, timeout)

    def add_sensor(self, address, name, kind, battery=-1, battery_as='battery1'):
        '''kind: heart_rate | footpod | treadmill; battery percent or -1;
        battery_as: battery1 | gatt | none.  Returns the device path.'''
        return self.call('AddSensor', 'sssis', (address, name, kind, battery, battery_as), '(o)')[0]

    def add_sensor_full(self, **options):
        '''Keys: address, name, kind, battery, battery_as, address_type,
        rssi, mtu, present, connect_failures, connect_delay_ms, trusted, known.'''
        types = {'battery': 'i', 'rssi': 'i', 'mtu': 'u', 'present': 'b', 'connect_failures': 'u',
                 'connect_delay_ms': 'u', 'trusted': 'b', 'known': 'b'}
        opts = {k: GLib.Variant(types.get(k, 's'), v) for k, v in options.items()}
        return self.call('AddSensorFull', 'a{sv}', (opts,), '(o)')[0]

    def notify(self, address, uuid, data):
        '''The sensor notifies data (bytes) on characteristic uuid; returns
        the number of deliveries (0: not connected or nobody subscribed).'''
        return self.call('Notify', 'ssay', (address, uuid, bytes(data)), '(u)')[0]

    def notify_many(self, items):
        '''items: iterable of (address, uuid, bytes); one D-Bus call.'''
        return self.call('NotifyMany', 'a(ssay)', ([(a, u, bytes(d)) for a, u, d in items],), '(u)')[0]

    def set_value(self, address, uuid, data):
        self.call('SetValue', 'ssay', (address, uuid, bytes(data)))

    def drop_link(self, address):
        return self.call('DropLink', 's', (address,), '(b)')[0]

    def set_present(self, address, present):
        self.call('SetPresent', 'sb', (address, present))

    def set_rssi(self, address, rssi):
        self.call('SetRSSI', 'sn', (address, rssi))

    def set_connect_failures(self, address, count):
        self.call('SetConnectFailures', 'su', (address, count))

    def set_connect_delay(self, address, ms):
        self.call('SetConnectDelay', 'su', (address, ms))

    def set_battery(self, address, percent):
        self.call('SetBattery', 'sy', (address, percent))

    def get_notify_sessions(self, address, uuid):
        '''(number of StartNotify clients, acquired?)'''
        return tuple(self.call('GetNotifySessions', 'ss', (address, uuid), '(ub)'))

    def get_characteristic(self, address, uuid):
        return self.call('GetCharacteristic', 'ss', (address, uuid), '(a{sv})')[0]

    def get_device(self, address):
        '''The fake's view of a sensor: connected, known, auto_connect ...'''
        return self.call('GetDevice', 's', (address,), '(a{sv})')[0]

    def get_discovery_filters(self):
        return self.call('GetDiscoveryFilters', reply_type='(a{sa{sv}})')[0]

    def get_discovery_sessions(self):
        return self.call('GetDiscoverySessions', reply_type='(as)')[0]

    def get_applications(self):
        return self.call('GetApplications', reply_type='(a(soas))')[0]

    def set_temporary_timeout(self, seconds):
        self.call('SetTemporaryTimeout', 'u', (seconds,))

    def set_disconnect_delay(self, ms):
        self.call('SetDisconnectDelay', 'u', (ms,))

    def get_state(self):
        return self.call('GetState', reply_type='(s)')[0]

    def start_streams(self, streams):
        '''streams: iterable of (address, rate_hz, sim_interval_s, count):
        each sensor sends count generated measurements at rate_hz (see
        StartStreams in fakebluez.py's CONTROL_API).'''
        self.call('StartStreams', 'a(sddu)',
                  ([(a, float(r), float(dt), int(n)) for a, r, dt, n in streams],))

    def get_stream_log(self, address):
        '''([(key, monotonic ns before sending)] of the delivered
        notifications, number undelivered).'''
        sent, undelivered = self.call('GetStreamLog', 's', (address,), '(a(ut)u)', timeout=60)
        return list(sent), undelivered

    def streams_running(self):
        return bool(self.call('StreamsRunning', reply_type='(b)')[0])

    def wait_streams_done(self, timeout=DEFAULT_TIMEOUT):
        wait_until(lambda: not self.streams_running(), timeout, interval=0.1, what='the streams to end')

    def wait_notify_sessions(self, address, uuid, sessions=1, acquired=None, timeout=DEFAULT_TIMEOUT):
        '''Wait until uuid has `sessions` StartNotify clients (and, if
        given, is acquired or not), e.g. until the daemon has subscribed.'''
        def ok():
            n, acq = self.get_notify_sessions(address, uuid)
            return n == sessions and (acquired is None or acq == acquired)
        wait_until(ok, timeout, what=f'{sessions} notify sessions on {address} {uuid}')

    # ---- BlueZ's side of things, as seen by a client

    def device_property(self, address, name, iface='org.bluez.Device1'):
        try:
            return bus_call(self.conn, 'org.bluez', device_path(address), 'org.freedesktop.DBus.Properties',
                            'Get', GLib.Variant('(ss)', (iface, name)), '(v)')[0]
        except GLib.Error:
            return None

    def is_connected(self, address):
        return bool(self.device_property(address, 'Connected'))

    def wait_connected(self, address, connected=True, timeout=DEFAULT_TIMEOUT):
        wait_until(lambda: self.is_connected(address) == connected and
                   bool(self.device_property(address, 'ServicesResolved')) == connected,
                   timeout, what=f'{address} connected={connected}')

    def managed_objects(self):
        return bus_call(self.conn, 'org.bluez', '/', 'org.freedesktop.DBus.ObjectManager',
                        'GetManagedObjects', None, '(a{oa{sa{sv}}})')[0]


# --------------------------------------------------------------------------
# mosquitto
# --------------------------------------------------------------------------

class Mosquitto:
    '''A real broker on 127.0.0.1 with a generated config.'''

    def __init__(self, tmpdir, processes, port=None, extra_config=''):
        self.tmpdir = tmpdir
        self.processes = processes
        self.port = port or free_port()
        self.extra_config = extra_config
        self.config_path = os.path.join(tmpdir, 'mosquitto.conf')
        self.log_path = os.path.join(tmpdir, 'mosquitto.log')
        self.proc = None

    def write_config(self):
        lines = [f'listener {self.port} 127.0.0.1', 'allow_anonymous true', 'log_dest stderr',
                 'log_type error', 'log_type warning', 'log_type notice', 'log_type information',
                 'persistence false']
        if os.geteuid() == 0:
            # as root mosquitto would switch to user mosquitto otherwise
            lines.append('user root')
        with open(self.config_path, 'w', encoding='utf-8') as f:
            f.write('\n'.join(lines) + '\n' + self.extra_config + '\n')

    def start(self, timeout=DEFAULT_TIMEOUT):
        if self.proc is not None:
            raise RuntimeError('mosquitto already running')
        self.write_config()
        self.proc = self.processes.spawn(['mosquitto', '-c', self.config_path], log_path=self.log_path)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError(f'mosquitto exited with {self.proc.returncode}:\n{self.log()}')
            return port_open(self.port)
        wait_until(up, timeout, what=f'mosquitto on port {self.port}')
        return self

    def stop(self):
        '''Clean shutdown (SIGTERM).'''
        if self.proc is not None:
            self.processes.stop(self.proc)
            self.proc = None

    def kill(self):
        '''The broker dies (SIGKILL).'''
        if self.proc is not None:
            self.processes.stop(self.proc, sig=signal.SIGKILL)
            self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    @property
    def uri(self):
        return f'tcp://127.0.0.1:{self.port}'

    def log(self):
        return read_text(self.log_path)


# --------------------------------------------------------------------------
# unittest glue
# --------------------------------------------------------------------------

def read_text(path, tail=None):
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            text = f.read()
    except OSError:
        return ''
    if tail is not None:
        lines = text.splitlines(keepends=True)
        if len(lines) > tail:
            text = f'[... {len(lines) - tail} lines cut ...]\n' + ''.join(lines[-tail:])
    return text


VALGRIND_DEFAULT = ['valgrind', '--quiet', '--error-exitcode=99', '--leak-check=full',
                    '--errors-for-leak-kinds=definite']


def valgrind_argv(argv):
    '''Prefix argv with valgrind if $VALGRIND is set: VALGRIND=1 uses
    VALGRIND_DEFAULT, any other value is the command line to use.'''
    value = os.environ.get('VALGRIND', '')
    if not value or value == '0':
        return list(argv)
    prefix = VALGRIND_DEFAULT if value == '1' else shlex.split(value)
    return prefix + list(argv)


def have(program):
    return shutil.which(program) is not None


class TestCase(unittest.TestCase):
    '''Gives each test a temporary folder, a process registry, helpers to
    start the test world, and prints the logs of a failed test.'''

    log_tail = 300

    def setUp(self):
        self.tmpdir = tempfile.mkdtemp(prefix='pacer-test-')
        self.processes = Processes()
        self.logs = []          # (title, path or callable)
        self.addCleanup(self.processes.kill_all)
        self._saved_env = dict(os.environ)
        self.addCleanup(self._restore_env)

    def _restore_env(self):
        os.environ.clear()
        os.environ.update(self._saved_env)

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        try:
            return super().run(result)
        finally:
            if len(result.failures) + len(result.errors) > before:
                self.dump_logs()
            tmpdir = getattr(self, 'tmpdir', None)
            if tmpdir and os.environ.get('PACER_TEST_KEEP') is None:
                shutil.rmtree(tmpdir, ignore_errors=True)

    def add_log(self, title, source):
        self.logs.append((title, source))

    def dump_logs(self):
        for title, source in self.logs:
            text = source() if callable(source) else read_text(source, self.log_tail)
            sys.stderr.write(f'\n----- {title} -----\n{text}\n----- end of {title} -----\n')
        sys.stderr.flush()

    def require(self, *programs):
        for p in programs:
            if not have(p):
                self.skipTest(f'{p} is not installed')

    def start_bus(self, policy='permissive', policy_files=(), export=True):
        '''Private system bus; export=True points this process's
        DBUS_SYSTEM_BUS_ADDRESS at it (restored after the test).'''
        self.require('dbus-daemon')
        bus = DBusDaemon(self.tmpdir, self.processes, policy, policy_files)
        bus.start()
        self.addCleanup(bus.stop)
        self.add_log('dbus-daemon', bus.log_path)
        if export:
            os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = bus.address
            os.environ.pop('DBUS_SESSION_BUS_ADDRESS', None)
        return bus

    def start_fake_bluez(self, bus, params=None):
        if importlib.util.find_spec('dbusmock') is None:
            self.skipTest('python3-dbusmock is not installed')
        fake = FakeBlueZ(bus, self.tmpdir, self.processes, params)
        self.add_log('fake bluetoothd', fake.log)
        fake.start()
        self.addCleanup(fake.close)
        return fake

    def start_mosquitto(self, **kwargs):
        self.require('mosquitto')
        broker = Mosquitto(self.tmpdir, self.processes, **kwargs)
        self.add_log('mosquitto', broker.log_path)
        broker.start()
        self.addCleanup(broker.stop)
        return broker

    def spawn(self, title, argv, env=None, valgrind=False, **kwargs):
        '''Start a program with its output in the test's logs; valgrind=True
        runs it under $VALGRIND when that is set (see valgrind_argv()).'''
        log = os.path.join(self.tmpdir, title.replace('/', '_') + '.log')
        self.add_log(title, log)
        if valgrind:
            argv = valgrind_argv(argv)
        return self.processes.spawn(argv, log_path=log, env=env, **kwargs)


def main():
    '''Run the tests of __main__: exit 0 if all passed, 1 on a failure or
    when no test ran, 77 (meson: skipped) if any test was skipped.'''
    program = unittest.main(exit=False, verbosity=2,
                            testRunner=unittest.TextTestRunner(stream=sys.stderr, verbosity=2))
    result = program.result
    if result.failures or result.errors or result.unexpectedSuccesses:
        sys.exit(1)
    if result.testsRun == 0:
        sys.stderr.write('no test ran\n')
        sys.exit(1)
    if result.skipped:
        sys.exit(EXIT_SKIP)
    sys.exit(0)

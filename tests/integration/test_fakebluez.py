#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Tests of the fake bluetoothd (fakebluez.py), cross-checked with real
BlueZ clients: bluetoothctl 5.66, python3-bleak and a raw GDBus client.

Run: /usr/bin/python3 tests/integration/test_fakebluez.py [-k pattern]
(set PACER_TEST_KEEP=1 to keep the temporary folders).'''

import asyncio
import importlib.util
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pacertest  # noqa: E402  pylint: disable=wrong-import-position
from pacertest import device_path, uuid128, wait_until  # noqa: E402  pylint: disable=wrong-import-position
from gi.repository import Gio, GLib  # noqa: E402  pylint: disable=wrong-import-position

HR = 'C0:FF:EE:00:00:01'
POD = 'C0:FF:EE:00:00:02'
TM = 'C0:FF:EE:00:00:03'
HR_NAME = 'Polar H10 TEST'

ADAPTER = '/org/bluez/hci0'
DEVICE1 = 'org.bluez.Device1'
ADAPTER1 = 'org.bluez.Adapter1'
CHRC1 = 'org.bluez.GattCharacteristic1'
SERVICE1 = 'org.bluez.GattService1'
DESC1 = 'org.bluez.GattDescriptor1'
BATTERY1 = 'org.bluez.Battery1'
PROPS = 'org.freedesktop.DBus.Properties'
OM = 'org.freedesktop.DBus.ObjectManager'

GATT_PATH = re.compile(r'^/org/bluez/hci0/dev_[0-9A-F_]{17}/service[0-9a-f]{4}'
                       r'(/char[0-9a-f]{4}(/desc[0-9a-f]{4})?)?$')
ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]|[\x01\x02\r]')


# --------------------------------------------------------------------------
# A raw GDBus client that records what it receives, in order
# --------------------------------------------------------------------------

class Client:
    '''One connection to the test bus.  A message filter records, in
    arrival order, every signal and every reply this connection receives,
    so tests can assert the order of BlueZ's signals and method replies
    without running a main loop.'''

    def __init__(self, bus):
        self.conn = bus.connect()
        self.name = self.conn.get_unique_name()
        self.lock = threading.Lock()
        self.events = []
        self.conn.add_filter(self._filter)
        self.add_match("type='signal',sender='org.bluez'")
        self.add_match("type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.bluez'")

    def _filter(self, _conn, message, incoming):
        if not incoming:
            return message
        mtype = message.get_message_type()
        body = message.get_body()
        args = body.unpack() if body is not None else ()
        if mtype == Gio.DBusMessageType.SIGNAL:
            event = ('signal', message.get_path(), message.get_interface(), message.get_member(), args)
        elif mtype in (Gio.DBusMessageType.METHOD_RETURN, Gio.DBusMessageType.ERROR):
            event = ('reply', message.get_reply_serial(), message.get_error_name(), args)
        else:
            return message
        with self.lock:
            self.events.append(event)
        return message

    def add_match(self, rule):
        pacertest.bus_call(self.conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                           'AddMatch', GLib.Variant('(s)', (rule,)))

    def close(self):
        if not self.conn.is_closed():
            self.conn.close_sync(None)

    def call(self, path, iface, method, sig=None, args=(), timeout=10.0, want_fds=False):
        '''Call org.bluez; returns the unpacked reply (and the fds) and
        sets self.serial to the call's serial; raises GLib.Error.'''
        msg = Gio.DBusMessage.new_method_call('org.bluez', path, iface, method)
        if sig is not None:
            msg.set_body(GLib.Variant(f'({sig})', tuple(args)))
        msg.set_flags(Gio.DBusMessageFlags.NO_AUTO_START)
        reply, self.serial = self.conn.send_message_with_reply_sync(
            msg, Gio.DBusSendMessageFlags.NONE, int(timeout * 1000), None)
        reply.to_gerror()
        body = reply.get_body()
        result = body.unpack() if body is not None else ()
        if want_fds:
            fd_list = reply.get_unix_fd_list()
            return result, (fd_list.steal_fds() if fd_list is not None else [])
        return result

    def get(self, path, iface, name):
        return self.call(path, PROPS, 'Get', 'ss', (iface, name))[0]

    def objects(self):
        return self.call('/', OM, 'GetManagedObjects')[0]

    def mark(self):
        with self.lock:
            return len(self.events)

    def events_since(self, start=0):
        with self.lock:
            return list(self.events[start:])

    def wait_event(self, predicate, start=0, timeout=pacertest.DEFAULT_TIMEOUT, what=None):
        '''Wait for an event after index start; returns (index, event).'''
        def find():
            for i, ev in enumerate(self.events_since(start)):
                if predicate(ev):
                    return (start + i, ev)
            return None
        return wait_until(find, timeout, what=what or 'a D-Bus event')

    # event predicates
    @staticmethod
    def is_props(path, iface, name, value=None):
        def pred(ev):
            return (ev[0] == 'signal' and ev[2] == PROPS and ev[3] == 'PropertiesChanged' and ev[1] == path
                    and ev[4][0] == iface and name in ev[4][1] and (value is None or ev[4][1][name] == value))
        return pred

    @staticmethod
    def is_invalidated(path, iface, name):
        return lambda ev: (ev[0] == 'signal' and ev[3] == 'PropertiesChanged' and ev[1] == path
                           and ev[4][0] == iface and name in ev[4][2])

    @staticmethod
    def is_added(path, iface=None):
        return lambda ev: (ev[0] == 'signal' and ev[3] == 'InterfacesAdded' and ev[4][0] == path
                           and (iface is None or iface in ev[4][1]))

    @staticmethod
    def is_removed(path, iface=None):
        return lambda ev: (ev[0] == 'signal' and ev[3] == 'InterfacesRemoved' and ev[4][0] == path
                           and (iface is None or iface in ev[4][1]))

    @staticmethod
    def is_reply(serial):
        return lambda ev: ev[0] == 'reply' and ev[1] == serial


def error_name(error):
    return Gio.DBusError.get_remote_error(error)


def error_text(error):
    return re.sub(r'^GDBus\.Error:[^ ]+: ', '', error.message)


# --------------------------------------------------------------------------
# An interactive bluetoothctl
# --------------------------------------------------------------------------

class Bluetoothctl:
    '''bluetoothctl on pipes, driven like expect(1).'''

    def __init__(self, test, env):
        self.proc = test.processes.spawn(['bluetoothctl'], env=env, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lock = threading.Lock()
        self.text = ''
        self.pos = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        test.add_log('bluetoothctl transcript', lambda: self.text)

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.text += ANSI.sub('', data.decode('utf-8', 'replace'))

    def send(self, line):
        self.proc.stdin.write(line.encode() + b'\n')
        self.proc.stdin.flush()

    def expect(self, pattern, timeout=pacertest.DEFAULT_TIMEOUT):
        '''Wait for pattern (a regex) after the previous match; return the match.'''
        regex = re.compile(pattern)

        def find():
            with self.lock:
                return regex.search(self.text, self.pos)
        match = wait_until(find, timeout, what=f'bluetoothctl output {pattern!r}')
        self.pos = match.end()
        return match

    def quit(self):
        self.send('quit')
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.reader.join(timeout=5)


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

class FakeBlueZTestCase(pacertest.TestCase):
    def setUp(self):
        super().setUp()
        self.bus = self.start_bus()
        self.fake = self.start_fake_bluez(self.bus)
        self.fake.add_sensor(HR, HR_NAME, 'heart_rate', 85, 'battery1')
        self.fake.add_sensor(POD, 'Stryd TEST', 'footpod', 60, 'gatt')
        self.fake.add_sensor(TM, 'CITYSPORTS-Linker', 'treadmill', -1, 'none')

    def client(self):
        c = Client(self.bus)
        self.addCleanup(c.close)
        return c

    def discover(self, client, *addresses, uuids=None):
        '''Filtered discovery until addresses are seen, then stop.'''
        flt = {'Transport': GLib.Variant('s', 'le')}
        if uuids:
            flt['UUIDs'] = GLib.Variant('as', [uuid128(u) for u in uuids])
        client.call(ADAPTER, ADAPTER1, 'SetDiscoveryFilter', 'a{sv}', (flt,))
        client.call(ADAPTER, ADAPTER1, 'StartDiscovery')
        for a in addresses:
            wait_until(lambda a=a: device_path(a) in client.objects(), what=f'{a} to be discovered')
        client.call(ADAPTER, ADAPTER1, 'StopDiscovery')

    def connect(self, client, address):
        client.call(device_path(address), DEVICE1, 'Connect')
        wait_until(lambda: client.get(device_path(address), DEVICE1, 'ServicesResolved'),
                   what=f'{address} ServicesResolved')

    @staticmethod
    def chrc_path(client, address, uuid):
        '''Find a characteristic by UUID under the device (never by handle).'''
        dev = device_path(address)
        objects = client.objects()
        for path, ifaces in objects.items():
            props = ifaces.get(CHRC1)
            if props and props['UUID'] == uuid128(uuid) and path.startswith(dev + '/'):
                return path
        raise AssertionError(f'no characteristic {uuid} under {dev}')

    def assertDBusError(self, name, func, *args, text=None, **kwargs):
        with self.assertRaises(GLib.Error) as ctx:
            func(*args, **kwargs)
        self.assertEqual(error_name(ctx.exception), name, ctx.exception.message)
        if text is not None:
            self.assertEqual(error_text(ctx.exception), text)


class BluetoothctlTest(FakeBlueZTestCase):
    '''bluetoothctl 5.66 against the fake.'''

    def setUp(self):
        super().setUp()
        self.require('bluetoothctl')

    def test_interactive_session(self):
        btctl = Bluetoothctl(self, self.bus.env())
        btctl.expect(r'Agent registered')
        btctl.send('scan on')
        btctl.expect(r'Discovery started')
        btctl.expect(r'\[CHG\] Controller 00:1A:7D:DA:71:13 Discovering: yes')
        btctl.expect(rf'\[NEW\] Device {HR} {HR_NAME}')
        btctl.send('scan off')
        btctl.expect(r'Discovery stopped')
        btctl.expect(rf'\[CHG\] Device {HR} RSSI is nil')
        btctl.expect(r'Discovering: no')

        btctl.send(f'connect {HR}')
        btctl.expect(rf'\[CHG\] Device {HR} Connected: yes')
        btctl.expect(r'Connection successful')
        btctl.expect(r'\[NEW\] Primary Service \(Handle 0x0000\)\s+'
                     r'/org/bluez/hci0/dev_C0_FF_EE_00_00_01/service000c\s+'
                     r'0000180d-0000-1000-8000-00805f9b34fb\s+Heart Rate')
        btctl.expect(r'\[NEW\] Characteristic \(Handle 0x0000\)\s+\S+/service000c/char000d\s+'
                     r'00002a37-0000-1000-8000-00805f9b34fb\s+Heart Rate Measurement')
        btctl.expect(r'\[NEW\] Descriptor \(Handle 0x0000\)\s+\S+/service000c/char000d/desc000f\s+'
                     r'00002902-0000-1000-8000-00805f9b34fb\s+Client Characteristic Configuration')
        btctl.expect(rf'\[CHG\] Device {HR} ServicesResolved: yes')

        btctl.send('menu gatt')
        btctl.send(f'list-attributes {HR}')
        btctl.expect(r'service000c/char0010\s+00002a38-0000-1000-8000-00805f9b34fb\s+Body Sensor Location')
        btctl.expect(r'00002a19-0000-1000-8000-00805f9b34fb\s+Battery Level')

        btctl.send('select-attribute 00002a38-0000-1000-8000-00805f9b34fb')
        btctl.send('read')
        btctl.expect(r'Attempting to read \S+/service000c/char0010')
        btctl.expect(r'\n[^\n]*#?\s+01 {10,}\.')

        btctl.send('select-attribute 00002a37-0000-1000-8000-00805f9b34fb')
        btctl.send('notify on')
        btctl.expect(r'char000d Notifying: yes')
        btctl.expect(r'Notify started')
        self.fake.wait_notify_sessions(HR, '2a37', 1)
        self.assertEqual(self.fake.notify(HR, '2a37', b'\x16\x3c\x11\x04'), 1)
        btctl.expect(r'char000d Value:\s*\n[^\n]*16 3c 11 04 ')
        self.assertEqual(self.fake.notify(HR, '2a37', b'\x16\x3c\x11\x04'), 1)   # same bytes again
        btctl.expect(r'char000d Value:\s*\n[^\n]*16 3c 11 04 ')
        btctl.send('notify off')
        btctl.expect(r'Notify stopped')
        self.fake.wait_notify_sessions(HR, '2a37', 0)

        # bluetoothctl's acquire-notify uses AcquireNotify and reads the socket
        btctl.send('acquire-notify')
        btctl.expect(r'AcquireNotify success: fd \d+ MTU 247')
        self.fake.wait_notify_sessions(HR, '2a37', 0, acquired=True)
        self.assertEqual(self.fake.notify(HR, '2a37', b'\x10\x43\x72\x03'), 1)
        btctl.expect(r'char000d Notification:\s*\n[^\n]*10 43 72 03 ')
        btctl.send('release-notify')
        btctl.expect(r'char000d NotifyAcquired: no')
        self.fake.wait_notify_sessions(HR, '2a37', 0, acquired=False)

        btctl.send('back')
        btctl.send(f'info {HR}')
        btctl.expect(r'Battery Percentage: 0x55 \(85\)')
        btctl.send(f'disconnect {HR}')
        btctl.expect(rf'\[CHG\] Device {HR} ServicesResolved: no')
        btctl.expect(r'Successful disconnected')
        btctl.expect(rf'\[CHG\] Device {HR} Connected: no')
        btctl.quit()

    def test_noninteractive_commands(self):
        env = self.bus.env()

        def run(*args, timeout=10):
            out = subprocess.run(['bluetoothctl', *args], env=env, stdin=subprocess.DEVNULL,
                                 capture_output=True, timeout=timeout, check=False)
            text = ANSI.sub('', out.stdout.decode('utf-8', 'replace'))
            self.add_log(f'bluetoothctl {" ".join(args)}', lambda: text)
            self.assertEqual(out.returncode, 0)
            return text

        self.assertNotIn(HR, run('devices'))      # nothing seen before a scan
        out = run('--timeout', '2', 'scan', 'on')
        self.assertIn(f'[NEW] Device {HR} {HR_NAME}', out)
        self.assertIn(f'[NEW] Device {TM} CITYSPORTS-Linker', out)
        out = run('devices')
        self.assertIn(f'Device {HR} {HR_NAME}', out)
        self.assertIn(f'Device {POD} Stryd TEST', out)
        out = run('connect', TM)
        self.assertIn('Connection successful', out)
        self.fake.wait_connected(TM)
        out = run('gatt.list-attributes', TM)
        self.assertRegex(out, r'service000c\s+00001826-0000-1000-8000-00805f9b34fb\s+Fitness Machine')
        self.assertRegex(out, r'char000d\s+00002acc-0000-1000-8000-00805f9b34fb\s+Fitness Machine Feature')
        self.assertRegex(out, r'char000f\s+00002acd-0000-1000-8000-00805f9b34fb\s+Treadmill Data')
        self.assertNotIn('Battery', out)
        out = run('info', TM)
        self.assertIn('Connected: yes', out)
        self.assertIn('UUID: Fitness Machine', out)
        self.assertNotIn('Battery Percentage', out)
        out = run('disconnect', TM)
        self.assertIn('Successful disconnected', out)


class BleakTest(FakeBlueZTestCase):
    '''python3-bleak (0.20) against the fake.'''

    def setUp(self):
        super().setUp()
        self.require('bluetoothctl')      # bleak asks it for the BlueZ version
        if importlib.util.find_spec('bleak') is None:
            self.skipTest('python3-bleak is not installed')

    def test_scan_connect_read_notify(self):
        from bleak import BleakClient, BleakScanner  # pylint: disable=import-outside-toplevel

        async def scenario():
            seen = {}
            found = asyncio.Event()

            def detected(device, adv):
                seen[device.address] = adv
                if device.address == HR:
                    found.set()
            scanner = BleakScanner(detected, service_uuids=[uuid128('180d')])
            await scanner.start()
            await asyncio.wait_for(found.wait(), 10)
            filters = self.fake.get_discovery_filters()
            await scanner.stop()
            self.assertEqual(len(filters), 1)
            flt = list(filters.values())[0]
            self.assertEqual(flt['UUIDs'], [uuid128('180d')])
            self.assertEqual(flt['Transport'], 'le')
            self.assertEqual(set(seen), {HR})          # the footpod does not match the filter
            self.assertEqual(seen[HR].local_name, HR_NAME)
            self.assertEqual(seen[HR].rssi, -60)
            self.assertIn(uuid128('180d'), seen[HR].service_uuids)

            received = []
            all_in = asyncio.Event()
            payloads = [bytes([0x16, 60 + i, 0x11, 0x04]) for i in range(20)] + [b'\x00\x40'] * 3

            def notified(_char, data):
                received.append(bytes(data))
                if len(received) == len(payloads):
                    all_in.set()

            async with BleakClient(HR, timeout=10) as client:
                uuids = {s.uuid for s in client.services}
                self.assertTrue({uuid128('180d'), uuid128('180f'), uuid128('1801')} <= uuids)
                hrm = client.services.get_characteristic(uuid128('2a37'))
                self.assertEqual(hrm.properties, ['notify'])
                self.assertEqual(hrm.handle, 0x000d)
                self.assertEqual(await client.read_gatt_char(uuid128('2a38')), bytearray(b'\x01'))
                self.assertEqual(await client.read_gatt_char(uuid128('2a19')), bytearray([85]))
                await client.start_notify(uuid128('2a37'), notified)
                self.assertEqual(self.fake.get_notify_sessions(HR, '2a37'), (1, False))
                self.assertEqual(self.fake.notify_many((HR, '2a37', p) for p in payloads), len(payloads))
                await asyncio.wait_for(all_in.wait(), 10)
                self.assertEqual(received, payloads)
                await client.stop_notify(uuid128('2a37'))
                self.assertEqual(self.fake.get_notify_sessions(HR, '2a37'), (0, False))
            self.assertFalse(self.fake.is_connected(HR))

        asyncio.run(asyncio.wait_for(scenario(), 60))

    def test_link_loss_seen_by_bleak(self):
        from bleak import BleakClient, BleakScanner  # pylint: disable=import-outside-toplevel

        async def scenario():
            device = await BleakScanner.find_device_by_address(POD, timeout=10)
            self.assertIsNotNone(device)
            lost = asyncio.Event()
            client = BleakClient(device, disconnected_callback=lambda _c: lost.set(), timeout=10)
            await client.connect()
            self.assertEqual(await client.read_gatt_char(uuid128('2a54')), bytearray(b'\x07\x00'))
            self.assertTrue(self.fake.drop_link(POD))
            await asyncio.wait_for(lost.wait(), 10)
            self.assertFalse(client.is_connected)
            await client.disconnect()

        asyncio.run(asyncio.wait_for(scenario(), 60))


class GDBusClientTest(FakeBlueZTestCase):
    '''A raw GDBus client: the behaviour pacerd relies on.'''

    def test_object_manager_and_adapter(self):
        c = self.client()
        objects = c.objects()
        self.assertEqual(set(objects), {'/org/bluez', ADAPTER})   # nothing seen yet
        self.assertIn('org.bluez.AgentManager1', objects['/org/bluez'])
        adapter = objects[ADAPTER][ADAPTER1]
        self.assertTrue(adapter['Powered'])
        self.assertFalse(adapter['Discovering'])
        self.assertEqual(adapter['Address'], '00:1A:7D:DA:71:13')
        self.assertIn('org.bluez.GattManager1', objects[ADAPTER])
        for ifaces in objects.values():   # as gdbus in bluetoothd
            self.assertEqual(ifaces['org.freedesktop.DBus.Introspectable'], {})
            self.assertEqual(ifaces[PROPS], {})
        self.assertDBusError('org.freedesktop.DBus.Error.PropertyReadOnly',
                             c.call, ADAPTER, PROPS, 'Set', 'ssv', (ADAPTER1, 'Discovering', GLib.Variant('b', True)))
        self.assertDBusError('org.freedesktop.DBus.Error.InvalidArgs',
                             c.call, ADAPTER, PROPS, 'Get', 'ss', (ADAPTER1, 'NoSuchThing'))
        # wrong signature: bluetoothd's gdbus rejects it
        self.assertDBusError('org.freedesktop.DBus.Error.InvalidArgs', c.call, ADAPTER, ADAPTER1, 'StartDiscovery',
                             's', ('x',))

    def test_discovery_sessions_and_filter(self):
        c = self.client()
        other = self.client()
        flt = {'UUIDs': GLib.Variant('as', ['180D']), 'Transport': GLib.Variant('s', 'le')}
        c.call(ADAPTER, ADAPTER1, 'SetDiscoveryFilter', 'a{sv}', (flt,))
        self.assertEqual(self.fake.get_discovery_filters(),
                         {c.name: {'UUIDs': [uuid128('180d')], 'Transport': 'le'}})
        self.assertDBusError('org.bluez.Error.InvalidArguments', c.call, ADAPTER, ADAPTER1, 'SetDiscoveryFilter',
                             'a{sv}', ({'Transport': GLib.Variant('s', 'radio')},))
        self.assertDBusError('org.bluez.Error.InvalidArguments', c.call, ADAPTER, ADAPTER1, 'SetDiscoveryFilter',
                             'a{sv}', ({'RSSI': GLib.Variant('i', -70)},))    # must be n
        start = c.mark()
        c.call(ADAPTER, ADAPTER1, 'StartDiscovery')
        serial = c.serial
        i, _ = c.wait_event(Client.is_props(ADAPTER, ADAPTER1, 'Discovering', True), start)
        self.assertLess(c.wait_event(Client.is_reply(serial), start)[0], i)   # reply, then Discovering
        _, ev = c.wait_event(Client.is_added(device_path(HR), DEVICE1), start)
        props = ev[4][1][DEVICE1]
        self.assertEqual(props['Address'], HR)
        self.assertEqual(props['AddressType'], 'random')
        self.assertEqual(props['Name'], HR_NAME)
        self.assertEqual(props['RSSI'], -60)
        self.assertEqual(props['UUIDs'], [uuid128('180d')])
        self.assertFalse(props['Connected'])
        self.assertFalse(props['ServicesResolved'])
        self.assertEqual(props['Adapter'], ADAPTER)
        self.assertNotIn(device_path(POD), c.objects())    # filtered out
        self.assertDBusError('org.bluez.Error.InProgress', c.call, ADAPTER, ADAPTER1, 'StartDiscovery')
        self.assertEqual(self.fake.get_discovery_sessions(), [c.name])

        # a second client without filter: the union of filters applies
        other.call(ADAPTER, ADAPTER1, 'StartDiscovery')
        wait_until(lambda: device_path(POD) in c.objects(), what='footpod seen')
        other.call(ADAPTER, ADAPTER1, 'StopDiscovery')
        self.assertDBusError('org.bluez.Error.Failed', other.call, ADAPTER, ADAPTER1, 'StopDiscovery',
                             text='No discovery started')
        self.assertTrue(c.get(ADAPTER, ADAPTER1, 'Discovering'))   # c's session still runs

        start = c.mark()
        c.call(ADAPTER, ADAPTER1, 'StopDiscovery')
        i_rssi, _ = c.wait_event(Client.is_invalidated(device_path(HR), DEVICE1, 'RSSI'), start)
        i_disc, _ = c.wait_event(Client.is_props(ADAPTER, ADAPTER1, 'Discovering', False), start)
        self.assertLess(i_rssi, i_disc)     # as bluetoothd: RSSI is nil, then Discovering: no
        self.assertNotIn('RSSI', c.objects()[device_path(HR)][DEVICE1])

        # seen again on the next discovery: RSSI comes back as a PropertiesChanged
        start = c.mark()
        c.call(ADAPTER, ADAPTER1, 'StartDiscovery')
        c.wait_event(Client.is_props(device_path(HR), DEVICE1, 'RSSI', -60), start)
        # a client leaving the bus ends its discovery session and its filter
        c.close()
        wait_until(lambda: not self.fake.get_discovery_sessions(), what='discovery session to end')
        self.assertEqual(self.fake.get_discovery_filters(), {})
        self.assertFalse(self.fake.device_property(HR, 'RSSI'))

    def test_connect_order(self):
        c = self.client()
        self.discover(c, HR, uuids=['180d'])
        dev = device_path(HR)
        start = c.mark()
        c.call(dev, DEVICE1, 'Connect')
        serial = c.serial
        i_resolved, _ = c.wait_event(Client.is_props(dev, DEVICE1, 'ServicesResolved', True), start)
        i_battery, ev = c.wait_event(Client.is_added(dev, BATTERY1), start)
        self.assertEqual(ev[4][1], {BATTERY1: {'Percentage': 85}})
        events = c.events_since(start)
        i_connected = next(i for i, ev in enumerate(events, start)
                           if Client.is_props(dev, DEVICE1, 'Connected', True)(ev))
        i_reply = next(i for i, ev in enumerate(events, start) if Client.is_reply(serial)(ev))
        added = [(i, ev[4][0]) for i, ev in enumerate(events, start) if ev[0] == 'signal' and ev[3] == 'InterfacesAdded'
                 and ev[4][0].startswith(dev + '/')]
        self.assertTrue(added)
        # bluetoothd: Connected=true, the reply, the GATT objects, ServicesResolved=true, Battery1
        self.assertLess(i_connected, i_reply)
        self.assertLess(i_reply, added[0][0])
        self.assertLess(added[-1][0], i_resolved)
        self.assertLess(i_resolved, i_battery)
        for _, path in added:
            self.assertRegex(path, GATT_PATH)
        paths = [p for _, p in added]
        self.assertIn(dev + '/service000c', paths)
        self.assertIn(dev + '/service000c/char000d', paths)
        self.assertIn(dev + '/service000c/char000d/desc000f', paths)
        self.assertLess(paths.index(dev + '/service000c'), paths.index(dev + '/service000c/char000d'))
        objects = c.objects()
        hrm = objects[dev + '/service000c/char000d'][CHRC1]
        self.assertEqual(hrm['UUID'], uuid128('2a37'))
        self.assertEqual(hrm['Flags'], ['notify'])
        self.assertEqual(hrm['Service'], dev + '/service000c')
        self.assertFalse(hrm['Notifying'])
        self.assertFalse(hrm['NotifyAcquired'])
        self.assertEqual(hrm['MTU'], 247)
        self.assertEqual(objects[dev + '/service000c'][SERVICE1]['Device'], dev)
        self.assertTrue(objects[dev + '/service000c'][SERVICE1]['Primary'])
        self.assertEqual(objects[dev + '/service000c/char000d/desc000f'][DESC1]['UUID'], uuid128('2902'))
        self.assertIn(uuid128('180d'), objects[dev][DEVICE1]['UUIDs'])
        self.assertIn(uuid128('180f'), objects[dev][DEVICE1]['UUIDs'])
        # Connect on a connected device: success, nothing else happens
        start = c.mark()
        c.call(dev, DEVICE1, 'Connect')
        self.assertEqual([ev for ev in c.events_since(start) if ev[0] == 'signal'], [])

    def test_read_values(self):
        c = self.client()
        self.discover(c, HR, POD, TM)
        for address in (HR, POD, TM):
            self.connect(c, address)
        expected = {(HR, '2a38'): b'\x01', (HR, '2a19'): bytes([85]), (POD, '2a54'): b'\x07\x00',
                    (POD, '2a19'): bytes([60]), (TM, '2acc'): bytes.fromhex('4412000001000000'),
                    (HR, '2a29'): b'Pacer Test'}
        for (address, uuid), value in expected.items():
            path = self.chrc_path(c, address, uuid)
            start = c.mark()
            self.assertEqual(bytes(c.call(path, CHRC1, 'ReadValue', 'a{sv}', ({},))[0]), value)
            # ReadValue also updates Value (a PropertiesChanged that is not a notification)
            c.wait_event(Client.is_props(path, CHRC1, 'Value'), start)
            self.assertEqual(bytes(c.get(path, CHRC1, 'Value')), value)
        path = self.chrc_path(c, TM, '2acc')
        self.assertEqual(bytes(c.call(path, CHRC1, 'ReadValue', 'a{sv}', ({'offset': GLib.Variant('q', 4)},))[0]),
                         bytes.fromhex('01000000'))
        self.assertDBusError('org.bluez.Error.NotPermitted', c.call, self.chrc_path(c, HR, '2a37'), CHRC1,
                             'ReadValue', 'a{sv}', ({},), text='Read not permitted')
        self.assertDBusError('org.freedesktop.DBus.Error.InvalidArgs', c.call, path, CHRC1, 'ReadValue')
        self.fake.set_value(HR, '2a38', b'\x02')
        self.assertEqual(bytes(c.call(self.chrc_path(c, HR, '2a38'), CHRC1, 'ReadValue', 'a{sv}', ({},))[0]),
                         b'\x02')
        self.assertEqual(self.fake.get_characteristic(HR, '2a38')['reads'], 2)
        # POD and TM have no Battery1 (gatt / none)
        objects = c.objects()
        self.assertIn(BATTERY1, objects[device_path(HR)])
        self.assertNotIn(BATTERY1, objects[device_path(POD)])
        self.assertNotIn(BATTERY1, objects[device_path(TM)])
        self.assertFalse([p for p, i in objects.items() if p.startswith(device_path(TM) + '/')
                          and i.get(SERVICE1, {}).get('UUID') == uuid128('180f')])
        c.call(device_path(HR), DEVICE1, 'Disconnect')
        self.assertDBusError('org.bluez.Error.Failed', c.call, self.chrc_path(c, HR, '2a38'), CHRC1, 'ReadValue',
                             'a{sv}', ({},), text='Not connected')

    def test_acquire_notify(self):
        c = self.client()
        other = self.client()
        self.discover(c, HR)
        self.connect(c, HR)
        path = self.chrc_path(c, HR, '2a37')
        start = c.mark()
        (handle, mtu), fds = c.call(path, CHRC1, 'AcquireNotify', 'a{sv}', ({},), want_fds=True)
        self.assertEqual(len(fds), 1)
        self.assertEqual(mtu, 247)
        sock = socket.socket(fileno=fds[handle])
        self.addCleanup(sock.close)
        self.assertEqual(sock.type, socket.SOCK_SEQPACKET)
        self.assertEqual(sock.family, socket.AF_UNIX)
        c.wait_event(Client.is_props(path, CHRC1, 'NotifyAcquired', True), start)
        self.assertEqual(self.fake.get_notify_sessions(HR, '2a37'), (0, True))

        payloads = [b'\x16\x3c\x11\x04', b'\x00\x40', b'\x10\x43\x72\x03\x8a\x03', b'\x00\x40']
        start = c.mark()
        self.assertEqual(self.fake.notify_many((HR, '2a37', p) for p in payloads), len(payloads))
        sock.settimeout(5)
        self.assertEqual([sock.recv(512) for _ in payloads], payloads)   # one read, one notification
        self.assertEqual([ev for ev in c.events_since(start) if Client.is_props(path, CHRC1, 'Value')(ev)], [])

        for client in (c, other):
            self.assertDBusError('org.bluez.Error.NotPermitted', client.call, path, CHRC1, 'StartNotify',
                                 text='Notify acquired')
            self.assertDBusError('org.bluez.Error.NotPermitted', client.call, path, CHRC1, 'AcquireNotify',
                                 'a{sv}', ({},), text='Notify acquired')
        self.assertDBusError('org.bluez.Error.NotSupported', c.call, self.chrc_path(c, HR, '2a38'), CHRC1,
                             'AcquireNotify', 'a{sv}', ({},))

        # link loss: the client sees HUP, and has to acquire again later
        start = c.mark()
        self.assertTrue(self.fake.drop_link(HR))
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        events = poller.poll(5000)
        self.assertTrue(events and events[0][1] & select.POLLHUP, events)
        self.assertEqual(sock.recv(512), b'')
        c.wait_event(Client.is_props(path, CHRC1, 'NotifyAcquired', False), start)
        self.assertEqual(self.fake.notify(HR, '2a37', b'\x00\x40'), 0)
        self.assertDBusError('org.bluez.Error.Failed', c.call, path, CHRC1, 'AcquireNotify', 'a{sv}', ({},),
                             text='Not connected')

    def test_acquire_released_when_client_closes(self):
        c = self.client()
        self.discover(c, POD)
        self.connect(c, POD)
        path = self.chrc_path(c, POD, '2a53')
        (handle, _), fds = c.call(path, CHRC1, 'AcquireNotify', 'a{sv}', ({},), want_fds=True)
        self.assertEqual(self.fake.get_notify_sessions(POD, '2a53'), (0, True))
        start = c.mark()
        os.close(fds[handle])
        c.wait_event(Client.is_props(path, CHRC1, 'NotifyAcquired', False), start)
        self.assertEqual(self.fake.get_notify_sessions(POD, '2a53'), (0, False))
        c.call(path, CHRC1, 'StartNotify')       # allowed again
        self.assertEqual(self.fake.get_notify_sessions(POD, '2a53'), (1, False))
        # StopNotify on an acquired characteristic releases it (whoever calls)
        c.call(path, CHRC1, 'StopNotify')
        (handle, _), fds = c.call(path, CHRC1, 'AcquireNotify', 'a{sv}', ({},), want_fds=True)
        self.addCleanup(os.close, fds[handle])
        other = self.client()
        other.call(path, CHRC1, 'StopNotify')
        self.assertEqual(self.fake.get_notify_sessions(POD, '2a53'), (0, False))

    def test_start_notify_sessions_per_client(self):
        a = self.client()
        b = self.client()
        self.discover(a, HR)
        self.connect(a, HR)
        path = self.chrc_path(a, HR, '2a37')
        self.assertDBusError('org.bluez.Error.Failed', a.call, path, CHRC1, 'StopNotify',
                             text='No notify session started')
        start = a.mark()
        a.call(path, CHRC1, 'StartNotify')
        a.wait_event(Client.is_props(path, CHRC1, 'Notifying', True), start)
        a.call(path, CHRC1, 'StartNotify')          # same client again: success, no new session
        self.assertEqual(self.fake.get_notify_sessions(HR, '2a37'), (1, False))
        b.call(path, CHRC1, 'StartNotify')
        self.assertEqual(self.fake.get_notify_sessions(HR, '2a37'), (2, False))
        self.assertDBusError('org.bluez.Error.InProgress', b.call, path, CHRC1, 'AcquireNotify', 'a{sv}', ({},))

        start_a, start_b = a.mark(), b.mark()
        self.assertEqual(self.fake.notify_many([(HR, '2a37', b'\x00\x41')] * 3), 3)
        for client, start in ((a, start_a), (b, start_b)):
            wait_until(lambda client=client, start=start: len(
                [ev for ev in client.events_since(start) if Client.is_props(path, CHRC1, 'Value')(ev)]) == 3,
                what='three identical notifications')
        a.call(path, CHRC1, 'StopNotify')
        self.assertEqual(self.fake.get_notify_sessions(HR, '2a37'), (1, False))
        self.assertTrue(a.get(path, CHRC1, 'Notifying'))    # b still listens
        start = a.mark()
        b.close()                                        # b leaves the bus
        a.wait_event(Client.is_props(path, CHRC1, 'Notifying', False), start)
        self.assertEqual(self.fake.get_notify_sessions(HR, '2a37'), (0, False))
        self.assertEqual(self.fake.notify(HR, '2a37', b'\x00\x40'), 0)    # nobody subscribed

    def test_sessions_survive_reconnect(self):
        c = self.client()
        self.discover(c, HR)
        self.connect(c, HR)
        path = self.chrc_path(c, HR, '2a37')
        c.call(path, CHRC1, 'StartNotify')
        self.assertTrue(self.fake.drop_link(HR))
        self.assertFalse(self.fake.drop_link(HR))
        self.assertEqual(self.fake.notify(HR, '2a37', b'\x00\x40'), 0)    # nothing without a link
        self.assertEqual(self.fake.get_notify_sessions(HR, '2a37'), (1, False))
        self.assertTrue(c.get(path, CHRC1, 'Notifying'))     # as bluetoothd: stays true
        # the session is registered again only once connected: InProgress meanwhile
        self.assertDBusError('org.bluez.Error.InProgress', c.call, path, CHRC1, 'StartNotify')
        start = c.mark()
        self.connect(c, HR)
        # no new GATT objects on reconnection (cache), notifications flow without StartNotify
        self.assertFalse([ev for ev in c.events_since(start) if ev[0] == 'signal' and ev[3] == 'InterfacesAdded'
                          and ev[4][0] != device_path(HR)])
        start = c.mark()
        self.assertEqual(self.fake.notify(HR, '2a37', b'\x00\x42'), 1)
        _, ev = c.wait_event(Client.is_props(path, CHRC1, 'Value'), start)
        self.assertEqual(bytes(ev[4][1]['Value']), b'\x00\x42')
        c.call(path, CHRC1, 'StartNotify')          # harmless again

    def test_disconnect_keeps_gatt_objects(self):
        c = self.client()
        self.discover(c, HR)
        self.connect(c, HR)
        dev = device_path(HR)
        before = {p for p in c.objects() if p.startswith(dev + '/')}
        start = c.mark()
        c.call(dev, DEVICE1, 'Disconnect')
        i_res, _ = c.wait_event(Client.is_props(dev, DEVICE1, 'ServicesResolved', False), start)
        i_bat, _ = c.wait_event(Client.is_removed(dev, BATTERY1), start)
        i_con, _ = c.wait_event(Client.is_props(dev, DEVICE1, 'Connected', False), start)
        self.assertLess(i_res, i_con)
        self.assertLess(i_bat, i_con)
        objects = c.objects()
        self.assertEqual({p for p in objects if p.startswith(dev + '/')}, before)
        self.assertNotIn(BATTERY1, objects[dev])
        self.assertFalse([ev for ev in c.events_since(start) if ev[0] == 'signal' and ev[3] == 'InterfacesRemoved'
                          and ev[4][0] != dev])
        c.call(dev, DEVICE1, 'Disconnect')           # not connected: fine

    def test_slow_disconnect(self):
        c = self.client()
        self.discover(c, HR)
        self.connect(c, HR)
        dev = device_path(HR)
        path = self.chrc_path(c, HR, '2a37')
        self.fake.set_disconnect_delay(400)
        outcome = {}

        def disconnect():
            c.call(dev, DEVICE1, 'Disconnect')
            outcome['done'] = time.monotonic()
        thread = threading.Thread(target=disconnect)
        start = c.mark()
        t0 = time.monotonic()
        thread.start()
        other = self.client()
        # while bluetoothd waits to drop the link the device is still connected
        wait_until(lambda: self._start_notify_error(other, path) == 'org.bluez.Error.NotConnected',
                   what='StartNotify to fail with NotConnected')
        self.assertTrue(other.get(dev, DEVICE1, 'Connected'))
        other.call(dev, DEVICE1, 'Connect')       # "already connected": success at once
        thread.join(10)
        self.assertGreaterEqual(outcome['done'] - t0, 0.3)
        i_reply, _ = c.wait_event(lambda ev: ev[0] == 'reply' and ev[2] is None, start)
        i_con, _ = c.wait_event(Client.is_props(dev, DEVICE1, 'Connected', False), start)
        self.assertLess(i_reply, i_con)      # the reply, then Connected=false
        self.assertFalse(other.get(dev, DEVICE1, 'Connected'))

    @staticmethod
    def _start_notify_error(client, path):
        try:
            client.call(path, CHRC1, 'StartNotify')
            client.call(path, CHRC1, 'StopNotify')
        except GLib.Error as e:
            return error_name(e)
        return None

    def test_link_loss_order(self):
        c = self.client()
        self.discover(c, HR)
        self.connect(c, HR)
        dev = device_path(HR)
        start = c.mark()
        self.assertTrue(self.fake.drop_link(HR))
        i_res, _ = c.wait_event(Client.is_props(dev, DEVICE1, 'ServicesResolved', False), start)
        i_con, _ = c.wait_event(Client.is_props(dev, DEVICE1, 'Connected', False), start)
        self.assertLess(i_res, i_con)

    def test_connect_failures_and_delay(self):
        c = self.client()
        self.discover(c, HR)
        dev = device_path(HR)
        self.fake.set_connect_failures(HR, 2)
        for _ in range(2):
            self.assertDBusError('org.bluez.Error.Failed', c.call, dev, DEVICE1, 'Connect',
                                 text='le-connection-abort-by-local')
            self.assertFalse(c.get(dev, DEVICE1, 'Connected'))
        self.connect(c, HR)
        c.call(dev, DEVICE1, 'Disconnect')

        # a pending Connect: a second one fails; Disconnect cancels the first
        self.fake.set_connect_delay(HR, 5000)
        outcome = {}

        def pending_connect():
            try:
                c.call(dev, DEVICE1, 'Connect')
                outcome['ok'] = True
            except GLib.Error as e:
                outcome['error'] = (error_name(e), error_text(e))
        thread = threading.Thread(target=pending_connect)
        thread.start()
        other = self.client()
        # the first Connect must be pending before a second one is tried
        wait_until(lambda: self.fake.get_device(HR)['connecting'], what='the first Connect pending')
        self.assertTrue(self._connect_in_progress(other, dev), 'a second Connect fails while one is pending')
        other.call(dev, DEVICE1, 'Disconnect')
        thread.join(10)
        self.assertEqual(outcome, {'error': ('org.bluez.Error.Failed', 'Cancelled')})
        self.assertFalse(c.get(dev, DEVICE1, 'Connected'))

        # an absent sensor cannot be connected
        self.fake.set_connect_delay(HR, 0)
        self.fake.set_present(HR, False)
        self.assertDBusError('org.bluez.Error.Failed', c.call, dev, DEVICE1, 'Connect',
                             text='le-connection-abort-by-local')
        self.fake.set_present(HR, True)
        self.connect(c, HR)

    @staticmethod
    def _connect_in_progress(client, dev):
        try:
            client.call(dev, DEVICE1, 'Connect', timeout=1)
        except GLib.Error as e:
            return (error_name(e), error_text(e)) == ('org.bluez.Error.Failed', 'Operation already in progress')
        return False

    def test_battery(self):
        c = self.client()
        self.discover(c, HR, POD)
        dev = device_path(HR)
        self.assertNotIn(BATTERY1, c.objects()[dev])      # Battery1 only while connected
        self.connect(c, HR)
        wait_until(lambda: BATTERY1 in c.objects()[dev], what='Battery1')
        self.assertEqual(c.get(dev, BATTERY1, 'Percentage'), 85)
        start = c.mark()
        self.fake.set_battery(HR, 80)
        c.wait_event(Client.is_props(dev, BATTERY1, 'Percentage', 80), start)
        self.assertEqual(bytes(c.call(self.chrc_path(c, HR, '2a19'), CHRC1, 'ReadValue', 'a{sv}', ({},))[0]),
                         bytes([80]))
        # battery_as=gatt: the GATT characteristic only, with notifications
        self.connect(c, POD)
        self.assertNotIn(BATTERY1, c.objects()[device_path(POD)])
        path = self.chrc_path(c, POD, '2a19')
        self.assertEqual(bytes(c.call(path, CHRC1, 'ReadValue', 'a{sv}', ({},))[0]), bytes([60]))
        c.call(path, CHRC1, 'StartNotify')
        start = c.mark()
        self.fake.set_battery(POD, 59)
        _, ev = c.wait_event(Client.is_props(path, CHRC1, 'Value'), start)
        self.assertEqual(bytes(ev[4][1]['Value']), bytes([59]))

    def test_remove_device(self):
        c = self.client()
        self.discover(c, HR)
        self.connect(c, HR)
        dev = device_path(HR)
        start = c.mark()
        c.call(ADAPTER, ADAPTER1, 'RemoveDevice', 'o', (dev,))
        c.wait_event(Client.is_removed(dev, DEVICE1), start)
        removed = [ev[4] for ev in c.events_since(start) if ev[0] == 'signal' and ev[3] == 'InterfacesRemoved']
        paths = [r[0] for r in removed]
        self.assertIn(dev + '/service000c/char000d', paths)
        self.assertEqual(removed[-1], (dev, [DEVICE1, 'org.freedesktop.DBus.Introspectable', PROPS]))
        self.assertEqual(removed[0], (dev, [BATTERY1]))     # disconnected first
        self.assertFalse([p for p in c.objects() if p.startswith(dev)])
        self.assertDBusError('org.bluez.Error.DoesNotExist', c.call, ADAPTER, ADAPTER1, 'RemoveDevice', 'o', (dev,))
        self.discover(c, HR)          # it is still there, and is found again

    def test_temporary_device_expires(self):
        c = self.client()
        self.fake.set_temporary_timeout(1)
        self.discover(c, HR, POD, TM)
        self.connect(c, POD)           # connected once: no longer temporary
        c.call(device_path(POD), DEVICE1, 'Disconnect')
        start = c.mark()
        c.wait_event(Client.is_removed(device_path(HR), DEVICE1), start, timeout=10)
        objects = c.objects()
        self.assertNotIn(device_path(HR), objects)
        self.assertIn(device_path(POD), objects)

    def test_properties_set(self):
        c = self.client()
        self.discover(c, HR)
        dev = device_path(HR)
        start = c.mark()
        c.call(dev, PROPS, 'Set', 'ssv', (DEVICE1, 'Trusted', GLib.Variant('b', True)))
        c.wait_event(Client.is_props(dev, DEVICE1, 'Trusted', True), start)
        c.call(dev, PROPS, 'Set', 'ssv', (DEVICE1, 'Alias', GLib.Variant('s', 'chest strap')))
        self.assertEqual(c.get(dev, DEVICE1, 'Alias'), 'chest strap')
        c.call(dev, PROPS, 'Set', 'ssv', (DEVICE1, 'Alias', GLib.Variant('s', '')))
        self.assertEqual(c.get(dev, DEVICE1, 'Alias'), HR_NAME)
        self.assertDBusError('org.freedesktop.DBus.Error.PropertyReadOnly', c.call, dev, PROPS, 'Set', 'ssv',
                             (DEVICE1, 'Connected', GLib.Variant('b', True)))
        self.assertDBusError('org.freedesktop.DBus.Error.InvalidArgs', c.call, dev, PROPS, 'Set', 'ssv',
                             (DEVICE1, 'Trusted', GLib.Variant('s', 'yes')))

    def test_vanish_and_reappear(self):
        c = self.client()
        self.discover(c, HR, POD)
        self.connect(c, HR)             # HR becomes a stored device, POD stays temporary
        path = self.chrc_path(c, HR, '2a37')
        c.call(path, CHRC1, 'StartNotify')
        old_owner = self.fake.owner
        start = c.mark()
        self.fake.vanish()
        _, ev = c.wait_event(lambda ev: ev[0] == 'signal' and ev[3] == 'NameOwnerChanged', start)
        self.assertEqual(ev[4], ('org.bluez', old_owner, ''))
        self.assertDBusError('org.freedesktop.DBus.Error.NameHasNoOwner', c.objects)   # no auto-start

        start = c.mark()
        self.fake.reappear()
        _, ev = c.wait_event(lambda ev: ev[0] == 'signal' and ev[3] == 'NameOwnerChanged', start)
        self.assertEqual(ev[4][0:2], ('org.bluez', ''))
        self.assertNotEqual(ev[4][2], old_owner)       # a new bluetoothd
        objects = c.objects()
        dev = device_path(HR)
        self.assertIn(dev, objects)                     # stored device, not connected, no RSSI
        self.assertFalse(objects[dev][DEVICE1]['Connected'])
        self.assertNotIn('RSSI', objects[dev][DEVICE1])
        self.assertFalse([p for p in objects if p.startswith(dev + '/')])   # GATT after connecting
        self.assertNotIn(device_path(POD), objects)     # temporary devices are forgotten
        self.assertEqual(self.fake.get_notify_sessions(HR, '2a37'), (0, False))
        self.connect(c, HR)
        self.assertEqual(self.chrc_path(c, HR, '2a37'), path)     # same handles
        self.discover(c, POD)

    def test_gatt_profile_auto_connect(self):
        c = self.client()
        self.discover(c, HR)
        self.connect(c, HR)
        # an application with a GattProfile1 for Heart Rate (as bluetoothctl's
        # register-application): the fake reads it with GetManagedObjects
        app = '/io/pacer/test'
        # GetManagedObjects of the application, answered by hand
        om_xml = ('<node><interface name="org.freedesktop.DBus.ObjectManager">'
                  '<method name="GetManagedObjects"><arg type="a{oa{sa{sv}}}" direction="out"/></method>'
                  '</interface></node>')

        def on_call(_conn, _sender, _path, _iface, _method, _params, invocation):
            invocation.return_value(GLib.Variant('(a{oa{sa{sv}}})', ({
                app + '/profile0': {'org.bluez.GattProfile1': {'UUIDs': GLib.Variant('as', [uuid128('180d')])}},
            },)))
        om_id = c.conn.register_object(app, Gio.DBusNodeInfo.new_for_xml(om_xml).interfaces[0], on_call, None, None)
        self.addCleanup(c.conn.unregister_object, om_id)

        # the fake calls back into this client: serve it from a main loop thread
        context = GLib.MainContext.default()
        stop = threading.Event()

        def loop():
            while not stop.is_set():
                context.iteration(True)
        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 5)
        self.addCleanup(context.wakeup)
        self.addCleanup(stop.set)
        c.call(ADAPTER, 'org.bluez.GattManager1', 'RegisterApplication', 'oa{sv}', (app, {}))
        self.assertEqual(self.fake.get_applications(), [(c.name, app, [uuid128('180d')])])

        dev = device_path(HR)
        start = c.mark()
        self.assertTrue(self.fake.drop_link(HR))
        c.wait_event(Client.is_props(dev, DEVICE1, 'Connected', False), start)
        c.wait_event(Client.is_props(dev, DEVICE1, 'ServicesResolved', True), start)   # reconnected by itself
        # out of range: no reconnection until it is back
        start = c.mark()
        self.fake.set_present(HR, False)
        c.wait_event(Client.is_props(dev, DEVICE1, 'Connected', False), start)
        self.fake.set_present(HR, True)
        c.wait_event(Client.is_props(dev, DEVICE1, 'Connected', True), start)
        self.fake.wait_connected(HR)
        self.assertTrue(self.fake.get_device(HR)['auto_connect'])
        # an explicit Disconnect of an untrusted device stops auto-connection
        c.call(dev, DEVICE1, 'Disconnect')
        state = self.fake.get_device(HR)
        self.assertTrue(state['auto_connect_disabled'])
        self.assertFalse(state['auto_connect'])
        self.assertFalse(state['connected'])
        c.call(dev, DEVICE1, 'Connect')           # until Connect is called again
        self.assertTrue(self.fake.get_device(HR)['auto_connect'])
        c.call(ADAPTER, 'org.bluez.GattManager1', 'UnregisterApplication', 'o', (app,))
        self.assertEqual(self.fake.get_applications(), [])
        self.assertFalse(self.fake.get_device(HR)['auto_connect'])
        self.assertDBusError('org.bluez.Error.DoesNotExist', c.call, ADAPTER, 'org.bluez.GattManager1',
                             'UnregisterApplication', 'o', (app,))


class StreamTest(FakeBlueZTestCase):
    '''StartStreams: generated measurements through both notify paths.'''

    def test_streams_start_notify_and_acquire(self):
        c = self.client()
        self.discover(c, HR, POD)
        self.connect(c, HR)
        self.connect(c, POD)
        hr_path = self.chrc_path(c, HR, '2a37')
        c.call(hr_path, CHRC1, 'StartNotify')
        (handle, _), fds = c.call(self.chrc_path(c, POD, '2a53'), CHRC1, 'AcquireNotify', 'a{sv}', ({},),
                                  want_fds=True)
        sock = socket.socket(fileno=fds[handle])
        self.addCleanup(sock.close)
        n_hr, n_pod = 40, 60
        start = c.mark()
        self.fake.start_streams([(HR, 100, 1.0, n_hr), (POD, 150, 0.25, n_pod)])
        self.assertTrue(self.fake.streams_running())
        self.fake.wait_streams_done(30)

        # the strap: StartNotify, one PropertiesChanged of Value per notification
        sent, undelivered = self.fake.get_stream_log(HR)
        self.assertEqual(undelivered, 0)
        self.assertEqual([k for k, _ in sent], list(range(1, n_hr + 1)))     # energy expended 1, 2, 3 ...
        self.assertEqual([t for _, t in sent], sorted(t for _, t in sent))
        values = wait_until(lambda: (lambda v: len(v) == n_hr and v)(
            [bytes(ev[4][1]['Value']) for ev in c.events_since(start)
             if Client.is_props(hr_path, CHRC1, 'Value')(ev)]), what='the strap stream')
        for i, v in enumerate(values):
            self.assertEqual(len(v), 6, v.hex())
            self.assertEqual(v[0], 0x18)
            hr = v[1]
            self.assertTrue(120 <= hr <= 170, hr)
            self.assertEqual(int.from_bytes(v[2:4], 'little'), i + 1)
            self.assertEqual(int.from_bytes(v[4:6], 'little'), round(60 / hr * 1024))
        self.assertEqual(len(set(values)), n_hr)

        # the footpod: AcquireNotify, one packet per notification
        sent, undelivered = self.fake.get_stream_log(POD)
        self.assertEqual(undelivered, 0)
        keys = [k for k, _ in sent]
        self.assertEqual(len(keys), n_pod)
        sock.settimeout(5)
        packets = [sock.recv(512) for _ in range(n_pod)]
        last = 0
        for key, p in zip(keys, packets):
            self.assertEqual(len(p), 8, p.hex())
            self.assertEqual(p[0], 0x06)
            self.assertAlmostEqual(int.from_bytes(p[1:3], 'little') / 256, 3.3, delta=0.25)
            self.assertTrue(85 <= p[3] <= 90, p[3])
            distance = int.from_bytes(p[4:8], 'little')
            self.assertEqual(distance, key)
            self.assertGreater(distance, last)          # a unique key per notification
            last = distance
        # 60 steps of 0.25 s at about 3.3 m/s: about 49.5 m
        self.assertAlmostEqual(last / 10, 60 * 0.25 * 3.3, delta=4)

        # again, replacing the finished streams: counters start afresh
        self.fake.start_streams([(HR, 100, 1.0, 3)])
        self.fake.wait_streams_done(30)
        sent, _ = self.fake.get_stream_log(HR)
        self.assertEqual([k for k, _ in sent], [1, 2, 3])
        self.assertEqual(self.fake.get_stream_log(POD), ([], 0))

    def test_stream_errors_and_undelivered(self):
        self.assertDBusError('org.freedesktop.DBus.Error.InvalidArgs', self.fake.start_streams,
                             [(TM, 10, 1.0, 5)])
        self.assertDBusError('org.freedesktop.DBus.Error.InvalidArgs', self.fake.start_streams,
                             [('C0:FF:EE:00:00:99', 10, 1.0, 5)])
        self.assertDBusError('org.freedesktop.DBus.Error.InvalidArgs', self.fake.start_streams,
                             [(HR, 0, 1.0, 5)])
        self.assertDBusError('org.freedesktop.DBus.Error.InvalidArgs', self.fake.start_streams, [])
        self.assertFalse(self.fake.streams_running())
        self.assertEqual(self.fake.get_stream_log(HR), ([], 0))

        # not connected, then connected but nobody subscribed: nothing delivered
        c = self.client()
        self.discover(c, POD)
        self.connect(c, POD)
        self.fake.start_streams([(HR, 50, 1.0, 10), (POD, 50, 0.05, 10)])
        self.assertDBusError('org.bluez.Error.Failed', self.fake.start_streams, [(HR, 10, 1.0, 5)])
        self.fake.wait_streams_done(30)
        self.assertEqual(self.fake.get_stream_log(HR), ([], 10))
        self.assertEqual(self.fake.get_stream_log(POD), ([], 10))
        self.assertEqual(self.fake.get_characteristic(POD, '2a53')['delivered'], 0)


class HarnessTest(pacertest.TestCase):
    '''The harness itself: mosquitto, waits, cleanup.'''

    def test_mosquitto(self):
        self.require('mosquitto', 'mosquitto_sub', 'mosquitto_pub')
        broker = self.start_mosquitto()
        self.assertTrue(pacertest.port_open(broker.port))
        sub = self.processes.spawn(['mosquitto_sub', '-h', '127.0.0.1', '-p', str(broker.port), '-t', 'pacer/#',
                                    '-v', '-C', '1', '-W', '10'], stdout=subprocess.PIPE)

        def published():
            subprocess.run(['mosquitto_pub', '-h', '127.0.0.1', '-p', str(broker.port), '-t', 'pacer/status',
                            '-m', 'online'], check=True, timeout=10)
            return sub.poll() is not None
        wait_until(published, 10, interval=0.1, what='mosquitto_sub to get a message')
        self.assertEqual(sub.stdout.read().decode().strip(), 'pacer/status online')
        self.processes.stop(sub)
        port = broker.port
        broker.kill()
        self.assertFalse(pacertest.port_open(port))
        broker.start()
        self.assertEqual(broker.port, port)
        broker.stop()
        self.assertFalse(pacertest.port_open(port))

    def test_wait_until(self):
        self.assertEqual(wait_until(lambda: 42, 1), 42)
        t0 = time.monotonic()
        with self.assertRaises(pacertest.WaitTimeout):
            wait_until(lambda: False, 0.2, what='nothing')
        self.assertLess(time.monotonic() - t0, 2)

    def test_children_are_reaped(self):
        proc = self.processes.spawn(['sleep', '60'])
        self.processes.kill_all()
        self.assertIsNotNone(proc.returncode)
        with self.assertRaises(ChildProcessError):
            os.waitpid(proc.pid, os.WNOHANG)

    def test_system_policy_bus(self):
        bus = self.start_bus(policy='system')
        fake = self.start_fake_bluez(bus)          # allowed by BlueZ's bluetooth.conf
        self.assertTrue(fake.owner)
        conn = bus.connect()
        self.addCleanup(conn.close_sync, None)
        with self.assertRaises(GLib.Error) as ctx:   # nobody may own other names
            pacertest.bus_call(conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                               'RequestName', GLib.Variant('(su)', ('io.pacer.Nobody', 0)), '(u)')
        self.assertEqual(error_name(ctx.exception), 'org.freedesktop.DBus.Error.AccessDenied')


if __name__ == '__main__':
    pacertest.main()

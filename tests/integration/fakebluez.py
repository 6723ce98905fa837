# SPDX-License-Identifier: LGPL-2.1-or-later
'''A fake bluetoothd (BlueZ 5.66 D-Bus API) for Pacer's integration tests.

This is a python-dbusmock template.  Run it on a private system bus:

    /usr/bin/python3 -m dbusmock --system -t tests/integration/fakebluez.py \\
        -l LOGFILE [-p '{"sensors": [...], "temporary_timeout": 30}']

(tests/integration/pacertest.py does this for you.)

It owns ``org.bluez`` and exports what bluetoothd 5.66 exports for BLE
fitness sensors: the ObjectManager on ``/``, ``/org/bluez`` (AgentManager1,
ProfileManager1), the adapter ``/org/bluez/hci0`` (Adapter1, GattManager1),
devices ``/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF`` (Device1, Battery1 while
connected) and their GATT objects ``…/service000c/char000d/desc000f``
(GattService1, GattCharacteristic1, GattDescriptor1).  Behaviour follows
bluetoothd's src/adapter.c, src/device.c and src/gatt-client.c (see
/work/shared/reference/ble-and-running-facts.md §2), in particular:

- a sensor is "seen" (Device1 object created, or RSSI set again) only while
  some client runs a discovery session whose filter it matches; discovery
  and filters are per client and die with the client; StopDiscovery of the
  last session drops RSSI (PropertiesChanged with RSSI invalidated);
- Connect: Connected=true, then the method reply, then the GATT objects
  (InterfacesAdded, first connection only: they stay exported afterwards, as
  with BlueZ's GATT cache), then ServicesResolved=true, then Battery1;
  Connect on a connected device succeeds at once; while one is pending a
  second fails with Failed "Operation already in progress"; Disconnect
  makes the pending one fail with Failed "Cancelled";
- Disconnect and link loss: acquired notify sockets are shut down (the
  client sees HUP), ServicesResolved=false, Battery1 removed, the
  Disconnect reply, Connected=false; StartNotify sessions survive and are
  re-enabled on the next connection;
- signals are sent in the order bluetoothd's code emits them (its gdbus
  flushes queued property changes before any other message);
- StartNotify/StopNotify sessions are per client (unique bus name); a
  second StartNotify from the same client succeeds (InProgress while the
  device is disconnected); AcquireNotify gives one end of a SOCK_SEQPACKET
  socketpair, one packet per notification, and excludes StartNotify
  (NotPermitted "Notify acquired") and vice versa (InProgress);
- every notification with a StartNotify session is a PropertiesChanged of
  Value, even when the bytes repeat; ReadValue also updates Value;
- temporary (never connected) devices are removed ``temporary_timeout``
  seconds (default 30, as bluetoothd) after they were last seen;
- a device that has been connected once is auto-connected again after link
  loss while a GattManager1 application exports a GattProfile1 listing one
  of its services (an explicit Disconnect of an untrusted device stops that
  until the next Connect).

Test control: interface ``org.pacer.FakeBlueZ`` on ``/`` (see CONTROL_API
below).  "bluetoothd stops/restarts" is done by the harness (kill the
process, start a new one from GetState()), which is exactly what a
bluetoothd restart looks like to clients: the name owner vanishes, a new
unique name takes org.bluez, only devices that were connected before
(stored, non-temporary ones) come back, none of them connected.
'''

import functools
import json
import math
import re
import socket
import time
import traceback

import dbus
import dbus.lowlevel
import dbus.service
from gi.repository import GLib

from dbusmock import mockobject

BUS_NAME = 'org.bluez'
MAIN_OBJ = '/'
MAIN_IFACE = 'org.pacer.FakeBlueZ'
SYSTEM_BUS = True
IS_OBJECT_MANAGER = True

CONTROL_IFACE = MAIN_IFACE
OM_IFACE = 'org.freedesktop.DBus.ObjectManager'
PROPS_IFACE = 'org.freedesktop.DBus.Properties'
INTROSPECT_IFACE = 'org.freedesktop.DBus.Introspectable'
ADAPTER_IFACE = 'org.bluez.Adapter1'
DEVICE_IFACE = 'org.bluez.Device1'
BATTERY_IFACE = 'org.bluez.Battery1'
SERVICE_IFACE = 'org.bluez.GattService1'
CHRC_IFACE = 'org.bluez.GattCharacteristic1'
DESC_IFACE = 'org.bluez.GattDescriptor1'
GATT_MANAGER_IFACE = 'org.bluez.GattManager1'
GATT_PROFILE_IFACE = 'org.bluez.GattProfile1'
AGENT_MANAGER_IFACE = 'org.bluez.AgentManager1'
PROFILE_MANAGER_IFACE = 'org.bluez.ProfileManager1'

ADAPTER_PATH = '/org/bluez/hci0'
BASE_UUID_TAIL = '-0000-1000-8000-00805f9b34fb'

CONTROL_API = '''
AddSensor(s address, s name, s kind, i battery, s battery_as) -> o path
    kind: heart_rate | footpod | treadmill; battery: percent or -1 (none);
    battery_as: battery1 (Battery1 + 180F GATT objects, as bluetoothd
    5.55-5.79) | gatt (180F GATT objects only) | none
AddSensorFull(a{sv} options) -> o path
    keys: address, name, kind, battery, battery_as, address_type (random),
    rssi (-60), mtu (247), present (true), connect_failures (0),
    connect_delay_ms (0), trusted (false), known (false: temporary)
Notify(s address, s uuid, ay value) -> u deliveries (0: not connected or
    nobody subscribed)
NotifyMany(a(ssay) notifications) -> u deliveries
SetValue(s address, s uuid, ay value)      value returned by ReadValue
DropLink(s address) -> b                   link loss; false if not connected
SetPresent(s address, b present)           out of range / back; false drops
                                           the link and makes Connect fail
SetRSSI(s address, n rssi)
SetConnectFailures(s address, u n)         next n connection attempts fail
                                           with Failed le-connection-abort-by-local
SetConnectDelay(s address, u ms)           time a Connect stays pending
SetBattery(s address, y percent)           Battery1.Percentage and 2A19
GetNotifySessions(s address, s uuid) -> (u start_notify_clients, b acquired)
GetCharacteristic(s address, s uuid) -> a{sv}
    path, notifying, sessions, active_sessions, acquired, delivered,
    dropped, reads
GetDevice(s address) -> a{sv}
    path, exported, known (not temporary), present, connected,
    services_resolved, connecting, disconnecting, auto_connect (a
    GattProfile1 would reconnect it), auto_connect_disabled,
    connect_failures, battery
GetDiscoveryFilters() -> a{sa{sv}}         per client (unique name)
GetDiscoverySessions() -> as
GetApplications() -> a(soas)               GattManager1 apps: sender, path,
                                           GattProfile1 UUIDs
SetTemporaryTimeout(u seconds)             0 disables removal
SetDisconnectDelay(u ms)                   time Device1.Disconnect takes to drop
                                           the link (default 0; bluetoothd waits
                                           up to 2 s for profiles)
GetState() -> s                            JSON for a restart (-p)

Streams (benchmarks): generated measurements sent at a steady wall-clock rate
StartStreams(a(sddu) streams)              each (address, rate_hz, sim_interval_s,
    count): the sensor sends `count` notifications of its measurement
    characteristic (heart_rate: 2A37, footpod: 2A53; a treadmill is an
    error), one every 1/rate_hz s of wall clock, each one simulated step of
    sim_interval_s later than the one before.  All streams start together
    (stream i of n shifted by i/n of its period, so that sensors at the same
    rate do not notify in lock-step) and are paced by one GLib timer (every
    2 ms, sending what is due and catching up when late); each notification
    goes through the same path as Notify (AcquireNotify socket or
    PropertiesChanged; emitted signals are not logged).  Replaces finished
    streams; fails with Failed while streams are running.
      heart_rate: flags 0x18, HR (uint8) moving smoothly within 120..170,
        energy expended (uint16) = 1, 2, 3 ... (wraps at 65536), one RR
        interval round(60/HR*1024) in 1/1024 s
      footpod: flags 0x06, speed (1/256 m/s) around 3.3 m/s, cadence
        85..90, total distance (uint32, 1/10 m) integrated from the speed and
        strictly increasing (at least +1 a notification)
    The stream key of a notification, unique per stream, is its energy
    expended (heart_rate) or its total distance in 1/10 m (footpod).
GetStreamLog(s address) -> (a(ut) sent, u undelivered)
    sent: (key, time.monotonic_ns() right before sending) of each
    notification delivered to at least one client; undelivered: how many
    were not (not connected, nobody subscribed, socket full)
StreamsRunning() -> b                      true until every stream has sent all
'''

KINDS = {
    # kind: (service, appearance, [(uuid16, flags, initial value)])
    'heart_rate': ('180d', 0x0341, [
        ('2a37', ('notify',), b''),
        ('2a38', ('read',), b'\x01'),           # chest
    ]),
    'footpod': ('1814', 0x0442, [
        ('2a53', ('notify',), b''),
        ('2a54', ('read',), b'\x07\x00'),       # stride, distance, walk/run
    ]),
    'treadmill': ('1826', None, [
        ('2acc', ('read',), bytes.fromhex('4412000001000000')),
        ('2acd', ('notify',), b''),
        ('2ad3', ('read', 'notify'), b'\x00\x01'),      # idle
        ('2ad4', ('read',), bytes.fromhex('640058020a00')),  # 1-6 km/h by 0.1
    ]),
}
BATTERY_AS = ('battery1', 'gatt', 'none')
MODELS = {'heart_rate': b'HRM-1', 'footpod': b'POD-1', 'treadmill': b'TM-1'}
# GAP (0x0001-0x0007) is claimed by bluetoothd and not exported; GATT
# (Service Changed) is, then the sensor's service (at 0x000c, so the paths are
# service000c/char000d/desc000f), Battery and Device Information.
FIRST_HANDLE = 0x0008

FAKE = None     # the Fake instance of this process


def uuid128(value):
    '''Normalise '2a37', '0x2A37', '00002a37' or a 128-bit UUID string.'''
    u = str(value).strip().lower()
    if u.startswith('0x'):
        u = u[2:]
    if re.fullmatch(r'[0-9a-f]{4}', u):
        return '0000' + u + BASE_UUID_TAIL
    if re.fullmatch(r'[0-9a-f]{8}', u):
        return u + BASE_UUID_TAIL
    if re.fullmatch(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', u):
        return u
    raise invalid_args(f'bad UUID {value!r}')


def bluez_error(name, text):
    return dbus.exceptions.DBusException(text, name='org.bluez.Error.' + name)


def invalid_args(text='Invalid arguments in method call'):
    return dbus.exceptions.DBusException(text, name='org.freedesktop.DBus.Error.InvalidArgs')


def err_failed(text):
    return bluez_error('Failed', text)


def err_in_progress():
    return bluez_error('InProgress', 'In Progress')


def err_not_permitted(text):
    return bluez_error('NotPermitted', text)


def err_not_supported():
    return bluez_error('NotSupported', 'Operation is not supported')


def err_does_not_exist():
    return bluez_error('DoesNotExist', 'Does Not Exist')


def err_bluez_invalid_args():
    return bluez_error('InvalidArguments', 'Invalid arguments in method call')


def ay(data):
    return dbus.Array([dbus.Byte(b) for b in bytes(data)], signature='y')


def strings(items):
    return dbus.Array([dbus.String(s) for s in items], signature='s')


def method(iface, in_sig='', out_sig='', is_async=False, log=True):
    '''Turn func(obj, *args, sender, message[, reply, error]) into a method
    that can be attached to a dbusmock object with attach().

    dbus-python passes the caller's unique name (sender) and the message;
    the wrapper checks the call's signature like bluetoothd's gdbus does
    (dbus-python itself does not) and logs the call.'''
    def decorator(func):
        @functools.wraps(func)
        def wrapper(obj, *args, **kwargs):
            message = kwargs.get('message')
            got = message.get_signature() if message is not None else in_sig
            if (got or '') != in_sig:
                raise invalid_args()
            if log and FAKE is not None:
                FAKE.log(f'call {iface}.{wrapper.__name__} {obj.path} from {kwargs.get("sender")} '
                         f'{_fmt_args(args)}')
            return func(obj, *args, **kwargs)
        return dbus.service.method(
            iface, in_signature=in_sig, out_signature=out_sig,
            sender_keyword='sender', message_keyword='message',
            async_callbacks=('reply', 'error') if is_async else None)(wrapper)
    return decorator


def _fmt_args(args):
    def fmt(a):
        if isinstance(a, (dbus.Array, bytes)) and getattr(a, 'signature', 'y') == 'y':
            return '<' + bytes(a).hex() + '>'
        if isinstance(a, dbus.Boolean):
            return str(bool(a))
        if isinstance(a, (dbus.Byte, int)):
            return str(int(a))
        if isinstance(a, str):
            return repr(str(a))
        if isinstance(a, (list, tuple)):
            return '[' + ', '.join(fmt(x) for x in a) + ']'
        if isinstance(a, dict):
            return '{' + ', '.join(f'{k}: {fmt(v)}' for k, v in a.items()) + '}'
        return str(a)
    return ' '.join(fmt(a) for a in args)


def attach(obj, *funcs):
    '''Export D-Bus methods made by method() on dbusmock object obj.'''
    for fn in funcs:
        obj.methods.setdefault(fn._dbus_interface, {})[fn.__name__] = (
            fn._dbus_in_signature, fn._dbus_out_signature, '', fn)


def guarded(func):
    '''For GLib callbacks: log exceptions instead of losing them.'''
    @functools.wraps(func)
    def wrapper(*args):
        try:
            return func(*args)
        except Exception:   # pylint: disable=broad-except
            FAKE.log('EXCEPTION in ' + func.__name__ + ':\n' + traceback.format_exc())
            return False
    return wrapper


# --------------------------------------------------------------------------
# Properties (replacing dbusmock's, which differ from bluetoothd's gdbus)
# --------------------------------------------------------------------------

@method(PROPS_IFACE, 'ss', 'v', log=False)
def Get(obj, interface, name, sender=None, message=None):
    props = obj.props.get(interface)
    if props is None or interface in (PROPS_IFACE, INTROSPECT_IFACE):
        raise invalid_args(f"No such interface '{interface}'")
    if name not in props:
        raise invalid_args(f"No such property '{name}'")
    return props[name]


@method(PROPS_IFACE, 's', 'a{sv}', log=False)
def GetAll(obj, interface, sender=None, message=None):
    props = obj.props.get(interface)
    if props is None:
        raise invalid_args(f"No such interface '{interface}'")
    return dbus.Dictionary(props, signature='sv')


WRITABLE = {
    ADAPTER_IFACE: {'Alias': 's', 'Powered': 'b', 'Discoverable': 'b', 'DiscoverableTimeout': 'u',
                    'Pairable': 'b', 'PairableTimeout': 'u'},
    DEVICE_IFACE: {'Alias': 's', 'Trusted': 'b', 'Blocked': 'b'},
}
_PY_TYPES = {'s': (str, dbus.String), 'b': (dbus.Boolean,), 'u': (dbus.UInt32,)}


@method(PROPS_IFACE, 'ssv', '')
def Set(obj, interface, name, value, sender=None, message=None):
    props = obj.props.get(interface)
    if props is None or interface in (PROPS_IFACE, INTROSPECT_IFACE):
        raise invalid_args(f"No such interface '{interface}'")
    if name not in props:
        raise invalid_args(f"No such property '{name}'")
    sig = WRITABLE.get(interface, {}).get(name)
    if sig is None:
        raise dbus.exceptions.DBusException(f"Property '{name}' is not writable",
                                            name='org.freedesktop.DBus.Error.PropertyReadOnly')
    types = _PY_TYPES[sig]
    if not isinstance(value, types) or (sig == 's' and isinstance(value, dbus.ObjectPath)):
        raise invalid_args()
    if sig == 'b':
        value = dbus.Boolean(bool(value))
    elif sig == 'u':
        value = dbus.UInt32(int(value))
    else:
        value = dbus.String(str(value))
    if name == 'Alias' and not value:
        value = dbus.String(props.get('Name', props.get('Address', '')))
    FAKE.set_prop(obj, interface, name, value)
    if interface == DEVICE_IFACE and name == 'Trusted':
        obj.sensor.trusted = bool(value)


def attach_props(obj):
    attach(obj, Get, GetAll, Set)


# --------------------------------------------------------------------------
# GATT model
# --------------------------------------------------------------------------

class Acquired:
    '''The fake's end of an AcquireNotify socketpair.'''

    def __init__(self, sock, owner):
        self.sock = sock
        self.owner = owner
        self.watch = None


class Chrc:
    def __init__(self, service, uuid16, flags, value, handle):
        self.service = service
        self.uuid16 = uuid16
        self.uuid = uuid128(uuid16)
        self.flags = list(flags)
        self.value = bytes(value)       # what ReadValue returns
        self.cached = b''               # the Value property
        self.handle = handle
        self.path = f'{service.path}/char{handle:04x}'
        self.can_notify = 'notify' in self.flags or 'indicate' in self.flags
        self.desc_handle = handle + 2 if self.can_notify else None
        self.desc_path = f'{self.path}/desc{self.desc_handle:04x}' if self.can_notify else None
        self.sessions = {}      # StartNotify client -> active (registered with the device)
        self.notifying = False
        self.acq = None
        self.delivered = 0
        self.dropped = 0
        self.reads = 0

    @property
    def last_handle(self):
        return self.desc_handle or self.handle + 1

    @property
    def sensor(self):
        return self.service.sensor

    def props(self):
        p = {
            'UUID': dbus.String(self.uuid),
            'Service': dbus.ObjectPath(self.service.path),
            'Value': ay(self.cached),
            'Flags': strings(self.flags),
        }
        if self.can_notify:
            p['Notifying'] = dbus.Boolean(self.notifying)
        if 'notify' in self.flags:
            p['NotifyAcquired'] = dbus.Boolean(self.acq is not None)
        if 'write-without-response' in self.flags:
            p['WriteAcquired'] = dbus.Boolean(False)
        p['MTU'] = dbus.UInt16(self.sensor.mtu)
        return p

    def desc_props(self):
        return {
            'UUID': dbus.String(uuid128('2902')),
            'Characteristic': dbus.ObjectPath(self.path),
            'Value': ay(b''),
        }


class Service:
    def __init__(self, sensor, uuid16, handle):
        self.sensor = sensor
        self.uuid16 = uuid16
        self.uuid = uuid128(uuid16)
        self.handle = handle
        self.path = f'{sensor.path}/service{handle:04x}'
        self.chrcs = []

    def props(self):
        return {
            'UUID': dbus.String(self.uuid),
            'Device': dbus.ObjectPath(self.sensor.path),
            'Primary': dbus.Boolean(True),
            'Includes': dbus.Array([], signature='o'),
        }


# --------------------------------------------------------------------------
# Sensors (remote devices)
# --------------------------------------------------------------------------

class Sensor:   # pylint: disable=too-many-instance-attributes
    def __init__(self, fake, opts):
        self.fake = fake
        address = str(opts['address']).upper()
        if not re.fullmatch(r'([0-9A-F]{2}:){5}[0-9A-F]{2}', address):
            raise invalid_args(f'bad address {address!r}')
        kind = str(opts.get('kind', 'heart_rate'))
        if kind not in KINDS:
            raise invalid_args(f'unknown kind {kind!r} (one of {", ".join(KINDS)})')
        battery_as = str(opts.get('battery_as', 'battery1'))
        if battery_as not in BATTERY_AS:
            raise invalid_args(f'battery_as must be one of {", ".join(BATTERY_AS)}')
        battery = int(opts.get('battery', -1))
        if battery > 100:
            raise invalid_args('battery must be -1..100')
        self.address = address
        self.path = ADAPTER_PATH + '/dev_' + address.replace(':', '_')
        self.name = str(opts.get('name', ''))
        self.kind = kind
        self.battery = battery
        self.battery_as = battery_as if battery >= 0 else 'none'
        self.address_type = str(opts.get('address_type', 'random'))
        self.rssi = int(opts.get('rssi', -60))
        self.mtu = int(opts.get('mtu', 247))
        self.present = bool(opts.get('present', True))
        self.connect_failures = int(opts.get('connect_failures', 0))
        self.connect_delay_ms = int(opts.get('connect_delay_ms', 0))
        self.trusted = bool(opts.get('trusted', False))
        self.known = bool(opts.get('known', False))     # not temporary
        self.obj = None                 # Device1 mock object while exported
        self.connected = False
        self.resolved = False
        self.gatt_exported = False
        self.pending = None             # (reply, error) of a pending Connect
        self.disconnects = []           # replies of pending Disconnect calls
        self.disconnect_timer = None
        self.connect_timer = None
        self.link_gen = 0               # invalidates stale timers
        self.auto_connect_disabled = False
        self.auto_timer = None
        self.temp_timer = None
        self.services = self._build_gatt()

    # ---- GATT layout

    def _build_gatt(self):
        service_uuid, _, chars = KINDS[self.kind]
        layout = [('1801', [('2a05', ('indicate',), b'')]), (service_uuid, chars)]
        if self.battery_as in ('battery1', 'gatt'):
            layout.append(('180f', [('2a19', ('read', 'notify'), bytes([self.battery]))]))
        layout.append(('180a', [('2a29', ('read',), b'Pacer Test'), ('2a24', ('read',), MODELS[self.kind])]))
        handle = FIRST_HANDLE
        services = []
        for suuid, clist in layout:
            svc = Service(self, suuid, handle)
            handle += 1
            for cuuid, flags, value in clist:
                c = Chrc(svc, cuuid, flags, value, handle)
                svc.chrcs.append(c)
                handle = c.last_handle + 1
            services.append(svc)
        return services

    def chrcs(self):
        return [c for s in self.services for c in s.chrcs]

    def chrc(self, uuid):
        u = uuid128(uuid)
        for c in self.chrcs():
            if c.uuid == u:
                return c
        raise invalid_args(f'{self.address} has no characteristic {uuid}')

    def advertised_uuids(self):
        return [uuid128(KINDS[self.kind][0])]

    def resolved_uuids(self):
        return sorted({uuid128('1800'), uuid128('1801')} | {s.uuid for s in self.services})

    def service_uuids(self):
        return {s.uuid for s in self.services}

    def state(self):
        return {
            'address': self.address, 'name': self.name, 'kind': self.kind,
            'battery': self.battery, 'battery_as': self.battery_as,
            'address_type': self.address_type, 'rssi': self.rssi, 'mtu': self.mtu,
            'present': self.present, 'connect_failures': self.connect_failures,
            'connect_delay_ms': self.connect_delay_ms, 'trusted': self.trusted,
            'known': self.known,
            'values': {c.uuid16: c.value.hex() for c in self.chrcs()},
        }

    # ---- Device1 object

    def device_props(self, with_rssi):
        p = {
            'Address': dbus.String(self.address),
            'AddressType': dbus.String(self.address_type),
            'Name': dbus.String(self.name),
            'Alias': dbus.String(self.name or self.address.replace(':', '-')),
        }
        appearance = KINDS[self.kind][1]
        if appearance is not None:
            p['Appearance'] = dbus.UInt16(appearance)
        p.update({
            'Paired': dbus.Boolean(False),
            'Trusted': dbus.Boolean(self.trusted),
            'Blocked': dbus.Boolean(False),
            'LegacyPairing': dbus.Boolean(False),
        })
        if with_rssi:
            p['RSSI'] = dbus.Int16(self.rssi)
        p.update({
            'Connected': dbus.Boolean(False),
            'UUIDs': strings(self.resolved_uuids() if self.known else self.advertised_uuids()),
            'Adapter': dbus.ObjectPath(ADAPTER_PATH),
            'ServicesResolved': dbus.Boolean(False),
        })
        if with_rssi:
            p['AdvertisingFlags'] = ay(b'\x06')
        return p

    def export(self, with_rssi):
        self.obj = self.fake.new_object(self.path, {DEVICE_IFACE: self.device_props(with_rssi)})
        self.obj.sensor = self
        attach_props(self.obj)
        attach(self.obj, dev_Connect, dev_Disconnect, dev_Pair, dev_CancelPairing,
               dev_ConnectProfile, dev_DisconnectProfile)
        self.fake.interfaces_added(self.obj)

    def seen(self):
        '''An advertisement of this sensor reached a discovering adapter.'''
        self.cancel_temp_timer()
        if self.obj is None:
            self.export(with_rssi=True)
        elif 'RSSI' not in self.obj.props[DEVICE_IFACE]:
            self.fake.set_props(self.obj, DEVICE_IFACE, {'RSSI': dbus.Int16(self.rssi)})

    def lose_rssi(self):
        if self.obj is not None and 'RSSI' in self.obj.props[DEVICE_IFACE]:
            del self.obj.props[DEVICE_IFACE]['RSSI']
            self.fake.props_changed(self.obj.path, DEVICE_IFACE, {}, ['RSSI'])

    def cancel_temp_timer(self):
        if self.temp_timer is not None:
            GLib.source_remove(self.temp_timer)
            self.temp_timer = None

    def start_temp_timer(self):
        '''bluetoothd removes temporary devices TemporaryTimeout s after
        they were last seen.'''
        self.cancel_temp_timer()
        if self.known or self.obj is None or self.connected or self.pending:
            return
        timeout = self.fake.temporary_timeout
        if timeout <= 0:
            return

        @guarded
        def expire():
            self.temp_timer = None
            if not self.known and not self.connected and not self.pending and self.obj:
                self.fake.log(f'temporary device {self.address} expired')
                self.remove()
            return False
        self.temp_timer = GLib.timeout_add(int(timeout * 1000), expire)

    def remove(self):
        '''Adapter1.RemoveDevice, or expiry of a temporary device.'''
        self.cancel_connect(err_failed('le-connection-abort-by-local'))
        self.link_down()
        self.cancel_temp_timer()
        if self.auto_timer is not None:
            GLib.source_remove(self.auto_timer)
            self.auto_timer = None
        if self.gatt_exported:
            for svc in reversed(self.services):
                for c in reversed(svc.chrcs):
                    c.sessions.clear()
                    c.notifying = False
                    if c.desc_path:
                        self.fake.remove_object(c.desc_path)
                    self.fake.remove_object(c.path)
                self.fake.remove_object(svc.path)
            self.gatt_exported = False
        if self.obj is not None:
            self.fake.remove_object(self.path)
            self.obj = None
        self.known = False

    # ---- connection

    def begin_connect(self, reply, error):
        self.known = True
        self.cancel_temp_timer()
        self.auto_connect_disabled = False
        self.pending = (reply, error)
        gen = self.link_gen

        @guarded
        def done():
            self.connect_timer = None
            if self.pending is None or gen != self.link_gen:
                return False
            reply_cb, error_cb = self.pending
            self.pending = None
            if not self.attempt_link():
                error_cb(err_failed('le-connection-abort-by-local'))
                self.maybe_auto_connect()
                return False
            reply_cb()
            return False
        self.connect_timer = GLib.timeout_add(max(self.connect_delay_ms, 0), done)

    def cancel_connect(self, exc):
        if self.pending is not None:
            _, error_cb = self.pending
            self.pending = None
            if self.connect_timer is not None:
                GLib.source_remove(self.connect_timer)
                self.connect_timer = None
            error_cb(exc)

    def attempt_link(self):
        '''One LE connection attempt: False if it fails; on success the link
        is up (Connected=true) and GATT resolution is scheduled.'''
        if not self.present or self.connect_failures > 0:
            if self.connect_failures > 0:
                self.connect_failures -= 1
            self.fake.log(f'connection attempt to {self.address} fails '
                          f'({"absent" if not self.present else "scripted failure"})')
            return False
        self.connected = True
        self.link_gen += 1
        self.fake.set_props(self.obj, DEVICE_IFACE, {'Connected': dbus.Boolean(True)})
        gen = self.link_gen
        GLib.idle_add(guarded(lambda: self.resolve(gen)))
        return True

    def resolve(self, gen):
        '''GATT discovery (or cache) done: export objects the first time,
        re-enable notify sessions, ServicesResolved=true, Battery1.'''
        if gen != self.link_gen or not self.connected:
            return False
        if not self.gatt_exported:
            for svc in self.services:
                self.fake.interfaces_added(self.fake.new_object(svc.path, {SERVICE_IFACE: svc.props()},
                                                                setup=attach_props))
                for c in svc.chrcs:
                    obj = self.fake.new_object(c.path, {CHRC_IFACE: c.props()}, setup=attach_props)
                    obj.chrc = c
                    attach(obj, chrc_ReadValue, chrc_WriteValue, chrc_StartNotify, chrc_StopNotify,
                           chrc_AcquireNotify, chrc_AcquireWrite)
                    self.fake.interfaces_added(obj)
                    if c.desc_path:
                        dobj = self.fake.new_object(c.desc_path, {DESC_IFACE: c.desc_props()},
                                                    setup=attach_props)
                        dobj.chrc = c
                        attach(dobj, desc_ReadValue, desc_WriteValue)
                        self.fake.interfaces_added(dobj)
            self.gatt_exported = True
            if list(self.obj.props[DEVICE_IFACE]['UUIDs']) != self.resolved_uuids():
                self.fake.set_props(self.obj, DEVICE_IFACE, {'UUIDs': strings(self.resolved_uuids())})
        for c in self.chrcs():
            for client in c.sessions:
                c.sessions[client] = True
            if c.sessions and not c.notifying:
                c.notifying = True
                self.fake.set_props(self.fake.obj(c.path), CHRC_IFACE, {'Notifying': dbus.Boolean(True)})
        self.resolved = True
        self.fake.set_props(self.obj, DEVICE_IFACE, {'ServicesResolved': dbus.Boolean(True)})
        if self.battery_as == 'battery1':
            self.obj.props[BATTERY_IFACE] = {'Percentage': dbus.Byte(self.battery)}
            self.fake.interfaces_added(self.obj, [BATTERY_IFACE])
        return False

    def request_disconnect(self, reply):
        '''Device1.Disconnect (device_request_disconnect()): a pending
        Connect fails with "Cancelled"; the link goes down after
        disconnect_delay_ms (bluetoothd waits up to 2 s for profiles before
        it drops the link; the fake defaults to 0).  Meanwhile the device is
        "disconnecting": still connected, StartNotify says NotConnected.'''
        if not self.trusted:
            self.auto_connect_disabled = True
        self.cancel_connect(err_failed('Cancelled'))
        if not self.connected:
            reply()
            return
        self.disconnects.append(reply)
        if self.disconnect_timer is not None:
            return
        delay = self.fake.disconnect_delay_ms
        if delay <= 0:
            self.link_down()
            return

        @guarded
        def drop():
            self.disconnect_timer = None
            self.link_down()
            return False
        self.disconnect_timer = GLib.timeout_add(delay, drop)

    @property
    def disconnecting(self):
        return self.disconnect_timer is not None

    def link_down(self):
        '''The link is gone (Disconnect or link loss): acquired notify
        sockets are shut down, ServicesResolved=false, Battery1 removed,
        pending Disconnect calls answered, then Connected=false (the order
        of bluetoothd's att_disconnected_cb() and device_remove_connection()).'''
        if self.disconnect_timer is not None:
            GLib.source_remove(self.disconnect_timer)
            self.disconnect_timer = None
        if not self.connected:
            return False
        self.link_gen += 1
        for c in self.chrcs():
            if c.acq is not None:
                self.fake.release_acquired(c, shutdown=True)
            for client in c.sessions:
                c.sessions[client] = False
        if self.resolved:
            self.resolved = False
            self.fake.set_props(self.obj, DEVICE_IFACE, {'ServicesResolved': dbus.Boolean(False)})
        if BATTERY_IFACE in self.obj.props:
            del self.obj.props[BATTERY_IFACE]
            self.fake.emit('/', OM_IFACE, 'InterfacesRemoved', 'oas',
                           [dbus.ObjectPath(self.path), strings([BATTERY_IFACE])])
        self.connected = False
        while self.disconnects:
            self.disconnects.pop(0)()
        self.fake.set_props(self.obj, DEVICE_IFACE, {'Connected': dbus.Boolean(False)})
        return True

    # ---- auto-connect (GattProfile1)

    def maybe_auto_connect(self):
        if (self.auto_timer is not None or self.connected or self.pending or not self.known
                or self.auto_connect_disabled or not self.present or self.obj is None
                or not self.fake.profile_wants(self)):
            return

        @guarded
        def attempt():
            self.auto_timer = None
            if self.connected or self.pending or self.auto_connect_disabled or self.obj is None:
                return False
            if not self.fake.profile_wants(self):
                return False
            self.fake.log(f'auto-connecting {self.address}')
            if not self.attempt_link():
                self.maybe_auto_connect()
            return False
        self.auto_timer = GLib.timeout_add(self.fake.auto_connect_delay_ms, attempt)

    # ---- data from the sensor

    def notify(self, c, data):
        '''The sensor sends a notification; returns the number of deliveries.'''
        data = bytes(data)
        if len(data) > self.mtu - 3:
            raise invalid_args(f'notification of {len(data)} bytes exceeds MTU {self.mtu} - 3')
        if not self.connected:
            return 0
        delivered = 0
        if c.uuid16 == '2a19' and len(data) == 1:
            self.battery = data[0]
            c.value = data
            if self.battery_as == 'battery1':
                # bluetoothd's battery plugin has its own subscription
                self.set_battery_prop(data[0])
        if c.acq is not None:
            try:
                c.acq.sock.send(data)
                c.delivered += 1
                delivered += 1
            except BlockingIOError:
                c.dropped += 1
                self.fake.log(f'sendmsg: Resource temporarily unavailable ({c.path})')
            except OSError as e:
                self.fake.log(f'sendmsg: {e} ({c.path})')
                self.fake.release_acquired(c, shutdown=False)
        elif any(c.sessions.values()):
            c.cached = data
            self.fake.set_props(self.fake.obj(c.path), CHRC_IFACE, {'Value': ay(data)}, force=True)
            c.delivered += 1
            delivered += 1
        return delivered

    def set_battery_prop(self, percent):
        if BATTERY_IFACE in (self.obj.props if self.obj else {}):
            if self.obj.props[BATTERY_IFACE]['Percentage'] != percent:
                self.fake.set_props(self.obj, BATTERY_IFACE, {'Percentage': dbus.Byte(percent)})


# --------------------------------------------------------------------------
# The fake bluetoothd
# --------------------------------------------------------------------------

class Fake:     # pylint: disable=too-many-instance-attributes,too-many-public-methods
    def __init__(self, mock, params):
        self.mock = mock
        self.bus = mock.bus_name.get_bus()
        self.sensors = {}
        self.discovery = []         # clients with a discovery session
        self.filters = {}           # client -> filter dict
        self.apps = {}              # (client, path) -> [profile UUIDs]
        self.agents = {}            # agent path -> (client, capability)
        self.temporary_timeout = float(params.get('temporary_timeout', 30))
        self.auto_connect_delay_ms = int(params.get('auto_connect_delay_ms', 100))
        self.disconnect_delay_ms = int(params.get('disconnect_delay_ms', 0))
        adapter = params.get('adapter', {})
        self.adapter_address = adapter.get('address', '00:1A:7D:DA:71:13')
        self.adapter_name = adapter.get('name', 'pacer-test')
        self.quiet = False          # True while streams send: emit() does not log
        self.streams = {}           # address -> Stream (StartStreams)
        self.stream_timer = None

    def log(self, msg):
        self.mock.log(msg)

    # ---- objects and signals

    def obj(self, path):
        return mockobject.objects[path]

    def new_object(self, path, interfaces, setup=None):
        first = next(iter(interfaces))
        self.mock.AddObject(path, first, interfaces[first], [])
        o = mockobject.objects[path]
        for iface, props in interfaces.items():
            o.props[iface] = props
        o.props[INTROSPECT_IFACE] = {}
        o.props[PROPS_IFACE] = {}
        if setup:
            setup(o)
        return o

    def remove_object(self, path):
        o = mockobject.objects.get(path)
        if o is None:
            return
        ifaces = list(o.props)
        self.mock.RemoveObject(path)
        self.emit('/', OM_IFACE, 'InterfacesRemoved', 'oas', [dbus.ObjectPath(path), strings(ifaces)])

    def emit(self, path, iface, member, signature, args):
        '''Send a signal now.  bluetoothd's gdbus queues property changes
        but flushes them before it sends any other message, so what clients
        see is the order of the code; the fake keeps that order.'''
        msg = dbus.lowlevel.SignalMessage(path, iface, member)
        msg.append(*args, signature=signature)
        self.bus.send_message(msg)
        if not self.quiet:
            self.log(f'emit {path} {iface}.{member} {_fmt_args(args)}')

    def interfaces_added(self, o, only=None):
        ifaces = {i: dbus.Dictionary(p, signature='sv') for i, p in o.props.items()
                  if only is None or i in only}
        self.emit('/', OM_IFACE, 'InterfacesAdded', 'oa{sa{sv}}',
                  [dbus.ObjectPath(o.path), dbus.Dictionary(ifaces, signature='sa{sv}')])

    def props_changed(self, path, iface, changed, invalidated=()):
        self.emit(path, PROPS_IFACE, 'PropertiesChanged', 'sa{sv}as',
                  [iface, dbus.Dictionary(changed, signature='sv'), strings(invalidated)])

    def set_props(self, o, iface, changed, force=False):
        '''Update properties and signal those that changed (force: signal
        even if equal, as bluetoothd does for Value).'''
        props = o.props[iface]
        really = {k: v for k, v in changed.items() if force or k not in props or props[k] != v
                  or type(props[k]) != type(v)}  # noqa: E721
        props.update(changed)
        if really:
            self.props_changed(o.path, iface, really)

    def set_prop(self, o, iface, name, value):
        self.set_props(o, iface, {name: value})

    # ---- clients

    def client_gone(self, client):
        for c in [c for s in self.sensors.values() for c in s.chrcs()]:
            if client in c.sessions:
                del c.sessions[client]
                self.update_notifying(c)
        self.filters.pop(client, None)
        if client in self.discovery:
            self.discovery.remove(client)
            if not self.discovery:
                self.discovery_stopped()
        for key in [k for k in self.apps if k[0] == client]:
            del self.apps[key]
        for path in [p for p, (owner, _) in self.agents.items() if owner == client]:
            del self.agents[path]

    def update_notifying(self, c):
        if c.notifying and not any(c.sessions.values()):
            c.notifying = False
            if c.sensor.gatt_exported:
                self.set_props(self.obj(c.path), CHRC_IFACE, {'Notifying': dbus.Boolean(False)})

    # ---- acquired notify sockets

    def release_acquired(self, c, shutdown):
        acq = c.acq
        if acq is None:
            return
        c.acq = None
        if acq.watch is not None:
            GLib.source_remove(acq.watch)
        try:
            if shutdown:
                acq.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        acq.sock.close()
        if c.sensor.gatt_exported and c.path in mockobject.objects:
            self.set_props(self.obj(c.path), CHRC_IFACE, {'NotifyAcquired': dbus.Boolean(False)})

    # ---- discovery

    def adapter(self):
        return self.obj(ADAPTER_PATH)

    def filter_matches(self, flt, s):
        transport = flt.get('Transport', 'auto')
        if transport == 'bredr':
            return False
        uuids = flt.get('UUIDs')
        if uuids and not set(uuids) & set(s.advertised_uuids()):
            return False
        if 'RSSI' in flt and s.rssi < flt['RSSI']:
            return False
        pattern = flt.get('Pattern')
        if pattern and not (s.address.startswith(pattern.upper()) or s.name.startswith(pattern)):
            return False
        return True

    def visible(self, s):
        if not self.discovery or not s.present or s.connected:
            return False
        for client in self.discovery:
            flt = self.filters.get(client)
            if not flt or self.filter_matches(flt, s):
                return True
        return False

    def scan(self):
        for s in list(self.sensors.values()):
            if self.visible(s):
                s.seen()
        return False

    def discovery_stopped(self):
        # as bluetoothd: RSSI goes first, then Discovering
        for s in self.sensors.values():
            s.lose_rssi()
        self.set_prop(self.adapter(), ADAPTER_IFACE, 'Discovering', dbus.Boolean(False))
        for s in self.sensors.values():
            s.start_temp_timer()

    # ---- GattManager1 applications

    def profile_wants(self, s):
        wanted = {u for uuids in self.apps.values() for u in uuids}
        return bool(wanted & s.service_uuids())

    def sensor(self, address):
        s = self.sensors.get(str(address).upper())
        if s is None:
            raise invalid_args(f'no sensor {address}')
        return s

    def add_sensor(self, opts):
        s = Sensor(self, opts)
        if s.address in self.sensors:
            raise invalid_args(f'sensor {s.address} exists')
        for uuid16, hexval in dict(opts.get('values', {})).items():
            s.chrc(uuid16).value = bytes.fromhex(hexval)
        self.sensors[s.address] = s
        if s.known:
            s.export(with_rssi=False)
        elif self.visible(s):
            s.seen()
        return s


# --------------------------------------------------------------------------
# Adapter1, GattManager1
# --------------------------------------------------------------------------

FILTER_TYPES = {'UUIDs': 'as', 'RSSI': 'n', 'Pathloss': 'q', 'Transport': 's', 'DuplicateData': 'b',
                'Discoverable': 'b', 'Pattern': 's'}


def _variant_sig(value):
    if isinstance(value, dbus.Array):
        return 'a' + (value.signature or 's')
    return {dbus.Int16: 'n', dbus.UInt16: 'q', dbus.String: 's', dbus.Boolean: 'b'}.get(type(value), '?')


@method(ADAPTER_IFACE, 'a{sv}', '')
def ad_SetDiscoveryFilter(obj, flt, sender=None, message=None):
    parsed = {}
    for key, value in flt.items():
        if key not in FILTER_TYPES or _variant_sig(value) != FILTER_TYPES[key]:
            raise err_bluez_invalid_args()
        if key == 'UUIDs':
            try:
                parsed[key] = [uuid128(u) for u in value]
            except dbus.exceptions.DBusException:
                raise err_bluez_invalid_args() from None
        elif key in ('RSSI', 'Pathloss'):
            parsed[key] = int(value)
        elif key == 'Transport':
            if value not in ('auto', 'bredr', 'le'):
                raise err_bluez_invalid_args()
            parsed[key] = str(value)
        elif key == 'Pattern':
            parsed[key] = str(value)
        else:
            parsed[key] = bool(value)
    if 'RSSI' in parsed and 'Pathloss' in parsed:
        raise err_bluez_invalid_args()
    if parsed:
        FAKE.filters[sender] = parsed
    else:
        FAKE.filters.pop(sender, None)
    if FAKE.discovery:
        GLib.idle_add(guarded(FAKE.scan))


@method(ADAPTER_IFACE, '', '', is_async=True)
def ad_StartDiscovery(obj, sender=None, message=None, reply=None, error=None):
    if sender in FAKE.discovery:
        raise bluez_error('InProgress', 'Operation already in progress')
    first = not FAKE.discovery
    FAKE.discovery.append(sender)
    reply()
    if first:
        FAKE.set_prop(obj, ADAPTER_IFACE, 'Discovering', dbus.Boolean(True))
    GLib.idle_add(guarded(FAKE.scan))


@method(ADAPTER_IFACE, '', '', is_async=True)
def ad_StopDiscovery(obj, sender=None, message=None, reply=None, error=None):
    if sender not in FAKE.discovery:
        raise err_failed('No discovery started')
    FAKE.discovery.remove(sender)
    reply()
    if not FAKE.discovery:
        FAKE.discovery_stopped()


@method(ADAPTER_IFACE, 'o', '')
def ad_RemoveDevice(obj, path, sender=None, message=None):
    for s in FAKE.sensors.values():
        if s.path == path and s.obj is not None:
            s.remove()
            if FAKE.discovery:      # still advertising: found again
                GLib.idle_add(guarded(FAKE.scan))
            return
    raise err_does_not_exist()


@method(ADAPTER_IFACE, '', 'as')
def ad_GetDiscoveryFilters(obj, sender=None, message=None):
    return strings(['UUIDs', 'RSSI', 'Pathloss', 'Transport', 'DuplicateData', 'Discoverable', 'Pattern'])


@method(GATT_MANAGER_IFACE, 'oa{sv}', '', is_async=True)
def gm_RegisterApplication(obj, app, options, sender=None, message=None, reply=None, error=None):
    key = (str(sender), str(app))
    if key in FAKE.apps:
        raise bluez_error('AlreadyExists', 'Already Exists')

    def got_objects(objects):
        uuids = []
        for _path, ifaces in objects.items():
            profile = ifaces.get(GATT_PROFILE_IFACE)
            if profile is not None:
                uuids.extend(uuid128(u) for u in profile.get('UUIDs', []))
        FAKE.apps[key] = uuids
        FAKE.log(f'application {key} registered, profile UUIDs {uuids}')
        reply()
        for s in FAKE.sensors.values():
            s.maybe_auto_connect()

    def failed(exc):
        FAKE.log(f'application {key}: GetManagedObjects failed: {exc}')
        error(err_failed('Failed to read application objects'))

    FAKE.bus.call_async(sender, app, OM_IFACE, 'GetManagedObjects', '', [],
                        guarded(got_objects), guarded(failed))


@method(GATT_MANAGER_IFACE, 'o', '')
def gm_UnregisterApplication(obj, app, sender=None, message=None):
    if FAKE.apps.pop((str(sender), str(app)), None) is None:
        raise err_does_not_exist()


# D-Bus member names must not carry the prefixes above
for _fn, _name in ((ad_SetDiscoveryFilter, 'SetDiscoveryFilter'), (ad_StartDiscovery, 'StartDiscovery'),
                   (ad_StopDiscovery, 'StopDiscovery'), (ad_RemoveDevice, 'RemoveDevice'),
                   (ad_GetDiscoveryFilters, 'GetDiscoveryFilters'),
                   (gm_RegisterApplication, 'RegisterApplication'),
                   (gm_UnregisterApplication, 'UnregisterApplication')):
    _fn.__name__ = _name


# --------------------------------------------------------------------------
# Device1
# --------------------------------------------------------------------------

@method(DEVICE_IFACE, '', '', is_async=True)
def dev_Connect(obj, sender=None, message=None, reply=None, error=None):
    s = obj.sensor
    if s.connected:         # also while disconnecting
        reply()
        return
    if s.pending is not None:
        # device_connect_le() returns -EALREADY, dev_connect() strerror()s it
        raise err_failed('Operation already in progress')
    s.begin_connect(reply, error)


@method(DEVICE_IFACE, '', '', is_async=True)
def dev_Disconnect(obj, sender=None, message=None, reply=None, error=None):
    obj.sensor.request_disconnect(reply)


@method(DEVICE_IFACE, '', '')
def dev_Pair(obj, sender=None, message=None):
    raise bluez_error('AuthenticationFailed', 'Authentication Failed')


@method(DEVICE_IFACE, '', '')
def dev_CancelPairing(obj, sender=None, message=None):
    raise err_does_not_exist()


@method(DEVICE_IFACE, 's', '')
def dev_ConnectProfile(obj, uuid, sender=None, message=None):
    raise err_not_supported()


@method(DEVICE_IFACE, 's', '')
def dev_DisconnectProfile(obj, uuid, sender=None, message=None):
    raise err_not_supported()


for _fn in (dev_Connect, dev_Disconnect, dev_Pair, dev_CancelPairing, dev_ConnectProfile,
            dev_DisconnectProfile):
    _fn.__name__ = _fn.__name__[4:]


# --------------------------------------------------------------------------
# GattCharacteristic1, GattDescriptor1
# --------------------------------------------------------------------------

def _parse_options(options, allowed):
    parsed = {}
    for key, value in options.items():
        if key == 'offset':
            if not isinstance(value, dbus.UInt16):
                raise err_bluez_invalid_args()
            parsed[key] = int(value)
        elif key == 'type' and 'type' in allowed:
            parsed[key] = str(value)
        elif key in ('mtu', 'device', 'link', 'prepare-authorize'):
            parsed[key] = value
    return parsed


@method(CHRC_IFACE, 'a{sv}', 'ay')
def chrc_ReadValue(obj, options, sender=None, message=None):
    c = obj.chrc
    if not c.sensor.connected:
        raise err_failed('Not connected')
    offset = _parse_options(options, ()).get('offset', 0)
    if 'read' not in c.flags:
        raise err_not_permitted('Read not permitted')
    if offset > len(c.value):
        raise bluez_error('InvalidOffset', 'Invalid offset')
    c.reads += 1
    c.cached = c.value
    # bluetoothd flushes Value before it answers the read
    FAKE.set_props(obj, CHRC_IFACE, {'Value': ay(c.value)}, force=True)
    return ay(c.value[offset:])


@method(CHRC_IFACE, 'aya{sv}', '')
def chrc_WriteValue(obj, value, options, sender=None, message=None):
    c = obj.chrc
    if not c.sensor.connected:
        raise err_failed('Not connected')
    _parse_options(options, ('type',))
    if not {'write', 'write-without-response', 'reliable-write'} & set(c.flags):
        raise err_not_supported()
    c.value = bytes(value)


@method(CHRC_IFACE, '', '')
def chrc_StartNotify(obj, sender=None, message=None):
    c = obj.chrc
    if c.sensor.disconnecting:
        raise bluez_error('NotConnected', 'Not Connected')
    if c.acq is not None:
        raise err_not_permitted('Notify acquired')
    if not c.can_notify:
        raise err_not_supported()
    if sender in c.sessions:
        if c.sessions[sender]:
            return
        raise err_in_progress()
    active = c.sensor.connected
    c.sessions[sender] = active
    if active and not c.notifying:
        c.notifying = True
        FAKE.set_props(obj, CHRC_IFACE, {'Notifying': dbus.Boolean(True)})


@method(CHRC_IFACE, '', '')
def chrc_StopNotify(obj, sender=None, message=None):
    c = obj.chrc
    if c.acq is not None:
        FAKE.release_acquired(c, shutdown=True)
        return
    if sender not in c.sessions:
        raise err_failed('No notify session started')
    del c.sessions[sender]
    FAKE.update_notifying(c)


@method(CHRC_IFACE, 'a{sv}', 'hq')
def chrc_AcquireNotify(obj, options, sender=None, message=None):
    c = obj.chrc
    if not c.sensor.connected:
        raise err_failed('Not connected')
    if c.acq is not None:
        raise err_not_permitted('Notify acquired')
    if c.sessions:
        raise err_in_progress()
    if 'notify' not in c.flags:
        raise err_not_supported()
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setblocking(False)
    c.acq = Acquired(ours, sender)

    @guarded
    def hup(_channel, _condition):
        if c.acq is not None and c.acq.sock is ours:
            FAKE.log(f'{c.path}: notify socket closed by the client')
            c.acq.watch = None
            FAKE.release_acquired(c, shutdown=False)
        return False
    c.acq.watch = GLib.io_add_watch(GLib.IOChannel.unix_new(ours.fileno()), GLib.PRIORITY_DEFAULT,
                                    GLib.IOCondition.HUP | GLib.IOCondition.ERR, hup)
    fd = dbus.types.UnixFd(theirs)
    theirs.close()
    FAKE.set_props(obj, CHRC_IFACE, {'NotifyAcquired': dbus.Boolean(True)})
    return (fd, dbus.UInt16(c.sensor.mtu))


@method(CHRC_IFACE, 'a{sv}', 'hq')
def chrc_AcquireWrite(obj, options, sender=None, message=None):
    c = obj.chrc
    if not c.sensor.connected:
        raise err_failed('Not connected')
    raise err_not_supported()


@method(DESC_IFACE, 'a{sv}', 'ay')
def desc_ReadValue(obj, options, sender=None, message=None):
    c = obj.chrc
    if not c.sensor.connected:
        raise err_failed('Not connected')
    _parse_options(options, ())
    value = b'\x01\x00' if (c.notifying or c.acq is not None) else b'\x00\x00'
    FAKE.set_props(obj, DESC_IFACE, {'Value': ay(value)}, force=True)
    return ay(value)


@method(DESC_IFACE, 'aya{sv}', '')
def desc_WriteValue(obj, value, options, sender=None, message=None):
    if not obj.chrc.sensor.connected:
        raise err_failed('Not connected')
    raise err_not_permitted('Write not permitted')


for _fn in (chrc_ReadValue, chrc_WriteValue, chrc_StartNotify, chrc_StopNotify, chrc_AcquireNotify,
            chrc_AcquireWrite):
    _fn.__name__ = _fn.__name__[5:]
for _fn in (desc_ReadValue, desc_WriteValue):
    _fn.__name__ = _fn.__name__[5:]


# --------------------------------------------------------------------------
# /org/bluez: AgentManager1, ProfileManager1
# --------------------------------------------------------------------------

AGENT_CAPS = ('DisplayOnly', 'DisplayYesNo', 'KeyboardOnly', 'NoInputNoOutput', 'KeyboardDisplay', '')


@method(AGENT_MANAGER_IFACE, 'os', '')
def RegisterAgent(obj, path, capability, sender=None, message=None):
    if str(path) in FAKE.agents:
        raise bluez_error('AlreadyExists', 'Already Exists')
    if capability not in AGENT_CAPS:
        raise err_bluez_invalid_args()
    FAKE.agents[str(path)] = (str(sender), str(capability))


@method(AGENT_MANAGER_IFACE, 'o', '')
def UnregisterAgent(obj, path, sender=None, message=None):
    if FAKE.agents.pop(str(path), None) is None:
        raise err_does_not_exist()


@method(AGENT_MANAGER_IFACE, 'o', '')
def RequestDefaultAgent(obj, path, sender=None, message=None):
    if str(path) not in FAKE.agents:
        raise err_does_not_exist()


@method(PROFILE_MANAGER_IFACE, 'osa{sv}', '')
def RegisterProfile(obj, path, uuid, options, sender=None, message=None):
    pass


@method(PROFILE_MANAGER_IFACE, 'o', '')
def UnregisterProfile(obj, path, sender=None, message=None):
    pass


# --------------------------------------------------------------------------
# ObjectManager on /
# --------------------------------------------------------------------------

@method(OM_IFACE, '', 'a{oa{sa{sv}}}')
def GetManagedObjects(obj, sender=None, message=None):
    result = {}
    for path, o in mockobject.objects.items():
        if path == '/':
            continue
        result[dbus.ObjectPath(path)] = dbus.Dictionary(
            {i: dbus.Dictionary(p, signature='sv') for i, p in o.props.items()}, signature='sa{sv}')
    return dbus.Dictionary(result, signature='oa{sa{sv}}')


# --------------------------------------------------------------------------
# Test control: org.pacer.FakeBlueZ on /
# --------------------------------------------------------------------------

def _unwrap(value):
    if isinstance(value, (dbus.Boolean,)):
        return bool(value)
    if isinstance(value, (dbus.Byte, dbus.Int16, dbus.Int32, dbus.Int64, dbus.UInt16, dbus.UInt32,
                          dbus.UInt64)):
        return int(value)
    if isinstance(value, (dbus.String, dbus.ObjectPath)):
        return str(value)
    if isinstance(value, dbus.Array):
        return [_unwrap(v) for v in value]
    if isinstance(value, dbus.Dictionary):
        return {str(k): _unwrap(v) for k, v in value.items()}
    return value


@method(CONTROL_IFACE, 'sssis', 'o')
def AddSensor(obj, address, name, kind, battery, battery_as, sender=None, message=None):
    s = FAKE.add_sensor({'address': address, 'name': name, 'kind': kind, 'battery': battery,
                         'battery_as': battery_as})
    return dbus.ObjectPath(s.path)


@method(CONTROL_IFACE, 'a{sv}', 'o')
def AddSensorFull(obj, options, sender=None, message=None):
    opts = _unwrap(options)
    if 'address' not in opts:
        raise invalid_args('address is required')
    return dbus.ObjectPath(FAKE.add_sensor(opts).path)


@method(CONTROL_IFACE, 'ssay', 'u', log=False)
def Notify(obj, address, uuid, value, sender=None, message=None):
    s = FAKE.sensor(address)
    return dbus.UInt32(s.notify(s.chrc(uuid), bytes(value)))


@method(CONTROL_IFACE, 'a(ssay)', 'u', log=False)
def NotifyMany(obj, items, sender=None, message=None):
    total = 0
    for address, uuid, value in items:
        s = FAKE.sensor(address)
        total += s.notify(s.chrc(uuid), bytes(value))
    return dbus.UInt32(total)


@method(CONTROL_IFACE, 'ssay', '')
def SetValue(obj, address, uuid, value, sender=None, message=None):
    FAKE.sensor(address).chrc(uuid).value = bytes(value)


@method(CONTROL_IFACE, 's', 'b')
def DropLink(obj, address, sender=None, message=None):
    s = FAKE.sensor(address)
    s.cancel_connect(err_failed('le-connection-abort-by-local'))
    dropped = s.link_down()
    if dropped:
        s.maybe_auto_connect()
    return dbus.Boolean(dropped)


@method(CONTROL_IFACE, 'sb', '')
def SetPresent(obj, address, present, sender=None, message=None):
    s = FAKE.sensor(address)
    s.present = bool(present)
    if not s.present:
        s.cancel_connect(err_failed('le-connection-abort-by-local'))
        s.link_down()
        if FAKE.discovery:
            s.start_temp_timer()
    else:
        if FAKE.visible(s):
            s.seen()
        s.maybe_auto_connect()


@method(CONTROL_IFACE, 'sn', '')
def SetRSSI(obj, address, rssi, sender=None, message=None):
    s = FAKE.sensor(address)
    s.rssi = int(rssi)
    if s.obj is not None and 'RSSI' in s.obj.props[DEVICE_IFACE]:
        FAKE.set_props(s.obj, DEVICE_IFACE, {'RSSI': dbus.Int16(s.rssi)})
    elif FAKE.visible(s):
        s.seen()


@method(CONTROL_IFACE, 'su', '')
def SetConnectFailures(obj, address, count, sender=None, message=None):
    FAKE.sensor(address).connect_failures = int(count)


@method(CONTROL_IFACE, 'su', '')
def SetConnectDelay(obj, address, ms, sender=None, message=None):
    FAKE.sensor(address).connect_delay_ms = int(ms)


@method(CONTROL_IFACE, 'sy', '')
def SetBattery(obj, address, percent, sender=None, message=None):
    s = FAKE.sensor(address)
    if s.battery_as == 'none':
        raise invalid_args(f'{s.address} has no battery')
    if percent > 100:
        raise invalid_args('percent must be 0..100')
    s.battery = int(percent)
    c = s.chrc('2a19')
    c.value = bytes([s.battery])
    if s.connected:
        s.notify(c, c.value)


@method(CONTROL_IFACE, 'ss', 'ub', log=False)
def GetNotifySessions(obj, address, uuid, sender=None, message=None):
    c = FAKE.sensor(address).chrc(uuid)
    return (dbus.UInt32(len(c.sessions)), dbus.Boolean(c.acq is not None))


@method(CONTROL_IFACE, 'ss', 'a{sv}', log=False)
def GetCharacteristic(obj, address, uuid, sender=None, message=None):
    c = FAKE.sensor(address).chrc(uuid)
    return dbus.Dictionary({
        'path': dbus.ObjectPath(c.path),
        'notifying': dbus.Boolean(c.notifying),
        'sessions': dbus.UInt32(len(c.sessions)),
        'active_sessions': dbus.UInt32(sum(1 for a in c.sessions.values() if a)),
        'acquired': dbus.Boolean(c.acq is not None),
        'delivered': dbus.UInt32(c.delivered),
        'dropped': dbus.UInt32(c.dropped),
        'reads': dbus.UInt32(c.reads),
    }, signature='sv')


@method(CONTROL_IFACE, 's', 'a{sv}', log=False)
def GetDevice(obj, address, sender=None, message=None):
    s = FAKE.sensor(address)
    return dbus.Dictionary({
        'path': dbus.ObjectPath(s.path),
        'exported': dbus.Boolean(s.obj is not None),
        'known': dbus.Boolean(s.known),
        'present': dbus.Boolean(s.present),
        'connected': dbus.Boolean(s.connected),
        'services_resolved': dbus.Boolean(s.resolved),
        'connecting': dbus.Boolean(s.pending is not None),
        'disconnecting': dbus.Boolean(s.disconnecting),
        'auto_connect': dbus.Boolean(s.known and not s.auto_connect_disabled and FAKE.profile_wants(s)),
        'auto_connect_disabled': dbus.Boolean(s.auto_connect_disabled),
        'connect_failures': dbus.UInt32(s.connect_failures),
        'battery': dbus.Int32(s.battery),
    }, signature='sv')


@method(CONTROL_IFACE, '', 'a{sa{sv}}', log=False)
def GetDiscoveryFilters(obj, sender=None, message=None):
    out = {}
    for client, flt in FAKE.filters.items():
        d = {}
        for k, v in flt.items():
            if k == 'UUIDs':
                d[k] = strings(v)
            elif k == 'RSSI':
                d[k] = dbus.Int16(v)
            elif k == 'Pathloss':
                d[k] = dbus.UInt16(v)
            elif isinstance(v, bool):
                d[k] = dbus.Boolean(v)
            else:
                d[k] = dbus.String(v)
        out[client] = dbus.Dictionary(d, signature='sv')
    return dbus.Dictionary(out, signature='sa{sv}')


@method(CONTROL_IFACE, '', 'as', log=False)
def GetDiscoverySessions(obj, sender=None, message=None):
    return strings(FAKE.discovery)


@method(CONTROL_IFACE, '', 'a(soas)', log=False)
def GetApplications(obj, sender=None, message=None):
    return dbus.Array([dbus.Struct((k[0], dbus.ObjectPath(k[1]), strings(v)))
                       for k, v in FAKE.apps.items()], signature='(soas)')


@method(CONTROL_IFACE, 'u', '')
def SetTemporaryTimeout(obj, seconds, sender=None, message=None):
    FAKE.temporary_timeout = int(seconds)


@method(CONTROL_IFACE, 'u', '')
def SetDisconnectDelay(obj, ms, sender=None, message=None):
    FAKE.disconnect_delay_ms = int(ms)


@method(CONTROL_IFACE, '', 's', log=False)
def GetState(obj, sender=None, message=None):
    return json.dumps({
        'temporary_timeout': FAKE.temporary_timeout,
        'auto_connect_delay_ms': FAKE.auto_connect_delay_ms,
        'disconnect_delay_ms': FAKE.disconnect_delay_ms,
        'adapter': {'address': FAKE.adapter_address, 'name': FAKE.adapter_name},
        'sensors': [s.state() for s in FAKE.sensors.values()],
    })


# --------------------------------------------------------------------------
# Streams (StartStreams): steady generated measurements for benchmarks
# --------------------------------------------------------------------------

STREAM_TICK_MS = 2
STREAM_UUIDS = {'heart_rate': '2a37', 'footpod': '2a53'}


class Stream:   # pylint: disable=too-many-instance-attributes
    '''count notifications of one sensor at rate_hz (wall clock), each a
    simulated step of sim_interval_s; see CONTROL_API.'''

    def __init__(self, sensor, rate_hz, sim_interval_s, count, phase):
        if sensor.kind not in STREAM_UUIDS:
            raise invalid_args(f'{sensor.address}: no stream for a {sensor.kind}')
        if not rate_hz > 0 or not sim_interval_s > 0 or count <= 0:
            raise invalid_args(f'{sensor.address}: rate_hz and sim_interval_s must be > 0, count >= 1')
        self.sensor = sensor
        self.chrc = sensor.chrc(STREAM_UUIDS[sensor.kind])
        self.kind = sensor.kind
        self.period_ns = 1e9 / rate_hz
        self.sim_interval_s = sim_interval_s
        self.count = count
        self.phase = phase          # streams of the same kind differ a little
        self.index = 0              # next notification
        self.start_ns = 0
        self.sent = []              # (key, monotonic ns) of delivered ones
        self.undelivered = 0
        self.energy = 0
        self.distance_m = 0.0
        self.distance_dm = 0

    @property
    def done(self):
        return self.index >= self.count

    def payload(self):
        '''The notification for step self.index, and its key.'''
        t = (self.index + 1) * self.sim_interval_s        # simulated seconds
        if self.kind == 'heart_rate':
            hr = int(round(145 + 25 * math.sin(2 * math.pi * t / 600.0 + self.phase)))
            self.energy = (self.energy + 1) & 0xffff
            rr = int(round(60.0 / hr * 1024))
            return bytes([0x18, hr]) + self.energy.to_bytes(2, 'little') + rr.to_bytes(2, 'little'), self.energy
        speed = 3.3 + 0.2 * math.sin(2 * math.pi * t / 300.0 + self.phase)
        speed_raw = int(round(speed * 256))
        cadence = int(round(87.5 + 2.5 * math.sin(2 * math.pi * t / 240.0 + self.phase)))
        self.distance_m += speed_raw / 256.0 * self.sim_interval_s
        self.distance_dm = max(self.distance_dm + 1, int(round(self.distance_m * 10))) & 0xffffffff
        return (bytes([0x06]) + speed_raw.to_bytes(2, 'little') + bytes([cadence])
                + self.distance_dm.to_bytes(4, 'little')), self.distance_dm

    def send_due(self, now_ns):
        '''Send every notification due by now_ns.'''
        while self.index < self.count and self.start_ns + self.index * self.period_ns <= now_ns:
            data, key = self.payload()
            self.index += 1
            t = time.monotonic_ns()
            if self.sensor.notify(self.chrc, data) > 0:
                self.sent.append((key, t))
            else:
                self.undelivered += 1


def _stream_tick():
    now = time.monotonic_ns()
    FAKE.quiet = True
    try:
        for st in FAKE.streams.values():
            st.send_due(now)
    except Exception:
        FAKE.stream_timer = None    # guarded() logs it; the streams end
        raise
    finally:
        FAKE.quiet = False
    if all(st.done for st in FAKE.streams.values()):
        FAKE.stream_timer = None
        FAKE.log('streams done: ' + ', '.join(f'{a} {len(st.sent)} sent {st.undelivered} undelivered'
                                              for a, st in FAKE.streams.items()))
        return False
    return True


@method(CONTROL_IFACE, 'a(sddu)', '')
def StartStreams(obj, streams, sender=None, message=None):
    if FAKE.stream_timer is not None:
        raise err_failed('Streams are running')
    new = {}
    for i, (address, rate_hz, sim_interval_s, count) in enumerate(streams):
        s = FAKE.sensor(address)
        if s.address in new:
            raise invalid_args(f'two streams for {s.address}')
        new[s.address] = Stream(s, float(rate_hz), float(sim_interval_s), int(count), phase=0.7 * i)
    if not new:
        raise invalid_args('no streams')
    FAKE.streams = new
    # together, but not phase-locked: stream i of n starts i/n of its period late
    start = time.monotonic_ns() + STREAM_TICK_MS * 1000000
    for i, st in enumerate(new.values()):
        st.start_ns = start + i * st.period_ns / len(new)
    FAKE.stream_timer = GLib.timeout_add(STREAM_TICK_MS, guarded(_stream_tick), priority=GLib.PRIORITY_HIGH)


@method(CONTROL_IFACE, 's', 'a(ut)u', log=False)
def GetStreamLog(obj, address, sender=None, message=None):
    st = FAKE.streams.get(str(address).upper())
    if st is None:
        FAKE.sensor(address)    # InvalidArgs for an unknown sensor
        return (dbus.Array([], signature='(ut)'), dbus.UInt32(0))
    return (dbus.Array([dbus.Struct((dbus.UInt32(k), dbus.UInt64(t))) for k, t in st.sent], signature='(ut)'),
            dbus.UInt32(st.undelivered))


@method(CONTROL_IFACE, '', 'b', log=False)
def StreamsRunning(obj, sender=None, message=None):
    return dbus.Boolean(FAKE.stream_timer is not None)


CONTROL_METHODS = (AddSensor, AddSensorFull, Notify, NotifyMany, SetValue, DropLink, SetPresent, SetRSSI,
                   SetConnectFailures, SetConnectDelay, SetBattery, GetNotifySessions, GetCharacteristic, GetDevice,
                   GetDiscoveryFilters, GetDiscoverySessions, GetApplications, SetTemporaryTimeout,
                   SetDisconnectDelay, GetState, StartStreams, GetStreamLog, StreamsRunning)


# --------------------------------------------------------------------------
# dbusmock entry point
# --------------------------------------------------------------------------

def load(mock, parameters):
    global FAKE     # pylint: disable=global-statement
    # python3 -m dbusmock registers '/' only after load() returns
    mockobject.objects['/'] = mock
    FAKE = Fake(mock, parameters or {})

    attach(mock, GetManagedObjects, *CONTROL_METHODS)

    bluez = FAKE.new_object('/org/bluez', {AGENT_MANAGER_IFACE: {}, PROFILE_MANAGER_IFACE: {}},
                            setup=attach_props)
    attach(bluez, RegisterAgent, UnregisterAgent, RequestDefaultAgent, RegisterProfile, UnregisterProfile)

    adapter = FAKE.new_object(ADAPTER_PATH, {
        ADAPTER_IFACE: {
            'Address': dbus.String(FAKE.adapter_address),
            'AddressType': dbus.String('public'),
            'Name': dbus.String(FAKE.adapter_name),
            'Alias': dbus.String(FAKE.adapter_name),
            'Class': dbus.UInt32(0),
            'Powered': dbus.Boolean(True),
            'Discoverable': dbus.Boolean(False),
            'DiscoverableTimeout': dbus.UInt32(180),
            'Pairable': dbus.Boolean(True),
            'PairableTimeout': dbus.UInt32(0),
            'Discovering': dbus.Boolean(False),
            'UUIDs': strings([uuid128('1800'), uuid128('1801'), uuid128('180a')]),
            'Modalias': dbus.String('usb:v1D6Bp0246d0542'),
            'Roles': strings(['central', 'peripheral']),
        },
        GATT_MANAGER_IFACE: {},
    }, setup=attach_props)
    attach(adapter, ad_SetDiscoveryFilter, ad_StartDiscovery, ad_StopDiscovery, ad_RemoveDevice,
           ad_GetDiscoveryFilters, gm_RegisterApplication, gm_UnregisterApplication)

    # bluetoothd announces its objects once it owns the name
    FAKE.interfaces_added(bluez)
    FAKE.interfaces_added(adapter)
    for opts in (parameters or {}).get('sensors', []):
        FAKE.add_sensor(opts)

    FAKE.bus.add_signal_receiver(
        guarded(lambda name, old, new: FAKE.client_gone(str(name))
                if name.startswith(':') and not new else None),
        signal_name='NameOwnerChanged', dbus_interface='org.freedesktop.DBus',
        bus_name='org.freedesktop.DBus', path='/org/freedesktop/DBus')
    FAKE.log('fake bluetoothd ready')

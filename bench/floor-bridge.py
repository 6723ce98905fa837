#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Start bench/floor-bridge (the floor under bench/run's bridges, measured in
the same harness): find each sensor through bluetoothd's D-Bus API, connect
it, AcquireNotify its measurement characteristic (as pacerd does), then
replace this process with the C relay, handing it the sockets. The D-Bus
connection stays open across exec (bluetoothd would close the sockets of a
client that left the bus); the relay never reads it.

    floor-bridge.py --broker HOST:PORT --topic-prefix PREFIX --address ADDR...
'''
import argparse
import os
import sys
import time

import dbus

HERE = os.path.dirname(os.path.abspath(__file__))
RELAY = os.path.join(os.path.dirname(HERE), 'build-bench', 'bench', 'floor-bridge')
MEASUREMENTS = {'00002a37-0000-1000-8000-00805f9b34fb': 'hr',
                '00002a53-0000-1000-8000-00805f9b34fb': 'rsc'}


def objects(bus):
    manager = dbus.Interface(bus.get_object('org.bluez', '/'), 'org.freedesktop.DBus.ObjectManager')
    return manager.GetManagedObjects()


def wait_for(what, predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f'floor-bridge: timed out waiting for {what}')
        time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--broker', required=True)
    ap.add_argument('--topic-prefix', required=True)
    ap.add_argument('--address', action='append', required=True)
    args = ap.parse_args()

    bus = dbus.SystemBus()
    adapter_path = '/org/bluez/hci0'
    adapter = dbus.Interface(bus.get_object('org.bluez', adapter_path), 'org.bluez.Adapter1')
    adapter.SetDiscoveryFilter({'Transport': 'le'})
    adapter.StartDiscovery()
    paths = {a.upper(): f'{adapter_path}/dev_{a.upper().replace(":", "_")}' for a in args.address}
    wait_for('the sensors to be seen', lambda: all(p in objects(bus) for p in paths.values()))
    for path in paths.values():
        dbus.Interface(bus.get_object('org.bluez', path), 'org.bluez.Device1').Connect(timeout=30)
    wait_for('services resolved', lambda: all(
        objects(bus)[p]['org.bluez.Device1'].get('ServicesResolved') for p in paths.values()))
    adapter.StopDiscovery()

    sensors = []
    managed = objects(bus)
    for address, dev in paths.items():
        found = [(p, MEASUREMENTS[str(i['org.bluez.GattCharacteristic1']['UUID']).lower()])
                 for p, i in managed.items()
                 if p.startswith(dev + '/') and 'org.bluez.GattCharacteristic1' in i
                 and str(i['org.bluez.GattCharacteristic1']['UUID']).lower() in MEASUREMENTS]
        if not found:
            raise SystemExit(f'floor-bridge: {address} has no heart-rate or RSC measurement')
        path, kind = found[0]
        chrc = dbus.Interface(bus.get_object('org.bluez', path), 'org.bluez.GattCharacteristic1')
        fd, _mtu = chrc.AcquireNotify(dbus.Dictionary({}, signature='sv'))
        sensors.append(f'{fd.take()}:{kind}:{address}')

    os.set_inheritable(bus.get_unix_fd(), True)
    for s in sensors:
        os.set_inheritable(int(s.split(':')[0]), True)
    host, _, port = args.broker.rpartition(':')
    if host not in ('', '127.0.0.1'):
        raise SystemExit('floor-bridge: the relay connects to 127.0.0.1 only')
    sys.stdout.flush()
    os.execv(RELAY, [RELAY, port, args.topic_prefix.rstrip('/') + '/raw/'] + sensors)


if __name__ == '__main__':
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''The BASELINE of Pacer's benchmark (bench/run): a BLE-to-MQTT bridge built
the way the popular Python BLE-to-MQTT gateways are built, on Debian's
python3-bleak and python3-paho-mqtt.  It is not part of Pacer.

For each --address it finds the sensor (BleakScanner.find_device_by_address),
connects (BleakClient), subscribes to its measurement characteristic (Heart
Rate Measurement 2A37 if the device has the Heart Rate service, else RSC
Measurement 2A53) with start_notify, decodes every notification in Python
(struct) and publishes one JSON message per notification, QoS 0, to
PREFIX/raw/<ADDRESS> (upper case, with colons) through paho's network thread
(loop_start).  The JSON keys are pacerd's raw keys (pacerctl decode):

    {"type":"heart_rate","hr_bpm":..,"contact":..,"energy_kj":..,"rr_ms":[..]}
    {"type":"rsc","speed_mps":..,"cadence_raw":..,"stride_m":..,"distance_m":..,"running":..}

Prints "ready" on stdout once every address is subscribed; exits cleanly
(status 0) on SIGTERM or SIGINT.

    /usr/bin/python3 bench/baseline-bridge.py --broker 127.0.0.1:1883 \\
        --topic-prefix baseline --address C0:FF:EE:00:00:01 [--address ...]
'''

import argparse
import asyncio
import json
import signal
import struct
import sys
import threading

import paho.mqtt.client as mqtt
from bleak import BleakClient, BleakScanner

HEART_RATE_SERVICE = '0000180d-0000-1000-8000-00805f9b34fb'
HEART_RATE_MEASUREMENT = '00002a37-0000-1000-8000-00805f9b34fb'
RSC_SERVICE = '00001814-0000-1000-8000-00805f9b34fb'
RSC_MEASUREMENT = '00002a53-0000-1000-8000-00805f9b34fb'
CONTACT = {2: 'not_detected', 3: 'detected'}


def decode_heart_rate(data):
    '''Heart Rate Measurement (0x2A37).'''
    flags = data[0]
    offset = 1
    if flags & 0x01:
        hr, = struct.unpack_from('<H', data, offset)
        offset += 2
    else:
        hr = data[offset]
        offset += 1
    energy = None
    if flags & 0x08:
        energy, = struct.unpack_from('<H', data, offset)
        offset += 2
    rr = []
    if flags & 0x10:
        n = (len(data) - offset) // 2
        rr = [v * 1000.0 / 1024.0 for v in struct.unpack_from(f'<{n}H', data, offset)]
    return {'type': 'heart_rate', 'hr_bpm': hr, 'contact': CONTACT.get((flags >> 1) & 3, 'unsupported'),
            'energy_kj': energy, 'rr_ms': rr}


def decode_rsc(data):
    '''RSC Measurement (0x2A53).'''
    flags, speed, cadence = struct.unpack_from('<BHB', data, 0)
    offset = 4
    stride = None
    if flags & 0x01:
        stride, = struct.unpack_from('<H', data, offset)
        stride /= 100.0
        offset += 2
    distance = None
    if flags & 0x02:
        distance, = struct.unpack_from('<I', data, offset)
        distance /= 10.0
    return {'type': 'rsc', 'speed_mps': speed / 256.0, 'cadence_raw': cadence, 'stride_m': stride,
            'distance_m': distance, 'running': bool(flags & 0x04)}


def connect_mqtt(broker):
    host, _, port = broker.rpartition(':')
    client = mqtt.Client(client_id='baseline-bridge', clean_session=True)
    connected = threading.Event()
    client.on_connect = lambda _c, _u, _f, rc: connected.set() if rc == 0 else None
    client.connect(host or '127.0.0.1', int(port), keepalive=60)
    client.loop_start()
    if not connected.wait(10):
        raise SystemExit(f'baseline-bridge: no connection to the broker {broker}')
    return client


async def bridge(args, mqttc):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    clients = []
    for address in args.address:
        address = address.upper()
        device = await BleakScanner.find_device_by_address(address, timeout=30)
        if device is None:
            raise SystemExit(f'baseline-bridge: {address} not found')
        client = BleakClient(device, timeout=30,
                             disconnected_callback=lambda _c, a=address: print(
                                 f'baseline-bridge: {a} disconnected', file=sys.stderr, flush=True))
        await client.connect()
        clients.append(client)
        if client.services.get_service(HEART_RATE_SERVICE) is not None:
            uuid, decode = HEART_RATE_MEASUREMENT, decode_heart_rate
        elif client.services.get_service(RSC_SERVICE) is not None:
            uuid, decode = RSC_MEASUREMENT, decode_rsc
        else:
            raise SystemExit(f'baseline-bridge: {address} has neither Heart Rate nor RSC')
        topic = f'{args.topic_prefix}/raw/{address}'

        def on_notify(_char, data, topic=topic, decode=decode):
            try:
                payload = json.dumps(decode(bytes(data)), separators=(',', ':'))
            except (struct.error, IndexError) as e:
                print(f'baseline-bridge: bad notification {bytes(data).hex()}: {e}', file=sys.stderr)
                return
            mqttc.publish(topic, payload, qos=0)
        await client.start_notify(uuid, on_notify)

    print('ready', flush=True)
    await stop.wait()
    for client in clients:
        try:
            await asyncio.wait_for(client.disconnect(), 5)
        except Exception as e:  # pylint: disable=broad-except
            print(f'baseline-bridge: disconnect: {e}', file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description='BLE-to-MQTT bridge: the baseline of bench/run')
    parser.add_argument('--broker', required=True, help='HOST:PORT')
    parser.add_argument('--topic-prefix', default='baseline')
    parser.add_argument('--address', action='append', required=True)
    args = parser.parse_args()
    mqttc = connect_mqtt(args.broker)
    try:
        asyncio.run(bridge(args, mqttc))
    finally:
        mqttc.disconnect()
        mqttc.loop_stop()


if __name__ == '__main__':
    main()

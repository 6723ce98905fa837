#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Integration tests of pacerd's MQTT front end (issue 6, DESIGN.md section 6,
README "MQTT"): a real mosquitto on 127.0.0.1 with a generated config, pacerd
run with --simulate (the virtual runner: a strap and a footpod) at a high
speedup, observed with python3-paho-mqtt and through --events on stdout.

- every topic and payload, field by field; the retained state a late
  subscriber finds; the last will after kill -9;
- the broker stopped for several seconds mid-workout and restarted, and a
  broker that only appears after pacerd: every event exactly once, in order
  (by seq, against --events), metrics resume; a full queue drops the oldest
  events and says so;
- TLS with a CA and certificates made here with openssl (server only, and
  client certificates); a wrong CA or password: one log line, retries;
- Home Assistant discovery configs as HA's MQTT sensor wants them, and their
  removal;
- commands, and their abuse.

Run: /usr/bin/python3 tests/integration/test_mqtt.py [-k pattern]
(PACERD=path/to/pacerd; PACER_TEST_KEEP=1 keeps the temporary folders;
VALGRIND=1 runs pacerd under valgrind).'''

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pacertest  # noqa: E402  pylint: disable=wrong-import-position
from pacertest import wait_until  # noqa: E402  pylint: disable=wrong-import-position

try:
    import paho.mqtt.client as mqtt
except ImportError:  # pragma: no cover
    mqtt = None

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
PACERD = os.environ.get('PACERD') or os.path.join(SOURCE_ROOT, 'build', 'daemon', 'pacerd')
VERSION = os.environ.get('PACER_VERSION', '0.1.0')

NODE = 'testnode'
BASE = f'pacer/{NODE}'
HR = 'C0:FF:EE:00:00:01'     # the virtual runner's strap
POD = 'C0:FF:EE:00:00:02'    # ... and footpod

SLOW = 3.0 if os.environ.get('VALGRIND', '0') not in ('', '0') else 1.0

# a short workout with timed and distance steps, repeats, a cool-down
SHORT = '5min@E, 2x(400m@5k, 1min rest), 3min@E'
# about 25 minutes with an event every few seconds of it
DENSE = '5min@E, 8x(200m@5k, 1min rest), 5min@E'
# long enough never to end during a test at a modest speedup
LONG = '20min@E, 20min@E, 20min@E'

METRIC_KEYS = ['elapsed_s', 'distance_m', 'speed_mps', 'pace_s_per_km', 'cadence_spm', 'stride_m',
               'hr_bpm', 'hr_zone', 'pace_zone', 'rr_ms', 'rmssd_ms', 'incline_pct', 'step']
WORKOUT_KEYS = ['state', 'free_run', 'workout', 'step', 'n_steps', 'current', 'elapsed_s',
                'distance_m']
SENSOR_KEYS = ['address', 'name', 'kind', 'connected', 'battery', 'rssi']
DETAIL_KEYS = ['status', 'version', 'queue_size', 'queued', 'dropped_events', 'dropped_metrics',
               'dropped_raw', 'connects']
HA_ENTITIES = ['speed', 'pace', 'cadence', 'stride', 'hr', 'hr_zone', 'pace_zone', 'distance',
               'elapsed', 'rmssd', 'incline', 'step', 'workout']
# the units Home Assistant accepts for the device classes used
HA_CLASS_UNITS = {'distance': {'m', 'km', 'mi'}, 'speed': {'m/s', 'km/h', 'mph'},
                  'duration': {'s', 'ms', 'min', 'h', 'd'}}


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# --------------------------------------------------------------------------
# An MQTT client that records what it receives
# --------------------------------------------------------------------------

class Message:
    def __init__(self, msg):
        self.topic = msg.topic
        self.payload = bytes(msg.payload)
        self.retain = bool(msg.retain)
        self.dup = bool(getattr(msg, 'dup', False))
        self.qos = msg.qos
        self.t = time.monotonic()

    def text(self):
        return self.payload.decode('utf-8')

    def json(self):
        return json.loads(self.payload)

    def __repr__(self):
        return f'<{self.topic} retain={self.retain} dup={self.dup} {self.payload[:120]!r}>'


class Subscriber:
    '''A paho client on the test broker; subscribe() waits for the SUBACK.'''

    def __init__(self, port, client_id='', clean_session=True, tls=None):
        self.port = port
        self.lock = threading.Lock()
        self.messages = []
        self.subacks = set()
        self.connected = threading.Event()
        self.client = mqtt.Client(client_id=client_id, clean_session=clean_session,
                                  protocol=mqtt.MQTTv311)
        if tls:
            self.client.tls_set(**tls)
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect = lambda c, u, f, rc: rc == 0 and self.connected.set()
        self.client.connect('127.0.0.1', port, 30)
        self.client.loop_start()
        wait_until(self.connected.is_set, 10 * SLOW, what=f'the test client on port {port}')

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.messages.append(Message(msg))

    def _on_subscribe(self, client, userdata, mid, granted):
        with self.lock:
            self.subacks.add(mid)

    def subscribe(self, *topics, qos=1):
        for topic in topics:
            rc, mid = self.client.subscribe(topic, qos)
            assert rc == mqtt.MQTT_ERR_SUCCESS, rc
            wait_until(lambda: mid in self.subacks, 10 * SLOW, what=f'SUBACK for {topic}')
        return self

    def publish(self, topic, payload, qos=1, retain=False):
        info = self.client.publish(topic, payload, qos, retain)
        info.wait_for_publish()

    def all(self, topic=None, prefix=None):
        with self.lock:
            msgs = list(self.messages)
        if topic is not None:
            msgs = [m for m in msgs if m.topic == topic]
        if prefix is not None:
            msgs = [m for m in msgs if m.topic.startswith(prefix)]
        return msgs

    def count(self, topic=None, prefix=None):
        return len(self.all(topic, prefix))

    def events(self):
        return [m.json() for m in self.all(f'{BASE}/event')]

    def wait(self, predicate, timeout=10.0, what=None):
        return wait_until(predicate, timeout * SLOW, what=what)

    def wait_event(self, etype, start=0, timeout=10.0, **fields):
        def found():
            for e in self.events()[start:]:
                if e.get('type') == etype and all(e.get(k) == v for k, v in fields.items()):
                    return e
            return None
        return self.wait(found, timeout, what=f'event {etype} {fields or ""}')

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


class PacerdProc:
    '''pacerd with its events (stdout, one JSON a line) in a file and its log (stderr).'''

    def __init__(self, test, proc, events_path, log_path):
        self.test = test
        self.proc = proc
        self.events_path = events_path
        self.log_path = log_path

    def events(self):
        lines = pacertest.read_text(self.events_path).splitlines()
        # a line being written may be cut: only complete ones count
        return [json.loads(line) for line in lines if line.endswith('}')]

    def event_lines(self):
        return [line for line in pacertest.read_text(self.events_path).splitlines()
                if line.endswith('}')]

    def log(self):
        return pacertest.read_text(self.log_path)

    def log_lines(self, pattern):
        return [line for line in self.log().splitlines() if re.search(pattern, line)]

    def alive(self):
        return self.proc.poll() is None

    def wait_exit(self, timeout=60.0):
        try:
            return self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            raise AssertionError(f'pacerd did not finish within {timeout * SLOW:g} s') from None

    def wait_log(self, pattern, count=1, timeout=15.0):
        return wait_until(lambda: len(self.log_lines(pattern)) >= count, timeout * SLOW,
                          what=f'{count} log line(s) matching {pattern!r}')

    def kill(self, sig=signal.SIGKILL):
        return self.test.processes.stop(self.proc, sig=sig)

    def stop(self):
        '''SIGTERM: pacerd says goodbye and exits 0 (under the sanitizers: without a finding).'''
        status = self.test.processes.stop(self.proc, timeout=15 * SLOW)
        self.test.assertEqual(status, 0, self.log())


class Proxy:
    '''A TCP relay between pacerd and the broker that understands just
    enough MQTT (fixed headers) to hold back what pacerd sends: with
    freeze(), pacerd's packets stop at the relay (the broker never sees
    them) while the broker's answers still flow; drop() then ends the
    connection. The QoS 1 messages held were in flight for pacerd: sent,
    never acknowledged.

    It also tells pacerd's connections apart by the client id of their
    CONNECT: it records each PUBLISH's topic with the client id
    (publishes()), refuses the client ids in `refused` with CONNACK 5 (not
    authorised), and drops one client's connection alone (drop_client()).'''

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.frozen = False
        self.held = []            # packets from pacerd not forwarded
        self.forwarded_qos1 = 0   # PUBLISH QoS 1 that reached the broker
        self.pubacks = 0          # PUBACK that reached pacerd
        self.connections = []
        self.accepted = 0
        self.refused = set()      # client ids answered with CONNACK 5
        self.connects = []        # client ids of every CONNECT, in order
        self.published = []       # (client id, topic) of every PUBLISH forwarded
        self.clients = {}         # client id -> its latest (down, up)
        threading.Thread(target=self._accept, daemon=True).start()

    @staticmethod
    def _packets(buf):
        '''Splits complete MQTT packets off buf; returns (packets, rest).'''
        out = []
        while len(buf) >= 2:
            length, mult, i = 0, 1, 1
            while True:
                if i >= len(buf):
                    return out, buf
                length += (buf[i] & 0x7f) * mult
                mult *= 128
                i += 1
                if not buf[i - 1] & 0x80:
                    break
            if len(buf) < i + length:
                break
            out.append(buf[:i + length])
            buf = buf[i + length:]
        return out, buf

    def _accept(self):
        while True:
            try:
                down, _ = self.listener.accept()
            except OSError:
                return
            up = socket.create_connection(('127.0.0.1', self.upstream_port))
            with self.lock:
                self.connections.append((down, up))
                self.accepted += 1
            conn = {'client_id': None, 'pair': (down, up)}
            threading.Thread(target=self._pump, args=(down, up, True, conn), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, down, False, conn), daemon=True).start()

    @staticmethod
    def _string_at(p, i):
        n = p[i] << 8 | p[i + 1]
        return p[i + 2:i + 2 + n].decode('utf-8', 'replace')

    @staticmethod
    def _body(p):
        '''The offset of what follows the fixed header.'''
        i = 1
        while p[i] & 0x80:
            i += 1
        return i + 1

    def _inspect(self, p, conn):
        '''False when the packet must not go on (a refused CONNECT).'''
        kind = p[0] >> 4
        if kind == 1:
            # protocol name (6), level, flags, keepalive (2), then the client id
            client_id = self._string_at(p, self._body(p) + 10)
            conn['client_id'] = client_id
            self.connects.append(client_id)
            self.clients[client_id] = conn['pair']
            if client_id in self.refused:
                return False
        elif kind == 3:
            self.published.append((conn['client_id'], self._string_at(p, self._body(p))))
        return True

    @staticmethod
    def _refuse(conn):
        down, up = conn['pair']
        try:
            down.sendall(bytes([0x20, 0x02, 0x00, 0x05]))
        except OSError:
            pass
        for s in (down, up):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _pump(self, src, dst, from_pacerd, conn=None):
        buf = b''
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b''
            if not data:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
            packets, buf = self._packets(buf + data)
            for p in packets:
                kind, qos = p[0] >> 4, (p[0] >> 1) & 3
                with self.lock:
                    if from_pacerd and conn is not None and not self._inspect(p, conn):
                        self._refuse(conn)
                        return
                    if from_pacerd and self.frozen:
                        self.held.append(p)
                        continue
                    if from_pacerd and kind == 3 and qos == 1:
                        self.forwarded_qos1 += 1
                    if not from_pacerd and kind == 4:
                        self.pubacks += 1
                try:
                    dst.sendall(p)
                except OSError:
                    pass

    def freeze(self):
        with self.lock:
            self.frozen = True

    def held_qos1(self):
        with self.lock:
            return sum(1 for p in self.held if p[0] >> 4 == 3 and (p[0] >> 1) & 3 == 1)

    def settled(self):
        '''Everything the broker got is acknowledged to pacerd.'''
        with self.lock:
            return self.pubacks == self.forwarded_qos1

    def drop(self):
        with self.lock:
            conns, self.connections = self.connections, []
            self.frozen = False
            self.held = []
        for down, up in conns:
            for s in (down, up):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def publishes(self, client_id, prefix=''):
        with self.lock:
            return [t for c, t in self.published if c == client_id and t.startswith(prefix)]

    def connect_count(self, client_id):
        with self.lock:
            return self.connects.count(client_id)

    def drop_client(self, client_id):
        '''Ends the latest connection of client_id alone, as a network failure would.'''
        with self.lock:
            pair = self.clients.pop(client_id)
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.drop()
        self.listener.close()


# --------------------------------------------------------------------------
# The test world
# --------------------------------------------------------------------------

class MqttCase(pacertest.TestCase):

    def setUp(self):
        super().setUp()
        if mqtt is None:
            self.skipTest('python3-paho-mqtt is not installed')
        if not os.access(PACERD, os.X_OK):
            self.fail(f'no pacerd at {PACERD} (set PACERD)')
        self.require('mosquitto')
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            try:
                c.close()
            except Exception:  # pylint: disable=broad-except
                pass
        super().tearDown()

    def broker(self, port=None, extra=''):
        return self.start_mosquitto(port=port, extra_config=extra)

    def subscriber(self, broker_or_port, *topics, **kwargs):
        port = broker_or_port if isinstance(broker_or_port, int) else broker_or_port.port
        sub = Subscriber(port, **kwargs)
        self.clients.append(sub)
        return sub.subscribe(*topics) if topics else sub

    def write_config(self, uri, name='pacer.conf', record=None, **mqtt_keys):
        '''[mqtt] from uri and mqtt_keys; [record] from record ({key: value};
        default: nothing recorded).'''
        record = record or {'formats': ''}
        keys = {'uri': uri, 'node': NODE}
        keys.update({k: str(v).lower() if isinstance(v, bool) else str(v)
                     for k, v in mqtt_keys.items()})
        text = ('[athlete]\nmax_hr = 190\nresting_hr = 50\nrace = 5k=20:00\n\n[mqtt]\n' +
                ''.join(f'{k} = {v}\n' for k, v in keys.items()) +
                '\n[dbus]\nenabled = false\n\n[record]\n' +
                ''.join(f'{k} = {v}\n' for k, v in record.items()))
        path = os.path.join(self.tmpdir, name)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return path

    def pacerd(self, config, workout, speedup, title='pacerd'):
        events_path = os.path.join(self.tmpdir, title + '.events')
        log_path = os.path.join(self.tmpdir, title + '.log')
        env = dict(os.environ)
        env['G_DEBUG'] = 'fatal-criticals'
        env['DBUS_SYSTEM_BUS_ADDRESS'] = 'unix:path=/nonexistent/pacer-test-bus'
        env.pop('DBUS_SESSION_BUS_ADDRESS', None)
        with open(events_path, 'wb') as out:
            proc = self.spawn(title, [PACERD, '--config', config, '--simulate', workout,
                                      '--speedup', str(speedup), '--events'],
                              env=env, valgrind=True, stdout=out)
        self.add_log(f'{title} events', events_path)
        return PacerdProc(self, proc, events_path, log_path)

    # ---- checks

    def check_event_stream(self, received, expected_lines):
        '''Every event of --events arrived exactly once and in order, byte for byte.'''
        texts = [m.text() for m in received]
        seqs = [json.loads(t)['seq'] for t in texts]
        self.assertEqual(len(seqs), len(set(seqs)), f'an event arrived twice: {seqs}')
        self.assertEqual(texts, expected_lines)
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))

    def check_metrics(self, payload):
        self.assertEqual(list(payload), METRIC_KEYS, payload)
        for key in ('elapsed_s', 'distance_m', 'speed_mps', 'pace_s_per_km', 'cadence_spm',
                    'stride_m', 'rmssd_ms', 'incline_pct'):
            self.assertTrue(payload[key] is None or is_number(payload[key]), (key, payload))
        self.assertTrue(payload['hr_bpm'] is None or isinstance(payload['hr_bpm'], int), payload)
        self.assertIn(payload['hr_zone'], (None, 1, 2, 3, 4, 5), payload)
        self.assertIn(payload['pace_zone'], (None, 'E', 'M', 'T', 'I', 'R'), payload)
        self.assertIsInstance(payload['rr_ms'], list)
        self.assertLessEqual(len(payload['rr_ms']), 256)
        for rr in payload['rr_ms']:
            self.assertTrue(is_number(rr) and 200 <= rr <= 2500, payload)
        self.assertIsNone(payload['incline_pct'])  # no treadmill in the simulation
        if payload['speed_mps'] is not None:
            self.assertTrue(0 <= payload['speed_mps'] < 10, payload)
        step = payload['step']
        if step is not None:
            self.assertEqual(list(step)[:5], ['index', 'kind', 'rep', 'reps', 'target'], step)
            self.assertEqual(len(step), 6, step)
            remaining = list(step)[5]
            self.assertIn(remaining, ('remaining_s', 'remaining_m'))
            self.assertTrue(step[remaining] is None or is_number(step[remaining]), step)
            if step['target'] is not None:
                self.assertEqual(list(step['target']),
                                 ['label', 'pace_s_per_km', 'hr_bpm', 'cadence_spm', 'hill'])
        return payload

    def check_ha_config(self, entity, msg, metrics, workout):
        cfg = msg.json()
        self.assertEqual(msg.topic, f'homeassistant/sensor/{NODE}/{entity}/config')
        for key in ('name', 'unique_id', 'state_topic', 'value_template', 'availability_topic',
                    'payload_available', 'payload_not_available', 'device'):
            self.assertIn(key, cfg, (entity, cfg))
        self.assertEqual(cfg['unique_id'], f'pacer_{NODE}_{entity}')
        self.assertIn(cfg['state_topic'], (f'{BASE}/metrics', f'{BASE}/workout'))
        self.assertEqual(cfg['availability_topic'], f'{BASE}/status')
        self.assertEqual((cfg['payload_available'], cfg['payload_not_available']),
                         ('online', 'offline'))
        self.assertEqual(cfg['device'], {'identifiers': [f'pacer_{NODE}'], 'name': f'Pacer {NODE}',
                                         'manufacturer': 'Pacer', 'model': 'pacerd',
                                         'sw_version': VERSION})
        # the template reads a key the state topic's JSON has
        key = re.match(r'\{\{ value_json\.(\w+)', cfg['value_template']).group(1)
        state = metrics if cfg['state_topic'].endswith('/metrics') else workout
        self.assertIn(key, state, (entity, cfg['value_template']))
        if 'device_class' in cfg:
            self.assertIn(cfg['device_class'], HA_CLASS_UNITS, cfg)
            self.assertIn(cfg['unit_of_measurement'], HA_CLASS_UNITS[cfg['device_class']], cfg)
        if 'state_class' in cfg:
            self.assertEqual(cfg['state_class'], 'measurement', cfg)
            # a measurement is a number (or null: HA shows "unknown")
            self.assertTrue(state[key] is None or is_number(state[key]), (entity, state[key]))
        return cfg

    # ---- a broker that keeps what a subscriber misses while it is away

    def persistent_broker(self, port=None):
        return self.broker(port, extra=f'persistence true\npersistence_location {self.tmpdir}/\n'
                                       'max_queued_messages 0\n')

    def persistent_subscriber(self, broker):
        '''A QoS 1 session on the broker that outlives disconnections (and,
        with persistence, the broker's restarts): nothing published while
        it is away is lost.'''
        return self.subscriber(broker, f'{BASE}/event', f'{BASE}/metrics', f'{BASE}/status',
                               f'{BASE}/status/detail', client_id='pacer-test-events',
                               clean_session=False)


# --------------------------------------------------------------------------
# Topics and payloads
# --------------------------------------------------------------------------

class TestTopics(MqttCase):

    def test_every_topic_field_by_field(self):
        broker = self.broker()
        sub = self.subscriber(broker, 'pacer/#', 'homeassistant/#')
        config = self.write_config(broker.uri)
        d = self.pacerd(config, SHORT, 300)
        self.assertEqual(d.wait_exit(), 0, d.log())
        expected = d.event_lines()
        sub.wait(lambda: sub.count(f'{BASE}/event') >= len(expected) and
                 sub.count(f'{BASE}/status') >= 2, what='every event and the goodbye')

        # status: online first, offline last (a clean exit says so itself)
        self.assertEqual([m.text() for m in sub.all(f'{BASE}/status')], ['online', 'offline'])
        self.assertEqual(len(d.log_lines('mqtt: connected to')), 1, d.log())

        # events: the --events lines, byte for byte, in order
        self.check_event_stream(sub.all(f'{BASE}/event'), expected)
        self.assertTrue(all(m.qos == 1 and not m.retain for m in sub.all(f'{BASE}/event')))
        started = next(json.loads(x) for x in expected if '"workout_started"' in x)
        n_steps = started['steps']

        # metrics: every interval (1 s of workout time), every field
        metrics = [m.json() for m in sub.all(f'{BASE}/metrics')]
        self.assertGreater(len(metrics), 100)
        self.assertTrue(all(m.qos == 0 and not m.retain for m in sub.all(f'{BASE}/metrics')))
        for p in metrics:
            self.check_metrics(p)
        full = [p for p in metrics if None not in (p['speed_mps'], p['pace_s_per_km'],
                                                   p['cadence_spm'], p['stride_m'], p['hr_bpm'],
                                                   p['hr_zone'], p['pace_zone'], p['rmssd_ms'],
                                                   p['elapsed_s'], p['distance_m'], p['step'])]
        self.assertGreater(len(full), len(metrics) // 2)
        for p in full:
            # stride is speed over steps per second; pace is 1000 m over speed
            self.assertAlmostEqual(p['stride_m'], p['speed_mps'] * 60 / p['cadence_spm'], delta=0.01)
            self.assertAlmostEqual(p['pace_s_per_km'], 1000 / p['speed_mps'], delta=0.5)
        elapsed = [p['elapsed_s'] for p in metrics if p['elapsed_s'] is not None]
        steps = sorted(b - a for a, b in zip(elapsed, elapsed[1:]))
        self.assertAlmostEqual(steps[len(steps) // 2], 1.0, delta=0.01)
        self.assertTrue(all(b >= a for a, b in zip(elapsed, elapsed[1:])))
        # every RR interval of the strap, about one a beat
        n_rr = sum(len(p['rr_ms']) for p in metrics)
        beats = sum(p['hr_bpm'] / 60.0 for p in metrics if p['hr_bpm'])
        self.assertAlmostEqual(n_rr / beats, 1.0, delta=0.15)
        # the step object: every step, by time and by distance
        seen_steps = {p['step']['index']: p['step'] for p in metrics if p['step']}
        self.assertEqual(sorted(seen_steps), list(range(n_steps)))
        self.assertIn('remaining_m', seen_steps[1])
        self.assertEqual(seen_steps[1]['kind'], 'run')
        self.assertEqual((seen_steps[1]['rep'], seen_steps[1]['reps']), (1, 2))
        self.assertEqual(seen_steps[1]['target']['label'], '5k')
        self.assertEqual(len(seen_steps[1]['target']['pace_s_per_km']), 2)
        self.assertIn('remaining_s', seen_steps[2])
        self.assertEqual(seen_steps[2]['kind'], 'rest')
        self.assertIsNone(seen_steps[2]['target'])
        for a, b in zip(metrics, metrics[1:]):
            if a['step'] and b['step'] and a['step']['index'] == b['step']['index'] == 1:
                self.assertLessEqual(b['step']['remaining_m'], a['step']['remaining_m'])

        # workout: retained, QoS 1, on every change of state or step
        workout = sub.all(f'{BASE}/workout')
        self.assertTrue(all(m.qos == 1 for m in workout))
        states = [m.json() for m in workout]
        for w in states:
            self.assertEqual(list(w), WORKOUT_KEYS, w)
        running = [w for w in states if w['state'] == 'running']
        self.assertEqual(sorted({w['step'] for w in running}), list(range(n_steps)))
        for w in running:
            self.assertEqual(w['workout'], SHORT)
            self.assertEqual(w['n_steps'], n_steps)
            self.assertFalse(w['free_run'])
            self.assertEqual(w['current']['index'], w['step'])
            self.assertTrue(is_number(w['elapsed_s']) and is_number(w['distance_m']))
        self.assertEqual(states[-1]['state'], 'finished')
        self.assertEqual(states[-1]['workout'], SHORT)

        # sensors: the strap and the footpod
        for address, kind in ((HR, 'heart_rate'), (POD, 'footpod')):
            msgs = sub.all(f'{BASE}/sensor/{address}')
            self.assertTrue(msgs, address)
            self.assertTrue(all(m.qos == 1 for m in msgs))
            s = msgs[-1].json()
            self.assertEqual(list(s), SENSOR_KEYS)
            self.assertEqual(s, {'address': address, 'name': None, 'kind': kind,
                                 'connected': True, 'battery': None, 'rssi': None})

        # status/detail: the counters
        detail = sub.all(f'{BASE}/status/detail')[-1].json()
        self.assertEqual(list(detail), DETAIL_KEYS)
        self.assertEqual(detail['status'], 'online')
        self.assertEqual(detail['version'], VERSION)
        self.assertEqual(detail['queue_size'], 10000)
        self.assertEqual((detail['dropped_events'], detail['dropped_metrics'], detail['connects']),
                         (0, 0, 1))

        # Home Assistant: one entity per metric, as HA's MQTT sensor wants it
        ha = sub.all(prefix='homeassistant/')
        self.assertEqual(sorted(m.topic.split('/')[3] for m in ha), sorted(HA_ENTITIES))
        configs = {}
        for m in ha:
            self.assertTrue(m.qos == 1, m)
            entity = m.topic.split('/')[3]
            configs[entity] = self.check_ha_config(entity, m, full[-1], running[-1])
        self.assertEqual(len({c['unique_id'] for c in configs.values()}), len(HA_ENTITIES))
        for entity, unit, device_class in (('hr', 'bpm', None), ('speed', 'm/s', 'speed'),
                                           ('distance', 'm', 'distance'),
                                           ('elapsed', 's', 'duration'), ('pace', 's/km', None),
                                           ('cadence', 'spm', None), ('rmssd', 'ms', 'duration'),
                                           ('stride', 'm', 'distance'), ('incline', '%', None)):
            self.assertEqual(configs[entity].get('unit_of_measurement'), unit, entity)
            self.assertEqual(configs[entity].get('device_class'), device_class, entity)
            self.assertEqual(configs[entity]['value_template'].count('value_json.'), 1)

        # a client that comes later finds the retained state
        late = self.subscriber(broker, 'pacer/#', 'homeassistant/#')
        late.wait(lambda: late.count(f'{BASE}/status') and late.count(f'{BASE}/workout') and
                  late.count(prefix='homeassistant/') == len(HA_ENTITIES), what='retained state')
        self.assertEqual(late.all(f'{BASE}/status')[0].text(), 'offline')
        self.assertEqual(late.all(f'{BASE}/workout')[0].json()['state'], 'finished')
        self.assertTrue(all(m.retain for m in late.all()))

    def test_late_subscriber_and_last_will(self):
        broker = self.broker()
        watch = self.subscriber(broker, 'pacer/#')
        d = self.pacerd(self.write_config(broker.uri), LONG, 20)
        watch.wait(lambda: any(m.json()['state'] == 'running' for m in watch.all(f'{BASE}/workout'))
                   and watch.count(f'{BASE}/sensor/{HR}') and watch.count(f'{BASE}/sensor/{POD}'),
                   what='a running workout and both sensors')

        late = self.subscriber(broker, 'pacer/#', 'homeassistant/#')
        late.wait(lambda: late.count(f'{BASE}/metrics') >= 2, what='live metrics')
        retained = {m.topic: m for m in late.all() if m.retain}
        self.assertEqual(retained[f'{BASE}/status'].text(), 'online')
        w = retained[f'{BASE}/workout'].json()
        self.assertEqual((w['state'], w['workout'], w['n_steps']), ('running', LONG, 3))
        for address, kind in ((HR, 'heart_rate'), (POD, 'footpod')):
            s = retained[f'{BASE}/sensor/{address}'].json()
            self.assertEqual((s['address'], s['kind'], s['connected']), (address, kind, True))
        self.assertEqual(retained[f'{BASE}/status/detail'].json()['connects'], 1)
        self.assertEqual(sorted(t.split('/')[3] for t in retained if t.startswith('homeassistant/')),
                         sorted(HA_ENTITIES))
        # metrics and events are never retained
        self.assertNotIn(f'{BASE}/metrics', retained)
        self.assertNotIn(f'{BASE}/event', retained)

        # kill -9: the broker publishes the last will, retained
        d.kill(signal.SIGKILL)
        late.wait(lambda: [m.text() for m in late.all(f'{BASE}/status')][-1] == 'offline',
                  what='the last will')
        after = self.subscriber(broker, f'{BASE}/status')
        after.wait(lambda: after.count(f'{BASE}/status'), what='the retained status')
        msg = after.all(f'{BASE}/status')[0]
        self.assertEqual((msg.text(), msg.retain), ('offline', True))


# --------------------------------------------------------------------------
# No event lost, none twice
# --------------------------------------------------------------------------

class TestDelivery(MqttCase):

    def received_events(self, *subs):
        '''The events the clients of one session received, in arrival order,
        without the broker's own redeliveries (dup set: a QoS 1 message it
        had sent to the session before, and sends again when the session
        comes back; pacerd's messages always arrive as new ones).'''
        out, seen = [], set()
        for m in [m for sub in subs for m in sub.all(f'{BASE}/event')]:
            seq = m.json()['seq']
            if m.dup and seq in seen:
                continue
            seen.add(seq)
            out.append(m)
        return out

    def test_broker_restart_mid_workout(self):
        broker = self.persistent_broker()
        sub = self.persistent_subscriber(broker)
        # at 15x the workout lasts about 100 s: it goes on through a 30 s outage
        d = self.pacerd(self.write_config(broker.uri), DENSE, 15)
        sub.wait(lambda: len(sub.events()) >= 10 and sub.count(f'{BASE}/metrics') >= 5,
                 timeout=60, what='ten events and some metrics')

        # the subscriber leaves (its session stays), then the broker stops
        sub.close()
        before = len(d.events())
        broker.stop()
        t_down = time.monotonic()
        d.wait_log('mqtt: lost the connection')
        # the broker stays away for 30 s (as the issue asks), while pacerd coaches on
        wait_until(lambda: len(d.events()) >= before + 10 and time.monotonic() - t_down >= 30,
                   60 * SLOW, what='ten events during a 30 s outage')
        self.assertTrue(d.alive())
        broker.start()
        sub2 = self.persistent_subscriber(broker)
        d.wait_log('mqtt: connected to', 2, timeout=40)
        self.assertEqual(d.wait_exit(), 0, d.log())
        expected = d.event_lines()
        sub2.wait(lambda: len(self.received_events(sub, sub2)) >= len(expected), what='every event')

        # exactly once and in order, across the outage
        self.check_event_stream(self.received_events(sub, sub2), expected)
        # metrics resumed after the outage
        last_before = max(m.json()['elapsed_s'] or 0 for m in sub.all(f'{BASE}/metrics'))
        after = [m.json()['elapsed_s'] for m in sub2.all(f'{BASE}/metrics')]
        self.assertTrue(after and max(a or 0 for a in after) > last_before + 100, after)
        # one loss, one reconnection, nothing dropped
        self.assertEqual(len(d.log_lines('lost the connection')), 1, d.log())
        self.assertEqual(len(d.log_lines('mqtt: connected to')), 2, d.log())
        self.assertEqual(d.log_lines('dropped'), [])
        detail = sub2.all(f'{BASE}/status/detail')[-1].json()
        self.assertEqual((detail['connects'], detail['dropped_events']), (2, 0))

    def test_connection_drop_with_messages_in_flight(self):
        broker = self.broker()
        proxy = Proxy(broker.port)
        self.addCleanup(proxy.close)
        sub = self.subscriber(broker, f'{BASE}/event', f'{BASE}/status')
        d = self.pacerd(self.write_config(f'tcp://127.0.0.1:{proxy.port}'), DENSE, 50)
        sub.wait(lambda: len(sub.events()) >= 8, what='eight events')
        # pacerd's messages stop at the relay; the broker acknowledges what it got
        proxy.freeze()
        wait_until(lambda: proxy.held_qos1() >= 3 and proxy.settled(), 30 * SLOW,
                   what='three messages in flight')
        held = proxy.held_qos1()
        proxy.drop()
        line = d.wait_log('mqtt: lost the connection') and d.log_lines('lost the connection')[0]
        waiting = int(re.search(r'(\d+) messages wait', line).group(1))
        self.assertGreaterEqual(waiting, held, line)
        d.wait_log('mqtt: connected to', 2, timeout=40)
        self.assertEqual(d.wait_exit(), 0, d.log())
        expected = d.event_lines()
        sub.wait(lambda: len(sub.events()) >= len(expected), what='every event')
        # what was in flight went again, first, in order, once
        self.check_event_stream(sub.all(f'{BASE}/event'), expected)
        self.assertEqual(proxy.accepted, 2)
        # the broker saw the first connection end without a goodbye: the last will, then online
        self.assertEqual([m.text() for m in sub.all(f'{BASE}/status')],
                         ['online', 'offline', 'online', 'offline'])

    def start_without_broker(self, queue_size=None, events=15):
        '''pacerd with a broker that is not there yet; its events wait.
        Returns (broker, subscriber, pacerd) once the broker is up.'''
        port = pacertest.free_port()
        # a session for the test client, kept by the broker over its restart
        broker = self.persistent_broker(port)
        self.persistent_subscriber(broker).close()
        broker.stop()
        keys = {'queue_size': queue_size} if queue_size else {}
        d = self.pacerd(self.write_config(f'tcp://127.0.0.1:{port}', **keys), DENSE, 100)
        d.wait_log('mqtt: cannot connect to')
        wait_until(lambda: len(d.events()) >= events, 20 * SLOW, what=f'{events} events offline')
        broker.start()
        sub = self.persistent_subscriber(broker)
        d.wait_log('mqtt: connected to', timeout=40)
        return broker, sub, d

    def test_broker_appears_later(self):
        _, sub, d = self.start_without_broker()
        self.assertEqual(d.wait_exit(), 0, d.log())
        expected = d.event_lines()
        sub.wait(lambda: len(self.received_events(sub)) >= len(expected), what='every event')
        self.check_event_stream(self.received_events(sub), expected)
        self.assertEqual(len(d.log_lines('WARNING.*cannot connect to')), 1, d.log())

    def test_full_queue_drops_oldest_events(self):
        _, sub, d = self.start_without_broker(queue_size=10, events=25)
        self.assertEqual(d.wait_exit(), 0, d.log())
        expected = d.event_lines()
        sub.wait(lambda: sub.count(f'{BASE}/status/detail') and sub.count(f'{BASE}/status') >= 2,
                 what='the counters and the goodbye')
        detail = sub.all(f'{BASE}/status/detail')[0].json()
        dropped = detail['dropped_events']
        self.assertGreater(dropped, 0)
        self.assertGreater(detail['dropped_metrics'], 0)  # metrics went first
        # the oldest events went; the rest came, in order, once
        got = self.received_events(sub)
        seqs = [m.json()['seq'] for m in got]
        self.assertEqual(seqs, list(range(dropped + 1, len(expected) + 1)))
        self.assertEqual([m.text() for m in got], expected[dropped:])
        self.assertEqual(len(d.log_lines('the queue is full')), 1, d.log())
        self.assertEqual(len(d.log_lines(f'{dropped + detail["dropped_metrics"]} messages were '
                                         'dropped while the broker was away')), 1, d.log())


# --------------------------------------------------------------------------
# TLS and passwords
# --------------------------------------------------------------------------

def openssl(*args, cwd):
    subprocess.run(['openssl', *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class TestSecurity(MqttCase):

    def make_pki(self):
        '''A CA, a server certificate for 127.0.0.1, a client certificate,
        and a second CA that signed none of them.'''
        self.require('openssl')
        d = os.path.join(self.tmpdir, 'pki')
        os.makedirs(d)
        ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
        for ca in ('ca', 'other-ca'):
            openssl('req', '-x509', *ec, '-keyout', f'{ca}.key', '-out', f'{ca}.crt', '-days', '2',
                    '-subj', f'/CN=Pacer test {ca}', cwd=d)
        with open(os.path.join(d, 'server.ext'), 'w', encoding='utf-8') as f:
            f.write('subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n')
        with open(os.path.join(d, 'client.ext'), 'w', encoding='utf-8') as f:
            f.write('extendedKeyUsage = clientAuth\n')
        for name, cn in (('server', 'localhost'), ('client', f'pacer-{NODE}')):
            openssl('req', *ec, '-keyout', f'{name}.key', '-out', f'{name}.csr', '-subj', f'/CN={cn}',
                    cwd=d)
            openssl('x509', '-req', '-in', f'{name}.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key',
                    '-CAcreateserial', '-out', f'{name}.crt', '-days', '2', '-extfile', f'{name}.ext',
                    cwd=d)
        for name in os.listdir(d):
            os.chmod(os.path.join(d, name), 0o644)
        return lambda name: os.path.join(d, name)

    def tls_broker(self, pki, client_certs=False):
        extra = (f'cafile {pki("ca.crt")}\ncertfile {pki("server.crt")}\n'
                 f'keyfile {pki("server.key")}\n')
        if client_certs:
            extra += 'require_certificate true\n'
        return self.broker(extra=extra)

    def test_tls(self):
        pki = self.make_pki()
        broker = self.tls_broker(pki)
        tls = {'ca_certs': pki('ca.crt')}
        sub = self.subscriber(broker, f'{BASE}/status', f'{BASE}/metrics', tls=tls)

        # mqtts:// (ssl:// to Paho), the server checked against our CA
        good = self.pacerd(self.write_config(f'mqtts://127.0.0.1:{broker.port}', 'good.conf',
                                             ca_file=pki('ca.crt')), LONG, 10, 'pacerd-good')
        sub.wait(lambda: sub.count(f'{BASE}/metrics') >= 1 and sub.count(f'{BASE}/status'),
                 what='metrics over TLS')
        self.assertEqual(sub.all(f'{BASE}/status')[0].text(), 'online')
        good.stop()

        # a certificate our CA did not sign: one clear line, and retries
        bad = self.pacerd(self.write_config(f'ssl://127.0.0.1:{broker.port}', 'bad.conf',
                                            ca_file=pki('other-ca.crt')), LONG, 10, 'pacerd-bad')
        wait_until(lambda: broker.log().count('New connection from') >= 4, 20 * SLOW,
                   what='pacerd retrying')
        lines = bad.log_lines('WARNING.*mqtt: cannot connect')
        self.assertEqual(len(lines), 1, bad.log())
        self.assertIn('certificate verify failed', lines[0])
        self.assertTrue(bad.alive())
        self.assertGreater(len(bad.events()), 2)  # coaching all the same
        bad.stop()

    def test_tls_client_certificate(self):
        pki = self.make_pki()
        broker = self.tls_broker(pki, client_certs=True)
        uri = f'ssl://127.0.0.1:{broker.port}'
        # no certificate: refused, one line, retries
        anon = self.pacerd(self.write_config(uri, 'anon.conf', ca_file=pki('ca.crt')), LONG, 10,
                           'pacerd-anon')
        wait_until(lambda: broker.log().count('New connection from') >= 3, 20 * SLOW,
                   what='pacerd retrying')
        self.assertEqual(len(anon.log_lines('WARNING.*mqtt: cannot connect')), 1, anon.log())
        self.assertTrue(anon.alive())
        anon.stop()
        # with the client certificate and its key
        d = self.pacerd(self.write_config(uri, 'cert.conf', ca_file=pki('ca.crt'),
                                          cert_file=pki('client.crt'), key_file=pki('client.key')),
                        LONG, 10)
        d.wait_log('mqtt: connected to')
        sub = self.subscriber(broker, f'{BASE}/status', tls={
            'ca_certs': pki('ca.crt'), 'certfile': pki('client.crt'), 'keyfile': pki('client.key')})
        sub.wait(lambda: sub.count(f'{BASE}/status'), what='status')
        self.assertEqual(sub.all(f'{BASE}/status')[0].text(), 'online')

    def test_passwords(self):
        self.require('mosquitto_passwd')
        passwd = pacertest.mosquitto_password_file(os.path.join(self.tmpdir, 'passwd'),
                                                   {'runner': 's3cret'})
        broker = self.broker(extra=f'allow_anonymous false\npassword_file {passwd}\n')
        wrong = os.path.join(self.tmpdir, 'wrong')
        right = os.path.join(self.tmpdir, 'right')
        with open(wrong, 'w', encoding='utf-8') as f:
            f.write('guess\n')
        with open(right, 'w', encoding='utf-8') as f:
            f.write('s3cret\nthe first line only\n')

        d = self.pacerd(self.write_config(broker.uri, 'wrong.conf', username='runner',
                                          password_file=wrong), LONG, 10, 'pacerd-wrong')
        wait_until(lambda: broker.log().count('not authorised') >= 3, 20 * SLOW,
                   what='three refused attempts')
        lines = d.log_lines('WARNING.*mqtt')
        self.assertEqual(len(lines), 1, d.log())
        self.assertIn('not authorised', lines[0])
        self.assertTrue(d.alive())
        self.assertGreater(len(d.events()), 2)
        d.stop()

        # a password file that is not there: said once; then refused, said once
        broker_log = broker.log().count('not authorised')
        d = self.pacerd(self.write_config(broker.uri, 'missing.conf', username='runner',
                                          password_file=os.path.join(self.tmpdir, 'nope')),
                        LONG, 10, 'pacerd-missing')
        wait_until(lambda: broker.log().count('not authorised') >= broker_log + 2, 20 * SLOW,
                   what='two refused attempts')
        self.assertEqual(len(d.log_lines('WARNING.*cannot read password_file')), 1, d.log())
        self.assertEqual(len(d.log_lines('WARNING.*mqtt: cannot connect')), 1, d.log())
        d.stop()

        d = self.pacerd(self.write_config(broker.uri, 'right.conf', username='runner',
                                          password_file=right), LONG, 10, 'pacerd-right')
        d.wait_log('mqtt: connected to')
        self.assertEqual(d.log_lines('WARNING'), [])


# --------------------------------------------------------------------------
# Home Assistant discovery on and off
# --------------------------------------------------------------------------

class TestDiscovery(MqttCase):

    def retained_configs(self, broker):
        '''The discovery configs a new client finds: a marker of our own,
        subscribed last, arrives after every retained config.'''
        probe = self.subscriber(broker, 'homeassistant/#', 'test/marker')
        probe.wait(lambda: probe.count('test/marker'), what='the marker')
        configs = [m for m in probe.all(prefix='homeassistant/') if m.payload]
        probe.close()
        self.clients.remove(probe)
        return configs

    def test_disabling_removes_entities(self):
        broker = self.broker()
        marker = self.subscriber(broker)
        marker.publish('test/marker', b'x', retain=True)

        d = self.pacerd(self.write_config(broker.uri, 'on.conf'), SHORT, 300, 'pacerd-on')
        self.assertEqual(d.wait_exit(), 0, d.log())
        self.assertEqual(sorted(m.topic.split('/')[3] for m in self.retained_configs(broker)),
                         sorted(HA_ENTITIES))

        watch = self.subscriber(broker, 'homeassistant/#')
        watch.wait(lambda: watch.count(prefix='homeassistant/') == len(HA_ENTITIES))
        d = self.pacerd(self.write_config(broker.uri, 'off.conf', ha_discovery=False), SHORT, 300,
                        'pacerd-off')
        self.assertEqual(d.wait_exit(), 0, d.log())
        # an empty retained message for each: HA removes the entity
        watch.wait(lambda: len([m for m in watch.all() if not m.payload]) == len(HA_ENTITIES),
                   what='empty configs')
        self.assertTrue(all(m.qos == 1 for m in watch.all()))
        self.assertEqual(self.retained_configs(broker), [])

    def test_custom_prefix(self):
        broker = self.broker()
        sub = self.subscriber(broker, 'ha/#')
        d = self.pacerd(self.write_config(broker.uri, ha_prefix='ha'), SHORT, 300)
        self.assertEqual(d.wait_exit(), 0, d.log())
        sub.wait(lambda: sub.count(prefix='ha/sensor/') == len(HA_ENTITIES))


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------

class TestCommands(MqttCase):

    def rejections(self, sub, start=0):
        return [e for e in sub.events()[start:] if e['type'] == 'command_rejected']

    def reject(self, sub, verb_topic, payload, reason, retain=False):
        n = len(self.rejections(sub))
        sub.publish(f'{BASE}/cmd/{verb_topic}', payload, retain=retain)
        sub.wait(lambda: len(self.rejections(sub)) > n, what=f'the rejection of cmd/{verb_topic}')
        e = self.rejections(sub)[n]
        self.assertEqual(list(e), ['type', 'seq', 'elapsed_s', 'step', 'message', 'verb', 'reason'])
        self.assertEqual(e['reason'], reason, e)
        self.assertIsNone(e['seq'])
        self.assertTrue(e['message'])
        return e

    def test_commands_and_abuse(self):
        broker = self.broker()
        sub = self.subscriber(broker, 'pacer/#')
        # a retained command would run again on every reconnection: refused
        sub.publish(f'{BASE}/cmd/reboot', b'now', retain=True)
        d = self.pacerd(self.write_config(broker.uri, commands=True), LONG, 10)
        e = sub.wait_event('command_rejected')
        self.assertEqual((e['verb'], e['reason']), ('reboot', 'retained'))
        # an empty retained message clears it (and reaches pacerd as a plain message)
        sub.publish(f'{BASE}/cmd/reboot', b'', retain=True)
        sub.wait_event('command_rejected', reason='unknown_verb')
        sub.wait_event('workout_started')
        sub.wait(lambda: sub.all(f'{BASE}/workout') and
                 sub.all(f'{BASE}/workout')[-1].json()['state'] == 'running')
        coached = [e['seq'] for e in sub.events() if e['seq'] is not None]

        # abuse: each refused with a reason, and nothing changes
        e = self.reject(sub, 'start', b'5min@E', 'busy')
        self.assertEqual(e['verb'], 'start')
        self.assertEqual(e['step'], 0)
        self.reject(sub, 'start', b'x' * 2000, 'payload_too_large')
        self.reject(sub, 'start', os.urandom(1 << 20), 'payload_too_large')
        self.reject(sub, 'stop', b'y' * 5000, 'payload_too_large')
        self.reject(sub, 'start', b'\xff\xfe\x00\x01garbage', 'not_text')
        self.reject(sub, 'start', b'10min@E\x1b[2J', 'not_text')
        self.assertEqual(self.reject(sub, 'reboot', b'now', 'unknown_verb')['verb'], 'reboot')
        self.reject(sub, 'start/now', b'', 'unknown_verb')
        self.reject(sub, 'STOP', b'', 'unknown_verb')
        self.reject(sub, '\u00e9t\u00e9', b'', 'unknown_verb')
        self.reject(sub, 'resume', b'', 'busy')  # not paused
        self.assertTrue(d.alive())
        states = [m.json() for m in sub.all(f'{BASE}/workout')]
        self.assertEqual({(w['state'], w['step']) for w in states[-1:]}, {('running', 0)})
        self.assertFalse([e for e in sub.events() if e['type'].startswith('workout_') and
                          e['type'] != 'workout_started'])
        # logged, but at most one line a second (which commands get a line depends on timing)
        lines = d.log_lines(r"mqtt: command '.*' rejected")
        self.assertTrue(lines)
        stamps = [sum(float(x) * f for x, f in zip(re.search(r'(\d\d):(\d\d):(\d\d\.\d+)', line).groups(),
                                                   (3600, 60, 1))) for line in lines]
        self.assertTrue(all(b - a >= 0.99 for a, b in zip(stamps, stamps[1:])), lines)

        # the commands themselves
        n = len(sub.events())
        sub.publish(f'{BASE}/cmd/pause', b'')
        sub.wait_event('workout_paused', n)
        self.reject(sub, 'pause', b'', 'busy')  # already paused
        sub.publish(f'{BASE}/cmd/resume', b'ignored payload')
        sub.wait_event('workout_resumed', n)
        sub.publish(f'{BASE}/cmd/lap', b'')
        ended = sub.wait_event('step_ended', n, step=0)
        self.assertTrue(ended['lapped'])
        sub.wait(lambda: sub.all(f'{BASE}/workout')[-1].json()['step'] == 1,
                 what='the workout state on step 2')
        sub.publish(f'{BASE}/cmd/stop', b'')
        finished = sub.wait_event('workout_finished', n)
        self.assertFalse(finished['completed'])
        # the simulation ends with its workout, and so does pacerd
        self.assertEqual(d.wait_exit(), 0, d.log())
        expected = d.event_lines()
        sub.wait(lambda: len([e for e in sub.events() if e['seq'] is not None]) >= len(expected))
        self.assertEqual([m.text() for m in sub.all(f'{BASE}/event') if b'"seq":null' not in m.payload],
                         expected)
        self.assertLess(len(coached), len(expected))

    def test_start_after_stop(self):
        broker = self.broker()
        sub = self.subscriber(broker, 'pacer/#')
        # a replayed capture keeps pacerd running after a stop, unlike the simulation
        capture = os.path.join(self.tmpdir, 'run.capture')
        pacerctl = os.path.join(os.path.dirname(os.path.dirname(PACERD)), 'daemon', 'pacerctl')
        if not os.access(pacerctl, os.X_OK):
            self.skipTest('no pacerctl beside pacerd')
        with open(capture, 'w', encoding='utf-8') as f:
            subprocess.run([pacerctl, 'simulate', '--workout', '30min', '--seed', '3'], stdout=f,
                           check=True, timeout=60)
        # both runs are recorded: the journal's sync thread serves one run after another
        config = self.write_config(broker.uri, commands=True,
                                   record={'dir': os.path.join(self.tmpdir, 'records'), 'formats': 'fit'})
        events_path = os.path.join(self.tmpdir, 'pacerd.events')
        with open(events_path, 'wb') as out:
            proc = self.spawn('pacerd', [PACERD, '--config', config, '--replay', capture,
                                         '--speedup', '10', '--events'], stdout=out, valgrind=True,
                              env=dict(os.environ, G_DEBUG='fatal-criticals'))
        d = PacerdProc(self, proc, events_path, os.path.join(self.tmpdir, 'pacerd.log'))
        sub.wait_event('workout_started', timeout=20)
        n = len(sub.events())
        sub.publish(f'{BASE}/cmd/stop', b'')
        first = sub.wait_event('workout_finished', n)
        self.reject(sub, 'stop', b'', 'not_running')
        self.reject(sub, 'start', b'10min@Q', 'invalid_workout')
        self.reject(sub, 'start', b'no-such-preset', 'invalid_workout')
        sub.publish(f'{BASE}/cmd/start', b'  400m@5k, 1min rest \n')
        started = sub.wait_event('workout_started', n + 1)
        self.assertEqual(started['workout'], '400m@5k, 1min rest')
        sub.wait(lambda: sub.all(f'{BASE}/workout')[-1].json()['workout'] == '400m@5k, 1min rest',
                 what='the new workout on the workout topic')
        # a few syncs of the second run's journal (every 2 s of run time: 20 s at 10x), then its end
        time.sleep(2)
        n = len(sub.events())
        sub.publish(f'{BASE}/cmd/stop', b'')
        second = sub.wait_event('workout_finished', n)
        self.reject(sub, 'stop', b'', 'not_running')
        for done in (first, second):
            self.assertTrue(os.path.isfile(done['files']['fit']), done)
        self.assertNotEqual(first['files']['fit'], second['files']['fit'])
        self.assertTrue(d.alive())
        d.stop()

    def test_commands_off(self):
        broker = self.broker()
        sub = self.subscriber(broker, 'pacer/#')
        d = self.pacerd(self.write_config(broker.uri), LONG, 10)
        sub.wait_event('workout_started')
        sub.publish(f'{BASE}/cmd/stop', b'')
        sub.publish(f'{BASE}/cmd/bogus', b'\xff')
        # some workout time later, nothing happened
        n = sub.count(f'{BASE}/metrics')
        sub.wait(lambda: sub.count(f'{BASE}/metrics') >= n + 30, what='thirty more metrics')
        self.assertFalse([e for e in sub.events() if e['type'] in ('command_rejected',
                                                                  'workout_finished')])
        self.assertTrue(d.alive())
        self.assertEqual(d.log_lines('command'), [])
        d.stop()


if __name__ == '__main__':
    pacertest.main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Pacer's end-to-end benchmark (GitHub issue "Benchmarks"): pacerd against
a baseline BLE-to-MQTT bridge (bench/baseline-bridge.py, bleak + paho), on
the real stack: a private dbus-daemon, the fake bluetoothd
(tests/integration/fakebluez.py) streaming generated measurements, and
mosquitto on 127.0.0.1.  Both bridges run the same scenarios in the same
invocation, one after the other, never at the same time.  It prints
figures (a table, or one JSON object with --json) and never asserts a
timing; see bench/README.md.

Run it through bench/run (installs what is missing and builds build-bench):

    bench/run [--json] [--only run,stress,idle,pipeline] [--seconds N]

Exit status: 0 when every scenario was measured (whether or not it is
within budget), 1 when the benchmark itself failed (a process died, nothing
arrived, sensors never subscribed ...), 64 on a usage error.
'''

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, 'tests', 'integration'))

import pacertest  # noqa: E402  pylint: disable=wrong-import-position
from pacertest import wait_until  # noqa: E402  pylint: disable=wrong-import-position

PYTHON = '/usr/bin/python3'
PACERD = os.environ.get('PACERD') or os.path.join(TOP, 'build-bench', 'daemon', 'pacerd')
BASELINE = os.path.join(HERE, 'baseline-bridge.py')
RUN_REPLAY = os.path.join(HERE, 'run-replay')
NODE = 'bench'
PACERD_RAW_PREFIX = f'pacer/{NODE}/raw/'
BASELINE_PREFIX = 'baseline'
BASELINE_RAW_PREFIX = f'{BASELINE_PREFIX}/raw/'
# not a bridge: the least a bridge that publishes every notification can
# cost here (bench/floor-bridge.c), measured in the same harness
FLOOR_SYSTEM = 'floor'
FLOOR = os.path.join(HERE, 'floor-bridge.py')
FLOOR_PREFIX = 'floor'
FLOOR_RAW_PREFIX = f'{FLOOR_PREFIX}/raw/'
SYSTEMS = ('pacerd', 'baseline')
# pacerd doing its own job, for comparison: notifications feed the metrics,
# one metrics message a second ([mqtt] raw = false), nothing per notification
DEFAULT_JOB = 'pacerd-default'
SCENARIOS = ('pipeline', 'idle', 'run', 'stress')
UUIDS = {'heart_rate': '2a37', 'footpod': '2a53'}

SETTLE_S = 2.0              # after every sensor is subscribed, before measuring
DRAIN_S = 3.0               # wait this long after the last message
IDLE_SETTLE_S = 5.0
IDLE_WINDOW_S = 20.0
SUBSCRIBE_TIMEOUT_S = 180.0
STABLE_S = 20.0             # give up on the missing sensors after this long without progress

BUDGET = {
    'cpu_ratio': ('>=', 10),
    'rss_ratio': ('>=', 4),
    'p99_latency_ratio': ('<=', 1),
    'lost': ('==', 0),
    'instructions_per_notification': ('<', 2000),
    'idle_wakeups_per_s': ('<=', 3),
}


class BenchError(Exception):
    '''The benchmark itself failed (not a figure out of budget).'''


def say(msg):
    sys.stderr.write(f'bench: {msg}\n')
    sys.stderr.flush()


# --------------------------------------------------------------------------
# /proc
# --------------------------------------------------------------------------

CLK_TCK = os.sysconf('SC_CLK_TCK')


def cpu_seconds(pid):
    '''utime + stime of the process (all its threads), in seconds.'''
    with open(f'/proc/{pid}/stat', encoding='ascii') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kb(pid, key):
    with open(f'/proc/{pid}/status', encoding='ascii') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    return None


def thread_cpu(pid):
    '''{tid: (name, utime + stime in seconds)}.'''
    out = {}
    base = f'/proc/{pid}/task'
    for tid in os.listdir(base):
        try:
            with open(f'{base}/{tid}/stat', encoding='utf-8', errors='replace') as f:
                head, tail = f.read().rsplit(')', 1)
            fields = tail.split()
            out[int(tid)] = (head.split('(', 1)[1], (int(fields[11]) + int(fields[12])) / CLK_TCK)
        except (OSError, IndexError, ValueError):
            pass
    return out


def deltas_by_name(before, after):
    '''{thread name: growth of a per-thread count between two {tid: (name,
    value)} snapshots} (threads of the same name summed; threads that ended
    are not counted).'''
    deltas = {}
    for tid, (name, v) in after.items():
        deltas[name] = deltas.get(name, 0) + v - before.get(tid, (name, 0))[1]
    return deltas


def thread_cpu_split(before, after):
    '''{thread name: share of the CPU time between the two snapshots}.'''
    deltas = deltas_by_name(before, after)
    total = sum(deltas.values())
    return {name: round(d / total, 3) for name, d in sorted(deltas.items(), key=lambda kv: -kv[1])
            if total > 0 and d > 0}


def thread_switches(pid):
    '''{tid: (name, voluntary + nonvoluntary context switches)}.'''
    out = {}
    base = f'/proc/{pid}/task'
    for tid in os.listdir(base):
        try:
            with open(f'{base}/{tid}/comm', encoding='utf-8', errors='replace') as f:
                name = f.read().strip()
            n = 0
            with open(f'{base}/{tid}/status', encoding='ascii') as f:
                for line in f:
                    if line.startswith(('voluntary_ctxt_switches:', 'nonvoluntary_ctxt_switches:')):
                        n += int(line.split()[1])
            out[int(tid)] = (name, n)
        except OSError:
            pass        # the thread ended meanwhile
    return out


def cpu_model():
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------

def percentile(sorted_values, p):
    '''Nearest-rank percentile of an ascending list (None if empty).'''
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def rnd(x, digits=2):
    return None if x is None else round(x, digits)


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


# --------------------------------------------------------------------------
# The subscriber
# --------------------------------------------------------------------------

class Subscriber:
    '''A paho client in this process: stamps each message on arrival with
    time.monotonic_ns() (paho's network thread); decoding happens later.'''

    def __init__(self, port, topics):
        import paho.mqtt.client as mqtt  # pylint: disable=import-outside-toplevel
        self.messages = []          # (topic, payload, ns)
        self.last_ns = 0
        self.client = mqtt.Client(client_id=f'bench-subscriber-{os.getpid()}', clean_session=True)
        self.subscribed = threading.Event()
        self.topics = topics
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect('127.0.0.1', port, keepalive=60)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            self.close()
            raise BenchError('the subscriber could not subscribe on the broker')

    def _on_connect(self, client, _userdata, _flags, rc):
        if rc == 0:
            client.subscribe([(t, 0) for t in self.topics])

    def _on_message(self, _client, _userdata, msg):
        t = time.monotonic_ns()
        self.messages.append((msg.topic, msg.payload, t))
        self.last_ns = t

    def count(self, prefix):
        return sum(1 for m in list(self.messages) if m[0].startswith(prefix))

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


# --------------------------------------------------------------------------
# One measured run of one system
# --------------------------------------------------------------------------

def straps_and_pods(n_straps, n_pods):
    straps = [f'C0:FF:EE:00:01:{i + 1:02X}' for i in range(n_straps)]
    pods = [f'C0:FF:EE:00:02:{i + 1:02X}' for i in range(n_pods)]
    return straps, pods


class World:
    '''A private bus, the fake bluetoothd with the given sensors, mosquitto
    and a subscriber; fresh for every run.'''

    def __init__(self, tmpdir, sensors, topics):
        self.tmpdir = tmpdir
        self.processes = pacertest.Processes()
        self.subscriber = None
        self.sensors = sensors      # [(address, kind)]
        try:
            self.bus = pacertest.DBusDaemon(tmpdir, self.processes)
            self.bus.start()
            params = {'temporary_timeout': 0,
                      'sensors': [{'address': a, 'name': f'{kind} {a[-5:]}', 'kind': kind, 'battery': -1,
                                   'battery_as': 'none'} for a, kind in sensors]}
            self.fake = pacertest.FakeBlueZ(self.bus, tmpdir, self.processes, params)
            self.fake.start()
            # no Nagle on the broker's side: the measuring apparatus must not
            # hold messages back (each bridge's own socket options are its own)
            self.broker = pacertest.Mosquitto(tmpdir, self.processes, extra_config='set_tcp_nodelay true')
            self.broker.start()
            self.subscriber = Subscriber(self.broker.port, topics)
        except Exception:
            self.close()
            raise

    def subscribed(self):
        '''Addresses whose measurement characteristic has a notify session
        or is acquired.'''
        out = []
        for address, kind in self.sensors:
            c = self.fake.get_characteristic(address, UUIDS[kind])
            if c['sessions'] > 0 or c['acquired']:
                out.append(address)
        return out

    def close(self):
        if self.subscriber is not None:
            self.subscriber.close()
            self.subscriber = None
        self.processes.kill_all()
        if getattr(self, 'fake', None) is not None:
            try:
                self.fake.conn.close_sync(None)
            except Exception:  # pylint: disable=broad-except
                pass


def pacerd_config(path, records, port, heart_rate='', footpod='', bridge=(), raw=True):
    sensors = ['adapter = hci0']
    if heart_rate or footpod:
        sensors += [f'heart_rate = {heart_rate or "none"}', f'footpod = {footpod or "none"}', 'treadmill = none']
    if bridge:
        sensors.append('bridge = ' + ', '.join(bridge))
    text = ('[sensors]\n' + '\n'.join(sensors) + '\n'
            f'[mqtt]\nuri = tcp://127.0.0.1:{port}\nnode = {NODE}\nraw = {str(raw).lower()}\n'
            'ha_discovery = false\n'
            # the D-Bus service runs as in the field (the bench bus lets anyone own a name)
            '[dbus]\nenabled = true\nbus = system\n'
            f'[record]\ndir = {records}\n')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    return path


class System:
    '''pacerd or the baseline, started in a World.'''

    def __init__(self, name, world, tmpdir, addresses, straps, pods):
        self.name = name
        self.world = world
        self.log_path = os.path.join(tmpdir, f'{name}.log')
        env = world.bus.env()
        if name.startswith('pacerd'):
            records = os.path.join(tmpdir, 'records')
            os.makedirs(records, exist_ok=True)
            # the runner's strap and footpod; the others bridged (none: auto)
            hr = straps[0] if straps else ''
            pod = pods[0] if pods else ''
            bridge = [a for a in addresses if a not in (hr, pod)]
            config = pacerd_config(os.path.join(tmpdir, 'pacer.conf'), records, world.broker.port, hr, pod, bridge,
                                   raw=name == 'pacerd')
            self.proc = world.processes.spawn([PACERD, '--config', config], log_path=self.log_path, env=env)
            self.raw_prefix = PACERD_RAW_PREFIX
        else:
            floor = name == FLOOR_SYSTEM
            argv = [PYTHON, FLOOR if floor else BASELINE, '--broker', f'127.0.0.1:{world.broker.port}',
                    '--topic-prefix', FLOOR_PREFIX if floor else BASELINE_PREFIX]
            for a in addresses:
                argv += ['--address', a]
            with open(self.log_path, 'ab') as log:
                self.proc = world.processes.spawn(argv, env=env, stdout=subprocess.PIPE, stderr=log)
            self.raw_prefix = FLOOR_RAW_PREFIX if floor else BASELINE_RAW_PREFIX
        self.ready = name.startswith('pacerd')
        self._stdout = b''

    @property
    def pid(self):
        return self.proc.pid

    def check_alive(self, when):
        if self.proc.poll() is not None:
            raise BenchError(f'{self.name} exited with status {self.proc.returncode} {when}:\n'
                             + pacertest.read_text(self.log_path, tail=30))

    def poll_ready(self):
        '''The baseline prints "ready" once every address is subscribed.'''
        if self.ready:
            return True
        import select  # pylint: disable=import-outside-toplevel
        while select.select([self.proc.stdout], [], [], 0)[0]:
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                break
            self._stdout += chunk
        self.ready = b'ready' in self._stdout
        return self.ready

    def wait_subscribed(self, addresses, timeout, stable_s=STABLE_S):
        '''Wait until every address is subscribed; returns the ones that
        never were (pacerd: a build without the bridge key connects only
        the runner's sensors).  Gives up on the rest once some are
        subscribed and nothing changed for stable_s seconds.'''
        deadline = time.monotonic() + timeout
        subscribed = []
        changed = time.monotonic()
        while True:
            self.check_alive('while connecting its sensors')
            now_subscribed = self.world.subscribed()
            if now_subscribed != subscribed:
                subscribed, changed = now_subscribed, time.monotonic()
            if len(subscribed) == len(addresses) and self.poll_ready():
                return []
            now = time.monotonic()
            if now >= deadline or (subscribed and self.ready and now - changed >= stable_s):
                break
            time.sleep(0.2)
        missing = [a for a in addresses if a not in subscribed]
        if len(missing) == len(addresses):
            raise BenchError(f'{self.name}: no sensor subscribed within {timeout:g} s:\n'
                             + pacertest.read_text(self.log_path, tail=30))
        return missing

    def stop(self):
        if self.proc.stdout is not None:
            try:
                self.proc.stdout.close()
            except OSError:
                pass
            self.proc.stdout = None
        return self.world.processes.stop(self.proc, timeout=10)


class Matcher:
    '''Reads the subscriber's messages on one raw prefix incrementally:
    the first arrival of each (address, key).'''

    def __init__(self, system_name, prefix):
        self.system_name = system_name
        self.prefix = prefix
        self.pos = 0
        self.arrivals = {}          # (address, key) -> first arrival ns
        self.duplicates = 0
        self.bad = 0
        self.other = 0              # other characteristics (e.g. reads at connection)

    def update(self, messages, expected):
        '''Process new messages; returns how many keys of expected
        (a set) arrived with them.'''
        n = len(messages)
        hits = 0
        for topic, payload, t in messages[self.pos:n]:
            if not topic.startswith(self.prefix):
                continue
            address = topic[len(self.prefix):].upper().replace('_', ':')
            try:
                m = json.loads(payload)
                kind = m.get('type')
                if kind == 'heart_rate':
                    key = int(m['energy_kj'])
                elif kind == 'rsc':
                    key = int(round(float(m['distance_m']) * 10))
                else:
                    self.other += 1
                    continue
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                self.bad += 1
                if self.bad <= 3:
                    say(f'{self.system_name}: a message not understood on {topic}: {payload[:120]!r} ({e})')
                continue
            if (address, key) in self.arrivals:
                self.duplicates += 1
            else:
                self.arrivals[(address, key)] = t
                hits += (address, key) in expected
        self.pos = n
        return hits


def default_job_figures(world, streams):
    '''pacerd's own job: what was delivered and how many metrics messages
    came (no per-notification message to match, so no latency or loss).'''
    logs = {a: world.fake.get_stream_log(a) for a, _r, _dt, _n in streams}
    return {
        'notifications_scheduled': sum(n for _a, _r, _dt, n in streams),
        'notifications_delivered': sum(len(sent) for sent, _ in logs.values()),
        'notifications_undelivered': sum(u for _, u in logs.values()),
        'metrics_messages': world.subscriber.count(f'pacer/{NODE}/metrics'),
        'matched': 0,
    }


def stream_figures(world, system, streams, t_done_ns):
    '''Collect the fake's logs and the subscriber's messages; match them.'''
    logs = {a: world.fake.get_stream_log(a) for a, _r, _dt, _n in streams}
    expected = {(a, key) for a, (sent, _u) in logs.items() for key, _t in sent}
    delivered = sum(len(sent) for sent, _ in logs.values())
    sub = world.subscriber
    matcher = Matcher(system.name, system.raw_prefix)
    # drain: until every delivered notification has arrived, or DRAIN_S s
    # after the last message (or the end of the streams)
    matched = 0
    while True:
        matched += matcher.update(sub.messages, expected)
        if matched >= len(expected):
            break
        if time.monotonic_ns() - max(sub.last_ns, t_done_ns) > DRAIN_S * 1e9:
            matched += matcher.update(sub.messages, expected)
            break
        time.sleep(0.05)
    arrivals = matcher.arrivals
    kinds = dict(world.sensors)

    latencies = []
    lost = 0
    sent_keys = set()
    per_kind = {}
    for address, (sent, undelivered) in logs.items():
        kind = kinds[address]
        pk = per_kind.setdefault(kind, {'delivered': 0, 'undelivered': 0, 'lost': 0})
        pk['delivered'] += len(sent)
        pk['undelivered'] += undelivered
        for key, t_sent in sent:
            sent_keys.add((address, key))
            t = arrivals.get((address, key))
            if t is None:
                lost += 1
                pk['lost'] += 1
            else:
                latencies.append((t - t_sent) / 1e6)
    extra = sum(1 for k in arrivals if k not in sent_keys)
    # every matched notification, for a closer look (PACER_BENCH_KEEP=1 keeps it)
    with open(os.path.join(world.tmpdir, f'latencies-{system.name}.csv'), 'w', encoding='ascii') as f:
        f.write('address,key,sent_ns,arrived_ns\n')
        for address, (sent, _u) in logs.items():
            for key, t_sent in sent:
                f.write(f'{address},{key},{t_sent},{arrivals.get((address, key), "")}\n')
    duplicates, bad = matcher.duplicates, matcher.bad
    latencies.sort()

    # how well the fake kept to its schedule
    all_times = [t for sent, _ in logs.values() for _k, t in sent]
    undelivered = sum(u for _, u in logs.values())
    scheduled = sum(n for _a, _r, _dt, n in streams)
    target_rate = sum(r for _a, r, _dt, _n in streams)
    achieved = None
    lag = []
    if len(all_times) > 1:
        t0 = min(all_times)
        span = (max(all_times) - t0) / 1e9
        achieved = (len(all_times) - 1) / span if span > 0 else None
        # lateness of each notification against its stream's first one
        for address, rate, _dt, _n in streams:
            sent, und = logs[address]
            if und == 0 and sent:
                first = sent[0][1]
                lag += [(t - (first + i * 1e9 / rate)) / 1e6 for i, (_k, t) in enumerate(sent)]
    lag.sort()
    return {
        'notifications_scheduled': scheduled,
        'notifications_delivered': delivered,
        'notifications_undelivered': undelivered,
        'messages': len(arrivals) + duplicates,
        'other_messages': matcher.other,
        'matched': len(latencies),
        'lost': lost,
        'duplicates': duplicates,
        'unmatched_messages': extra,
        'bad_messages': bad,
        'per_kind': per_kind,
        'latency_ms': {'p50': rnd(percentile(latencies, 50), 3), 'p90': rnd(percentile(latencies, 90), 3),
                       'p99': rnd(percentile(latencies, 99), 3), 'max': rnd(latencies[-1] if latencies else None, 3),
                       'mean': rnd(sum(latencies) / len(latencies) if latencies else None, 3)},
        'fake_send_rate_hz': rnd(achieved, 1),
        'fake_target_rate_hz': rnd(target_rate, 1),
        'fake_send_lag_ms': {'p99': rnd(percentile(lag, 99), 2), 'max': rnd(lag[-1] if lag else None, 2)},
    }


def measure_streams(system_name, tmpdir, scenario, straps, pods, streams):
    addresses = straps + pods
    sensors = [(a, 'heart_rate') for a in straps] + [(a, 'footpod') for a in pods]
    prefix = {'pacerd': PACERD_RAW_PREFIX, DEFAULT_JOB: f'pacer/{NODE}/metrics',
              FLOOR_SYSTEM: FLOOR_RAW_PREFIX}.get(system_name, BASELINE_RAW_PREFIX)
    world = World(tmpdir, sensors, [prefix + '#' if prefix.endswith('/') else prefix])
    system = None
    try:
        t_start = time.monotonic()
        system = System(system_name, world, tmpdir, addresses, straps, pods)
        missing = system.wait_subscribed(addresses, SUBSCRIBE_TIMEOUT_S)
        ready_s = time.monotonic() - t_start
        if missing:
            say(f'{scenario}/{system_name}: {len(missing)} of {len(addresses)} sensors never subscribed '
                f'(their notifications count as undelivered): {", ".join(missing[:4])}'
                f'{" ..." if len(missing) > 4 else ""}')
        time.sleep(SETTLE_S)
        system.check_alive('before the streams')
        save_smaps(system, f'{scenario}-{system_name}-subscribed')
        cpu0 = cpu_seconds(system.pid)
        threads0 = thread_cpu(system.pid)
        switches0 = thread_switches(system.pid)
        wall0 = time.monotonic()
        duration = max(n / r for _a, r, _dt, n in streams)
        say(f'{scenario}/{system_name}: {len(addresses) - len(missing)} of {len(addresses)} sensors subscribed '
            f'after {ready_s:.1f} s; streaming {duration:.0f} s')
        world.fake.start_streams(streams)
        wait_until(lambda: (system.check_alive('during the streams'), not world.fake.streams_running())[1],
                   duration + 120, interval=0.25, what='the streams to end')
        t_done = time.monotonic_ns()
        if system_name == DEFAULT_JOB:
            time.sleep(DRAIN_S)
            figures = default_job_figures(world, streams)
        else:
            figures = stream_figures(world, system, streams, t_done)
        system.check_alive('after the streams')
        cpu1 = cpu_seconds(system.pid)
        threads1 = thread_cpu(system.pid)
        switches1 = thread_switches(system.pid)
        wall1 = time.monotonic()
        hwm = status_kb(system.pid, 'VmHWM')
        rss = status_kb(system.pid, 'VmRSS')
        threads = len(os.listdir(f'/proc/{system.pid}/task'))
        save_smaps(system, f'{scenario}-{system_name}-streamed')
        system.stop()
        delivered = figures['notifications_delivered']
        if delivered == 0:
            raise BenchError(f'{system_name}: no notification was delivered')
        if figures['matched'] == 0 and system_name != DEFAULT_JOB:
            hint = (' (does this pacerd publish [mqtt] raw = true on pacer/<node>/raw/<ADDRESS>?)'
                    if system_name == 'pacerd' else '')
            raise BenchError(f'{system_name}: none of the {delivered} notifications arrived as an MQTT '
                             f'message{hint}\n' + pacertest.read_text(system.log_path, tail=30))
        cpu = cpu1 - cpu0
        figures.update({
            'sensors': len(addresses),
            'sensors_not_subscribed': missing,
            'subscribed_after_s': rnd(ready_s, 1),
            'cpu_s': rnd(cpu, 3),
            'wall_s': rnd(wall1 - wall0, 1),
            'cpu_percent': rnd(100 * cpu / (wall1 - wall0), 1),
            'cpu_us_per_notification': rnd(cpu * 1e6 / delivered, 1),
            'peak_rss_mb': rnd(hwm / 1024, 1) if hwm else None,
            'rss_mb': rnd(rss / 1024, 1) if rss else None,
            'threads': threads,
            'cpu_share_by_thread': thread_cpu_split(threads0, threads1),
        })
        switches = deltas_by_name(switches0, switches1)
        figures['switches_per_notification'] = rnd(sum(switches.values()) / delivered, 2)
        figures['switches_per_notification_by_thread'] = {k: rnd(v / delivered, 2)
                                                          for k, v in switches.items() if v}
        say(f'{scenario}/{system_name}: {figures["cpu_us_per_notification"]} us CPU/notification, '
            f'{figures["switches_per_notification"]} context switches/notification '
            f'{figures["switches_per_notification_by_thread"]}, '
            f'peak RSS {figures["peak_rss_mb"]} MB, '
            + (f'{figures["metrics_messages"]} metrics messages' if system_name == DEFAULT_JOB else
               f'p99 {figures["latency_ms"]["p99"]} ms, lost {figures["lost"]} of {delivered}, '
               f'fake sent {figures["fake_send_rate_hz"]}/s (target {figures["fake_target_rate_hz"]}/s)'))
        return figures
    finally:
        if system is not None and system.proc.poll() is None:
            system.stop()
        world.close()


def save_smaps(system, name):
    '''With PACER_BENCH_SMAPS=DIR, keep /proc/PID/smaps as DIR/NAME.smaps
    (where the memory is, for a closer look).'''
    where = os.environ.get('PACER_BENCH_SMAPS')
    if where:
        os.makedirs(where, exist_ok=True)
        shutil.copyfile(f'/proc/{system.pid}/smaps', os.path.join(where, name + '.smaps'))


def compare(pacerd, baseline):
    '''Ratios of one stream scenario.'''
    def get(d, *keys):
        for k in keys:
            if d is None:
                return None
            d = d.get(k)
        return d
    return {
        'cpu_ratio': rnd(ratio(get(baseline, 'cpu_us_per_notification'), get(pacerd, 'cpu_us_per_notification'))),
        'rss_ratio': rnd(ratio(get(baseline, 'peak_rss_mb'), get(pacerd, 'peak_rss_mb'))),
        'p99_latency_ratio': rnd(ratio(get(pacerd, 'latency_ms', 'p99'), get(baseline, 'latency_ms', 'p99')), 3),
    }


def scenario_run(args, tmpdir):
    secs = args.seconds or 60
    straps, pods = straps_and_pods(1, 1)
    streams = [(straps[0], 60, 1.0, int(60 * secs)), (pods[0], 240, 0.25, int(240 * secs))]
    return stream_scenario('run', args, tmpdir, straps, pods, streams,
                           f'1 strap at 1 Hz + 1 footpod at 4 Hz, {secs:g} simulated min at 60x '
                           f'({secs:g} s, 300 notifications/s)', default_job=True)


def scenario_stress(args, tmpdir):
    secs = args.seconds or 60
    straps, pods = straps_and_pods(10, 10)
    streams = [(a, 20, 0.05, int(20 * secs)) for a in straps + pods]
    out, errors = stream_scenario('stress', args, tmpdir, straps, pods, streams,
                                  f'10 straps + 10 footpods at 20 Hz each for {secs:g} s (400 notifications/s)')
    return out, errors


def stream_scenario(name, _args, tmpdir, straps, pods, streams, what, default_job=False):
    out = {'what': what}
    errors = []
    for system in SYSTEMS + ((DEFAULT_JOB,) if default_job else ()) + (FLOOR_SYSTEM,):
        d = os.path.join(tmpdir, f'{name}-{system}')
        os.makedirs(d)
        try:
            out[system] = measure_streams(system, d, name, straps, pods, streams)
        except (BenchError, pacertest.WaitTimeout, RuntimeError, OSError) as e:
            say(f'{name}/{system}: FAILED: {e}')
            out[system] = {'error': str(e).splitlines()[0]}
            errors.append(f'{name}/{system}: {e}')
    out.update(compare(out.get('pacerd'), out.get('baseline')))
    if default_job:
        own = compare(out.get(DEFAULT_JOB), out.get('baseline'))
        out['cpu_ratio_default_job'] = own['cpu_ratio']
        out['rss_ratio_default_job'] = own['rss_ratio']
    out['cpu_ratio_floor'] = compare(out.get(FLOOR_SYSTEM), out.get('baseline'))['cpu_ratio']
    return out, errors


def measure_idle(system_name, tmpdir):
    '''pacerd: broker connected, no sensors, no workout.  The baseline needs
    a sensor to run at all: one strap, connected and subscribed, silent.'''
    if system_name == 'pacerd':
        straps, sensors = [], []
    else:
        straps, _ = straps_and_pods(1, 0)
        sensors = [(straps[0], 'heart_rate')]
    world = World(tmpdir, sensors, [f'pacer/{NODE}/status'])
    system = None
    try:
        system = System(system_name, world, tmpdir, straps, straps, [])
        if straps:
            system.wait_subscribed(straps, SUBSCRIBE_TIMEOUT_S)
        else:
            # pacerd: connected to the broker once it has said "online"
            try:
                wait_until(lambda: (system.check_alive('while starting'),
                                    any(p == b'online' for _t, p, _n in world.subscriber.messages))[1],
                           30, interval=0.1, what='pacerd to be online on the broker')
            except pacertest.WaitTimeout:
                say('idle/pacerd: no "online" on pacer/bench/status; measuring anyway')
        time.sleep(IDLE_SETTLE_S)
        system.check_alive('while settling')
        before = thread_switches(system.pid)
        cpu0 = cpu_seconds(system.pid)
        t0 = time.monotonic()
        time.sleep(IDLE_WINDOW_S)
        after = thread_switches(system.pid)
        cpu1 = cpu_seconds(system.pid)
        secs = time.monotonic() - t0
        system.check_alive('while idle')
        threads = {}
        total = 0
        for tid, (name, n) in after.items():
            delta = n - before.get(tid, (name, 0))[1]
            total += delta
            label = f'{name} ({tid})'
            threads[label] = rnd(delta / secs, 2)
        ended = [tid for tid in before if tid not in after]
        figures = {
            'condition': ('broker connected, the fake bluetoothd with no sensors, no workout'
                          if system_name == 'pacerd' else
                          'broker connected, one strap connected and subscribed, no notifications'),
            'window_s': rnd(secs, 1),
            'wakeups_per_s': rnd(total / secs, 2),
            'threads_wakeups_per_s': threads,
            'threads_ended': len(ended),
            'cpu_ms_per_s': rnd((cpu1 - cpu0) * 1000 / secs, 2),
            'rss_mb': rnd((status_kb(system.pid, 'VmRSS') or 0) / 1024, 1),
        }
        say(f'idle/{system_name}: {figures["wakeups_per_s"]} wakeups/s')
        system.stop()
        return figures
    finally:
        if system is not None and system.proc.poll() is None:
            system.stop()
        world.close()


def scenario_idle(_args, tmpdir):
    out = {'what': f'context switches (voluntary + involuntary, all threads) over {IDLE_WINDOW_S:g} s '
                   f'after {IDLE_SETTLE_S:g} s'}
    errors = []
    for system in SYSTEMS:
        d = os.path.join(tmpdir, f'idle-{system}')
        os.makedirs(d)
        try:
            out[system] = measure_idle(system, d)
        except (BenchError, pacertest.WaitTimeout, RuntimeError, OSError) as e:
            say(f'idle/{system}: FAILED: {e}')
            out[system] = {'error': str(e).splitlines()[0]}
            errors.append(f'idle/{system}: {e}')
    return out, errors


def scenario_pipeline(_args, _tmpdir):
    say('pipeline: bench/run-replay --json (7 replays, 7 dumps, one callgrind run)')
    try:
        proc = subprocess.run([RUN_REPLAY, '--json'], cwd=TOP, capture_output=True, text=True, timeout=400,
                              check=False)
    except subprocess.TimeoutExpired:
        return {'error': 'bench/run-replay timed out'}, ['pipeline: bench/run-replay timed out']
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{')]
    if proc.returncode != 0 or not lines:
        msg = f'bench/run-replay failed (status {proc.returncode}): {proc.stderr.strip()[-500:]}'
        return {'error': msg}, [f'pipeline: {msg}']
    out = json.loads(lines[-1])
    if out.get('replay_ms'):
        out['replay_notifications_per_s'] = round(out['notifications'] / (out['replay_ms'] / 1000.0))
    say(f'pipeline: {out.get("replay_ms")} ms for {out.get("notifications")} notifications, '
        f'{out.get("instructions_per_notification")} instructions/notification')
    return out, []


# --------------------------------------------------------------------------
# Summary, table
# --------------------------------------------------------------------------

def summarise(scenarios):
    def worst(key, pick):
        values = [scenarios[s][key] for s in ('run', 'stress') if s in scenarios
                  and scenarios[s].get(key) is not None]
        return pick(values) if values else None

    lost = None
    for s in ('run', 'stress'):
        p = scenarios.get(s, {}).get('pacerd', {})
        if 'lost' in p:
            lost = (lost or 0) + p['lost']
    summary = {
        'cpu_ratio': worst('cpu_ratio', min),
        # not a budget figure: pacerd without a message per notification (see the table)
        'cpu_ratio_default_job': scenarios.get('run', {}).get('cpu_ratio_default_job'),
        # not a budget figure: the most cpu_ratio can be on this machine (the floor bridge)
        'cpu_ratio_floor': worst('cpu_ratio_floor', min),
        'rss_ratio': worst('rss_ratio', min),
        'p99_latency_ratio': worst('p99_latency_ratio', max),
        'lost': lost,
        'instructions_per_notification': scenarios.get('pipeline', {}).get('instructions_per_notification'),
        'idle_wakeups_per_s': scenarios.get('idle', {}).get('pacerd', {}).get('wakeups_per_s'),
        'replay_notifications_per_s': scenarios.get('pipeline', {}).get('replay_notifications_per_s'),
    }
    budget = {}
    ok_all = True
    for key, (op, limit) in BUDGET.items():
        value = summary[key]
        if value is None:
            ok = None
        else:
            ok = {'>=': value >= limit, '<=': value <= limit, '<': value < limit, '==': value == limit}[op]
        budget[key] = {'limit': f'{op} {limit}', 'value': value, 'ok': ok}
        ok_all = ok_all and ok is True
    return summary, budget, ok_all


def fmt(x, unit='', digits=None):
    if x is None:
        return '-'
    if isinstance(x, float) and digits is not None:
        return f'{x:.{digits}f}{unit}'
    return f'{x}{unit}'


def table(result):
    out = []
    m = result['machine']
    out.append(f'Pacer benchmark: pacerd vs the baseline (bleak + paho Python bridge), {result["date"]}')
    out.append(f'machine: {m["arch"]}, {m["cpu"]}, {m["cores"]} cores; wall time {result["wall_s"]:.0f} s')
    sc = result['scenarios']
    row = '  {:<34} {:>12} {:>12} {:>16}'
    for name in ('run', 'stress'):
        if name not in sc:
            continue
        s = sc[name]
        p, b = s.get('pacerd', {}), s.get('baseline', {})
        out.append('')
        out.append(f'{name}: {s["what"]}')
        out.append(row.format('', 'pacerd', 'baseline', 'ratio'))
        for who, d in (('pacerd', p), ('baseline', b)):
            if 'error' in d:
                out.append(f'  {who} FAILED: {d["error"]}')
        out.append(row.format('CPU us per notification', fmt(p.get('cpu_us_per_notification')),
                              fmt(b.get('cpu_us_per_notification')), fmt(s.get('cpu_ratio'), 'x') + ' b/p'))
        out.append(row.format('CPU % of one core while streaming', fmt(p.get('cpu_percent')),
                              fmt(b.get('cpu_percent')), ''))
        out.append(row.format('peak RSS MB (VmHWM)', fmt(p.get('peak_rss_mb')), fmt(b.get('peak_rss_mb')),
                              fmt(s.get('rss_ratio'), 'x') + ' b/p'))
        lp, lb = p.get('latency_ms', {}), b.get('latency_ms', {})
        out.append(row.format('latency p50 ms', fmt(lp.get('p50')), fmt(lb.get('p50')), ''))
        out.append(row.format('latency p99 ms', fmt(lp.get('p99')), fmt(lb.get('p99')),
                              fmt(s.get('p99_latency_ratio'), 'x') + ' p/b'))
        out.append(row.format('latency max ms', fmt(lp.get('max')), fmt(lb.get('max')), ''))
        out.append(row.format('delivered notifications', fmt(p.get('notifications_delivered')),
                              fmt(b.get('notifications_delivered')), ''))
        out.append(row.format('lost (delivered, no MQTT message)', fmt(p.get('lost')), fmt(b.get('lost')), ''))
        out.append(row.format('undelivered by the fake', fmt(p.get('notifications_undelivered')),
                              fmt(b.get('notifications_undelivered')), ''))
        out.append(row.format('fake send rate /s (target)',
                              f'{fmt(p.get("fake_send_rate_hz"))}', f'{fmt(b.get("fake_send_rate_hz"))}',
                              f'({fmt(p.get("fake_target_rate_hz") or b.get("fake_target_rate_hz"))})'))
        out.append(row.format('fake send lag p99 / max ms',
                              '/'.join(fmt(p.get('fake_send_lag_ms', {}).get(k)) for k in ('p99', 'max')),
                              '/'.join(fmt(b.get('fake_send_lag_ms', {}).get(k)) for k in ('p99', 'max')), ''))
        own = s.get(DEFAULT_JOB)
        if own and 'error' in own:
            out.append(f'  pacerd, its own job: FAILED: {own["error"]}')
        elif own:
            out.append('  pacerd doing its own job (raw = false: metrics once a second, D-Bus):')
            out.append(row.format('  CPU us per notification', fmt(own.get('cpu_us_per_notification')),
                                  fmt(b.get('cpu_us_per_notification')),
                                  fmt(s.get('cpu_ratio_default_job'), 'x') + ' b/p'))
            out.append(row.format('  peak RSS MB (VmHWM)', fmt(own.get('peak_rss_mb')), fmt(b.get('peak_rss_mb')),
                                  fmt(s.get('rss_ratio_default_job'), 'x') + ' b/p'))
            out.append(row.format('  metrics messages', fmt(own.get('metrics_messages')), '', ''))
        floor = s.get(FLOOR_SYSTEM)
        if floor and 'error' in floor:
            out.append(f'  the floor bridge: FAILED: {floor["error"]}')
        elif floor:
            out.append('  the floor bridge (acquire, poll, recv, one MQTT PUBLISH per notification, nothing else):')
            out.append(row.format('  CPU us per notification', fmt(floor.get('cpu_us_per_notification')),
                                  fmt(b.get('cpu_us_per_notification')),
                                  fmt(s.get('cpu_ratio_floor'), 'x') + ' b/f'))
            out.append(row.format('  latency p99 ms, lost', f'{fmt(floor.get("latency_ms", {}).get("p99"))}, '
                                  f'{fmt(floor.get("lost"))}', '', ''))
        for who, d in (('pacerd', p), ('baseline', b)):
            if d.get('cpu_share_by_thread'):
                out.append(f'  {who} CPU by thread: ' + ', '.join(
                    f'{n} {100 * v:.0f}%' for n, v in d['cpu_share_by_thread'].items()))
        for who, d in (('pacerd', p), ('baseline', b)):
            if d.get('sensors_not_subscribed'):
                out.append(f'  note: {len(d["sensors_not_subscribed"])} sensors never subscribed by {who}')
            if d.get('duplicates') or d.get('unmatched_messages') or d.get('bad_messages'):
                out.append(f'  note: {who}: {d.get("duplicates")} duplicate, {d.get("unmatched_messages")} '
                           f'unmatched, {d.get("bad_messages")} unparsable messages')
    if 'idle' in sc:
        s = sc['idle']
        p, b = s.get('pacerd', {}), s.get('baseline', {})
        out.append('')
        out.append(f'idle: {s["what"]}')
        out.append(row.format('', 'pacerd', 'baseline', ''))
        for who, d in (('pacerd', p), ('baseline', b)):
            if 'error' in d:
                out.append(f'  {who} FAILED: {d["error"]}')
        out.append(row.format('wakeups per s', fmt(p.get('wakeups_per_s')), fmt(b.get('wakeups_per_s')), ''))
        out.append(row.format('CPU ms per s', fmt(p.get('cpu_ms_per_s')), fmt(b.get('cpu_ms_per_s')), ''))
        for who, d in (('pacerd', p), ('baseline', b)):
            if d.get('condition'):
                out.append(f'  {who}: {d["condition"]}')
            for thread, rate in sorted(d.get('threads_wakeups_per_s', {}).items(), key=lambda kv: -kv[1]):
                out.append(f'    {who} thread {thread:<26} {rate:>8} wakeups/s')
    if 'pipeline' in sc:
        s = sc['pipeline']
        out.append('')
        out.append('pipeline: bench/run-replay (pacerctl replay of a one-hour capture)')
        if 'error' in s:
            out.append(f'  FAILED: {s["error"]}')
        out.append(row.format('replay ms (median of 7)', fmt(s.get('replay_ms')), '', ''))
        out.append(row.format('notifications', fmt(s.get('notifications')), '', ''))
        out.append(row.format('replay notifications per s', fmt(s.get('replay_notifications_per_s')), '', ''))
        out.append(row.format('instructions per notification', fmt(s.get('instructions_per_notification')), '', ''))
    out.append('')
    out.append('budget (b/p = baseline / pacerd, p/b = pacerd / baseline; worse of run and stress):')
    for key, b in result['budget'].items():
        verdict = {True: 'ok', False: 'OUT OF BUDGET', None: 'not measured'}[b['ok']]
        out.append(f'  {key:<32} {fmt(b["value"]):>12}   {b["limit"]:<8} {verdict}')
    out.append(f'within budget: {"yes" if result["within_budget"] else "no"}')
    if result.get('errors'):
        out.append('')
        out.append('the benchmark FAILED:')
        out += [f'  {e.splitlines()[0]}' for e in result['errors']]
    return '\n'.join(out)


# --------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(prog='bench/run', description='pacerd vs a baseline bridge, end to end')
    parser.add_argument('--json', action='store_true', help='print one JSON object')
    parser.add_argument('--table', action='store_true', help='with --json: the table on stderr too')
    parser.add_argument('--only', default=','.join(SCENARIOS),
                        help=f'scenarios to run, comma-separated ({", ".join(SCENARIOS)})')
    parser.add_argument('--seconds', type=float, default=None,
                        help='stream for N s instead of 60 (development)')
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(',') if s.strip()]
    unknown = [s for s in args.only if s not in SCENARIOS]
    if unknown or not args.only:
        parser.error(f'unknown scenario {", ".join(unknown)} (one of {", ".join(SCENARIOS)})')
    if args.seconds is not None and args.seconds <= 0:
        parser.error('--seconds must be > 0')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for program in ('dbus-daemon', 'mosquitto', 'bluetoothctl'):
        if shutil.which(program) is None:
            say(f'{program} is not installed (bench/run installs it)')
            return 1
    if not os.access(PACERD, os.X_OK):
        say(f'no pacerd at {PACERD} (bench/run builds it)')
        return 1
    started = time.monotonic()
    tmpdir = tempfile.mkdtemp(prefix='pacer-bench-')
    scenarios, errors = {}, []
    runners = {'pipeline': scenario_pipeline, 'idle': scenario_idle, 'run': scenario_run,
               'stress': scenario_stress}
    try:
        for name in SCENARIOS:
            if name in args.only:
                scenarios[name], errs = runners[name](args, tmpdir)
                errors += errs
    finally:
        keep = errors or os.environ.get('PACER_BENCH_KEEP')
        if keep:
            say(f'logs kept in {tmpdir}')
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)
    summary, budget, ok = summarise(scenarios)
    result = {
        'date': datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
        'machine': {'arch': platform.machine(), 'cpu': cpu_model(), 'cores': os.cpu_count(),
                    'kernel': platform.release()},
        'wall_s': round(time.monotonic() - started, 1),
        **summary,
        'budget': budget,
        'within_budget': ok,
        'complete': all(s in scenarios for s in SCENARIOS) and not errors,
        'scenarios': scenarios,
        'errors': [e.splitlines()[0] for e in errors],
    }
    if args.json:
        print(json.dumps(result, indent=None))
        if args.table:
            sys.stderr.write(table(result) + '\n')
    else:
        print(table(result))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())

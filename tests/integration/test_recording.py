#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Integration tests of the activity recorder (issue 8): pacerd --simulate
runs a workout with a virtual runner and [record] dir in a temporary folder;
the FIT files are decoded by Garmin's FIT SDK (node + @garmin/fitsdk, see
fitsdk-install and fit-decode.mjs), the TCX files validated with xmllint
against tests/data/TrainingCenterDatabasev2.xsd, and both compared with what
pacerd reported in workout_finished. Also: recovery after SIGKILL, a record
dir that cannot be written, a full disk, retention, and pacerctl history.

Run: /usr/bin/python3 tests/integration/test_recording.py [-k pattern]
(PACERD, PACERCTL: the binaries; PACER_FITSDK_DIR: where the FIT SDK is
installed, default build/tests/integration/fitsdk; PACER_TEST_KEEP=1 keeps
the temporary folders).'''

import glob
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pacertest  # noqa: E402  pylint: disable=wrong-import-position
from pacertest import wait_until  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
PACERD = os.environ.get('PACERD') or os.path.join(SOURCE_ROOT, 'build', 'daemon', 'pacerd')
PACERCTL = os.environ.get('PACERCTL') or os.path.join(SOURCE_ROOT, 'build', 'daemon', 'pacerctl')
DATA = os.environ.get('PACER_TEST_DATA') or os.path.join(SOURCE_ROOT, 'tests', 'data')
SCHEMA = os.path.join(DATA, 'TrainingCenterDatabasev2.xsd')
FITSDK_DIR = os.environ.get('PACER_FITSDK_DIR') or os.path.join(SOURCE_ROOT, 'build', 'tests',
                                                                 'integration', 'fitsdk')
FIT_DECODE = os.path.join(HERE, 'fit-decode.mjs')

WORKOUT = '5min@E, 2x(400m@5k, 1min rest), 5min@E'
KINDS = ['warmup', 'run', 'rest', 'run', 'rest', 'cooldown']
SHORT = '90s@E'


def fitsdk_entry():
    return os.path.join(FITSDK_DIR, 'node_modules', '@garmin', 'fitsdk', 'src', 'index.js')


def ensure_fitsdk():
    '''Installs @garmin/fitsdk into FITSDK_DIR when it is not there yet.'''
    if not os.path.exists(fitsdk_entry()):
        subprocess.run([os.path.join(HERE, 'fitsdk-install'), FITSDK_DIR], check=True, timeout=300)
    return fitsdk_entry()


class Recording(pacertest.TestCase):
    '''pacerd runs workouts with the virtual runner; each test has its own record dir.'''

    def setUp(self):
        super().setUp()
        self.require('node', 'xmllint')
        self.assertTrue(os.access(PACERD, os.X_OK), f'{PACERD} is not built')
        self.record_dir = os.path.join(self.tmpdir, 'record')
        self.runs = 0
        self.addCleanup(self.unmount)
        self.mounted = None

    def unmount(self):
        if self.mounted:
            subprocess.run(['umount', self.mounted], check=False)

    # ---- running pacerd

    def write_config(self, record_dir=None, keep=100, formats='fit,tcx'):
        path = os.path.join(self.tmpdir, 'pacer.conf')
        with open(path, 'w', encoding='utf-8') as f:
            f.write('[athlete]\nmax_hr = 190\nresting_hr = 50\nrace = 5k=20:00\n'
                    '[mqtt]\nenabled = false\n[dbus]\nenabled = false\n'
                    f'[record]\ndir = {record_dir or self.record_dir}\nformats = {formats}\n'
                    f'keep = {keep}\n')
        return path

    def spawn_pacerd(self, workout, speedup, config, **kwargs):
        self.runs += 1
        log = os.path.join(self.tmpdir, f'pacerd-{self.runs}.log')
        self.add_log(f'pacerd {self.runs}', log)
        argv = [PACERD, '--config', config, '--simulate', workout, '--speedup', str(speedup),
                '--events']
        with open(log, 'wb') as err:
            proc = self.processes.spawn(argv, stdout=subprocess.PIPE, stderr=err, **kwargs)
        return proc, log

    def run_pacerd(self, workout=WORKOUT, speedup=600, config=None, **kwargs):
        '''Runs a whole simulated workout; returns (events, log text).'''
        proc, log = self.spawn_pacerd(workout, speedup, config or self.write_config(), **kwargs)
        out, _ = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, pacertest.read_text(log))
        events = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
        return events, pacertest.read_text(log)

    @staticmethod
    def finished(events):
        done = [e for e in events if e['type'] == 'workout_finished']
        assert len(done) == 1, [e['type'] for e in events]
        return done[0]

    # ---- reading the files

    def decode_fit(self, path):
        entry = ensure_fitsdk()
        env = dict(os.environ, FITSDK=entry)
        p = subprocess.run(['node', FIT_DECODE, path], capture_output=True, text=True, env=env,
                           timeout=120, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        fit = json.loads(p.stdout)
        self.assertTrue(fit['isFIT'], path)
        self.assertTrue(fit['integrity'], f'{path}: the FIT SDK finds the file damaged')
        self.assertEqual(fit['errors'], [], f'{path}: the FIT SDK reports errors')
        return fit['messages']

    def validate_tcx(self, path):
        p = subprocess.run(['xmllint', '--noout', '--schema', SCHEMA, path], capture_output=True,
                           text=True, timeout=120, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('validates', p.stderr)
        with open(path, encoding='utf-8') as f:
            text = f.read()
        laps = re.findall(r'<Lap StartTime="[^"]+">(.*?)</Lap>', text, re.S)
        return text, laps

    @staticmethod
    def lap_number(lap, tag):
        m = re.search(rf'<{tag}>([0-9.]+)</{tag}>', lap)
        return float(m.group(1)) if m else None

    # ---- the tests

    def test_workout_files_match_the_summary(self):
        events, log = self.run_pacerd()
        done = self.finished(events)
        files = done['files']
        self.assertEqual(set(files), {'fit', 'tcx'})
        for path in files.values():
            self.assertTrue(os.path.isfile(path), path)
            self.assertEqual(os.path.dirname(path), self.record_dir)
            self.assertRegex(os.path.basename(path), r'^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.(fit|tcx)$')
        self.assertIn('recorded the run', log)
        self.assertEqual(glob.glob(os.path.join(self.record_dir, '*.journal')), [])
        self.assertEqual(glob.glob(os.path.join(self.record_dir, '.*')), [], 'no temporary file left')

        steps = done['steps']
        self.assertEqual([s['kind'] for s in steps], KINDS)
        m = self.decode_fit(files['fit'])
        self.assertEqual(m['fileIdMesgs'][0]['type'], 'activity')
        self.assertEqual(m['fileIdMesgs'][0]['manufacturer'], 'development')
        session = m['sessionMesgs']
        self.assertEqual(len(session), 1)
        session = session[0]
        self.assertEqual(session['sport'], 'running')
        self.assertEqual(session['subSport'], 'generic')   # strap + footpod, no treadmill
        self.assertEqual(session['numLaps'], len(steps))
        self.assertAlmostEqual(session['totalTimerTime'], done['duration_s'], delta=0.06)
        self.assertAlmostEqual(session['totalDistance'], done['distance_m'], delta=0.06)
        self.assertAlmostEqual(session['avgHeartRate'], done['hr_bpm'], delta=1)
        self.assertEqual(len(m['activityMesgs']), 1)
        self.assertGreater(len(m.get('hrvMesgs', [])), 100)
        self.assertEqual({d.get('bleDeviceType') for d in m['deviceInfoMesgs'][1:]},
                         {'heartRate', 'footpod'})
        timer = [e for e in m['eventMesgs'] if e['event'] == 'timer']
        self.assertEqual((timer[0]['eventType'], timer[-1]['eventType']), ('start', 'stopAll'))

        laps = m['lapMesgs']
        self.assertEqual(len(laps), len(steps))
        for lap, step in zip(laps, steps):
            what = f'lap {step["index"]} ({step["kind"]})'
            self.assertAlmostEqual(lap['totalTimerTime'], step['actual_duration_s'], delta=0.06, msg=what)
            self.assertAlmostEqual(lap['totalDistance'], step['actual_distance_m'], delta=0.06, msg=what)
            self.assertAlmostEqual(lap['avgHeartRate'], step['hr_bpm'], delta=1, msg=what)
            spm = 2 * (lap['avgCadence'] + lap.get('avgFractionalCadence', 0))
            self.assertAlmostEqual(spm, step['cadence_spm'], delta=1, msg=what)
            self.assertEqual(lap['intensity'], {'rest': 'rest', 'warmup': 'warmup',
                                                'cooldown': 'cooldown'}.get(step['kind'], 'active'))
        self.assertEqual([lap['lapTrigger'] for lap in laps],
                         ['time', 'distance', 'time', 'distance', 'time', 'time'])

        records = m['recordMesgs']
        self.assertAlmostEqual(len(records), done['duration_s'], delta=3)   # one a second
        self.assertAlmostEqual(records[-1]['distance'], done['distance_m'], delta=0.06)
        distances = [r['distance'] for r in records]
        self.assertEqual(distances, sorted(distances))
        moving = [r for r in records if r.get('enhancedSpeed', 0) > 2.5]
        self.assertTrue(moving)
        for r in moving:
            spm = 2 * (r['cadence'] + r.get('fractionalCadence', 0))
            self.assertTrue(150 <= spm <= 200, r)    # steps per minute, not strides
            self.assertTrue(80 <= r['heartRate'] <= 190, r)

        text, tcx_laps = self.validate_tcx(files['tcx'])
        self.assertEqual(len(tcx_laps), len(steps))
        self.assertAlmostEqual(sum(self.lap_number(x, 'TotalTimeSeconds') for x in tcx_laps),
                               done['duration_s'], delta=0.06)
        self.assertAlmostEqual(sum(self.lap_number(x, 'DistanceMeters') for x in tcx_laps),
                               done['distance_m'], delta=0.1)
        for lap, step in zip(tcx_laps, steps):
            self.assertAlmostEqual(self.lap_number(lap, 'TotalTimeSeconds'), step['actual_duration_s'], delta=0.06)
            hr = re.search(r'<AverageHeartRateBpm><Value>(\d+)</Value>', lap)
            self.assertAlmostEqual(int(hr.group(1)), step['hr_bpm'], delta=1)
            self.assertIn('<Intensity>Resting</Intensity>' if step['kind'] == 'rest'
                          else '<Intensity>Active</Intensity>', lap)
        self.assertAlmostEqual(text.count('<Trackpoint>'), len(records), delta=1)
        self.assertIn(f'<Notes>{WORKOUT}</Notes>', text)

    def test_sigkill_recovery(self):
        speedup = 30
        config = self.write_config()
        started = time.monotonic()   # the pipeline cannot run ahead of this
        proc, _ = self.spawn_pacerd(WORKOUT, speedup, config)
        last = None
        while True:
            line = proc.stdout.readline()
            self.assertTrue(line, 'pacerd ended before the run got far')
            event = json.loads(line)
            last = event
            if event['elapsed_s'] >= 150:
                break
        self.processes.stop(proc, sig=signal.SIGKILL)
        wall = time.monotonic() - started
        journals = glob.glob(os.path.join(self.record_dir, '*.journal'))
        self.assertEqual(len(journals), 1)
        self.assertEqual(glob.glob(os.path.join(self.record_dir, '*.fit')), [])
        stem = os.path.basename(journals[0])[:-len('.journal')]

        events, log = self.run_pacerd(SHORT, 600, config)
        self.assertIn('recovered an interrupted run', log)
        self.assertIn(journals[0], log)
        self.assertFalse(os.path.exists(journals[0]))
        fit = os.path.join(self.record_dir, stem + '-recovered.fit')
        tcx = os.path.join(self.record_dir, stem + '-recovered.tcx')
        m = self.decode_fit(fit)
        session = m['sessionMesgs'][0]
        # the run got at least as far as the last event printed before the kill, and at
        # most as far as the wall clock allows; the recovery may miss the last 5 s
        self.assertGreaterEqual(session['totalTimerTime'], last['elapsed_s'] - 5)
        self.assertLessEqual(session['totalTimerTime'], wall * speedup + 5)
        self.assertGreaterEqual(len(m['lapMesgs']), 1)
        self.assertAlmostEqual(sum(lap['totalTimerTime'] for lap in m['lapMesgs']),
                               session['totalTimerTime'], delta=0.01)
        # the recovery is an event too, with the files and what was saved
        rec = [e for e in events if e['type'] == 'recording_recovered']
        self.assertEqual(len(rec), 1, events)
        self.assertEqual(rec[0]['files'], {'fit': fit, 'tcx': tcx})
        self.assertAlmostEqual(rec[0]['duration_s'], session['totalTimerTime'], delta=0.1)
        self.assertTrue(rec[0]['message'].startswith('Recovered an interrupted run'))
        text, laps = self.validate_tcx(tcx)
        self.assertIn('Recovered after an interruption.', text)
        self.assertGreaterEqual(len(laps), 1)
        # the new run was recorded as usual, beside the recovered one
        self.assertTrue(os.path.isfile(self.finished(events)['files']['fit']))

    def check_failed_recording(self, events, log, message):
        done = self.finished(events)
        self.assertIsNone(done['files'])
        self.assertIn(message, done['recording_error'])
        errors = [line for line in log.splitlines() if 'recording:' in line]
        self.assertEqual(len(errors), 1, log)
        self.assertIn(message, errors[0])
        self.assertIn('coaching goes on', errors[0])
        # the coaching went on to the end of the workout
        self.assertEqual(len([e for e in events if e['type'] == 'step_ended']), len(KINDS))

    def test_record_dir_is_a_file(self):
        # an honest unwritable directory, even for root: a regular file stands in its place
        blocker = os.path.join(self.tmpdir, 'not-a-dir')
        with open(blocker, 'w', encoding='utf-8') as f:
            f.write('x')
        events, log = self.run_pacerd(config=self.write_config(record_dir=blocker))
        self.check_failed_recording(events, log, 'Not a directory')

    def test_disk_full(self):
        full = os.path.join(self.tmpdir, 'full')
        os.mkdir(full)
        kwargs = {}
        if os.geteuid() == 0 and subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full],
                                                check=False).returncode == 0:
            self.mounted = full
            # fill it to the last page
            fd = os.open(os.path.join(full, 'filler'), os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while True:
                    os.write(fd, b'\0' * 4096)
            except OSError:
                pass
            finally:
                os.close(fd)
            message = 'No space left on device'
        else:
            # no tmpfs to fill: a file size limit makes every write fail the same way
            def limit():
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))
            kwargs['preexec_fn'] = limit
            message = 'File too large'
        events, log = self.run_pacerd(config=self.write_config(record_dir=full), **kwargs)
        self.check_failed_recording(events, log, message)

    def test_retention_and_history(self):
        config = self.write_config(keep=2)
        finished = []
        for _ in range(3):
            events, _ = self.run_pacerd(SHORT, 600, config)
            finished.append(self.finished(events))
        fits = sorted(glob.glob(os.path.join(self.record_dir, '*.fit')))
        tcxs = sorted(glob.glob(os.path.join(self.record_dir, '*.tcx')))
        self.assertEqual(fits, sorted(f['files']['fit'] for f in finished[1:]))
        self.assertEqual(tcxs, sorted(f['files']['tcx'] for f in finished[1:]))

        p = subprocess.run([PACERCTL, 'history', '--dir', self.record_dir, '--json'],
                           capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        runs = json.loads(p.stdout)['runs']
        self.assertEqual(len(runs), 2)
        for run, done in zip(runs, finished[1:]):
            self.assertEqual(run['files'], done['files'])
            self.assertAlmostEqual(run['duration_s'], done['duration_s'], delta=0.1)
            self.assertAlmostEqual(run['distance_m'], done['distance_m'], delta=0.1)
            self.assertAlmostEqual(run['hr_bpm'], done['hr_bpm'], delta=1)
            self.assertAlmostEqual(run['pace_s_per_km'], done['pace_s_per_km'], delta=0.5)
            self.assertEqual(run['laps'], len(done['steps']))
            self.assertFalse(run['recovered'])
            self.assertRegex(run['start'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')

        p = subprocess.run([PACERCTL, 'history', '--dir', self.record_dir], capture_output=True,
                           text=True, timeout=60, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 3, p.stdout)
        self.assertIn('DURATION', lines[0])
        for line, done in zip(lines[1:], finished[1:]):
            self.assertIn(os.path.basename(done['files']['fit']), line)
            self.assertIn('%.2f km' % (done['distance_m'] / 1000), line)
            self.assertIn(' %d ' % done['hr_bpm'], line)

        # an empty or missing directory is no error; an unreadable one is
        empty = os.path.join(self.tmpdir, 'none')
        p = subprocess.run([PACERCTL, 'history', '--dir', empty, '--json'], capture_output=True,
                           text=True, timeout=60, check=False)
        self.assertEqual((p.returncode, json.loads(p.stdout)['runs']), (0, []))
        p = subprocess.run([PACERCTL, 'history', '--dir', config], capture_output=True, text=True,
                           timeout=60, check=False)
        self.assertEqual((p.returncode, p.stdout), (66, ''))
        self.assertIn(config, p.stderr)
        p = subprocess.run([PACERCTL, 'history', '--bogus'], capture_output=True, text=True,
                           timeout=60, check=False)
        self.assertEqual(p.returncode, 64)

    def test_formats_and_names(self):
        # only TCX; two runs in the same second get distinct names that sort by start
        config = self.write_config(formats='tcx')
        a, _ = self.run_pacerd(SHORT, 600, config)
        b, _ = self.run_pacerd(SHORT, 600, config)
        fa, fb = self.finished(a)['files'], self.finished(b)['files']
        self.assertEqual(set(fa), {'tcx'})
        self.assertNotEqual(fa['tcx'], fb['tcx'])
        self.assertLess(os.path.basename(fa['tcx']), os.path.basename(fb['tcx']))
        self.assertEqual(glob.glob(os.path.join(self.record_dir, '*.fit')), [])
        p = subprocess.run([PACERCTL, 'history', '--dir', self.record_dir, '--json'],
                           capture_output=True, text=True, timeout=60, check=False)
        runs = json.loads(p.stdout)['runs']
        self.assertEqual([r['files'] for r in runs], [fa, fb])
        self.assertAlmostEqual(runs[0]['duration_s'], self.finished(a)['duration_s'], delta=0.1)


if __name__ == '__main__':
    pacertest.main()

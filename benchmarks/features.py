"""Benchmark vartransfer's feature extraction against the released UPSILoN and its port.

Side by side, light curve by light curve and in turn, in one run: `vartransfer.features.compute_features`,
the released package `upsilon` 1.2.10 with pyFFTW (in its own virtual environment, made by this script
with pip: it needs numpy < 2; skipped with a message when that is impossible), and the faithful port
in `benchmarks/upsilon_reference.py` (the parity oracle, slower: numpy's FFT and leastsq). On evenly
spaced real ASAS light curves of Richards et al. (2012), then on simulated Gaia-like (~40 points) and
OGLE-like (1,000+ points) ones; reports the median of the per-curve time ratios and the ratio of the
medians, the share of identical periods (relative difference < 1e-6) and the other features' largest
differences; then `vartransfer features` on the ASAS tarball with this tree against the release
(commit f8e33fa), and a GPU section that runs only where a GPU is present. `--memory` instead streams
100,000 repeated ASAS light curves to parquet and reports the peak memory of the process tree.

    nice -n 10 python benchmarks/features.py                 # 200 ASAS curves (60 with the port), writes benchmarks/results/features.json
    nice -n 10 python benchmarks/features.py --limit 0       # all 810
    python benchmarks/features.py --limit 20 --sim 5 --release ''   # a quick run
    python benchmarks/features.py --memory                   # peak memory for 100,000 light curves (takes a while)
    python benchmarks/features.py --profile 100              # where the time of compute_features goes
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from upsilon_reference import reference_features  # noqa: E402

from vartransfer.batch import extract_features_batch  # noqa: E402
from vartransfer.features import EXTRA_FEATURE_NAMES, FEATURE_NAMES, UPSILON_TIME_ORIGIN, compute_features  # noqa: E402
from vartransfer.io.asas import read_asas_richards_tarball  # noqa: E402
from vartransfer.lightcurve import LightCurve, LightCurves  # noqa: E402
from vartransfer.periods import default_backend, upsilon_grid  # noqa: E402

MIRROR = Path(os.environ.get('VARTRANSFER_MIRROR', HERE.parent.parent / 'shared' / 'data'))
TARBALL = MIRROR / 'asas_richards2012' / 'asas_training_set.tar.gz'


def load_asas(limit=None) -> LightCurves:
    "The ASAS light curves through the product's reader (times in reduced JD, HJD - 2,400,000)."
    coll = read_asas_richards_tarball(TARBALL)
    return coll if limit is None else coll.subset(coll.ids[:limit])


def rel_diff(a, b):
    "Relative difference |a - b| / |b| (absolute where b = 0)."
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = np.where(b != 0, np.abs(b), 1.)
    return np.abs(a - b) / scale


UPSILON_VENV = Path(os.environ.get('UPSILON_VENV', '/tmp/upsilon-venv'))
UPSILON_REQUIREMENTS = ['upsilon==1.2.10', 'pyfftw', 'numpy<2']

# Runs inside the released package's virtual environment: times `upsilon.ExtractFeatures` on the light curve
# it is sent (times, magnitudes, errors as JSON lists), one line of JSON per light curve back.
UPSILON_WORKER = r"""
import json, sys, time, warnings
import numpy as np
warnings.simplefilter('ignore')
import upsilon.extract_features.period_LS_pyfftw as pls
from upsilon import ExtractFeatures
assert pls.is_pyfftw, 'pyFFTW not found'
threads = int(sys.argv[1])
print(json.dumps(dict(ready=True, pyfftw=bool(pls.is_pyfftw))), flush=True)
for line in sys.stdin:
    t, m, e = (np.asarray(a, dtype=np.float64) for a in json.loads(line))
    t0 = time.perf_counter()
    ef = ExtractFeatures(t, m, e, n_threads=threads); ef.run(); f = ef.get_features_all()
    dt = time.perf_counter() - t0
    print(json.dumps(dict(seconds=dt, features={k: float(v) for k, v in f.items()})), flush=True)
"""


def released_upsilon(venv=UPSILON_VENV, install=True):
    "Python of a virtual environment with the released `upsilon` 1.2.10 and pyFFTW, made if needed; (python, None) or (None, why)."
    python = venv / 'bin' / 'python'
    check = [str(python), '-c', 'import upsilon, pyfftw']
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0: return python, None
    if not install: return None, f"no released upsilon in {venv} (run without --no-install to create it)"
    try:
        subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True, capture_output=True)
        r = subprocess.run([str(python), '-m', 'pip', 'install', '-q'] + UPSILON_REQUIREMENTS, capture_output=True, text=True)
        if r.returncode != 0: return None, f"pip install {' '.join(UPSILON_REQUIREMENTS)} failed: {r.stderr.strip()[-300:]}"
        if subprocess.run(check, capture_output=True).returncode != 0: return None, "upsilon or pyfftw does not import"
    except (OSError, subprocess.CalledProcessError) as e: return None, f"cannot create {venv}: {e}"
    return python, None


class ReleasedUpsilon:
    "The released UPSILoN in its own process and virtual environment, one light curve at a time."
    def __init__(self, python, threads=1):
        env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
        self.proc = subprocess.Popen([str(python), '-c', UPSILON_WORKER, str(threads)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1, env=env)
        hello = self._read()
        assert hello['pyfftw'], hello
    def _read(self):
        "The next JSON line of the worker (upsilon prints a banner of its own on import)."
        while True:
            line = self.proc.stdout.readline()
            if not line: raise RuntimeError("the released upsilon's process ended")
            if line.startswith('{'): return json.loads(line)
    def __call__(self, t, m, e):
        "(seconds, features) of the released `ExtractFeatures(t, m, e).run()`, timed inside its process."
        self.proc.stdin.write(json.dumps([t.tolist(), m.tolist(), e.tolist()]) + '\n')
        r = self._read()
        return r['seconds'], r['features']
    def close(self):
        self.proc.stdin.close(); self.proc.wait()


def fold_has_tie(t, period):
    "True when two observations fall on exactly the same phase of the fold at 2P (their order is then up to the sort)."
    folded = np.mod(t, 2. * period)
    return bool(len(np.unique(folded)) < len(folded))


def compare(curves, released=None, port=True, log_every=50):
    "Per light curve, in turn: vartransfer, the released UPSILoN (if given) and the port; times and features."
    def ours(lc): return compute_features(lc.time, lc.mag, lc.err)
    if not curves: return []              # e.g. --port-limit 0
    lc0 = curves[0]
    ours(lc0)
    if released is not None: released(lc0.time - UPSILON_TIME_ORIGIN, lc0.mag, lc0.err)
    rows = []
    for i, lc in enumerate(curves):
        t = lc.time - UPSILON_TIME_ORIGIN                        # the times UPSILoN-T saw
        t0 = time.perf_counter(); fv = ours(lc); t1 = time.perf_counter()
        row = dict(id=str(lc.id), n_points=len(lc), t_vt=t1 - t0, f_vt=fv, fold_tie=fold_has_tie(t, fv['period']))
        if released is not None: row['t_rel'], row['f_rel'] = released(t, lc.mag, lc.err)
        if port:
            t2 = time.perf_counter(); row['f_ref'] = reference_features(t, lc.mag, lc.err); row['t_ref'] = time.perf_counter() - t2
        rows.append(row)
        if log_every and (i + 1) % log_every == 0:
            msg = f"  {i + 1}/{len(curves)}: median vartransfer {np.median([r['t_vt'] for r in rows]) * 1e3:.1f} ms"
            if released is not None: msg += f", released {np.median([r['t_rel'] for r in rows]) * 1e3:.0f} ms"
            if port: msg += f", port {np.median([r['t_ref'] for r in rows]) * 1e3:.0f} ms"
            print(msg, flush=True)
    return rows


def speed(rows, other):
    "Medians and ratios of vartransfer against `other` ('rel' or 'ref') over the rows that have it."
    rows = [r for r in rows if f't_{other}' in r]
    if not rows: return None
    tv, to = np.array([r['t_vt'] for r in rows]), np.array([r[f't_{other}'] for r in rows])
    return dict(n_curves=len(rows), median_s_vartransfer=float(np.median(tv)), median_s_other=float(np.median(to)),
                ratio_of_medians=float(np.median(to) / np.median(tv)), median_of_ratios=float(np.median(to / tv)),
                total_s_vartransfer=float(tv.sum()), total_s_other=float(to.sum()))


def agreement(rows, other):
    "Period agreement with `other` ('rel': the released package, 'ref': the port) and the other features where periods agree."
    rows = [r for r in rows if f'f_{other}' in r]
    if not rows: return None
    f_vt, f_o = [r['f_vt'] for r in rows], [r[f'f_{other}'] for r in rows]
    p_vt = np.array([f['period'] for f in f_vt]); p_o = np.array([f['period'] for f in f_o])
    d = rel_diff(p_vt, p_o)
    agree = d < 1e-3
    names = [k for k in FEATURE_NAMES + EXTRA_FEATURE_NAMES if k != 'period' and k in f_o[0]]
    def feature_diffs(use):
        diffs = {}
        for k in names:
            dk = rel_diff([f[k] for f, u in zip(f_vt, use) if u], [f[k] for f, u in zip(f_o, use) if u])
            if len(dk): diffs[k] = dict(max=float(np.max(dk)), p99=float(np.percentile(dk, 99)), median=float(np.median(dk)))
        return diffs
    # Where two observations share a phase of the 2P fold (the first and the last one, when 2P divides their time difference
    # exactly: a long period on UPSILoN's grid), their order is up to the sort, and numpy 1.x (the released package's) and
    # numpy 2.x order ties differently: the folded features can then differ with the same period. Reported apart.
    tie = np.array([r.get('fold_tie', False) for r in rows])
    folded = ('phase_cusum', 'phase_eta', 'slope_per10', 'slope_per90')
    tie_differs = [rows[i]['id'] for i in np.flatnonzero(agree & tie)
                   if any(rel_diff([f_vt[i][k]], [f_o[i][k]])[0] > 1e-9 for k in folded if k in f_o[i])]
    disagree = [dict(id=rows[i]['id'], vartransfer=float(p_vt[i]), other=float(p_o[i]), other_period_SNR=float(f_o[i]['period_SNR']))
                for i in np.flatnonzero(d >= 1e-6)]
    # The released package's periodogram sometimes holds a NaN (its period_SNR is then NaN and its "period" is wherever np.argmax
    # stopped): seen on ASAS 258972, from one call to the next in the same process. Counted apart, not hidden.
    finite = np.isfinite([f['period_SNR'] for f in f_o])
    return dict(n_curves=len(rows), fraction_periods_identical=float((d < 1e-6).mean()), n_periods_identical=int((d < 1e-6).sum()),
                n_other_nan_periodogram=int((~finite).sum()),
                fraction_periods_identical_where_other_finite=float((d[finite] < 1e-6).mean()) if finite.any() else None,
                fraction_periods_agree=float(agree.mean()), period_max_rel_diff_where_agree=float(d[agree].max()) if agree.any() else None,
                not_identical=disagree, feature_rel_diff_where_periods_agree=feature_diffs(agree),
                n_fold_ties=int(tie.sum()), fold_ties_where_folded_features_differ=tie_differs,
                feature_rel_diff_where_periods_agree_without_fold_ties=feature_diffs(agree & ~tie))


def simulated(survey, n_curves, min_points, max_points, released, seed=0):
    "Per-curve medians of vartransfer and the released UPSILoN on simulated light curves of `survey`."
    from vartransfer.simulate import simulate
    coll, _ = simulate(survey, n_per_class=max(2, n_curves // 4), seed=seed, progress=False)
    curves = [lc for lc in coll if min_points <= len(lc) <= max_points][:n_curves]
    rows = compare(curves, released, port=False, log_every=0)
    out = dict(survey=survey, n_curves=len(curves), median_points=float(np.median([len(c) for c in curves])),
               vartransfer_vs_released=speed(rows, 'rel'), periods=agreement(rows, 'rel'))
    if out['periods']:
        for k in ('feature_rel_diff_where_periods_agree', 'feature_rel_diff_where_periods_agree_without_fold_ties'): out['periods'].pop(k)
    return out


def cli_features(root, tarball, out_dir, jobs=1, limit=None):
    "Seconds for `vartransfer features TARBALL -o out.parquet` with the package at `root` (the command line's own code), and the table."
    # `vartransfer.cli` was one module with a `main` function in the release; it is a subpackage with a `main` module now
    root = Path(root).resolve()
    env = dict(os.environ, PYTHONPATH=str(root), VARTRANSFER_HOME=str(out_dir / 'home'))
    out = out_dir / 'features.parquet'
    # -P and a neutral working directory: `python -c` would otherwise import the package in the current directory (this tree)
    code = ('import sys, vartransfer; assert vartransfer.__file__.startswith(sys.argv.pop(1)), vartransfer.__file__; '
            'from vartransfer.cli import main; sys.exit(getattr(main, "main", main)())')
    cmd = [sys.executable, '-P', '-c', code, str(root), 'features', str(tarball), '-o', str(out), '--jobs', str(jobs), '--force',
           *(['--limit', str(limit)] if limit else [])]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=out_dir)
    dt = time.perf_counter() - t0
    if r.returncode != 0: raise RuntimeError(f"vartransfer {' '.join(cmd[5:])} with {root}: {r.stderr.strip()[-500:]}")
    import pandas as pd
    return dt, pd.read_parquet(out)


def cli_comparison(release_commit, tarball, jobs=1, repeats=3):
    "`vartransfer features` on the ASAS tarball: this tree and the code of `release_commit` in alternation, `repeats` times each."
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        old = d / 'release'; old.mkdir()
        archive = subprocess.run(['git', '-C', str(HERE.parent), 'archive', release_commit, 'vartransfer'], capture_output=True, check=True)
        subprocess.run(['tar', '-x', '-C', str(old)], input=archive.stdout, check=True)
        (d / 'new').mkdir(); (d / 'old').mkdir()
        # one untimed-in-the-medians run each first: it fills numba's cache (a fresh install compiles the
        # loops once, about 0.7 s) and the file caches; its seconds are reported apart
        cold_new, _ = cli_features(HERE.parent, tarball, d / 'new', jobs)
        cold_old, _ = cli_features(old, tarball, d / 'old', jobs)
        t_new, t_old = [], []
        for _ in range(repeats):     # in alternation: a shared machine's slow spells fall on both
            t, f_new = cli_features(HERE.parent, tarball, d / 'new', jobs); t_new.append(t)
            t, f_old = cli_features(old, tarball, d / 'old', jobs); t_old.append(t)
    both = f_new.index.intersection(f_old.index)
    same = rel_diff(f_new.loc[both, 'period'], f_old.loc[both, 'period']) < 1e-6
    ratios = np.array(t_old) / np.array(t_new)
    return dict(release=release_commit, jobs=jobs, repeats=repeats, seconds_this_tree=float(np.median(t_new)),
                seconds_release=float(np.median(t_old)), speedup=float(np.median(t_old) / np.median(t_new)),
                speedup_per_pair=ratios.tolist(), seconds_this_tree_all=t_new, seconds_release_all=t_old,
                first_run_seconds_this_tree=cold_new, first_run_seconds_release=cold_old,
                rows=len(f_new), fraction_periods_identical_to_release=float(np.mean(same)))


def gpu_section(curves):
    "The batched periodogram on the GPU (backend='cuda'), only where one is present: periods against the CPU's."
    from vartransfer.periods import _gpu_present, find_period
    if not _gpu_present(): return dict(skipped="no CUDA GPU here: no GPU figures")
    t_cpu, t_gpu, same = [], [], []
    for lc in curves:
        t0 = time.perf_counter(); a = find_period(lc.time, lc.mag, backend='finufft'); t1 = time.perf_counter()
        b = find_period(lc.time, lc.mag, backend='cuda'); t2 = time.perf_counter()
        t_cpu.append(t1 - t0); t_gpu.append(t2 - t1); same.append(abs(a.period / b.period - 1) < 1e-6)
    return dict(n_curves=len(curves), median_s_cpu=float(np.median(t_cpu)), median_s_gpu=float(np.median(t_gpu)),
                fraction_periods_identical=float(np.mean(same)))


def time_light_curve(curves, periods):
    "Time the Rust light-curve package on the features it shares with UPSILoN (and its periodogram)."
    import light_curve as lcf
    shared = [lcf.Kurtosis(), lcf.Skew(), lcf.StetsonK(), lcf.Eta(), lcf.Cusum(), lcf.InterPercentileRange(0.25),
              lcf.WeightedMean()]
    base = lcf.Extractor(*shared)
    t_shared, t_all, agree = [], [], []
    for lc, p in zip(curves, periods):
        t, m, e = lc.time, lc.mag, lc.err
        n = len(t)
        hifac = max(int((t[-1] - t[0]) / n / 0.03 * 2.), 100)       # a grid like UPSILoN's: 3x oversampled, up to ~33 / d
        ext = lcf.Extractor(*shared, lcf.Periodogram(peaks=1, resolution=3., max_freq_factor=float(hifac), fast=True))
        t0 = time.perf_counter(); base(t, m, e, sorted=True, check=False); t1 = time.perf_counter()
        out = ext(t, m, e, sorted=True, check=False); t2 = time.perf_counter()
        t_shared.append(t1 - t0); t_all.append(t2 - t1)
        agree.append(abs(out[len(shared)] / p - 1) < 1e-3)
    return dict(median_s_shared_without_period=float(np.median(t_shared)),
                median_s_shared_with_periodogram=float(np.median(t_all)),
                fraction_periods_agree_with_vartransfer=float(np.mean(agree)),
                features=['kurtosis', 'skewness', 'stetson_k', 'eta', 'cusum', 'quartile31', 'weighted_mean', 'period'],
                note="light-curve's definitions differ in detail (e.g. unbiased moments, Stetson K about the weighted "
                     "mean, its own periodogram normalisation and grid); timing comparison only")


def throughput(curves, n_jobs):
    "Curves per second through extract_features_batch (process start-up included)."
    t0 = time.perf_counter()
    df = extract_features_batch(curves, n_jobs=n_jobs, progress=False, chunk_size=1000)
    dt = time.perf_counter() - t0
    return dict(n_jobs=n_jobs, seconds=dt, curves_per_second=len(curves) / dt, failed=int(df['error'].notna().sum()))


class PeakMemory:
    "Peak total resident memory of this process and its children, sampled from /proc."
    def __init__(self, interval=0.2):
        self.interval, self.peak, self.peak_main, self._stop = interval, 0, 0, threading.Event()
    @staticmethod
    def _rss(pid):
        try:
            with open(f'/proc/{pid}/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
        except (FileNotFoundError, ProcessLookupError): return 0
    @staticmethod
    def _children(pid):
        out, todo = [], [pid]
        while todo:
            p = todo.pop()
            try:
                with open(f'/proc/{p}/task/{p}/children') as f: kids = [int(x) for x in f.read().split()]
            except FileNotFoundError: kids = []
            out += kids; todo += kids
        return out
    def _run(self):
        me = os.getpid()
        while not self._stop.is_set():
            main = self._rss(me)
            total = main + sum(self._rss(c) for c in self._children(me))
            self.peak, self.peak_main = max(self.peak, total), max(self.peak_main, main)
            self._stop.wait(self.interval)
    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True); self._thread.start(); return self
    def __exit__(self, *exc):
        self._stop.set(); self._thread.join()


def memory_run(n, n_jobs, chunk_size):
    "Stream `n` repeated ASAS light curves to parquet parts; report the peak memory of the process tree."
    base = list(load_asas())
    def repeated():
        for i in range(n):
            lc = base[i % len(base)]
            yield LightCurve(lc.time, lc.mag, lc.err, id=f"{lc.id}-{i:06d}", band=lc.band, survey=lc.survey, validate=False)
    with tempfile.TemporaryDirectory() as d, PeakMemory() as mem:
        t0 = time.perf_counter()
        df = extract_features_batch(repeated(), n_jobs=n_jobs, output=Path(d) / 'features', chunk_size=chunk_size,
                                    progress=True)
        dt = time.perf_counter() - t0
        parts = len(list((Path(d) / 'features').glob('part-*.parquet')))
    return dict(n_curves=n, n_jobs=n_jobs, chunk_size=chunk_size, seconds=dt, rows=len(df), parts=parts,
                failed=int(df['error'].notna().sum()), peak_rss_total_gb=mem.peak / 2**30,
                peak_rss_main_gb=mem.peak_main / 2**30)


def profile(n_curves, top=12):
    "cProfile of `compute_features` on evenly spaced ASAS light curves (after a warm-up): where the time goes."
    import cProfile
    import io
    import pstats
    coll = load_asas()
    curves = list(coll)[::max(1, len(coll) // n_curves)][:n_curves]
    for lc in curves[:10]: compute_features(lc.time, lc.mag, lc.err)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for lc in curves: compute_features(lc.time, lc.mag, lc.err)
    prof.disable()
    dt = (time.perf_counter() - t0) / len(curves)
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats('tottime').print_stats(top)
    pstats.Stats(prof, stream=out).sort_stats('cumulative').print_stats('vartransfer', top)   # the package's own steps, inclusive
    print(f"{len(curves)} ASAS light curves, {dt * 1e3:.1f} ms each on average (profiled)\n" + out.getvalue())


def report_speed(name, s):
    if s: print(f"  vs {name}: vartransfer {s['median_s_vartransfer'] * 1e3:.1f} ms, {name} {s['median_s_other'] * 1e3:.0f} ms "
                f"(medians, {s['n_curves']} curves): median of per-curve ratios {s['median_of_ratios']:.1f}x, "
                f"ratio of medians {s['ratio_of_medians']:.1f}x")


def report_agreement(name, a):
    if a: print(f"  periods identical (rel. diff < 1e-6) to {name} on {a['fraction_periods_identical']:.2%} "
                f"({a['n_periods_identical']}/{a['n_curves']}), within 0.1% on {a['fraction_periods_agree']:.2%}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--limit', type=int, default=200, help='ASAS light curves timed against the released package, evenly spaced (0: all 810)')
    ap.add_argument('--port-limit', type=int, default=60, help='of those, how many are also timed with the port (slow)')
    ap.add_argument('--upsilon-threads', type=int, default=1, help="the released package's n_threads (pyFFTW threads; its default is 4)")
    ap.add_argument('--no-install', action='store_true', help='do not create the virtual environment of the released package')
    ap.add_argument('--sim', type=int, default=40, help='simulated Gaia-like and OGLE-like light curves (0: none)')
    ap.add_argument('--release', default='f8e33fa', help='commit of the release `vartransfer features` is compared with ("": skip)')
    ap.add_argument('--cli-repeats', type=int, default=5, help='runs of each command line, in alternation after one first run each (medians reported)')
    ap.add_argument('--jobs', type=int, default=2, help='processes for the throughput and memory runs')
    ap.add_argument('--throughput', action='store_true', help='also time extract_features_batch and the Rust light-curve package')
    ap.add_argument('--memory', action='store_true', help='measure peak memory for --memory-n light curves instead')
    ap.add_argument('--memory-n', type=int, default=100_000)
    ap.add_argument('--chunk-size', type=int, default=1000)
    ap.add_argument('--profile', type=int, default=0, metavar='N', help='only profile compute_features on N ASAS curves')
    ap.add_argument('--out', type=Path, default=HERE / 'results' / 'features.json')
    args = ap.parse_args(argv)
    if args.profile: return profile(args.profile)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    env = dict(python=platform.python_version(), machine=platform.machine(), cpus=os.cpu_count(), backend=default_backend(),
               loadavg_at_start=os.getloadavg())
    command = ' '.join(['python', 'benchmarks/features.py'] + (argv if argv is not None else sys.argv[1:]))

    if args.memory:
        res = memory_run(args.memory_n, args.jobs, args.chunk_size)
        print(f"{res['n_curves']:,} light curves in {res['seconds']:.0f} s with {res['n_jobs']} processes: "
              f"peak memory {res['peak_rss_total_gb']:.2f} GB (process tree), {res['peak_rss_main_gb']:.2f} GB (main)")
        path = args.out.with_name(args.out.stem + '_memory.json')
        path.write_text(json.dumps(dict(env=env, command=command, memory=res), indent=1))
        print(f"written {path}")
        return res

    python, why = released_upsilon(install=not args.no_install)
    released = ReleasedUpsilon(python, args.upsilon_threads) if python else None
    if released is None: print(f"released upsilon skipped: {why}")
    env['released'] = None if released is None else dict(package='upsilon 1.2.10', pyfftw=True, n_threads=args.upsilon_threads,
                                                          venv=str(UPSILON_VENV))
    coll = load_asas()
    every = max(1, len(coll) // args.limit) if args.limit else 1
    curves = list(coll)[::every][:args.limit or None]
    sizes = np.array([len(lc) for lc in curves])
    nfreq = np.array([upsilon_grid(lc.time).n for lc in curves])
    print(f"{len(curves)} ASAS light curves (every {every}th of {len(coll)}): median {np.median(sizes):.0f} points, "
          f"median {np.median(nfreq):,.0f} frequencies; backend {env['backend']}; the port on the first {args.port_limit}")
    rows = compare(curves[:args.port_limit], released, port=True) + compare(curves[args.port_limit:], released, port=False)
    result = dict(env=env, command=command, n_curves=len(curves), subset=f"every {every}th ASAS light curve",
                  median_points=float(np.median(sizes)), median_frequencies=float(np.median(nfreq)),
                  vartransfer_vs_released=speed(rows, 'rel'), vartransfer_vs_port=speed(rows, 'ref'),
                  agreement_released=agreement(rows, 'rel'), agreement_port=agreement(rows, 'ref'),
                  per_curve=[dict(id=r['id'], n_points=r['n_points'], **{k: r[k] for k in ('t_vt', 't_rel', 't_ref') if k in r})
                             for r in rows])
    print("ASAS:")
    report_speed('released upsilon', result['vartransfer_vs_released']); report_speed('port', result['vartransfer_vs_port'])
    report_agreement('released upsilon', result['agreement_released']); report_agreement('port', result['agreement_port'])
    for name in ('agreement_released', 'agreement_port'):
        if result[name]:
            print(f"  max relative difference to {name[10:]} where periods agree:")
            a = result[name]
            for k, d in a['feature_rel_diff_where_periods_agree'].items():
                e = a['feature_rel_diff_where_periods_agree_without_fold_ties'].get(k)
                print(f"    {k:20s} max {d['max']:.2e}  p99 {d['p99']:.2e}  median {d['median']:.2e}"
                      + (f"   without fold ties: max {e['max']:.2e}" if e else ''))
            print(f"  {a['n_fold_ties']} curves with tied phases in the 2P fold; folded features differ on "
                  f"{len(a['fold_ties_where_folded_features_differ'])} of them: {a['fold_ties_where_folded_features_differ']}")
    if args.sim and released is not None:
        result['simulated'] = [simulated('Gaia DR3', args.sim, 20, 200, released), simulated('OGLE-IV', args.sim, 1000, 10**6, released)]
        for s in result['simulated']:
            print(f"simulated {s['survey']} ({s['n_curves']} curves, median {s['median_points']:.0f} points):")
            report_speed('released upsilon', s['vartransfer_vs_released']); report_agreement('released upsilon', s['periods'])
    if released is not None: released.close()
    if args.release:
        result['cli'] = cli_comparison(args.release, TARBALL, repeats=args.cli_repeats)
        c = result['cli']
        print(f"vartransfer features on the ASAS tarball (--jobs {c['jobs']}, median of {c['repeats']} runs each): {c['seconds_this_tree']:.1f} s, release "
              f"{c['release']} {c['seconds_release']:.1f} s: {c['speedup']:.2f}x; periods identical on "
              f"{c['fraction_periods_identical_to_release']:.2%}; pair by pair {', '.join(f'{r:.2f}' for r in c['speedup_per_pair'])}x; "
              f"first runs (not in the medians) {c['first_run_seconds_this_tree']:.1f} s and {c['first_run_seconds_release']:.1f} s")
    result['gpu'] = gpu_section(curves[:50])
    print(f"GPU: {result['gpu']}")
    if args.throughput:
        result['throughput'] = [throughput(curves, 1), throughput(curves, args.jobs)]
        result['light_curve'] = time_light_curve(curves, [r['f_vt']['period'] for r in rows])
    env['loadavg_at_end'] = os.getloadavg()
    args.out.write_text(json.dumps(result, indent=1))
    print(f"written {args.out}")
    return result


if __name__ == '__main__':
    main()

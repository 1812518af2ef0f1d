"""Benchmark vartransfer's feature extraction against the original UPSILoN algorithm.

On the 810 real ASAS light curves of Richards et al. (2012), in one process each and side by side
(the same light curve through both, in turn), time `vartransfer.features.extract_features` and the
faithful reference implementation of UPSILoN in `benchmarks/upsilon_reference.py`; compare their
periods and features; time batch throughput with two processes; and time the Rust `light_curve`
package on the features it shares. `--memory` instead streams 100,000 repeated ASAS light curves
to parquet and reports the peak memory of the process tree.

    python benchmarks/features.py                 # all 810 light curves, writes benchmarks/results/features.json
    python benchmarks/features.py --limit 50      # a quick run
    python benchmarks/features.py --memory        # peak memory for 100,000 light curves (takes a while)
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from upsilon_reference import reference_features  # noqa: E402

from vartransfer.features import (EXTRA_FEATURE_NAMES, FEATURE_NAMES, UPSILON_TIME_ORIGIN,  # noqa: E402
                                  extract_features, extract_features_batch)
from vartransfer.io.asas import read_asas_richards_tarball# noqa: E402
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


def compare(curves, log_every=100):
    "Time both implementations curve by curve, in turn, and collect their features."
    extract_features(curves[0]); reference_features(curves[0].time - UPSILON_TIME_ORIGIN, curves[0].mag, curves[0].err)
    t_vt, t_ref, f_vt, f_ref = [], [], [], []
    for i, lc in enumerate(curves):
        t0 = time.perf_counter()
        fv = extract_features(lc)
        t1 = time.perf_counter()
        fr = reference_features(lc.time - UPSILON_TIME_ORIGIN, lc.mag, lc.err)   # the times UPSILoN-T saw
        t2 = time.perf_counter()
        t_vt.append(t1 - t0); t_ref.append(t2 - t1); f_vt.append(fv); f_ref.append(fr)
        if log_every and (i + 1) % log_every == 0:
            print(f"  {i + 1}/{len(curves)}: median vartransfer {np.median(t_vt) * 1e3:.1f} ms, "
                  f"reference {np.median(t_ref) * 1e3:.0f} ms", flush=True)
    return np.array(t_vt), np.array(t_ref), f_vt, f_ref


def agreement(f_vt, f_ref):
    "Period agreement and the largest relative differences of the other features where periods agree."
    p_vt = np.array([f['period'] for f in f_vt]); p_ref = np.array([f['period'] for f in f_ref])
    agree = rel_diff(p_vt, p_ref) < 1e-3
    names = [k for k in FEATURE_NAMES + EXTRA_FEATURE_NAMES if k != 'period']
    diffs = {}
    for k in names:
        d = rel_diff([f[k] for f, a in zip(f_vt, agree) if a], [f[k] for f, a in zip(f_ref, agree) if a])
        diffs[k] = dict(max=float(np.max(d)), p99=float(np.percentile(d, 99)), median=float(np.median(d)))
    exact = rel_diff(p_vt, p_ref) < 1e-9
    disagree = [dict(i=int(i), vartransfer=float(p_vt[i]), reference=float(p_ref[i])) for i in np.flatnonzero(~agree)]
    return dict(fraction_periods_agree=float(agree.mean()), n_periods_agree=int(agree.sum()),
                fraction_periods_identical=float(exact.mean()),
                period_max_rel_diff_where_agree=float(rel_diff(p_vt, p_ref)[agree].max()),
                disagreements=disagree, feature_rel_diff_where_periods_agree=diffs)


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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--limit', type=int, default=None, help='use only the first N ASAS light curves')
    ap.add_argument('--jobs', type=int, default=2, help='processes for the throughput run')
    ap.add_argument('--memory', action='store_true', help='measure peak memory for --memory-n light curves instead')
    ap.add_argument('--memory-n', type=int, default=100_000)
    ap.add_argument('--chunk-size', type=int, default=1000)
    ap.add_argument('--out', type=Path, default=HERE / 'results' / 'features.json')
    args = ap.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    env = dict(python=platform.python_version(), machine=platform.machine(), cpus=os.cpu_count(), backend=default_backend(),
               loadavg_at_start=os.getloadavg())

    if args.memory:
        res = memory_run(args.memory_n, args.jobs, args.chunk_size)
        print(f"{res['n_curves']:,} light curves in {res['seconds']:.0f} s with {res['n_jobs']} processes: "
              f"peak memory {res['peak_rss_total_gb']:.2f} GB (process tree), {res['peak_rss_main_gb']:.2f} GB (main)")
        path = args.out.with_name(args.out.stem + '_memory.json')
        path.write_text(json.dumps(dict(env=env, command=' '.join(['python', 'benchmarks/features.py'] + (argv or sys.argv[1:])),
                                        memory=res), indent=1))
        print(f"written {path}")
        return res

    coll = load_asas(args.limit)
    curves = list(coll)
    sizes = np.array([len(lc) for lc in curves])
    nfreq = np.array([upsilon_grid(lc.time).n for lc in curves])
    print(f"{len(curves)} ASAS light curves: median {np.median(sizes):.0f} points, median {np.median(nfreq):,.0f} frequencies; "
          f"backend {env['backend']}")
    t_vt, t_ref, f_vt, f_ref = compare(curves)
    agr = agreement(f_vt, f_ref)
    speed = dict(median_s_vartransfer=float(np.median(t_vt)), median_s_reference=float(np.median(t_ref)),
                 ratio_of_medians=float(np.median(t_ref) / np.median(t_vt)),
                 median_of_ratios=float(np.median(t_ref / t_vt)), total_s_vartransfer=float(t_vt.sum()),
                 total_s_reference=float(t_ref.sum()))
    print(f"median per light curve: vartransfer {speed['median_s_vartransfer'] * 1e3:.1f} ms, reference "
          f"{speed['median_s_reference'] * 1e3:.0f} ms: {speed['ratio_of_medians']:.1f}x faster "
          f"(median of per-curve ratios {speed['median_of_ratios']:.1f}x)")
    print(f"periods agree within 0.1% on {agr['fraction_periods_agree']:.2%} ({agr['n_periods_agree']}/{len(curves)}), "
          f"identical (1e-9) on {agr['fraction_periods_identical']:.2%}")
    print("max relative difference where periods agree:")
    for k, d in agr['feature_rel_diff_where_periods_agree'].items():
        print(f"  {k:20s} max {d['max']:.2e}  p99 {d['p99']:.2e}  median {d['median']:.2e}")
    thr = [throughput(curves, 1), throughput(curves, args.jobs)]
    for r in thr: print(f"batch with n_jobs={r['n_jobs']}: {r['curves_per_second']:.1f} light curves/s ({r['seconds']:.1f} s)")
    lcb = time_light_curve(curves, [f['period'] for f in f_vt])
    print(f"light-curve (Rust): {lcb['median_s_shared_without_period'] * 1e6:.0f} us for the shared non-period features, "
          f"{lcb['median_s_shared_with_periodogram'] * 1e3:.1f} ms with its periodogram on a similar grid "
          f"(periods agree with vartransfer on {lcb['fraction_periods_agree_with_vartransfer']:.1%})")
    env['loadavg_at_end'] = os.getloadavg()
    result = dict(env=env, command=' '.join(['python', 'benchmarks/features.py'] + (argv if argv is not None else sys.argv[1:])),
                  n_curves=len(curves), median_points=float(np.median(sizes)), median_frequencies=float(np.median(nfreq)),
                  speed=speed, agreement=agr, throughput=thr, light_curve=lcb)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"written {args.out}")
    return result


if __name__ == '__main__':
    main()

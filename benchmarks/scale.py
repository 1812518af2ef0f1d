"""Survey scale on Dask: throughput, worker memory, identity with the single-process path, resumption.

Simulated light curves of two cadences (Gaia DR3-like, ~40-50 points in G; ZTF-like, ~300 points in r)
are written as LightCurves parquet partitions (read on the workers) and go through features +
predict (`vartransfer.scale.predict_dask`, the shipped simulated source model) on a LocalCluster of
1 and of 2 single-threaded worker processes, side by side in one run. Then: features of a 1,000-curve
subset on 2 workers against `extract_features_batch` in one process (bitwise); and resumption: a run
in a child process has one of its workers killed (SIGKILL) at a quarter of the partitions, and the
whole child (driver, scheduler, workers) killed at half; the rerun computes only what is missing and
must give the same table as the uninterrupted run.

The load average at the start and end is recorded: timings taken while other jobs use the CPUs are noisy.

    python benchmarks/scale.py --n 100000 --partition-size 100    # writes benchmarks/results/scale.json (about 1 h on 2 cores)
"""
import argparse
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
from pathlib import Path

import numpy as np
import pandas as pd

from vartransfer.batch import extract_features_batch
from vartransfer.lightcurve import LightCurves
from vartransfer.pretrained import simulated_source
from vartransfer.scale import dask_client, extract_features_dask, predict_dask, read_parts, split_lightcurves
from vartransfer.simulate import simulate

HERE = Path(__file__).resolve().parent
FAST = ['BV', 'EB_EC', 'EB_ED', 'EB_ESD', 'NonVar', 'QSO']   # simulated without the OGLE catalogue (same cadences)
GAIA_DR3_SOURCES = 11_700_000        # Gaia DR3 sources with epoch photometry
ZTF_DR_CURVES = 1_000_000_000        # order of magnitude of the light curves of one ZTF data release (per band)


def make_curves(n:int, folder:Path, partition_size:int)->dict:
    "n/2 Gaia DR3-like and n/2 ZTF-like (r band) curves, as parquet partitions; which partition is which cadence."
    per = max(1, n // 2 // len(FAST))
    gaia, _ = simulate('Gaia DR3', classes=FAST, n_per_class=per, seed=0, progress=False)
    ztf, _ = simulate('ZTF', classes=FAST, n_per_class=per, seed=0, progress=False)
    ztf = ztf.select_band('r')
    kinds = {}
    folder.mkdir(parents=True, exist_ok=True)
    k = 0
    for name, lcs in (('gaia', gaia), ('ztf', ztf)):
        for part in split_lightcurves(lcs, partition_size):
            part.to_parquet(folder/f'curves-{k:05d}.parquet'); kinds[k] = name; k += 1
    pts = {name: float(np.mean([len(lc) for lc in lcs])) for name, lcs in (('gaia', gaia), ('ztf', ztf))}
    return dict(kinds=kinds, n_gaia=len(gaia), n_ztf=len(ztf), mean_points=pts)


def timed_run(folder:Path, out:Path, workers:int, model)->dict:
    "predict_dask over the partitions on a fresh LocalCluster; wall time without the cluster start."
    with dask_client(workers=workers) as client:
        client.run(lambda: __import__('vartransfer.model'))   # warm imports (torch), as a long run would have them
        t0 = time.perf_counter()
        df = predict_dask(model, folder, out, client=client, progress=False)
        wall = time.perf_counter() - t0
    s = df.attrs['summary']
    return dict(workers=workers, wall_s=wall, curves=len(df), curves_per_s=len(df) / wall,
                peak_rss_mb_per_worker=max(x['peak_rss_mb'] for x in s['stats']), memory_measure='VmHWM', failed_partitions=len(s['failed']),
                failed_stars=int(df['error'].notna().sum()), stats=s['stats'])


def child(folder:str, out:str, events:str):
    "The run that gets killed: one worker killed at 1/4 of the partitions; the parent kills us at 1/2."
    model = simulated_source()
    n = len(list(Path(folder).glob('*.parquet')))
    with dask_client(workers=2) as client:
        pids = list(client.run(os.getpid).values())
        def killer():
            while len(list(Path(out).glob('part-*.parquet'))) < n // 4: time.sleep(0.1)
            os.kill(pids[0], signal.SIGKILL)
            Path(events).write_text(json.dumps(dict(worker_killed_after=len(list(Path(out).glob('part-*.parquet'))))))
        threading.Thread(target=killer, daemon=True).start()
        predict_dask(model, folder, out, client=client, progress=False)


def memory_only(curves:Path, output:Path):
    "Peak memory of each of 2 workers over every partition in `curves`, written into the JSON of an earlier run."
    tmp = Path(tempfile.mkdtemp(prefix='vt-scale-mem-'))
    load0 = os.getloadavg()
    with dask_client(workers=2) as client:
        df = predict_dask(simulated_source(), curves, tmp/'pred', client=client, progress=False)
    stats = df.attrs['summary']['stats']
    peak = max(x['peak_rss_mb'] for x in stats)
    res = json.loads(output.read_text())
    res['memory'] = dict(command="python benchmarks/scale.py " + " ".join(sys.argv[1:]), partitions=len(stats), curves=len(df),
                         peak_rss_mb_per_worker=peak, measure='VmHWM of each worker process (its own high-water mark)',
                         loadavg_start=load0, loadavg_end=os.getloadavg())
    for r in res.get('throughput', {}).values():   # a run before the fix measured ru_maxrss: the peak of the process that started the workers
        if 'peak_rss_mb_per_worker' in r and r.get('memory_measure') != 'VmHWM':
            r['ru_maxrss_mb_inherited_from_driver'] = r.pop('peak_rss_mb_per_worker')
    output.write_text(json.dumps(res, indent=1) + '\n')
    print(f"peak memory per worker (VmHWM) over {len(stats)} partitions, {len(df)} curves: {peak:.0f} MB; written into {output}")
    shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=2000, help="light curves in all (half of each cadence)")
    ap.add_argument('--subset', type=int, default=1000, help="light curves of the identity check")
    ap.add_argument('--partition-size', type=int, default=100)
    ap.add_argument('--output', default=str(HERE/'results'/'scale.json'))
    ap.add_argument('--memory-only', metavar='CURVES',
                    help="only measure the workers' peak memory (VmHWM) on the curve partitions in this folder, on 2 workers, "
                         "and write it into the existing --output JSON")
    ap.add_argument('--child', nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child: return child(*args.child)
    if args.memory_only: return memory_only(Path(args.memory_only), Path(args.output))
    tmp = Path(tempfile.mkdtemp(prefix='vt-scale-'))
    load0 = os.getloadavg()
    t = time.perf_counter()
    info = make_curves(args.n, tmp/'curves', args.partition_size)
    print(f"{info['n_gaia']} Gaia DR3-like ({info['mean_points']['gaia']:.0f} points) and {info['n_ztf']} ZTF-like "
          f"({info['mean_points']['ztf']:.0f} points) curves in {len(info['kinds'])} partitions, {time.perf_counter() - t:.0f} s")
    model = simulated_source()

    runs = {w: timed_run(tmp/'curves', tmp/f'pred{w}', w, model) for w in (1, 2)}
    for w, r in runs.items():
        print(f"{w} worker(s): {r['curves_per_s']:.1f} curves/s ({r['wall_s']:.0f} s), peak {r['peak_rss_mb_per_worker']:.0f} MB per worker")
    speedup = runs[2]['curves_per_s'] / runs[1]['curves_per_s']
    same_pred = read_parts(tmp/'pred1').equals(read_parts(tmp/'pred2'))
    print(f"2 workers / 1 worker: {speedup:.2f}x; predictions of 1 and 2 workers identical: {same_pred}")

    # seconds per curve per core, by cadence, from the 1-worker run
    per_curve = {}
    for kind in ('gaia', 'ztf'):
        st = [s for s in runs[1]['stats'] if info['kinds'][s['index']] == kind]
        per_curve[kind] = sum(s['seconds'] for s in st) / sum(s['rows'] for s in st)
    projection = [dict(catalog='Gaia DR3 (G epoch photometry)', curves=GAIA_DR3_SOURCES, s_per_curve=per_curve['gaia'],
                       core_hours=GAIA_DR3_SOURCES * per_curve['gaia'] / 3600),
                  dict(catalog='ZTF data release (r band, ~1e9 curves assumed)', curves=ZTF_DR_CURVES, s_per_curve=per_curve['ztf'],
                       core_hours=ZTF_DR_CURVES * per_curve['ztf'] / 3600)]
    for p in projection:
        print(f"{p['catalog']}: {p['curves']:,} curves x {1000 * p['s_per_curve']:.1f} ms = {p['core_hours']:,.0f} core-hours "
              f"({p['core_hours'] / 1000:,.1f} h on 1,000 cores)")

    # identity: features of a subset, 2 workers vs one process
    curves = [LightCurves.read_parquet(f) for f in sorted((tmp/'curves').glob('*.parquet'))]
    half = args.subset // 2
    gaia_parts = [c for k, c in enumerate(curves) if info['kinds'][k] == 'gaia']
    ztf_parts = [c for k, c in enumerate(curves) if info['kinds'][k] == 'ztf']
    take = lambda parts, m: [p for i, p in enumerate(parts) if i * args.partition_size < m]
    subset_parts = take(gaia_parts, half) + take(ztf_parts, half)
    n_subset = sum(len(p) for p in subset_parts)
    t = time.perf_counter()
    single = pd.concat([extract_features_batch(p, progress=False) for p in subset_parts])
    t_single = time.perf_counter() - t
    with dask_client(workers=2) as client:
        dist = extract_features_dask(subset_parts, tmp/'subset', client=client, progress=False)
    bitwise = dist.equals(single)   # same dtypes, same values bit for bit (NaN where NaN)
    print(f"features of {n_subset} curves, 2 workers vs one process: identical (bitwise) {bitwise}")

    # resumption: kill a worker, then the whole run, then rerun
    out = tmp/'resume'
    n_parts = len(info['kinds'])
    proc = subprocess.Popen([sys.executable, __file__, '--child', str(tmp/'curves'), str(out), str(tmp/'events.json')],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while len(list(out.glob('part-*.parquet'))) < n_parts // 2 and proc.poll() is None: time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL); proc.wait()
    time.sleep(1)
    events = json.loads((tmp/'events.json').read_text()) if (tmp/'events.json').exists() else {}
    done_before = len(list(out.glob('part-*.parquet')))
    leftovers = len(list(out.glob('*.tmp')))
    with dask_client(workers=2) as client:
        rerun = predict_dask(model, tmp/'curves', out, client=client, progress=False)
    s = rerun.attrs['summary']
    same = rerun.equals(read_parts(tmp/'pred2'))
    print(f"resume: worker killed after {events.get('worker_killed_after')} parts, run killed with {done_before}/{n_parts} "
          f"parts written ({leftovers} half-written temporary files left); rerun computed {s['computed']}, skipped {s['skipped']}; "
          f"final table identical to the uninterrupted run: {same}")

    result = dict(
        command="python benchmarks/scale.py " + " ".join(sys.argv[1:]),
        n_curves=args.n, note=(("" if args.n >= 100_000 else "The issue asks for 100,000 curves; this 2-core machine ran a smaller N. ") +
                              ("Timings taken while other jobs used the CPUs (load average below): noisy."
                               if load0[0] > 1.5 else "Nothing else ran on the machine (load average below).")),
        machine=dict(cpus=os.cpu_count(), platform=platform.platform(), loadavg_start=load0, loadavg_end=os.getloadavg()),
        curves=dict(n_gaia=info['n_gaia'], n_ztf=info['n_ztf'], mean_points=info['mean_points'],
                    partitions=n_parts, partition_size=args.partition_size,
                    classes=FAST, note="classes simulated without the OGLE catalogue; cadences are the survey's"),
        throughput={str(w): {k: v for k, v in r.items() if k != 'stats'} for w, r in runs.items()},
        speedup_2_vs_1=speedup, predictions_1_vs_2_workers_identical=bool(same_pred),
        s_per_curve_per_core=per_curve, projection=projection,
        identity=dict(n_curves=n_subset, bitwise_equal_features=bool(bitwise), single_process_s=t_single,
                      single_process_s_per_curve=t_single / n_subset),
        resume=dict(partitions=n_parts, worker_killed_after_parts=events.get('worker_killed_after'),
                    parts_when_run_killed=done_before, temporary_files_left=leftovers,
                    rerun_computed=s['computed'], rerun_skipped=s['skipped'], rerun_failed=len(s['failed']),
                    final_table_identical=bool(same)))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=1) + '\n')
    print(f"wrote {args.output}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()

"The CLI on real Dask clusters (a LocalCluster, and a `dask scheduler` with two `dask worker` processes on the loopback address) against the single-process path; a HATS catalog built with hats-import and classified through lsdb."
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")
from vartransfer.cli.core import read_table
from vartransfer.simulate import simulate
from helpers import run

FAST = ['BV', 'EB_EC', 'EB_ED', 'EB_ESD', 'NonVar', 'QSO']   # simulated without the OGLE catalogue


@pytest.fixture(scope="module")
def curves(tmp_path_factory):
    "24 simulated Gaia DR3 light curves as a LightCurves parquet file, one of them too short (skipped by both paths)."
    lcs, _ = simulate('Gaia DR3', classes=FAST, n_per_class=4, seed=3, progress=False)
    data = lcs.data[~((lcs.data['id'] == lcs.ids[0]) & (lcs.data.groupby('id').cumcount() >= 5))]   # 5 points: fails
    from vartransfer.lightcurve import LightCurves
    path = tmp_path_factory.mktemp("curves")/"gaia.parquet"
    LightCurves(data, lcs.meta).to_parquet(path)
    return path


@pytest.fixture(scope="module")
def single(curves, tmp_path_factory):
    "Features and predictions of the single-process CLI."
    d = tmp_path_factory.mktemp("single")
    assert run('features', curves, '-o', d/'f.parquet', '-q')[0] == 0
    assert run('predict', d/'f.parquet', '-o', d/'p.parquet', '-q')[0] == 0
    return read_table(d/'f.parquet'), read_table(d/'p.parquet')


def check_same(feats, pred, single):
    "Features bitwise equal, predictions equal to float precision."
    pd.testing.assert_frame_equal(feats, single[0], check_exact=True)
    assert len(feats) == 24 and feats['error'].notna().sum() == 1    # the star with 5 points is a row with its error, not lost
    assert 'need at least 10' in feats['error'].dropna().iloc[0]
    ref = single[1]
    assert list(pred.columns) == list(ref.columns) and list(pred.index) == list(ref.index)
    assert pred['class'].tolist() == ref['class'].tolist()
    classes = [c for c in ref.columns if c not in ('band', 'class', 'probability', 'error')]
    np.testing.assert_allclose(pred[classes].to_numpy(float), ref[classes].to_numpy(float), atol=1e-6)


def test_local_cluster(curves, single, tmp_path):
    code, out, err = run('features', curves, '-o', tmp_path/'f.parquet', '--cluster', 'local', '--workers', 2,
                         '--chunk-size', 5, '-q')
    assert code == 0, err
    assert "5 partitions computed now" in out
    pd.testing.assert_frame_equal(read_table(tmp_path/'f.parquet'), single[0], check_exact=True)
    assert not (tmp_path/'f.parquet.parts').exists()   # the parts are cleared when done


@contextlib.contextmanager
def dask_processes(tmp_path, n_workers=2, timeout=60):
    "A `dask scheduler` and `n_workers` `dask worker` processes on 127.0.0.1; always torn down."
    bin_ = Path(sys.executable).with_name('dask')
    sched_file = tmp_path/'scheduler.json'
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get('PYTHONPATH', '')]))
    procs = [subprocess.Popen([bin_, 'scheduler', '--host', '127.0.0.1', '--port', '0', '--no-dashboard',
                               '--scheduler-file', sched_file], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        t0 = time.time()
        while not sched_file.exists():
            assert time.time() - t0 < timeout, "the dask scheduler did not start"
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())['address']
        for _ in range(n_workers):
            procs.append(subprocess.Popen([bin_, 'worker', address, '--host', '127.0.0.1', '--nthreads', '1',
                                           '--memory-limit', '2GB', '--no-dashboard'], env=env, start_new_session=True,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client
        with Client(address, timeout='30s') as client: client.wait_for_workers(n_workers, timeout=timeout)
        yield address
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError): os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try: p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL); p.wait()


def test_scheduler_and_workers(curves, single, tmp_path):
    with dask_processes(tmp_path) as address:
        assert address.startswith('tcp://127.0.0.1:')
        code, out, err = run('features', curves, '-o', tmp_path/'f.parquet', '--scheduler', address, '--chunk-size', 5,
                             '--keep-work', '-q')
        assert code == 0, err
        # resuming: a lost part is the only partition computed again, the table is the same
        (tmp_path/'f.parquet.parts'/'part-00002.parquet').unlink()
        code, out, err = run('features', curves, '-o', tmp_path/'f2.parquet', '--work', tmp_path/'f.parquet.parts',
                             '--scheduler', address, '--chunk-size', 5, '-q')
        assert code == 0, err
        assert "1 partitions computed now, 4 resumed" in out
        pd.testing.assert_frame_equal(read_table(tmp_path/'f2.parquet'), read_table(tmp_path/'f.parquet'), check_exact=True)
        # predict from light curves: features and classes in one task per partition
        code, out, err = run('predict', curves, '-o', tmp_path/'p.parquet', '--scheduler', address, '-q')
        assert code == 0, err
    check_same(read_table(tmp_path/'f.parquet'), read_table(tmp_path/'p.parquet'), single)


def test_cluster_options(curves, tmp_path):
    code, _, err = run('features', curves, '-o', tmp_path/'f.parquet', '--cluster', 'local', '--scheduler', 'tcp://127.0.0.1:1')
    assert code == 1 and "not both" in err


def test_hats_catalog(tmp_path):
    "A HATS catalog built with hats-import from simulated ZTF light curves (objects + sources), classified through lsdb."
    lsdb = pytest.importorskip("lsdb")
    from distributed import Client, LocalCluster
    from vartransfer.batch import extract_features_batch
    from vartransfer.hats import LightCurveColumns, classify_hats, lightcurves_to_tables, read_hats_lightcurves, write_hats
    from vartransfer.pretrained import simulated_source
    lcs, _ = simulate('ZTF', classes=FAST, n_per_class=2, seed=5, progress=False)   # 12 stars in g and r
    rng = np.random.default_rng(5)
    objects, sources = lightcurves_to_tables(lcs, rng.uniform(0, 360, 12), rng.uniform(-60, 60, 12))
    objects.to_parquet(tmp_path/'objects.parquet', index=False)
    sources.to_parquet(tmp_path/'sources.parquet', index=False)
    columns = LightCurveColumns(band='band')
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, Client(cluster) as client:
        write_hats([tmp_path/'objects.parquet'], tmp_path/'obj', client, pixel_threshold=5, highest_order=2)
        write_hats([tmp_path/'sources.parquet'], tmp_path/'src', client, catalog_type='source', pixel_threshold=5000, highest_order=2)
        with pytest.warns(RuntimeWarning, match="margin cache"):
            catalog = read_hats_lightcurves(tmp_path/'obj', columns, source=tmp_path/'src')
        assert catalog.npartitions >= 2
    # classified on single-threaded worker processes (as `dask_client` starts them): features bitwise as in one process
    from vartransfer.scale import dask_client
    with dask_client(workers=2) as client:
        feats = classify_hats(catalog, tmp_path/'features', None, columns, client=client, progress=False)
        pred = classify_hats(catalog, tmp_path/'predictions', simulated_source(), columns, client=client,
                             hats=tmp_path/'classes', progress=False)
    assert len(list((tmp_path/'features').glob('part-*.parquet'))) == catalog.npartitions   # one part per HEALPix pixel
    single = extract_features_batch(lcs, progress=False)
    order = lambda df: df.reset_index().sort_values(['id', 'band']).set_index('id')
    pd.testing.assert_frame_equal(order(feats.drop(columns=['ra', 'dec'])), order(single), check_exact=True)
    np.testing.assert_array_equal(feats['ra'].groupby(level=0).first().loc[objects['id']].to_numpy(), objects['ra'].to_numpy())
    ref = simulated_source().predict(single)
    assert order(pred)['class'].tolist() == order(ref)['class'].tolist()
    back = lsdb.read_hats(tmp_path/'classes').compute()
    assert sorted(back['id']) == sorted(ref.index) and {'ra', 'dec', 'class', 'probability'} <= set(back.columns)

"Parity of vartransfer's features with UPSILoN-T's published values and with the original algorithm; batches."
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vartransfer.batch import OUTPUT_COLUMNS, extract_features_batch, read_features
from vartransfer.features import ALL_NAMES, FEATURE_NAMES, UPSILON_TIME_ORIGIN, compute_features, extract_features
from vartransfer.io.asas import read_asas_richards_tarball
from vartransfer.io.photometry import read_eros2
from vartransfer.lightcurve import LightCurve, LightCurveError
from vartransfer.periods import find_period, upsilon_grid

ROOT = Path(__file__).resolve().parents[1]

# Features of EROS-2 lm0134l19756 as UPSILoN-T's extractor computes them (red band, no clipping), data README.
PUBLISHED = dict(amplitude=0.165837, hl_amp_ratio=0.805347, kurtosis=1.241100, period=0.578021, phase_cusum=0.256222,
                 phase_eta=1.078244, phi21=1.097624, phi31=2.273615, quartile31=0.24, r21=0.448685, r31=0.326214,
                 shapiro_w=0.979051, skewness=0.404496, slope_per10=-0.125030, slope_per90=0.086530, stetson_k=0.774999)


def eros2(mirror, name):
    "Red band of an EROS-2 sample file, through the product's reader (times JD - 2,400,000)."
    return read_eros2(mirror / 'eros2_samples' / name)


def asas(mirror, n):
    "The first n ASAS light curves of the tarball, through the product's reader."
    coll = read_asas_richards_tarball(mirror / 'asas_richards2012' / 'asas_training_set.tar.gz')
    return [coll[i] for i in range(n)]


@pytest.fixture(scope='module')
def reference():
    "The faithful reference implementation of UPSILoN (benchmarks/, outside the package)."
    sys.path.insert(0, str(ROOT / 'benchmarks'))
    try:
        from upsilon_reference import reference_features
    finally:
        sys.path.pop(0)
    return reference_features


def test_published_parity(mirror):
    lc = eros2(mirror, 'lm0134l19756.time')
    assert len(lc) == 294
    f = extract_features(lc)
    assert list(f)[:16] == FEATURE_NAMES
    assert f['period'] == pytest.approx(PUBLISHED['period'], rel=1e-6)
    for k in FEATURE_NAMES: assert f[k] == pytest.approx(PUBLISHED[k], rel=1e-4), k


@pytest.mark.parametrize('which', ['eros2-lm0010n22323', 'asas-0', 'asas-1', 'asas-2'])
def test_matches_original_algorithm(mirror, reference, which):
    lc = eros2(mirror, 'lm0010n22323.time') if which.startswith('eros2') else asas(mirror, 3)[int(which[-1])]
    ours = extract_features(lc)
    theirs = reference(lc.time - UPSILON_TIME_ORIGIN, lc.mag, lc.err)
    assert ours['period'] == pytest.approx(theirs['period'], rel=1e-12)
    for k in FEATURE_NAMES + ['cusum', 'eta', 'n_points', 'weighted_mean', 'weighted_std', 'period_uncertainty']:
        # leastsq stops at its tolerance (1.5e-8 on the parameters): the phases of small harmonics move most
        assert ours[k] == pytest.approx(theirs[k], rel=1e-3 if k in ('phi21', 'phi31') else 2e-5, abs=1e-12), k
    for k in ('period_SNR', 'period_log10FAP'):   # fasper's extirpolation is good to about 1e-5
        assert ours[k] == pytest.approx(theirs[k], rel=1e-3), k


def test_wrapped_phases_ignore_time_origin(mirror):
    lc = eros2(mirror, 'lm0134l19756.time')
    f0 = extract_features(lc)
    f1 = extract_features(lc, time_origin=UPSILON_TIME_ORIGIN - 0.15)
    assert f1['period'] == pytest.approx(f0['period'], rel=1e-12)
    assert f1['phi21_wrapped'] == pytest.approx(f0['phi21_wrapped'], rel=1e-8)
    assert f1['phi31_wrapped'] == pytest.approx(f0['phi31_wrapped'], rel=1e-8)
    for k in (2, 3):   # the compatible phases equal the wrapped ones modulo pi
        d = (f0[f'phi{k}1_wrapped'] - f0[f'phi{k}1']) / np.pi
        assert d == pytest.approx(round(d), abs=1e-8)


def test_custom_grid_and_min_period(mirror):
    lc = eros2(mirror, 'lm0134l19756.time')
    grid = upsilon_grid(lc.time).clip(fmax=1 / 0.7)            # only periods >= 0.7 d
    f = extract_features(lc, grid=grid)
    assert f['period'] >= 0.7
    assert find_period(lc.time, lc.mag, min_period=0.1).grid.n < upsilon_grid(lc.time).n


def test_batch_resume_and_failures(mirror, tmp_path):
    curves = asas(mirror, 5)
    flat = LightCurve(curves[0].time, np.full(len(curves[0]), 12.), curves[0].err, id='flat', band='V', validate=False)
    items = curves[:3] + [flat] + curves[3:]
    out = tmp_path / 'features'
    df = extract_features_batch(items, output=out, chunk_size=2, progress=False)
    assert len(list(out.glob('part-*.parquet'))) == 3
    assert df.attrs['summary'] == dict(total=6, computed=6, skipped=0, failed=1)
    assert list(df.columns) == OUTPUT_COLUMNS and list(df.columns[1:len(ALL_NAMES) + 1]) == ALL_NAMES
    assert df.loc['flat', 'error'].startswith('LightCurveError') and df.loc['flat', FEATURE_NAMES].isna().all()
    assert df.drop(index='flat')['error'].isna().all()
    again = extract_features_batch(items, output=out, chunk_size=2, progress=False)
    assert again.attrs['summary'] == dict(total=6, computed=0, skipped=6, failed=0)
    retried = extract_features_batch(items, output=out, chunk_size=2, progress=False, retry_failed=True)
    assert retried.attrs['summary'] == dict(total=6, computed=1, skipped=5, failed=1)
    pd.testing.assert_frame_equal(read_features(out).sort_index(), df.sort_index())
    mem = extract_features_batch(items, n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(mem.drop(columns='error'), df.drop(columns='error').loc[mem.index])


def test_errors(mirror):
    lc = eros2(mirror, 'lm0134l19756.time')
    with pytest.raises(LightCurveError, match='errors must be finite and > 0'):
        compute_features(lc.time, lc.mag, np.zeros(len(lc)))
    with pytest.raises(LightCurveError, match='length mismatch'):
        compute_features(lc.time, lc.mag[:-1], lc.err)
    with pytest.raises(ValueError, match='n_jobs must be >= 1'):
        extract_features_batch([lc], n_jobs=0)
    with pytest.raises(ValueError, match="errors must be 'raise' or 'skip'"):
        extract_features_batch([lc], errors='ignore')


def test_batch_from_files(mirror, tmp_path):
    files = [mirror / 'eros2_samples' / 'lm0134l19756.time', tmp_path / 'missing.time']
    out = tmp_path / 'features'
    df = extract_features_batch(files, output=out, progress=False)
    assert df.attrs['summary'] == dict(total=2, computed=2, skipped=0, failed=1)
    assert df.loc['lm0134l19756', 'period'] == pytest.approx(PUBLISHED['period'], rel=1e-6)
    assert df.loc['missing', 'error'].startswith('FileNotFoundError')   # a file that fails keeps its star's id (the stem)
    assert df.loc['missing', 'source'] == str(files[1])                   # and its path as the source
    again = extract_features_batch(files[:1], output=out, progress=False)   # a file is skipped by its content
    assert again.attrs['summary'] == dict(total=1, computed=0, skipped=1, failed=0)


def test_speed_benchmark_runs_the_package_it_names(mirror, tmp_path, monkeypatch):
    "benchmarks/features.py times `vartransfer features` with the package at the root it is given, not the one in the working directory."
    import shutil
    sys.path.insert(0, str(ROOT / 'benchmarks'))
    try:
        import features as bench
    finally:
        sys.path.pop(0)
    copy = tmp_path / 'copy'
    shutil.copytree(ROOT / 'vartransfer', copy / 'vartransfer', ignore=shutil.ignore_patterns('__pycache__'))
    (tmp_path / 'run').mkdir()
    monkeypatch.chdir(ROOT)   # where `python -c` alone would import this tree instead of the copy
    seconds, table = bench.cli_features(copy, mirror / 'asas_richards2012' / 'asas_training_set.tar.gz', tmp_path / 'run', limit=3)
    assert seconds > 0 and len(table) == 3 and table['period'].notna().all()

"""Target surveys of the transfer benchmark: features (cached) and mapped labels of each.

Imported by `benchmarks/transfer.py`; `python benchmarks/transfer_targets.py [names]` only fills the cache.
"""
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT/'benchmarks'/'results'            # *.parquet there is git-ignored
ASAS6 = ('CEPH', 'DSCT', 'EB', 'LPV', 'RRL', 'T2CEPH')
SIM_TARGETS = {'sim_gaia_dr3': ('Gaia DR3', 'G'), 'sim_ztf': ('ZTF', 'r'), 'sim_asassn': ('ASAS-SN', 'V'),
               'sim_hipparcos': ('Hipparcos', 'Hp')}   # survey, the band scored
SIM_N_PER_CLASS, SIM_CAP, SIM_SEED = 30, 90, 7   # simulated stars per class, at most per superclass, simulation seed
EROS1_N = 600                                    # EROS-1: a fixed stratified subsample of this many stars (CPU budget)
TARGETS = ('asas6', 'eros1_B', 'eros1_R', *SIM_TARGETS)


def _features(lcs, path:Path, n_jobs:int)->pd.DataFrame:
    from vartransfer.batch import extract_features_batch
    if path.exists(): return pd.read_parquet(path)
    feats = extract_features_batch(lcs, n_jobs=n_jobs, progress=False)
    path.parent.mkdir(parents=True, exist_ok=True); feats.to_parquet(path)
    return feats


def _subsample(y:pd.Series, n:int, seed:int=0)->pd.Series:
    "A fixed stratified subsample of `n` stars."
    from sklearn.model_selection import train_test_split
    if len(y) <= n: return y
    keep, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y.to_numpy(), random_state=seed)
    return y.iloc[np.sort(keep)]


def load_target(name:str, n_jobs:int=1, cache:Path|None=None, n_per_class:int|None=None)->tuple[pd.DataFrame, pd.Series]:
    "Features (finite rows only) and superclass labels of a target survey (`n_per_class`: simulated stars per class)."
    cache = CACHE if cache is None else Path(cache)
    n_sim = SIM_N_PER_CLASS if n_per_class is None else n_per_class
    from vartransfer.datasets import load_dataset
    from vartransfer.features import FEATURE_NAMES
    if name == 'asas6':
        lcs, labels = load_dataset('asas_richards2012')
        y = labels['superclass'].dropna()
        feats = _features(lcs.subset(y.index), cache/'asas_features.parquet', n_jobs)
    elif name.startswith('eros1_'):
        band = name.split('_')[1]
        lcs, labels = load_dataset('eros1_ramp')
        y = _subsample(labels['superclass'].dropna(), EROS1_N)
        feats = _features(lcs.subset(y.index).select_band(band), cache/f'{name}_{EROS1_N}_features.parquet', n_jobs)
    elif name in SIM_TARGETS:
        path = cache/f'{name}_{n_sim}_{SIM_CAP}_{SIM_SEED}_features.parquet'
        from vartransfer.simulate import simulate
        from vartransfer.taxonomy import UPSILONT_CLASSES, superclass_of
        classes = [c for c in UPSILONT_CLASSES if superclass_of(c) in ASAS6]
        if path.exists():
            feats = pd.read_parquet(path); y = pd.read_parquet(path.with_suffix('.labels.parquet'))['superclass']
        else:
            survey, band = SIM_TARGETS[name]
            lcs, labels = simulate(survey, classes=classes, n_per_class=n_sim, seed=SIM_SEED, progress=False)
            lcs = lcs.select_band(band)
            sup = labels.loc[labels.index.isin(lcs.ids), 'superclass']
            y = pd.concat([_subsample(g, SIM_CAP) for _, g in sup.groupby(sup)]).sort_index().rename('superclass')
            feats = _features(lcs.subset(y.index), path, n_jobs)
            y.to_frame().to_parquet(path.with_suffix('.labels.parquet'))
    else: raise KeyError(f"unknown target {name!r}; known: {TARGETS}")
    feats = feats[feats['error'].isna()]
    feats = feats[np.isfinite(feats[list(FEATURE_NAMES)].to_numpy(np.float64)).all(1)]
    feats = feats[~feats.index.duplicated()]
    y = y[y.index.isin(feats.index)]
    return feats.loc[y.index], y


def load_target_lightcurves(name:str, cache:Path|None=None, n_per_class:int|None=None):
    "The light curves (scored band) of the stars `load_target(name)` returns, with their ids."
    feats, y = load_target(name, cache=cache, n_per_class=n_per_class)
    from vartransfer.datasets import load_dataset
    if name == 'asas6': lcs = load_dataset('asas_richards2012')[0]
    elif name.startswith('eros1_'): lcs = load_dataset('eros1_ramp')[0].subset(y.index).select_band(name.split('_')[1])
    elif name in SIM_TARGETS:
        from vartransfer.simulate import simulate
        from vartransfer.taxonomy import UPSILONT_CLASSES, superclass_of
        survey, band = SIM_TARGETS[name]
        classes = [c for c in UPSILONT_CLASSES if superclass_of(c) in ASAS6]
        n_sim = SIM_N_PER_CLASS if n_per_class is None else n_per_class
        lcs = simulate(survey, classes=classes, n_per_class=n_sim, seed=SIM_SEED, progress=False)[0].select_band(band)
    else: raise KeyError(f"unknown target {name!r}; known: {TARGETS}")
    return lcs.subset(y.index)


if __name__ == '__main__':
    for name in (sys.argv[1:] or TARGETS):
        t0 = time.time()
        f, y = load_target(name)
        print(name, len(y), y.value_counts().to_dict(), f'{time.time() - t0:.0f} s', flush=True)

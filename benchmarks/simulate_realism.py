"""How realistic are vartransfer's simulated light curves? Measured against real ASAS and EROS-1 stars.

1. Simulate `--n-per-class` stars of each of the 21 UPSILoN-T classes as ASAS (V band) sees them,
   and as EROS-1 and EROS-2 (red band) see them; extract the 16 UPSILoN features (n_jobs=2).
2. Feature realism: for each superclass and each of the 16 features, the two-sample
   Kolmogorov-Smirnov statistic between the simulated and the real stars of that superclass
   (ASAS-6: 608 real ASAS stars of Richards et al. 2012; EROS-1: 3,641 RAMP stars, red band).
3. Zero-shot classification: a random forest (500 trees, seed 0) trained only on the simulated
   light curves' features, tested on every real star. Two variants: trained on all 21 classes with
   predictions mapped to superclasses (like the released UPSILoN-T network, which scores MCC 0.765
   zero-shot on the 608 ASAS-6 stars), and trained only on the classes of the target superclasses.
   Scores: Matthews correlation coefficient and macro-F1 over the real superclasses, and the
   confusion matrix.

    VARTRANSFER_MIRROR=../shared/data python benchmarks/simulate_realism.py               # writes benchmarks/results/simulate_realism.json
    VARTRANSFER_MIRROR=../shared/data python benchmarks/simulate_realism.py --n-per-class 50 --out /tmp/quick.json
"""
import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import confusion_matrix, f1_score, matthews_corrcoef
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from vartransfer.datasets import load_dataset
from vartransfer.features import FEATURE_NAMES
from vartransfer.batch import extract_features_batch
from vartransfer.simulate import simulate
from vartransfer.taxonomy import UPSILONT_CLASSES, superclass_of

HERE = Path(__file__).resolve().parent
ASAS6 = ['CEPH', 'T2CEPH', 'RRL', 'DSCT', 'EB', 'LPV']
EROS1 = ['EB', 'CEPH', 'RRL', 'LPV']


def features(curves, n_jobs, cache:Path|None=None) -> pd.DataFrame:
    "The 16 features (rows that failed are dropped and counted), optionally cached as parquet."
    if cache is not None and cache.is_file(): return pd.read_parquet(cache)
    f = extract_features_batch(curves, n_jobs=n_jobs, progress=False)
    if cache is not None: cache.parent.mkdir(parents=True, exist_ok=True); f.to_parquet(cache)
    return f


def clean(f:pd.DataFrame) -> pd.DataFrame:
    "Rows with all 16 features finite."
    ok = np.isfinite(f[FEATURE_NAMES].to_numpy(float)).all(1)
    if 'error' in f: ok &= f['error'].isna().to_numpy()
    return f[ok]


def ks_table(sim:pd.DataFrame, sim_cls:pd.Series, real:pd.DataFrame, real_sup:pd.Series, real_cls:pd.Series|None,
             superclasses, matched:bool=False, seed:int=0) -> dict:
    """KS statistic per superclass and feature. `matched`: the simulated stars of a superclass are first
    resampled so that its classes have the real stars' proportions (real stars with no class, e.g.
    'Mira', count evenly for every class of their superclass), which separates the realism of each
    class model from the mix of classes (the simulation has equal numbers per class)."""
    rng = np.random.default_rng(seed)
    sim_cls = sim_cls.reindex(sim.index); sim_sup = sim_cls.map(superclass_of)
    out = {}
    for sc in superclasses:
        a, b = sim[sim_sup == sc], real[real_sup.reindex(real.index) == sc]
        if not (len(a) and len(b)): out[sc] = {}; continue
        if matched:
            members = [c for c in UPSILONT_CLASSES if superclass_of(c) == sc]
            known = (real_cls.reindex(b.index) if real_cls is not None else pd.Series(index=b.index, dtype=object))
            want = {c: float((known == c).sum()) + known.isna().sum() / len(members) for c in members}
            have = sim_cls[a.index].value_counts()
            w = sim_cls[a.index].map(lambda c: want.get(c, 0.) / have[c]).to_numpy(float)
            a = a.iloc[rng.choice(len(a), size=len(a), p=w / w.sum())]
        out[sc] = {f: round(float(ks_2samp(a[f], b[f]).statistic), 3) for f in FEATURE_NAMES}
    return out


def zero_shot(sim:pd.DataFrame, sim_cls:pd.Series, real:pd.DataFrame, real_sup:pd.Series, superclasses,
              restrict:bool, seed:int=0) -> dict:
    "Random forest on simulated features, tested on the real stars; scores over their superclasses."
    y = sim_cls.reindex(sim.index)
    if restrict: keep = y.map(superclass_of).isin(superclasses); X, y = sim[keep], y[keep]
    else: X = sim
    rf = RandomForestClassifier(n_estimators=500, random_state=seed, n_jobs=2, min_samples_leaf=1)
    rf.fit(X[FEATURE_NAMES].to_numpy(float), y.to_numpy())
    pred = pd.Series(rf.predict(real[FEATURE_NAMES].to_numpy(float)), index=real.index).map(superclass_of)
    truth = real_sup.reindex(real.index)
    labels = list(superclasses) + sorted(set(pred) - set(superclasses))
    cm = confusion_matrix(truth, pred, labels=labels)
    per_class_recall = {sc: round(float(cm[i, i] / cm[i].sum()), 3) for i, sc in enumerate(superclasses) if cm[i].sum()}
    importances = dict(sorted(zip(FEATURE_NAMES, rf.feature_importances_.round(3).tolist()), key=lambda kv: -kv[1]))
    return {'mcc': round(float(matthews_corrcoef(truth, pred)), 4),
            'macro_f1': round(float(f1_score(truth, pred, labels=list(superclasses), average='macro', zero_division=0)), 4),
            'accuracy': round(float((truth == pred).mean()), 4), 'n_test': int(len(truth)), 'n_train': int(len(X)),
            'recall': per_class_recall,
            'confusion': {'rows (true)': list(superclasses), 'columns (predicted)': labels, 'matrix': cm[:len(superclasses)].tolist()},
            'feature_importance': importances}


def real_cv(real:pd.DataFrame, real_sup:pd.Series, seed:int=0) -> float:
    "Context: MCC of the same forest trained and tested on the real stars themselves (5-fold cross-validation)."
    y = real_sup.reindex(real.index)
    p = cross_val_predict(RandomForestClassifier(n_estimators=500, random_state=seed, n_jobs=2), real[FEATURE_NAMES].to_numpy(float),
                          y.to_numpy(), cv=StratifiedKFold(5, shuffle=True, random_state=seed))
    return round(float(matthews_corrcoef(y, p)), 4)


def measure(name, sim_lcs, sim_labels, real_lcs, real_sup, real_cls, superclasses, n_jobs, cache) -> dict:
    t0 = time.time()
    fs = clean(features(sim_lcs, n_jobs))
    t_sim_feat = time.time() - t0
    fr = clean(features(real_lcs, n_jobs, cache))
    fr = fr[real_sup.reindex(fr.index).isin(superclasses)]
    sim_cls = sim_labels['label']
    return {'n_sim': int(len(fs)), 'n_sim_failed': int(len(sim_labels) - len(fs)), 'n_real': int(len(fr)),
            'seconds_sim_features': round(t_sim_feat, 1),
            'real_trained_5fold_cv_mcc': real_cv(fr, real_sup),
            'zero_shot_21': zero_shot(fs, sim_cls, fr, real_sup, superclasses, restrict=False),
            'zero_shot_restricted': zero_shot(fs, sim_cls, fr, real_sup, superclasses, restrict=True),
            'ks': ks_table(fs, sim_cls, fr, real_sup, real_cls, superclasses),
            'ks_class_mix_matched': ks_table(fs, sim_cls, fr, real_sup, real_cls, superclasses, matched=True)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n-per-class', type=int, default=200)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--n-jobs', type=int, default=2)
    p.add_argument('--cache', type=Path, default=None, help='folder to cache the real stars\' features in')
    p.add_argument('--skip-eros', action='store_true')
    p.add_argument('--skip-speed', action='store_true')
    p.add_argument('--out', type=Path, default=HERE / 'results' / 'simulate_realism.json')
    a = p.parse_args(argv)
    result = {'command': 'python benchmarks/simulate_realism.py ' + ' '.join(argv if argv is not None else sys.argv[1:]),
              'n_per_class': a.n_per_class, 'seed': a.seed, 'machine': f"{platform.platform()}, {os.cpu_count()} CPUs",
              'reference': 'released UPSILoN-T network, trained on real OGLE + EROS-2: MCC 0.765 zero-shot on the 608 ASAS-6 stars'}

    if not a.skip_speed:   # 10,017 ASAS light curves (477 per class), one and two processes, side by side
        simulate('ASAS', classes=['RRL_ab'], n_per_class=2, progress=False)   # load the OGLE-III catalogue first
        speed = {}
        for n_jobs in (1, 2):
            t0 = time.time()
            lcs, _ = simulate('ASAS', n_per_class=477, seed=a.seed, n_jobs=n_jobs, progress=False)
            speed[f'n_jobs={n_jobs}'] = {'seconds': round(time.time() - t0, 1), 'light_curves': len(lcs), 'points': len(lcs.data)}
        result['speed_asas_10k'] = speed
        print('speed:', speed)

    real, rl = load_dataset('asas_richards2012')
    sup = rl['superclass'][rl['superclass'].isin(ASAS6)]
    real = real.subset(sup.index)
    t0 = time.time()
    sim, sl = simulate('ASAS', n_per_class=a.n_per_class, seed=a.seed, n_jobs=a.n_jobs, progress=False)
    result['seconds_simulate_asas'] = round(time.time() - t0, 1)
    result['asas'] = measure('ASAS', sim, sl, real, sup, rl['upsilont_class'], ASAS6, a.n_jobs,
                             a.cache and a.cache / 'asas6_features.parquet')
    print(f"ASAS-6: MCC {result['asas']['zero_shot_21']['mcc']} (21 classes), {result['asas']['zero_shot_restricted']['mcc']} (restricted)")

    if not a.skip_eros:
        real, rl = load_dataset('eros1_ramp')
        real = real.select_band('R')
        sup = rl['superclass'][rl['superclass'].isin(EROS1)]
        real = real.subset([i for i in real.ids if i in sup.index])
        for survey, band in (('EROS-1', 'R_E'), ('EROS-2', 'R_E')):
            sim, sl = simulate(survey, n_per_class=a.n_per_class, seed=a.seed, n_jobs=a.n_jobs, progress=False)
            key = survey.lower().replace('-', '') + '_model_vs_eros1'
            result[key] = measure(survey, sim.select_band(band), sl, real, sup, None, EROS1, a.n_jobs,
                                  a.cache and a.cache / 'eros1_red_features.parquet')
            print(f"EROS-1 vs {survey}: MCC {result[key]['zero_shot_21']['mcc']} (21 classes), {result[key]['zero_shot_restricted']['mcc']} (restricted)")

    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1))
    print(f"wrote {a.out}")


if __name__ == '__main__':
    main()

#!/usr/bin/env python
"""ASAS-6 transfer benchmark: every method on the standard splits of the real ASAS set.

    python benchmarks/asas_transfer.py                      # seeds 0..19, f in {0.05, 0.10, 0.20}
    python benchmarks/asas_transfer.py --seeds 100-119 --ablations --calibration-loss none --out benchmarks/results/asas_transfer_tuning.json
    python benchmarks/asas_transfer.py --seeds 100-119 --calibration-loss nll \
        --methods 'vartransfer transfer (genesis),vartransfer ensemble (genesis + simulated)' \
        --out benchmarks/results/asas_transfer_tuning_nll.json        # and brier: the calibration loss

Target: the 608 ASAS stars of Richards et al. (2012) mapped to six superclasses
(`load_dataset('asas_richards2012')`, `superclass` column). Splits: `benchmark_split(labels, f, seed)`,
train on the fraction f, test on the rest. For each split every method is trained on the training
part only; the unlabelled stars (features only, no labels: training and test parts together) may be
used for prior matching, as a survey's unlabelled light curves always can. Scores: multi-class MCC and
macro-F1 on the test part (mean and standard deviation over seeds), per-class recall, and for the
vartransfer models the calibration (ECE, Brier) before and after temperature scaling, the
temperature fitted on out-of-fold *validation* predictions within the training part (5 folds), never
on test stars.

Hyper-parameters were chosen on seeds 100 and up (run this script with `--seeds 100-119`), never on
the test scores of seeds 0..19. ASAS features are cached in benchmarks/results/asas_features.parquet,
the EROS-1 features (for the EROS-1 source model) in benchmarks/results/eros1_features.parquet.
Writes benchmarks/results/asas_transfer.json and prints a table. Runs on 2 CPU cores
(`--n-jobs 2`, one single-threaded worker per core).
"""
import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT/'benchmarks'/'results'

# name -> description (the order of the table)
METHODS = {
    'zero-shot genesis': 'released UPSILoN-T network unchanged, member probabilities summed per superclass',
    'UPSILoN-T recipe (genesis)': 'new random last layer, all layers, SGD lr 0.1 momentum 0.9, 50 epochs, genesis transform',
    'UPSILoN-T recipe (genesis, refit transform)': 'as above, transform refitted on the labelled target stars (clip mode)',
    'vartransfer transfer (genesis)': 'class-aware head + prior matching, BN statistics kept, gradual unfreezing (fastai)',
    'vartransfer transfer (genesis, refit transform)': 'as above, transform refitted on the labelled target stars',
    'vartransfer transfer (genesis, random head)': 'as above, random new head instead of the class-aware one',
    'vartransfer ensemble (genesis)': 'transfer_ensemble([genesis]): transfer, prior-matched zero-shot, random forest',
    'vartransfer transfer (simulated source)': 'vartransfer transfer from the shipped simulated OGLE-III + EROS-2 model',
    'zero-shot simulated source': 'shipped simulated source model unchanged, through the taxonomy',
    'vartransfer ensemble (genesis + simulated)': 'transfer_ensemble([genesis, *simulated_sources()]): 5 transfers, 5 prior-matched zero-shots, random forest',
    'zero-shot EROS-1': 'VarNet trained on real EROS-1 (R band, 4 classes) unchanged; cannot predict DSCT or T2CEPH',
    'vartransfer transfer (EROS-1)': 'vartransfer transfer from the EROS-1 model (DSCT, T2CEPH rows start at zero)',
    'scratch network': 'VarNet from random weights on the target sample, 100 one-cycle epochs',
    'random forest': 'scikit-learn random forest (500 trees) on the 16 raw features of the target sample',
}
# measured on the tuning seeds to choose the defaults (`--ablations`)
ABLATIONS = {
    'vartransfer transfer (genesis, BN statistics updated)': 'batch-norm running statistics updated by the target batches (fastai default)',
    'vartransfer transfer (genesis, distilled head)': 'class-aware head distilled from the zero-shot classifier on the unlabelled stars',
    'vartransfer transfer (genesis, no prior matching)': 'class-aware head without matching the target class proportions',
    'vartransfer ensemble (genesis + one simulated)': 'transfer_ensemble([genesis, simulated_source()]): the seed-0 simulated model only',
    'vartransfer ensemble (genesis + simulated + EROS-1)': 'as the ensemble (genesis + simulated), plus the transfer from EROS-1',
}
CALIBRATED = ('vartransfer transfer (genesis)', 'vartransfer ensemble (genesis)', 'vartransfer transfer (simulated source)',
              'vartransfer ensemble (genesis + simulated)')
FIT = dict(head_epochs=10, lr_head=1e-2, epochs=10)   # fit_transfer schedule (lr_max=slice(1e-4, 1e-3))


def asas_features(n_jobs:int)->tuple[pd.DataFrame, pd.Series]:
    "Features of the 608 ASAS-6 stars (cached) and their superclasses."
    from vartransfer.datasets import load_dataset
    lcs, labels = load_dataset('asas_richards2012')
    y = labels['superclass'].dropna()
    path = RESULTS/'asas_features.parquet'
    if path.exists(): feats = pd.read_parquet(path)
    else:
        from vartransfer.batch import extract_features_batch
        feats = extract_features_batch(lcs.subset(y.index), n_jobs=n_jobs, progress=False)
        RESULTS.mkdir(parents=True, exist_ok=True); feats.to_parquet(path)
    bad = feats['error'].notna()
    if bad.any(): raise RuntimeError(f"ASAS features failed for {list(feats.index[bad])}")
    return feats, y.loc[feats.index]


def eros1_source(n_jobs:int):
    "A VarNet trained on the real EROS-1 red-band light curves (4 classes; features and model cached)."
    from vartransfer.model import VarClassifier
    stem = RESULTS/'eros1_source'
    if stem.with_suffix('.json').exists(): return VarClassifier.load(stem)
    from vartransfer.datasets import load_dataset
    from vartransfer.features import FEATURE_NAMES
    from vartransfer.batch import extract_features_batch
    from vartransfer.learner import feature_dls, source_learner
    path = RESULTS/'eros1_features.parquet'
    lcs, labels = load_dataset('eros1_ramp')
    if path.exists(): feats = pd.read_parquet(path)
    else:
        feats = extract_features_batch(lcs.select_band('R'), n_jobs=n_jobs, progress=False)
        feats.to_parquet(path)
    feats = feats[feats['error'].isna()]
    y = labels.loc[feats.index, 'superclass']
    dls = feature_dls(feats[FEATURE_NAMES], y, valid_pct=0.2, seed=0, bs=128)
    learn = source_learner(dls, dropout=0.1, seed=0)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(30, 3e-3)
    clf = learn.to_classifier(meta={'name': 'eros1_source', 'source': 'real EROS-1 LMC, R band (RAMP set)',
                                    'recipe': 'source_learner(dropout=0.1), fit_one_cycle(30, 3e-3), bs 128, seed 0'})
    clf.save(stem)
    return clf


def eros1_mapper(name:str)->str:
    "EROS-1 classes are already ASAS-6 superclasses."
    return name


_STATE = {}

def _init(n_jobs:int):
    "Worker: one thread, sources and features loaded once."
    import torch
    torch.set_num_threads(1)
    import warnings; warnings.simplefilter('ignore', FutureWarning)
    from vartransfer.pretrained import simulated_sources, upsilont_genesis
    _STATE['feats'], _STATE['y'] = asas_features(n_jobs)
    _STATE['genesis'] = upsilont_genesis()
    _STATE['sims'] = simulated_sources()   # seed 0 first: `simulated_source()`
    _STATE['eros1'] = eros1_source(n_jobs)


def _oof(train, y, classes, seed, make, folds:int=5)->np.ndarray:
    "Out-of-fold probabilities on the training stars: stratified folds, each predicted by a model trained on the others."
    from sklearn.model_selection import StratifiedKFold
    lab = y[train].to_numpy()
    k = min(folds, max(2, np.bincount(pd.factorize(lab)[0]).max()))
    strat = pd.Series(lab).map(lambda c: c if (lab == c).sum() >= k else '_rare').to_numpy()   # rare classes pooled for the split
    P = pd.DataFrame(np.nan, index=train, columns=classes)
    for fit_idx, held_idx in StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(lab)), strat):
        P.iloc[held_idx] = make(train[fit_idx]).predict_proba(_STATE['feats'].loc[train[held_idx]])
    return P.to_numpy()


def run_split(job)->list[dict]:
    "Every method on one (fraction, seed) split."
    fraction, seed, methods, calibration_loss = job
    from vartransfer.datasets import benchmark_split
    from vartransfer.evaluate import (apply_temperature, brier_score, expected_calibration_error, fit_temperature,
                                      scores)
    from vartransfer.transfer import (EnsembleClassifier, ForestClassifier, TaxonomyClassifier, train_scratch,
                                      transfer, upsilont_recipe)
    feats, y, genesis, sims, eros1 = _STATE['feats'], _STATE['y'], _STATE['genesis'], _STATE['sims'], _STATE['eros1']
    train, test = map(pd.Index, benchmark_split(y, fraction, seed))
    classes = sorted(y.unique())
    lab = y[train]
    memo = {}

    def member(name, ids, make):
        "A model trained earlier in this split on the same stars (same seed, so the same model), or a new one."
        key = (name, tuple(ids))
        if key not in memo: memo[key] = make()
        return memo[key]
    def tl(source, ids, **kw):
        return transfer(source, feats, y[ids], unlabelled=feats, classes=classes, seed=seed, fit_kwargs=FIT, **kw)
    def vt(k, ids):
        "Transfer from source k: 'genesis', 'eros1' or the index of a simulated model."
        src = {'genesis': genesis, 'eros1': eros1}.get(k, sims[k] if isinstance(k, int) else None)
        return member(f'transfer {k}', ids, lambda: tl(src, ids, **({'mapper': eros1_mapper} if k == 'eros1' else {})))
    def adapted(k, ids):
        "Prior-matched zero-shot classifier of source k, the prior from the labels of `ids` (as `transfer_ensemble`)."
        src = genesis if k == 'genesis' else sims[k]
        prior = y[ids].value_counts(normalize=True).reindex(classes, fill_value=0).to_numpy()
        return member(f'zero-shot {k}', ids, lambda: TaxonomyClassifier(src, classes).adapt_prior(feats, prior))
    def forest(ids): return member('forest', ids, lambda: ForestClassifier(feats, y[ids], classes=classes, seed=seed))
    def ensemble(ids, keys):
        "`transfer_ensemble` over the sources `keys`, built from (cached) members: the same models it trains."
        members = [m for k in keys for m in ((vt(k, ids),) if k == 'eros1' else (vt(k, ids), adapted(k, ids)))]
        return EnsembleClassifier(members + [forest(ids)])
    all_sims = list(range(len(sims)))
    builders = {   # name -> model trained on the stars `ids` (the calibrated ones are also built on folds of the training part)
        'vartransfer transfer (genesis)': lambda ids: vt('genesis', ids),
        'vartransfer transfer (simulated source)': lambda ids: vt(0, ids),
        'vartransfer ensemble (genesis)': lambda ids: ensemble(ids, ['genesis']),
        'vartransfer ensemble (genesis + simulated)': lambda ids: ensemble(ids, ['genesis', *all_sims]),
        'vartransfer ensemble (genesis + one simulated)': lambda ids: ensemble(ids, ['genesis', 0]),
        'vartransfer ensemble (genesis + simulated + EROS-1)': lambda ids: ensemble(ids, ['genesis', *all_sims, 'eros1']),
        'random forest': forest,
    }
    makers = {
        'zero-shot genesis': lambda: TaxonomyClassifier(genesis, classes),
        'UPSILoN-T recipe (genesis)': lambda: upsilont_recipe(genesis, feats, lab, classes=classes, seed=seed),
        'UPSILoN-T recipe (genesis, refit transform)': lambda: upsilont_recipe(genesis, feats, lab, classes=classes, seed=seed, refit_transform=True),
        'vartransfer transfer (genesis, refit transform)': lambda: tl(genesis, train, refit_transform=True),
        'vartransfer transfer (genesis, random head)': lambda: tl(genesis, train, head_init='random'),
        'zero-shot simulated source': lambda: TaxonomyClassifier(sims[0], classes),
        'zero-shot EROS-1': lambda: TaxonomyClassifier(eros1, [c for c in classes if c in eros1.classes], mapper=eros1_mapper),
        'vartransfer transfer (EROS-1)': lambda: vt('eros1', train),
        'scratch network': lambda: train_scratch(feats, lab, classes=classes, seed=seed),
        'vartransfer transfer (genesis, BN statistics updated)': lambda: tl(genesis, train, freeze_bn_stats=False),
        'vartransfer transfer (genesis, distilled head)': lambda: tl(genesis, train, distill=True),
        'vartransfer transfer (genesis, no prior matching)': lambda: tl(genesis, train, prior=False),
        **{name: (lambda b: lambda: b(train))(b) for name, b in builders.items()},
    }
    rows = []
    for name in methods:
        t0 = time.time()
        clf = makers[name]()
        P = clf.predict_proba(feats.loc[test])
        pred = np.asarray(clf.classes)[P.argmax(1)]
        row = {'method': name, 'fraction': fraction, 'seed': seed, 'n_train': len(train), 'n_test': len(test),
               **scores(y[test], pred), 'seconds': time.time() - t0}
        rep = pd.crosstab(y[test], pd.Series(pred, index=test)).reindex(index=classes, columns=classes, fill_value=0)
        row.update({f'recall_{c}': rep.loc[c, c] / rep.loc[c].sum() for c in classes})
        Pfull = np.zeros((len(test), len(classes)))
        Pfull[:, [classes.index(c) for c in clf.classes]] = P
        row['ece'], row['brier'] = expected_calibration_error(Pfull, y[test], classes), brier_score(Pfull, y[test], classes)
        if name in CALIBRATED and calibration_loss != 'none':
            T = fit_temperature(_oof(train, y, classes, seed, builders[name]), y[train], classes, loss=calibration_loss)
            Pc = apply_temperature(Pfull, T)
            row.update(temperature=T, ece_calibrated=expected_calibration_error(Pc, y[test], classes),
                       brier_calibrated=brier_score(Pc, y[test], classes))
        row['seconds'] = time.time() - t0
        rows.append(row)
    return rows


def summarise(df:pd.DataFrame)->pd.DataFrame:
    "Mean and std over seeds per method and fraction."
    agg = {'mcc': ['mean', 'std'], 'macro_f1': ['mean', 'std'], 'ece': 'mean', 'brier': 'mean', 'seconds': 'mean'}
    for c in ('ece_calibrated', 'brier_calibrated', 'temperature'):
        if c in df: agg[c] = 'mean'
    for c in df.columns:
        if c.startswith('recall_'): agg[c] = 'mean'
    s = df.groupby(['method', 'fraction'], sort=False).agg(agg)
    s.columns = [f'{a}_{b}' for a, b in s.columns]
    return s.reset_index()


def table(summary:pd.DataFrame, metric:str='mcc')->str:
    "Markdown table: one row per method, 'mean ± std' per fraction."
    fr = sorted(summary['fraction'].unique())
    lines = ["| method | " + ' | '.join(f'f = {f:.2f}' for f in fr) + ' |', '|---|' + '---|' * len(fr)]
    for m, g in summary.groupby('method', sort=False):
        g = g.set_index('fraction')
        lines.append(f"| {m} | " + ' | '.join(f"{g.loc[f, metric + '_mean']:.3f} ± {g.loc[f, metric + '_std']:.3f}" for f in fr) + ' |')
    return '\n'.join(lines)


def parse_seeds(s:str)->list[int]:
    out = []
    for part in s.split(','):
        a, _, b = part.partition('-')
        out += list(range(int(a), int(b) + 1)) if b else [int(a)]
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seeds', default='0-19', help="e.g. '0-19' (reported) or '100-119' (tuning)")
    p.add_argument('--fractions', default='0.05,0.10,0.20')
    p.add_argument('--methods', default=None, help='comma-separated subset of the methods (default: all)')
    p.add_argument('--ablations', action='store_true', help='also run the ablations used to choose the defaults')
    p.add_argument('--calibration-loss', default='brier', choices=('brier', 'nll', 'none'),
                   help="what the temperature minimises on the validation predictions (brier: robust with few stars; none: skip calibration)")
    p.add_argument('--n-jobs', type=int, default=2)
    p.add_argument('--out', type=Path, default=None, help='JSON output (default benchmarks/results/asas_transfer.json for seeds 0-19)')
    args = p.parse_args(argv)
    seeds, fractions = parse_seeds(args.seeds), [float(f) for f in args.fractions.split(',')]
    known = {**METHODS, **ABLATIONS}
    methods = (list(METHODS) + (list(ABLATIONS) if args.ablations else [])) if args.methods is None else [m.strip() for m in args.methods.split(',')]
    unknown = [m for m in methods if m not in known]
    if unknown: p.error(f"unknown method(s) {unknown}; known: {list(known)}")
    out = args.out or (RESULTS/'asas_transfer.json' if args.seeds == '0-19' else Path('/tmp')/f'asas_transfer_{args.seeds}.json')
    t0 = time.time()
    _init(args.n_jobs)   # caches features and the EROS-1 model before the workers start
    jobs = [(f, s, methods, args.calibration_loss) for f in fractions for s in seeds]
    if args.n_jobs > 1:
        with ProcessPoolExecutor(args.n_jobs, mp_context=get_context('spawn'), initializer=_init, initargs=(1,)) as pool:
            results = list(pool.map(run_split, jobs))
    else: results = [run_split(j) for j in jobs]
    df = pd.DataFrame([r for rows in results for r in rows])
    summary = summarise(df)
    command = 'python benchmarks/asas_transfer.py ' + ' '.join(sys.argv[1:] if argv is None else argv)
    res = {'command': command.strip(), 'seeds': seeds, 'fractions': fractions, 'n_stars': int(len(_STATE['y'])),
           'methods': {m: known[m] for m in methods}, 'fit_transfer': {**FIT, 'lr_max': 'slice(1e-4, 1e-3)'},
           'calibration': f'temperature minimising the {args.calibration_loss} of 5-fold out-of-fold predictions on the training part',
           'wall_seconds': time.time() - t0, 'summary': summary.to_dict('records'), 'runs': df.to_dict('records')}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1, default=float))
    print(f"ASAS-6 ({res['n_stars']} stars), seeds {args.seeds}, {time.time() - t0:.0f} s; written {out}\n")
    print('MCC (mean ± std over seeds)\n' + table(summary, 'mcc') + '\n')
    print('macro-F1\n' + table(summary, 'macro_f1') + '\n')
    cal = summary[summary['method'].isin(CALIBRATED)]
    if 'ece_calibrated_mean' in cal and len(cal):
        print(f'calibration on the test part (T minimising the {args.calibration_loss} of out-of-fold validation predictions)')
        print(cal[['method', 'fraction', 'ece_mean', 'ece_calibrated_mean', 'brier_mean', 'brier_calibrated_mean',
                   'temperature_mean']].round(3).to_string(index=False))
    rec = [c for c in summary.columns if c.startswith('recall_')]
    print('\nper-class recall (mean over seeds)')
    print(summary[['method', 'fraction'] + rec].round(2).to_string(index=False))


if __name__ == '__main__': main()

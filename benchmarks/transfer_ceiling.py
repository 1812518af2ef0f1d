#!/usr/bin/env python
"""How far more labels carry the recommended model on one target: its learning curve, against the issue-14 goals.

    python benchmarks/transfer_ceiling.py                          # ASAS-6, tuning seeds 100-109, f in {0.05, 0.2, 0.5, 0.8}
    python benchmarks/transfer_ceiling.py --quick --out /tmp/c.json   # one small split (the test)

Per split (`benchmark_split`, the protocol of `benchmarks/transfer.py`) the eleven candidates of the stack are fitted on
the labelled stars (transfer and prior-matched zero-shot classifier of each of the five sources, the random forest) and
their equal-weight mean is scored on the rest: within 0.006 MCC of the CLI's stacked default on every target and fraction
of the committed test run. Beside it, the best single candidate (chosen on the test part, an upper bound) and, as a
ceiling of the 16 features alone, a random forest cross-validated on all labelled stars (5 and 10 folds).
"""
import argparse
import json
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from transfer import _STATE, FIT, _data, parse_seeds, run_splits  # noqa: E402  (the workers load the sources as the transfer benchmark does)
from transfer_targets import CACHE, load_target  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1]/'benchmarks'/'results'


def run_split(job)->list[dict]:
    "MCC on the test part of the equal-weight mean of the candidates, and of each candidate, on one split."
    target, fraction, seed = job
    from sklearn.metrics import matthews_corrcoef
    from vartransfer.datasets import benchmark_split
    from vartransfer.stack import stack_candidates
    feats, y = _data(target)
    train, test = map(pd.Index, benchmark_split(y, fraction, seed))
    classes = sorted(y.unique())
    quick = _STATE['quick']
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='Your generator is empty')
        cands = stack_candidates(_STATE['sources'], feats, y[train], unlabelled=feats, classes=classes, seed=seed,
                                 fit_kwargs=dict(head_epochs=3, epochs=1) if quick else FIT,
                                 forest_kwargs=dict(n_estimators=50 if quick else 500))
        probs = {}
        for name, make in cands.items():
            m = make(train)
            probs[name] = m.predict_proba(feats.loc[test])[:, [list(m.classes).index(c) for c in classes]]
    truth = y.loc[test].to_numpy()
    mcc = lambda P: float(matthews_corrcoef(truth, np.asarray(classes, dtype=object)[P.argmax(1)]))
    rows = [{'member': n, 'mcc': mcc(P)} for n, P in probs.items()] + [{'member': 'equal-weight ensemble', 'mcc': mcc(np.mean(list(probs.values()), 0))}]
    return [{'target': target, 'fraction': fraction, 'seed': seed, 'n_labelled': len(train), **r} for r in rows]


def forest_cv(target:str, folds:int, quick:bool, cache:Path=CACHE)->float:
    "MCC of a random forest (500 trees) on the 16 features, cross-validated over all labelled stars of `target`."
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import matthews_corrcoef
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from vartransfer.features import FEATURE_NAMES
    feats, y = load_target(target, cache=cache, n_per_class=4 if quick else None)
    folds = min(folds, int(y.value_counts().min()))
    pred = cross_val_predict(RandomForestClassifier(50 if quick else 500, random_state=0, n_jobs=1),
                             feats[list(FEATURE_NAMES)].to_numpy(np.float64), y.to_numpy(),
                             cv=StratifiedKFold(folds, shuffle=True, random_state=0))
    return float(matthews_corrcoef(y.to_numpy(), pred))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--target', default='asas6')
    p.add_argument('--seeds', default='100-109', help='tuning seeds')
    p.add_argument('--fractions', default='0.05,0.2,0.5,0.8')
    p.add_argument('--quick', action='store_true', help='one small split of one simulated target, genesis only (the test)')
    p.add_argument('--n-jobs', type=int, default=2)
    p.add_argument('--cache', type=Path, default=CACHE)
    p.add_argument('--out', type=Path, default=RESULTS/'transfer_ceiling_tuning.json')
    args = p.parse_args(argv)
    target, seeds, fractions = (('sim_hipparcos', [100], [0.5]) if args.quick else
                                (args.target, parse_seeds(args.seeds), [float(f) for f in args.fractions.split(',')]))
    load_target(target, cache=args.cache, n_per_class=4 if args.quick else None)   # fill the cache first
    jobs = [(target, f, s) for s in seeds for f in fractions]
    command = shlex.join(['python', 'benchmarks/transfer_ceiling.py', *(sys.argv[1:] if argv is None else map(str, argv))])
    t0, rows = time.time(), []
    for _, r in run_splits(run_split, jobs, args.n_jobs, (args.cache, args.quick)): rows += r
    df = pd.DataFrame(rows).sort_values(['fraction', 'seed', 'member'])
    g = df.groupby(['fraction', 'member'])['mcc']
    curve = pd.DataFrame({'mean': g.mean(), 'se': g.std(ddof=1) / np.sqrt(g.count()), 'splits': g.count()}).reset_index()
    members = curve[curve.member != 'equal-weight ensemble']
    best = members.loc[members.groupby('fraction')['mean'].idxmax()].assign(member=lambda d: 'best member: ' + d.member)
    summary = pd.concat([curve[curve.member == 'equal-weight ensemble'], best]).sort_values(['fraction', 'member'])
    cv = {f'forest, {k}-fold CV on all stars': forest_cv(target, k, args.quick, args.cache) for k in (5, 10)}
    out = {'command': command, 'quick': args.quick, 'target': target, 'seeds': seeds, 'fractions': fractions, 'fit_transfer': FIT,
           'wall_seconds': time.time() - t0, 'forest_cross_validated': cv, 'summary': summary.to_dict('records'),
           'runs': df.to_dict('records')}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, default=float))
    pd.set_option('display.width', 200)
    print(f'{target}: {len(jobs)} splits, {time.time() - t0:.0f} s; written {args.out}\n')
    print(summary.round(4).to_string(index=False))
    print('\n' + '\n'.join(f'{k}: MCC {v:.4f}' for k, v in cv.items()))
    return out


if __name__ == '__main__': main()

#!/usr/bin/env python
"""Ideas for a better recommended model, each against the equal-weight ensemble of the same candidates on the same
tuning splits of every target (issue 14: ASAS-6 short of 0.87 / 0.90).

    python benchmarks/transfer_ideas.py                          # tuning seeds 100-104, f = 0.05 and 0.20, all targets
    python benchmarks/transfer_ideas.py --quick --out /tmp/i.json   # one small split (the test)

Per split (`benchmark_split`, the protocol of `benchmarks/transfer.py`) the eleven candidates of the stack are fitted on
the labelled stars: the transfer and the prior-matched zero-shot classifier of each of the five sources, and the random
forest. Their equal-weight mean is the baseline: the CLI's stacked default (32 pseudo-stars spread evenly) is within
0.006 MCC of it on every target and fraction of the committed test run (transfer.json), and costs six times as much. Each idea replaces or adds members, or post-processes the mixture:

- 'seed bagging': each transfer is the mean of three fits with different seeds;
- 'linear probe': a logistic regression (C = 0.1) on each source network's embedding, added as five members;
- 'AdaBN input' / 'AdaBN all': the sources' batch-norm statistics (the input one, or all) re-estimated on the target
  stars before transfer and zero-shot prediction (Li et al. 2016);
- 'self-trained forest': a forest on the labelled stars and the unlabelled ones pseudo-labelled by the ensemble
  (confidence >= 0.5, weighted by it), mixed half and half with the ensemble;
- 'prior-matched mixture': the mixture's class proportions over the target matched to the labelled sample's (`match_prior`);
- 'forest with extras': the forest on the 16 features and cusum, eta, period_SNR, period_log10FAP and weighted_std,
  with balanced class weights, in place of the forest.
Every figure is a paired MCC difference against the baseline on the same split (test part).
"""
import argparse
import copy
import json
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from transfer import _STATE, FIT, parse_seeds, run_splits  # noqa: E402  (the workers load the sources as the transfer benchmark does)
from transfer_targets import CACHE, TARGETS, load_target  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1]/'benchmarks'/'results'
EXTRA = ['cusum', 'eta', 'period_SNR', 'period_log10FAP', 'weighted_std']
IDEAS = ['seed bagging', 'linear probe', 'AdaBN input', 'AdaBN all', 'self-trained forest', 'prior-matched mixture',
         'forest with extras']


def adabn(source, table:pd.DataFrame, which:str):
    "A copy of `source` whose batch norms ('input': the first; 'all': all but the output one) carry the statistics of `table`."
    import torch
    s = copy.deepcopy(source)
    net, k = s.net, s.net.n_linear
    bns = [m for n, m in net.named_modules() if isinstance(m, torch.nn.BatchNorm1d) and (n == 'bn1' or (which == 'all' and n != f'bn{k + 1}'))]
    net.eval()
    for m in bns: m.reset_running_stats(); m.momentum = None; m.train()
    with torch.no_grad(): net(torch.from_numpy(s.transform(table)))
    for m in bns: m.momentum = 0.1
    net.eval()
    return s


def _proba(m, X, classes):
    return m.predict_proba(X)[:, [list(m.classes).index(c) for c in classes]]


def _forest(X, y, train, classes, seed, n, **kw):
    from sklearn.ensemble import RandomForestClassifier
    rf = RandomForestClassifier(n, random_state=seed, n_jobs=1, **kw).fit(X[train], y[train])
    p = np.zeros((len(X), len(classes)))
    p[:, [list(classes).index(c) for c in rf.classes_]] = rf.predict_proba(X)
    return p


def run_split(job)->dict:
    "The baseline and every idea on one split: MCC on the test part."
    target, fraction, seed = job
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import matthews_corrcoef
    from sklearn.preprocessing import StandardScaler
    from vartransfer.datasets import benchmark_split
    from vartransfer.features import FEATURE_NAMES
    from vartransfer.stack import stack_candidates
    from vartransfer.transfer import match_prior
    t0, quick = time.time(), _STATE['quick']
    if target not in _STATE['data']: _STATE['data'][target] = load_target(target, cache=_STATE['cache'], n_per_class=4 if quick else None)
    feats, y = _STATE['data'][target]
    train, test = map(pd.Index, benchmark_split(y, fraction, seed))
    classes = sorted(y.unique())
    fit = dict(head_epochs=3, epochs=1) if quick else FIT
    n_trees = 50 if quick else 500
    srcs = _STATE['sources']
    tr, te = feats.index.isin(train), feats.index.isin(test)
    yall = y.loc[feats.index].to_numpy(dtype=object)
    def members(sources, seed_, zero_shot=True, forest=True):
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='Your generator is empty')
            c = stack_candidates(sources, feats, y[train], unlabelled=feats, classes=classes, seed=seed_, fit_kwargs=fit,
                                 zero_shot=zero_shot, forest=forest, forest_kwargs=dict(n_estimators=n_trees))
            return {n: _proba(mk(train), feats, classes) for n, mk in c.items()}
    M = members(srcs, seed)
    trans = [n for n in M if n.startswith('transfer ')]
    rest = [n for n in M if not n.startswith('transfer ')]
    base = np.mean(list(M.values()), 0)
    rows = {'equal-weight ensemble': base}
    bags = [members(srcs, seed + 1000 * k, zero_shot=False, forest=False) for k in (1, 2)]
    rows['seed bagging'] = np.mean([(M[n] + bags[0][n] + bags[1][n]) / 3 for n in trans] + [M[n] for n in rest], 0)
    probes = []
    for s in srcs.values():
        with torch.no_grad(): E = s.net.eval().embed(torch.from_numpy(s.transform(feats))).numpy().astype(np.float64)
        Z = StandardScaler().fit_transform(E)
        lr = LogisticRegression(C=0.1, max_iter=2000).fit(Z[tr], yall[tr])
        p = np.zeros((len(Z), len(classes))); p[:, [classes.index(c) for c in lr.classes_]] = lr.predict_proba(Z)
        probes.append(p)
    rows['linear probe'] = np.mean(list(M.values()) + probes, 0)
    for which in ('input', 'all'):
        A = members({n: adabn(s, feats, which) for n, s in srcs.items()}, seed, forest=False)
        rows[f'AdaBN {which}'] = np.mean(list(A.values()) + [M['forest']], 0)
    X16 = feats[list(FEATURE_NAMES)].to_numpy(np.float64)
    conf, pseudo = base.max(1), np.asarray(classes, dtype=object)[base.argmax(1)]
    use = tr | (conf >= 0.5)
    from sklearn.ensemble import RandomForestClassifier
    st = RandomForestClassifier(n_trees, random_state=seed, n_jobs=1).fit(X16[use], np.where(tr, yall, pseudo)[use],
                                                                         sample_weight=np.where(tr, 1., conf)[use])
    p = np.zeros_like(base); p[:, [classes.index(c) for c in st.classes_]] = st.predict_proba(X16)
    rows['self-trained forest'] = 0.5 * base + 0.5 * p
    prior = y[train].value_counts(normalize=True).reindex(classes, fill_value=0).to_numpy()
    z = np.log(np.clip(base, 1e-300, None)) + match_prior(base, prior)
    z = np.exp(z - z.max(1, keepdims=True)); rows['prior-matched mixture'] = z / z.sum(1, keepdims=True)
    Xx = np.nan_to_num(feats[list(FEATURE_NAMES) + EXTRA].to_numpy(np.float64), nan=0., posinf=0., neginf=0.)
    rows['forest with extras'] = np.mean([M[n] for n in M if n != 'forest'] + [_forest(Xx, yall, tr, classes, seed, n_trees, class_weight='balanced_subsample')], 0)
    truth = yall[te]
    out = [{'target': target, 'fraction': fraction, 'seed': seed, 'method': k,
            'mcc': float(matthews_corrcoef(truth, np.asarray(classes, dtype=object)[P[te].argmax(1)]))} for k, P in rows.items()]
    return {'rows': out, 'seconds': time.time() - t0}


def paired(df:pd.DataFrame)->tuple[pd.DataFrame, list[dict]]:
    "Each idea's MCC minus the baseline's on the same split: per target and fraction (mean, s.e., share better), and over all splits."
    piv = df.pivot_table(index=['target', 'fraction', 'seed'], columns='method', values='mcc')
    diffs = piv.drop(columns='equal-weight ensemble').sub(piv['equal-weight ensemble'], axis=0)
    stats = lambda d: pd.Series({'diff_mean': d.mean(), 'diff_se': d.std() / np.sqrt(d.count()), 'better': float((d > 0).mean()),
                                 'splits': d.count()})
    per = pd.concat([diffs[idea].groupby(level=['target', 'fraction']).apply(stats).unstack().assign(idea=idea) for idea in diffs])
    per = per.reset_index()[['target', 'fraction', 'idea', 'diff_mean', 'diff_se', 'better', 'splits']]
    return per, [{'idea': idea, **{k: float(v) for k, v in stats(diffs[idea]).drop('splits').items()}} for idea in diffs]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--targets', default=','.join(TARGETS))
    p.add_argument('--seeds', default='100-104', help='tuning seeds')
    p.add_argument('--fractions', default='0.05,0.20')
    p.add_argument('--quick', action='store_true', help='one small split of one simulated target, genesis only (the test)')
    p.add_argument('--n-jobs', type=int, default=2)
    p.add_argument('--cache', type=Path, default=CACHE)
    p.add_argument('--out', type=Path, default=RESULTS/'transfer_ideas_tuning.json')
    args = p.parse_args(argv)
    targets, seeds, fractions = ((['sim_hipparcos'], [100], [0.2]) if args.quick else
                                 (args.targets.split(','), parse_seeds(args.seeds), [float(f) for f in args.fractions.split(',')]))
    for t in targets: load_target(t, cache=args.cache, n_per_class=4 if args.quick else None)   # fill the cache first
    jobs = [(t, f, s) for s in seeds for f in fractions for t in targets]
    command = shlex.join(['python', 'benchmarks/transfer_ideas.py', *(sys.argv[1:] if argv is None else map(str, argv))])
    t0, results = time.time(), []
    for j, r in run_splits(run_split, jobs, args.n_jobs, (args.cache, args.quick)):
        results.append(r)
        print(f'done {j} ({len(results)}/{len(jobs)}, {time.time() - t0:.0f} s)', flush=True)
    df = pd.DataFrame([r for res in results for r in res['rows']]).sort_values(['target', 'fraction', 'seed', 'method'])
    diff, allsplits = paired(df)
    overall = diff.groupby(['fraction', 'idea'])['diff_mean'].agg(['mean', 'min', 'max']).reset_index()
    out = {'command': command, 'quick': args.quick, 'targets': targets, 'seeds': seeds, 'fractions': fractions, 'ideas': IDEAS,
           'fit_transfer': FIT, 'extra_features': EXTRA, 'splits': len(jobs), 'wall_seconds': time.time() - t0,
           'vs_baseline_all_splits': allsplits, 'vs_baseline_over_targets': overall.to_dict('records'),
           'vs_baseline': diff.to_dict('records'), 'runs': df.to_dict('records')}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, default=float))
    pd.set_option('display.width', 200)
    print(f'{len(jobs)} splits, {time.time() - t0:.0f} s; written {args.out}\n')
    print('MCC (mean over seeds)\n' + df.pivot_table(index='method', columns=['target', 'fraction'], values='mcc').round(3).to_string())
    print('\nall splits: idea minus the equal-weight ensemble (paired)\n' + pd.DataFrame(allsplits).round(4).to_string(index=False))
    print('\nover the targets (mean, worst and best target)\n' + overall.round(4).to_string(index=False))
    return out


if __name__ == '__main__': main()

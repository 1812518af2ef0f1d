#!/usr/bin/env python
"""Options of the transfer, each against none on the same tuning splits of every target: light-curve augmentation of the
labelled stars, Sinkhorn domain adaptation.

    python benchmarks/transfer_options.py                         # tuning seeds 100-104, f = 0.05 and 0.20, members
    python benchmarks/transfer_options.py --stacked 'augment forest,augment forest 8'   # and the stacked default with these
    python benchmarks/transfer_options.py --quick --stacked all --out /tmp/a.json   # one small split (the test)

Options (`OPTIONS`):
- augmentation: for every target of `benchmarks/transfer_targets.py` the light curves of all its stars get `COPIES`
  augmented realisations (`vartransfer.augment.augmented_features`: magnitudes redrawn within their errors, 70-100% of
  the points kept, one season dropped half the time), features cached. With 'augment all' and 'augment rare' the
  transfers and the forest train with the copies `copies_per_star` chooses ('all': 4 per star; 'rare': small classes
  filled up, at most 8 per star); with 'augment forest' and 'augment forest 8' the forest alone, 4 or 8 per star.
- 'fit ...': the transfers fine-tune otherwise (`Learner.fit_transfer`: more or fewer epochs per stage, a longer head
  stage, three times the peak rates, all layers unfrozen at once; batches of 16 instead of 32; the feature transform
  refitted on the labelled stars).
- 'sinkhorn': the transfers align the unlabelled target stars with a simulated sample of the sources' domain
  (`vartransfer.pretrained.source_sample(10)`, 630 OGLE-III and EROS-2 curves) by `SinkhornAlign` (weight 1).
On each split (`benchmark_split`, the protocol of `benchmarks/transfer.py`) the transfers from genesis and from the
shipped simulated source and the random forest are trained with each option (only those it changes) and scored on the
test part; with `--stacked`, the CLI's stacked model (five sources, library defaults) too, with 'none' and the options
named, reusing from 'none' the candidates an option does not change. Every figure is a paired difference against 'none'
on the same split.
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
from transfer import FIT, parse_seeds, run_splits  # noqa: E402
from transfer_targets import CACHE, TARGETS, load_target, load_target_lightcurves  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1]/'benchmarks'/'results'
COPIES, AUG_SEED, SOURCE_SAMPLE = 8, 0, 10
BOTH = ('forest', 'transfer')
OPTIONS = {'none': {}, 'augment all': dict(augment='all', copies=4, augment_members=BOTH),
           'augment rare': dict(augment='rare', copies=8, augment_members=BOTH),
           'augment forest': dict(augment='all', copies=4, augment_members=('forest',)),
           'augment forest 8': dict(augment='all', copies=8, augment_members=('forest',)),
           'sinkhorn': dict(adapt_weight=1.),
           # the fine-tuning schedule (`Learner.fit_transfer`), each a change of FIT: epochs per stage, peak rates
           'fit 5 epochs': dict(fit=dict(epochs=5)), 'fit 20 epochs': dict(fit=dict(epochs=20)),
           'fit 20 head epochs': dict(fit=dict(head_epochs=20)), 'fit rates x3': dict(fit=dict(lr_head=3e-2, lr_max=slice(3e-4, 3e-3))),
           'fit at once': dict(fit=dict(gradual=False)), 'fit batch 16': dict(bs=16), 'fit refit transform': dict(refit_transform=True)}
TRANSFER_OPTIONS = {'adapt_weight', 'fit', 'bs', 'refit_transform'}   # options of the transfers alone


def refits(option:str)->set:
    "The kinds of candidate an option trains differently from 'none'."
    kw = OPTIONS[option]
    return {'transfer'} if TRANSFER_OPTIONS & set(kw) else set(kw.get('augment_members', ()))
_STATE = {}


def augmented(target:str, cache:Path, quick:bool, n_jobs:int=1)->pd.DataFrame:
    "Features of COPIES augmented realisations of every star of `target` (cached)."
    path = cache/f'{target}_augmented_{COPIES}_{AUG_SEED}{"_quick" if quick else ""}.parquet'
    if path.exists(): return pd.read_parquet(path)
    from vartransfer.augment import augmented_features
    lcs = load_target_lightcurves(target, cache=cache, n_per_class=4 if quick else None)
    feats = augmented_features(lcs, copies=2 if quick else COPIES, seed=AUG_SEED, n_jobs=n_jobs)
    path.parent.mkdir(parents=True, exist_ok=True); feats.to_parquet(path)
    return feats


def _init(cache, quick, options):
    import torch
    torch.set_num_threads(1)
    warnings.simplefilter('ignore', FutureWarning)
    from vartransfer.pretrained import simulated_sources, source_sample, upsilont_genesis
    srcs = {'genesis': upsilont_genesis()}
    if not quick: srcs['sim'] = simulated_sources()[0]
    sample = source_sample(n_per_class=2 if quick else SOURCE_SAMPLE) if 'sinkhorn' in options else None
    _STATE.update(sources=srcs, cache=cache, quick=quick, data={}, options=options, source_sample=sample)


def run_split(job):
    "Members (and the stacked model) with each option on one split; MCC and recall per class."
    target, fraction, seed, stacked = job
    from vartransfer.datasets import benchmark_split
    from vartransfer.evaluate import scores
    from vartransfer.pretrained import simulated_sources
    from vartransfer.stack import stack, stack_candidates
    quick, options, t0 = _STATE['quick'], _STATE['options'], time.time()
    if target not in _STATE['data']:
        aug = augmented(target, _STATE['cache'], quick) if any(o.startswith('augment') for o in options) else None
        _STATE['data'][target] = (*load_target(target, cache=_STATE['cache'], n_per_class=4 if quick else None), aug)
    feats, y, aug = _STATE['data'][target]
    train, test = map(pd.Index, benchmark_split(y, fraction, seed))
    classes = sorted(y.unique())
    fit = dict(head_epochs=3, epochs=1) if quick else FIT
    forest_kwargs = dict(n_estimators=50) if quick else None
    rows, memo = [], {}
    stack_sources = (_STATE['sources'] if quick else {'genesis': _STATE['sources']['genesis'],
                     **{('sim' if i == 0 else f'sim{i}'): s for i, s in enumerate(simulated_sources())}}) if stacked else None
    def score(method, option, m):
        P = m.predict_proba(feats.loc[test])[:, [list(m.classes).index(c) for c in classes]]
        pred = np.asarray(classes, dtype=object)[P.argmax(1)]
        truth = y[test].to_numpy()
        rows.append({'target': target, 'fraction': fraction, 'seed': seed, 'method': method, 'option': option,
                     'n_train': len(train), **scores(y[test], pred),
                     **{f'recall_{c}': float((pred[truth == c] == c).mean()) if (truth == c).any() else float('nan') for c in classes}})
    for option in options:
        kw = dict(OPTIONS[option])
        fit_option = {**fit, **kw.pop('fit', {})}
        if option.startswith('augment'): kw.update(augmented=aug, **({'copies': 2} if quick else {}))
        if option == 'sinkhorn': kw['adapt'] = _STATE['source_sample']
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='Your generator is empty')
            changed = refits(option) if option != 'none' else {'transfer', 'forest'}
            cands = stack_candidates(_STATE['sources'] if 'transfer' in changed else {}, feats, y[train], unlabelled=feats, classes=classes,
                                     seed=seed, zero_shot=False, forest='forest' in changed, fit_kwargs=fit_option, forest_kwargs=forest_kwargs, **kw)
            for name, make in cands.items(): score(name, option, make(train))
            if option in stacked:   # the CLI's default stack; candidates this option does not change are reused from 'none'
                cands = stack_candidates(stack_sources, feats, y[train], unlabelled=feats, classes=classes, seed=seed,
                                         fit_kwargs=fit_option, forest_kwargs=forest_kwargs, **kw)
                kinds = {n: 'forest' if n == 'forest' else n.split()[0] for n in cands}
                cache = memo if option == 'none' else {k: v for k, v in memo.items() if kinds[k[0]] not in refits(option)}
                score('stacked', option, stack(cands, feats, y[train], classes, seed=seed, cache=cache, **({'folds': 3} if quick else {})))
    return {'rows': rows, 'seconds': time.time() - t0}


def paired(df:pd.DataFrame)->pd.DataFrame:
    "Per target, fraction and method: each option's MCC minus that of 'none' on the same splits (mean, s.e., share of splits better)."
    piv = df.pivot_table(index=['target', 'fraction', 'method', 'seed'], columns='option', values='mcc')
    out = []
    for opt in [o for o in piv.columns if o != 'none']:
        d = (piv[opt] - piv['none']).dropna().groupby(level=['target', 'fraction', 'method'])
        out.append(pd.DataFrame({'option': opt, 'diff_mean': d.mean(), 'diff_se': d.std() / np.sqrt(d.count()),
                                 'better': d.apply(lambda s: float((s > 0).mean())), 'splits': d.count()}))
    return pd.concat(out).reset_index()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--targets', default=','.join(TARGETS))
    p.add_argument('--seeds', default='100-104', help='tuning seeds')
    p.add_argument('--fractions', default='0.05,0.20')
    p.add_argument('--options', default=','.join(o for o in OPTIONS if not o.startswith('fit ')),
                   help=f"from {list(OPTIONS)}; 'none' is always run (default: all but the 'fit' ones)")
    p.add_argument('--stacked', default='', help="options (comma-separated) with which the stacked default (five sources) is scored too, "
                                                 "besides 'none'; 'all': every option")
    p.add_argument('--quick', action='store_true', help='one small split of one simulated target (the test)')
    p.add_argument('--n-jobs', type=int, default=2)
    p.add_argument('--cache', type=Path, default=CACHE)
    p.add_argument('--out', type=Path, default=RESULTS/'transfer_options_tuning.json')
    args = p.parse_args(argv)
    options = ['none', *[o for o in args.options.split(',') if o != 'none']]
    unknown = [o for o in options if o not in OPTIONS]
    if unknown: p.error(f"unknown option(s) {unknown}; known {list(OPTIONS)}")
    targets, seeds, fractions = ((['sim_hipparcos'], [100], [0.2]) if args.quick else
                                 (args.targets.split(','), parse_seeds(args.seeds), [float(f) for f in args.fractions.split(',')]))
    t0 = time.time()
    if any(o.startswith('augment') for o in options):
        for t in targets:
            augmented(t, args.cache, args.quick, n_jobs=args.n_jobs)
            print(f'{t}: augmented features ready ({time.time() - t0:.0f} s)', flush=True)
    if 'sinkhorn' in options:
        from vartransfer.pretrained import source_sample
        source_sample(n_per_class=2 if args.quick else SOURCE_SAMPLE, n_jobs=args.n_jobs)   # simulate once, cached
    stacked = [] if not args.stacked else ['none', *[o for o in (options if args.stacked == 'all' else args.stacked.split(',')) if o != 'none']]
    if set(stacked) - set(options): p.error(f"--stacked {sorted(set(stacked) - set(options))}: not among --options")
    jobs = [(t, f, s, stacked) for s in seeds for f in fractions for t in targets]
    command = shlex.join(['python', 'benchmarks/transfer_options.py', *(sys.argv[1:] if argv is None else map(str, argv))])
    results = []
    def write(final:bool)->dict:
        "The JSON of the splits done so far (after every split: an interrupted run keeps them, 'complete' false)."
        df = pd.DataFrame([r for res in results for r in res['rows']]).sort_values(['target', 'fraction', 'seed', 'method', 'option'])
        diff = paired(df)
        overall = diff.groupby(['fraction', 'method', 'option'])['diff_mean'].agg(['mean', 'min', 'max']).reset_index()
        recall = df.groupby(['target', 'fraction', 'method', 'option'])[[c for c in df if c.startswith('recall_')]].mean().reset_index()
        out = {'command': command, 'quick': args.quick, 'complete': final, 'splits_done': len(results), 'splits': len(jobs),
               'targets': targets, 'seeds': seeds, 'fractions': fractions, 'options': {o: OPTIONS[o] for o in options},
               'copies': COPIES, 'augment_seed': AUG_SEED, 'source_sample_per_class': SOURCE_SAMPLE, 'fit_transfer': FIT,
               'wall_seconds': time.time() - t0, 'vs_none': diff.to_dict('records'), 'vs_none_over_targets': overall.to_dict('records'),
               'recall': recall.to_dict('records'), 'runs': df.to_dict('records')}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1, default=lambda v: repr(v) if isinstance(v, slice) else float(v)))
        return {**out, '_tables': (df, diff, overall)}
    for j, r in run_splits(run_split, jobs, args.n_jobs, (args.cache, args.quick, options), init=_init):
        results.append(r); write(False)
        print(f'done {j[:3]} ({len(results)}/{len(jobs)}, {time.time() - t0:.0f} s)', flush=True)
    out = write(True)
    df, diff, overall = out.pop('_tables')
    pd.set_option('display.width', 200)
    print(f'{len(jobs)} splits, {time.time() - t0:.0f} s; written {args.out}\n')
    print('MCC (mean over seeds)\n' + df.pivot_table(index=['method', 'option'], columns=['target', 'fraction'], values='mcc').round(3).to_string())
    print('\nvs none (paired MCC difference)\n' + diff.round(3).to_string(index=False))
    print('\nover the targets (mean, worst and best target)\n' + overall.round(3).to_string(index=False))
    return out


if __name__ == '__main__': main()

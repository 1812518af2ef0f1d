#!/usr/bin/env python
"""Train the vartransfer simulated source models shipped in `vartransfer/models/`.

`VarNet`s (the UPSILoN-T shape, 16 -> 64 -> 128 -> 256 -> 21) trained on simulated OGLE-III (I band)
and EROS-2 (B_E and R_E bands, each curve a sample) light curves of all 21 UPSILoN-T classes, with
vartransfer's own feature transform fitted on the simulated training features. One model per
training seed (default 0-3: the same simulated curves, a different initialisation, batch order and
held-out part): seed 0 is `simulated_source()`, all four are `simulated_sources()`, which
`transfer_ensemble` uses as four sources.

    python benchmarks/train_sim_source.py                               # simulate, extract, train seeds 0-3, save, report
    python benchmarks/train_sim_source.py --n-per-class 40 --seeds 0    # a quick smoke run (writes to /tmp)

Writes the models (`vartransfer/models/sim_ogle3_eros2{,_seed1,_seed2,_seed3}.{safetensors,json}`) and the validation
report (`benchmarks/results/sim_source_report.{json,md}`): scores on held-out simulated stars
(20%, stratified) and, as a check on real data, zero-shot scores on the ASAS-6 stars through the
taxonomy and the prediction for the EROS-2 star lm0134l19756. Simulated features are cached in
the vartransfer data home (`vartransfer.datasets.data_home()/sim_source/`), so reruns are quick.
Same command, same numbers.
"""
import argparse
import sys
import json
import time
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
MODEL_NAME = 'sim_ogle3_eros2'
SURVEYS = (('OGLE-III', 0, ('I',)), ('EROS-2', 1, ('B_E', 'R_E')))   # survey, simulation seed, bands used


def simulated_features(n_per_class:int, n_jobs:int)->tuple[pd.DataFrame, pd.Series]:
    "Features and UPSILoN-T classes of the simulated training curves (cached)."
    from vartransfer.datasets import data_home
    from vartransfer.batch import extract_features_batch
    from vartransfer.simulate import simulate
    cache = data_home()/'sim_source'/f'features-n{n_per_class}.parquet'
    if cache.exists():
        table = pd.read_parquet(cache)
        return table.drop(columns='target'), table['target']
    frames = []
    for survey, seed, bands in SURVEYS:
        lcs, labels = simulate(survey, n_per_class=n_per_class, seed=seed, n_jobs=n_jobs, progress=False)
        for band in bands:
            f = extract_features_batch(lcs.select_band(band), n_jobs=n_jobs, progress=False)
            f = f.assign(target=labels.loc[f.index, 'upsilont_class'].to_numpy(), survey=survey)
            f.index = f.index + ':' + band
            frames.append(f)
    table = pd.concat(frames)
    failed = table['error'].notna()
    print(f"simulated: {len(table)} curves, {failed.sum()} without features (left out: {table.loc[failed, 'error'].value_counts().head(3).to_dict()})")
    table = table[~failed]
    cache.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(cache)
    return table.drop(columns='target'), table['target']


def model_name(seed:int)->str:
    "Shipped name of the model trained with `seed`: seed 0 is the default `simulated_source()`."
    return MODEL_NAME if seed == 0 else f'{MODEL_NAME}_seed{seed}'


def train_one(table, target, seed:int, args)->tuple[dict, pd.DataFrame]:
    "Train, save and check the model of one seed; its report and per-class table."
    from fastai.torch_core import set_seed
    from vartransfer import __version__
    from vartransfer.evaluate import class_report, scores
    from vartransfer.features import FEATURE_NAMES
    from vartransfer.learner import feature_dls, source_learner
    from vartransfer.taxonomy import UPSILONT_CLASSES
    set_seed(seed, reproducible=True)
    dls = feature_dls(table[FEATURE_NAMES], target, classes=list(UPSILONT_CLASSES), valid_pct=0.2, seed=seed, bs=256)
    valid = dls.valid_ids
    learn = source_learner(dls, dropout=0.1, seed=seed)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(args.epochs, args.lr)
    name = model_name(seed)
    meta = {'name': name, 'source': 'vartransfer.simulate: OGLE-III (I) and EROS-2 (B_E, R_E), 21 UPSILoN-T classes',
            'n_per_class_per_survey': args.n_per_class, 'n_train': len(dls.train_ids), 'n_valid': len(valid),
            'recipe': f'source_learner(dropout=0.1), fit_one_cycle({args.epochs}, {args.lr}), bs 256, seed {seed}',
            'script': 'benchmarks/train_sim_source.py', 'vartransfer_version': __version__}
    clf = learn.to_classifier(meta=meta)
    pred = clf.predict(table.loc[valid, FEATURE_NAMES])['class']
    s = scores(target[valid], pred)
    clf.meta['valid_scores'] = s
    stem = (args.out or ROOT/'vartransfer'/'models')/name
    stem.parent.mkdir(parents=True, exist_ok=True)
    clf.save(stem)
    report = {'model': name, 'seed': seed, 'valid': s, 'meta': meta, **real_data_checks(clf)}
    print(f"{name}: held-out simulated MCC {s['mcc']:.3f}, macro-F1 {s['macro_f1']:.3f}; "
          f"ASAS-6 zero-shot MCC {report.get('asas6_zero_shot', {}).get('mcc', float('nan')):.3f}; saved {stem}")
    return report, class_report(target[valid], pred, list(UPSILONT_CLASSES))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n-per-class', type=int, default=300, help='simulated stars per class and survey')
    p.add_argument('--epochs', type=int, default=40)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--n-jobs', type=int, default=2)
    p.add_argument('--seeds', default='0-3', help="training seeds, e.g. '0-3': one shipped model per seed")
    p.add_argument('--out', type=Path, default=None, help='model folder (default vartransfer/models; /tmp for smoke runs)')
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    a, _, b = args.seeds.partition('-')
    seeds = list(range(int(a), int(b or a) + 1))
    if args.out is None and args.n_per_class < 300: args.out = Path('/tmp')/'sim_source_models'
    t0 = time.time()
    table, target = simulated_features(args.n_per_class, args.n_jobs)
    print(f"features ready: {len(table)} curves ({time.time() - t0:.0f} s)")
    reports, per_class = zip(*[train_one(table, target, seed, args) for seed in seeds])
    command = 'python benchmarks/train_sim_source.py ' + ' '.join(sys.argv[1:] if argv is None else argv)
    report = {'command': command.strip(), 'models': list(reports),
              'valid_per_class': per_class[0].round(4).reset_index(names='class').to_dict('records')}
    if args.out is None:
        out = ROOT/'benchmarks'/'results'
        out.mkdir(parents=True, exist_ok=True)
        (out/'sim_source_report.json').write_text(json.dumps(report, indent=1, default=float))
        (out/'sim_source_report.md').write_text(markdown(report, per_class[0]))
    print(f"{len(seeds)} model(s) in {time.time() - t0:.0f} s")


def real_data_checks(clf)->dict:
    "Zero-shot on ASAS-6 (cached benchmark features) and the EROS-2 test star."
    from vartransfer.evaluate import scores
    from vartransfer.datasets import fetch_file
    from vartransfer.io.photometry import read_eros2
    from vartransfer.transfer import TaxonomyClassifier
    out = {}
    lc = read_eros2(fetch_file('eros2_samples', 'lm0134l19756.time'))
    p = clf.predict(lc).iloc[0]
    out['lm0134l19756'] = {'class': p['class'], 'probability': round(float(p['probability']), 4), 'published_class': 'RRL_ab'}
    cache = ROOT/'benchmarks'/'results'/'asas_features.parquet'
    if cache.exists():
        from vartransfer.datasets import load_dataset
        feats = pd.read_parquet(cache)
        _, labels = load_dataset('asas_richards2012')
        y = labels.loc[feats.index, 'superclass']
        zs = TaxonomyClassifier(clf, sorted(y.unique()))
        out['asas6_zero_shot'] = scores(y, zs.predict(feats)['class'])
    return out


def markdown(report:dict, rep:pd.DataFrame)->str:
    "The validation report as markdown: one row per shipped model, then seed 0's per-class scores."
    first = report['models'][0]
    lines = [f"# Simulated source models `{MODEL_NAME}*`", '', f"Command: `{report['command']}`", '',
             f"Each trained on {first['meta']['n_train']} simulated curves and validated on {first['meta']['n_valid']} held-out",
             "ones (a stratified 20% drawn with the model's seed). Zero-shot ASAS-6: the 608 real ASAS stars through the",
             "taxonomy. lm0134l19756: the EROS-2 star published as RRL_ab.", '',
             '| model | seed | held-out MCC | held-out macro-F1 | ASAS-6 zero-shot MCC | lm0134l19756 |', '|---|---|---|---|---|---|']
    for m in report['models']:
        z = m.get('asas6_zero_shot', {}).get('mcc', float('nan'))
        s = m['lm0134l19756']
        lines.append(f"| `{m['model']}` | {m['seed']} | {m['valid']['mcc']:.3f} | {m['valid']['macro_f1']:.3f} | {z:.3f} | "
                     f"{s['class']} ({s['probability']:.3f}) |")
    lines += ['', f"Per class, `{first['model']}` on its held-out simulated curves:", '',
              '| class | precision | recall | f1 | support |', '|---|---|---|---|---|']
    lines += [f"| {c} | {r.precision:.2f} | {r.recall:.2f} | {r.f1:.2f} | {int(r.support)} |" for c, r in rep.iterrows()]
    return '\n'.join(lines) + '\n'


if __name__ == '__main__': main()

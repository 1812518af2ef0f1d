#!/usr/bin/env python
"""Write the transfer benchmark's tables into the notebooks, from the committed JSON.

    python scripts/transfer_tables.py            # rewrites the section in nbs/10_transfer.ipynb and nbs/index.ipynb
    python scripts/transfer_tables.py --print    # prints the section instead
    python scripts/readme.py                     # then README.md from nbs/index.ipynb

The section is the markdown cell that starts with one of `HEADINGS` (one per notebook); everything after its
heading line is generated from `benchmarks/results/transfer.json` (test seeds),
`benchmarks/results/transfer_tuning.json` (tuning seeds) and, for the options (augmentation, domain adaptation),
`benchmarks/results/transfer_options_tuning.json` and `transfer_options.json`; for the fine-tuning schedule,
`benchmarks/results/transfer_fit_tuning.json`; for the ideas tried toward the ASAS-6 goal,
`benchmarks/results/transfer_ideas_tuning.json`; for the learning curve of ASAS-6, `benchmarks/results/transfer_ceiling_tuning.json`."""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / 'benchmarks' / 'results'
HEADINGS = {ROOT / 'nbs' / '10_transfer.ipynb': '## Across targets: the stacked ensemble (issue 14)',
            ROOT / 'nbs' / 'index.ipynb': '## Transfer on seven targets: the recommended model'}
DEFAULT = 'stacked (shrinkage 32, spread evenly)'
TARGET_NAMES = {'asas6': 'ASAS-6', 'eros1_B': 'EROS-1 B', 'eros1_R': 'EROS-1 R', 'sim_gaia_dr3': 'sim Gaia DR3',
                'sim_ztf': 'sim ZTF', 'sim_asassn': 'sim ASAS-SN', 'sim_hipparcos': 'sim Hipparcos'}
ROWS = [('random forest', 'forest'), ('UPSILoN-T recipe (genesis)', 'UPSILoN-T recipe (genesis)'),
        ('zero-shot genesis', 'zero-shot genesis'), ('transfer (genesis)', 'transfer genesis'),
        ('transfer (simulated source)', 'transfer sim'),
        ('transfer (simulated source), class-balanced loss', 'transfer sim (balanced loss)'),
        ('stacked, 2 pseudo-stars (the previous default)', 'stacked (shrinkage 2, spread evenly)'),
        ('**stacked, 32 pseudo-stars (`vartransfer transfer` default)**', DEFAULT),
        ('equal-weight ensemble (same 11 members)', 'equal-weight ensemble')]
TUNING_ROWS = [('2 pseudo-stars (the previous default)', 'stacked (shrinkage 2, spread evenly)'),
               ('8', 'stacked (shrinkage 8, spread evenly)'), ('32', DEFAULT),
               ('128', 'stacked (shrinkage 128, spread evenly)'), ('equal weights', 'equal-weight ensemble'),
               ('pseudo-stars on the forest', 'stacked')]
SOURCES = ['genesis', 'sim', 'sim1', 'sim2', 'sim3']


def seed_range(seeds) -> str:
    "'0-7' for a run of consecutive seeds, else a comma list."
    seeds = sorted(set(int(s) for s in seeds))
    if len(seeds) == 1: return str(seeds[0])
    return f"{seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else ', '.join(map(str, seeds))


def mcc_table(summary: pd.DataFrame, fraction: float, targets: list[str]) -> str:
    "One markdown table: methods by targets, mean MCC over seeds, with the mean over targets."
    s = summary[np.isclose(summary.fraction, fraction)].pivot_table(index='method', columns='target', values='mcc_mean')
    lines = ['| method | ' + ' | '.join(TARGET_NAMES.get(t, t) for t in targets) + ' | mean |',
             '|---|' + '---|' * (len(targets) + 1)]
    for label, method in ROWS:
        vals = [s.loc[method, t] for t in targets] + [s.loc[method, targets].mean()]
        cells = [f'{v:.3f}' for v in vals]
        if label.startswith('**'): cells = [f'**{c}**' for c in cells]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def class_table(summary: pd.DataFrame, fraction: float, targets: list[str]) -> str:
    "Recall per class of the default, with the forest's in brackets, targets by classes (mean over seeds)."
    s = summary[np.isclose(summary.fraction, fraction)].set_index(['method', 'target'])
    classes = [c[len('recall_'):-len('_mean')] for c in summary.columns if c.startswith('recall_') and c.endswith('_mean')]
    lines = ['| target | ' + ' | '.join(classes) + ' |', '|---|' + '---|' * len(classes)]
    for t in targets:
        cells = []
        for c in classes:
            d, f = s.loc[(DEFAULT, t), f'recall_{c}_mean'], s.loc[('forest', t), f'recall_{c}_mean']
            cells.append('' if pd.isna(d) else f'{d:.2f} ({f:.2f})')
        lines.append(f'| {TARGET_NAMES.get(t, t)} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def split_line(runs: pd.DataFrame, best: pd.DataFrame, fraction: float) -> str:
    "The default split by split at one fraction: against the forest, the recipe, the equal-weight ensemble, the best member."
    piv = runs[np.isclose(runs.fraction, fraction)].pivot_table(index=['target', 'seed'], columns='method', values='mcc')
    d = piv[DEFAULT]
    vf, vr, ve = d - piv['forest'], d - piv['UPSILoN-T recipe (genesis)'], d - piv['equal-weight ensemble']
    worst = vf.idxmin()
    per_target = vf.groupby(level='target').mean()
    b = best[np.isclose(best.fraction, fraction) & (best.method == DEFAULT)]
    n = len(d)
    return (f"- f = {fraction:.2f}: above the forest on {(vf > 0).sum()} of {n} splits (mean {vf.mean():+.3f}; worst {worst[0]} "
            f"seed {worst[1]}: {vf.min():+.3f}), above the UPSILoN-T recipe on {(vr > 0).sum()} of {n} (mean {vr.mean():+.3f}), "
            f"above the equal-weight ensemble on {(ve > 0).sum()} (mean {ve.mean():+.3f}); mean margin over the forest at least "
            f"{per_target.min():+.3f} on every target (smallest: {per_target.idxmin()}); within one standard error of the best "
            f"single member on {int(b.within_1se.sum())} of {len(b)} targets (mean difference {b.diff_mean.mean():+.3f}).")


def unmet(summary: pd.DataFrame, runs: pd.DataFrame, best: pd.DataFrame) -> str:
    "What the goals of issue 14 ask that the default does not reach, from the numbers."
    s = summary[summary.method == DEFAULT].set_index(['target', 'fraction']).mcc_mean
    out = []
    a05, a20 = s.get(('asas6', 0.05)), s.get(('asas6', 0.2))
    if a05 is not None and a20 is not None and (a05 < 0.87 or a20 < 0.90):
        out.append(f"the ASAS-6 goals ({a05:.3f} at f = 0.05 and {a20:.3f} at f = 0.20, against 0.87 and 0.90)")
    piv = runs.pivot_table(index=['target', 'fraction', 'seed'], columns='method', values='mcc')
    margin = (piv[DEFAULT] - piv['forest']).groupby(level=['target', 'fraction']).mean()
    short = [f"{TARGET_NAMES.get(t, t)} at f = {f:.2f} ({m:+.3f})" for (t, f), m in margin.items() if m < 0.02]
    if short: out.append("the forest + 0.02 margin on " + ', '.join(short))
    recipe = (piv[DEFAULT] - piv['UPSILoN-T recipe (genesis)']).groupby(level=['target', 'fraction']).mean()
    below = [f"{TARGET_NAMES.get(t, t)} at f = {f:.2f} ({m:+.3f})" for (t, f), m in recipe.items() if m < 0]
    if below: out.append("the UPSILoN-T recipe on " + ', '.join(below))
    b = best[(best.method == DEFAULT) & ~best.within_1se.astype(bool)]
    if len(b): out.append('"never below the best member by more than one standard error" on ' + ', '.join(
        f"{TARGET_NAMES.get(r.target, r.target)} at f = {r.fraction:.2f} ({r.best_member} is better by {-r.diff_mean:.3f} ± {r.diff_se:.3f})"
        for r in b.itertuples()))
    return ('Not met yet: ' + '; '.join(out) + '.') if out else 'Every goal of the benchmark is met on these seeds.'


def section(test: dict, tuning: dict, options: dict | None = None, options_test: dict | None = None, fit: dict | None = None,
            ideas: dict | None = None, ceiling: dict | None = None) -> str:
    "The body of the section (everything after its heading)."
    summary, runs, best = pd.DataFrame(test['summary']), pd.DataFrame(test['runs']), pd.DataFrame(test['vs_best_member'])
    targets, fractions = test['targets'], test['fractions']
    seeds = sorted({s for _, _, s in test['splits_done']})
    n_splits = len(test['splits_done'])
    tsum = pd.DataFrame(tuning['summary'])
    tmean = tsum.groupby('method').mcc_mean.mean()
    tseeds, tfracs = seed_range({s for _, _, s in tuning['splits_done']}), sorted(tuning['fractions'])
    def balanced_effect(r):
        piv = r.pivot_table(index=['target', 'fraction', 'seed'], columns='method', values='mcc')
        return float(np.mean([(piv[f'transfer {x} (balanced loss)'] - piv[f'transfer {x}']).mean() for x in SOURCES]))
    tuning_list = ', '.join((f'**{lab} {tmean[m]:.3f}**' if m == DEFAULT else f'{lab} {tmean[m]:.3f}') for lab, m in TUNING_ROWS)
    parts = [
        "`vartransfer transfer` trains, by default, a *stacked* model: transfers from the released\n"
        "network and the four simulated sources, each source's prior-matched zero-shot classifier and a\n"
        "random forest, weighted by their out-of-fold likelihood on the labelled target stars, with 32\n"
        "pseudo-stars spread evenly over them: with few labels the weights stay near equal, with many a\n"
        "member that does not help on this survey loses its weight (`--single` trains one network,\n"
        "`--weighting equal` averages the members). It is saved without pickle (one safetensors file and\n"
        "its JSON) and reloads to bit-identical probabilities.",
        f"Mean MCC on test seeds {seed_range(seeds)} ({len(seeds)} splits per target and fraction, {n_splits} in all), from\n"
        f"`{test['command'].replace(' --resume', '')}`{' (run in parts with `--resume`)' if '--resume' in test['command'] else ''} "
        "(`benchmarks/results/transfer.json`;\n"
        "EROS-1 is a fixed stratified subsample of 600 stars scored per band, the simulated targets 420 stars each):"]
    for f in fractions: parts += [f"f = {f:.2f}:", mcc_table(summary, f, targets)]
    parts.append("Recall per class of the default, the random forest's in brackets (blank: the class is not in that target):")
    for f in (fractions[0], fractions[-1]): parts += [f"f = {f:.2f}:", class_table(summary, f, targets)]
    parts += ["The default, split by split:", '\n'.join(split_line(runs, best, f) for f in fractions)]
    parts.append(
        unmet(summary, runs, best) + '\n'
        f"The 32 pseudo-stars were chosen on the tuning seeds {tseeds} at f = {', '.join(f'{f:.2f}' for f in tfracs)}, all seven targets\n"
        f"together (`{tuning['command'].replace('--out benchmarks/results/transfer.json', '').strip()}`,\n"
        f"`benchmarks/results/transfer_tuning.json`; mean MCC over targets and fractions): {tuning_list}. "
        "On these targets every member helps, so more shrinkage toward equal weights is\n"
        "better; 32 rather than equal weights keeps the likelihood in charge once a survey has more labelled\n"
        "stars than that, where a member that does not help (the failure this issue reports: weak zero-shot\n"
        "members, a strong forest) should lose its weight. A class-balanced loss (`weighted=True`,\n"
        f"inverse-frequency class weights) did not help the single transfers: {balanced_effect(pd.DataFrame(tuning['runs'])):+.3f} MCC on the tuning splits\n"
        f"and {balanced_effect(runs):+.3f} on the test splits, averaged over the five sources; it stays off.")
    missing = [f"test seeds {seed_range(m)}" for m in [sorted(set(range(20)) - set(seeds))] if m]
    missing += [f"tuning seeds {seed_range(m)}" for m in [sorted(set(range(100, 120)) - {s for _, _, s in tuning['splits_done']})] if m]
    if missing: parts[-1] += (f"\nStill to run: {' and '.join(missing)} "
                              "(`python benchmarks/transfer.py --resume` adds them to the committed runs).")
    if options is not None:
        parts += ["### Augmentation and domain adaptation", options_text(options, options_test),
                  "Augmented copies of the labelled stars (`vartransfer.augment`) lift the random forest on every target.\n"
                  "They do not help the fine-tuned networks (a little lower at f = 0.05, unchanged at f = 0.20);\n"
                  "filling up the rare classes hurts both; Sinkhorn alignment (`SinkhornAlign`) does not help the transfers\n"
                  "either. In the stacked model the better forest is one member of eleven, so its gain there is small,\n"
                  "but it is positive on average at both fractions and no target loses more than 0.002. So when\n"
                  "`vartransfer transfer` is given light curves, its forest trains with 4 copies of each labelled star\n"
                  "(`--copies`, 0 for none; 8 copies are no better); `--adapt` stays off. The tables above are from\n"
                  "feature tables, without copies."]
    if fit is not None: parts.append(fit_text(fit))
    if ideas is not None: parts.append(ideas_text(ideas))
    if ceiling is not None: parts.append(ceiling_text(ceiling))
    return '\n\n'.join(parts)


def ceiling_text(ceiling: dict) -> str:
    "The learning curve of the equal-weight ensemble on one target (`benchmarks/transfer_ceiling.py`) against the goals."
    s = pd.DataFrame(ceiling['summary'])
    ens = s[s.member == 'equal-weight ensemble'].set_index('fraction')
    best = s[s.member.str.startswith('best member')].set_index('fraction')
    lines = ['| labelled fraction | equal-weight ensemble | best single member on average |', '|---|---|---|']
    lines += [f"| {f:.2f} | {ens.loc[f, 'mean']:.3f} ± {ens.loc[f, 'se']:.3f} | {best.loc[f, 'mean']:.3f} "
              f"({best.loc[f, 'member'].removeprefix('best member: ')}) |" for f in ens.index]
    cv = ceiling['forest_cross_validated']
    name = TARGET_NAMES.get(ceiling['target'], ceiling['target'])
    return (f"How far more labels carry the same members on {name} (tuning seeds {seed_range(ceiling['seeds'])}; "
            f"`{ceiling['command']}`, `benchmarks/results/transfer_ceiling_tuning.json`; mean MCC ± standard error):\n\n"
            + '\n'.join(lines) + '\n\n'
            + f"A random forest cross-validated on all {name} stars reaches " + ' and '.join(f"{v:.3f} ({k.split(',')[1].split()[0]})" for k, v in cv.items())
            + ".\nThe ensemble's curve flattens near 0.91: the goal at f = 0.20 (0.90) asks with a fifth of the labels for\n"
            "what the same members give with half of them, and lies above what the 16 features give a forest trained on 80-90% of\n"
            "the stars.")


IDEA_LABELS = {'seed bagging': 'each transfer the mean of 3 seeds', 'linear probe': 'a linear probe on each source network (5 more members)',
               'AdaBN input': "the input batch norm's statistics from the target stars",
               'AdaBN all': "all batch norms' statistics from the target stars",
               'self-trained forest': 'a forest on labels and confident pseudo-labels, mixed half and half',
               'prior-matched mixture': "the mixture matched to the labelled stars' class proportions",
               'forest with extras': 'the forest on 5 more features, balanced class weights'}


def ideas_text(ideas: dict) -> str:
    "Ideas against the equal-weight ensemble of the same members (`benchmarks/transfer_ideas.py`), paired on the tuning splits."
    ov, alls = pd.DataFrame(ideas['vs_baseline_over_targets']), pd.DataFrame(ideas['vs_baseline_all_splits']).set_index('idea')
    fracs = sorted(ov.fraction.unique())
    lines = ['| idea | all splits | ' + ' | '.join(f'f = {f:.2f} (worst to best target)' for f in fracs) + ' |', '|---|---|' + '---|' * len(fracs)]
    for idea in ideas['ideas']:
        cells = [f"{alls.loc[idea, 'diff_mean']:+.4f} ± {alls.loc[idea, 'diff_se']:.4f}"]
        for f in fracs:
            r = ov[(ov.idea == idea) & np.isclose(ov.fraction, f)].iloc[0]
            cells.append(f"{r['mean']:+.4f} ({r['min']:+.3f} to {r['max']:+.3f})")
        lines.append(f"| {IDEA_LABELS.get(idea, idea)} | " + ' | '.join(cells) + ' |')
    best = alls['diff_mean'].max()
    return (f"Ideas toward the ASAS-6 goal, each against the equal-weight mean of the same eleven members on the same tuning\n"
            f"splits (seeds {seed_range(ideas['seeds'])}, f = {', '.join(f'{f:.2f}' for f in fracs)}, all seven targets, {ideas['splits']} splits;\n"
            f"`{ideas['command']}`, `benchmarks/results/transfer_ideas_tuning.json`; paired MCC difference, mean ± standard\n"
            f"error over all splits, and the mean per fraction over the targets). None gains more than {best:+.3f} MCC, a tenth of what\n"
            "ASAS-6 lacks; re-estimating batch-norm statistics on the target and linear probes lose. None is adopted.\n\n" + '\n'.join(lines))


OPTION_LABELS = {'augment all': 'augmented copies, 4 per star', 'augment rare': 'augmented copies, rare classes filled up (at most 8)',
                 'augment forest': 'augmented copies for the forest only, 4 per star', 'augment forest 8': 'the same, 8 per star',
                 'sinkhorn': 'Sinkhorn alignment with a simulated source sample',
                 'fit 5 epochs': '5 epochs per unfreezing stage (10)', 'fit 20 epochs': '20 epochs per unfreezing stage (10)',
                 'fit 20 head epochs': '20 epochs for the head alone (10)', 'fit rates x3': 'peak rates x3 (head 1e-2, layers 1e-4 to 1e-3)',
                 'fit at once': 'all layers unfrozen at once (one more group per stage)', 'fit batch 16': 'batches of 16 stars (32)',
                 'fit refit transform': "feature transform refitted on the labelled stars (the source's)"}


def fit_text(fit: dict) -> str:
    "The fine-tuning schedule, each change against the default on the tuning splits (`benchmarks/transfer_options.py --options 'fit ...'`)."
    ov = pd.DataFrame(fit['vs_none_over_targets'])
    best = ov.loc[ov['mean'].idxmax()]
    return (f"The fine-tuning schedule (`Learner.fit_transfer`: 10 epochs for the head, then 10 per unfreezing stage,\n"
            f"one-cycle, batches of 32) against each change below, on the tuning splits (seeds {seed_range(fit['seeds'])}, all seven\n"
            f"targets; `{fit['command']}`,\n"
            "`benchmarks/results/transfer_fit_tuning.json`), for the transfers from the released network and from the\n"
            "simulated source, as in the table above (the default in brackets): no change gains more than\n"
            f"{best['mean']:+.3f} MCC on average over the targets ({OPTION_LABELS.get(best.option, best.option)}, {best.method},\n"
            f"f = {best.fraction:.2f}), and refitting the feature transform on the few labelled stars loses the most. The schedule stays.\n\n"
            + option_table(fit))


def option_table(tuning: dict) -> str:
    "Per option and member: the mean over targets of the paired MCC difference against none, worst and best target, targets up."
    ov = pd.DataFrame(tuning['vs_none_over_targets'])
    vs = pd.DataFrame(tuning['vs_none'])
    fracs = sorted(ov.fraction.unique())
    lines = ['| option | trained with it | ' + ' | '.join(f'f = {f:.2f}' for f in fracs) + ' |', '|---|---|' + '---|' * len(fracs)]
    for opt in [o for o in tuning['options'] if o != 'none']:
        for method in sorted(ov[ov.option == opt].method.unique(), key=lambda m: (m == 'stacked', m)):
            if opt == 'augment forest' and method == 'forest': continue   # the same forest as 'augment all'
            cells = []
            for f in fracs:
                r = ov[(ov.option == opt) & (ov.method == method) & np.isclose(ov.fraction, f)]
                per = vs[(vs.option == opt) & (vs.method == method) & np.isclose(vs.fraction, f)]
                cells.append('' if r.empty else f"{r['mean'].iloc[0]:+.3f} ({r['min'].iloc[0]:+.3f} to {r['max'].iloc[0]:+.3f}; "
                                                f"{int((per.diff_mean > 0).sum())}/{len(per)} up)")
            label = f'**{method}**' if method == 'stacked' else method
            lines.append(f"| {OPTION_LABELS.get(opt, opt)} | {label} | " + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def options_text(tuning: dict, test: dict | None = None) -> str:
    "The options of `benchmarks/transfer_options.py`: paired MCC differences against none, over the targets."
    text = (f"Each option against none on the same tuning splits (seeds {seed_range(tuning['seeds'])}, all seven targets;\n"
            f"`{tuning['command']}`, `benchmarks/results/transfer_options_tuning.json`): the mean over targets of the\n"
            "paired MCC difference, the worst and best target, and on how many targets it is positive.\n\n" + option_table(tuning))
    rec = pd.DataFrame(tuning['recall'])
    rec = rec[(rec.target == 'asas6') & np.isclose(rec.fraction, 0.05)].set_index(['method', 'option'])
    if {('transfer sim', 'augment rare'), ('forest', 'augment rare')} <= set(rec.index):
        pair = lambda m, c: f"{rec.loc[(m, 'none'), f'recall_{c}']:.2f} -> {rec.loc[(m, 'augment rare'), f'recall_{c}']:.2f}"
        text += ("\n\nFilling up the rare classes does raise their recall (ASAS-6 at f = 0.05: δ Scuti "
                 f"{pair('transfer sim', 'DSCT')} for the transfer from the simulated source, {pair('forest', 'DSCT')} for the forest; "
                 f"type II Cepheids {pair('transfer sim', 'T2CEPH')} and {pair('forest', 'T2CEPH')}), but it costs the common classes more.")
    if test:
        tv = pd.DataFrame(test['vs_none_over_targets'])
        st = tv[(tv.method == 'stacked') & (tv.option == 'augment forest')]
        done = pd.DataFrame(test['runs']).groupby('seed').size()
        partial = '' if test.get('complete', True) else f", stopped after {test['splits_done']} of its {test['splits']} splits"
        text += ("\n\nOn test seeds " + seed_range(done.index) + f" (`{test['command']}`{partial}; `benchmarks/results/transfer_options.json`), "
                 "the stacked model with the forest's copies against without: " + '; '.join(
                     f"f = {r.fraction:.2f}: {r.mean:+.3f} (targets {r.min:+.3f} to {r.max:+.3f})" for r in st.itertuples()) + '.')
    return text


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--print', action='store_true', help='print the section instead of writing the notebooks')
    p.add_argument('--test', type=Path, default=RESULTS / 'transfer.json')
    p.add_argument('--tuning', type=Path, default=RESULTS / 'transfer_tuning.json')
    p.add_argument('--options', type=Path, default=RESULTS / 'transfer_options_tuning.json')
    p.add_argument('--options-test', type=Path, default=RESULTS / 'transfer_options.json')
    p.add_argument('--fit', type=Path, default=RESULTS / 'transfer_fit_tuning.json')
    p.add_argument('--ideas', type=Path, default=RESULTS / 'transfer_ideas_tuning.json')
    p.add_argument('--ceiling', type=Path, default=RESULTS / 'transfer_ceiling_tuning.json')
    args = p.parse_args(argv)
    read = lambda p: json.loads(p.read_text()) if p.exists() else None
    body = section(read(args.test), read(args.tuning), read(args.options), read(args.options_test), read(args.fit), read(args.ideas),
                   read(args.ceiling))
    if args.print: print(body); return
    for path, heading in HEADINGS.items():
        nb = json.loads(path.read_text())
        cells = [c for c in nb['cells'] if c['cell_type'] == 'markdown' and ''.join(c['source']).startswith(heading)]
        if len(cells) != 1: sys.exit(f"{path.name}: expected one markdown cell starting with {heading!r}, found {len(cells)}")
        text = heading + '\n' + body
        cells[0]['source'] = text.splitlines(keepends=True)
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == '__main__': main()

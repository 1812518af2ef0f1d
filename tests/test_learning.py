"The learning half: transform, network, genesis reproduction, transfer, saving, pretrained models."
import json

import numpy as np
import pandas as pd
import pytest
import torch

from vartransfer.transform import FeatureTransform, upsilont_transform
from vartransfer.model import VarClassifier, VarNet

torch.set_num_threads(1)   # tiny networks: one thread is fastest, and test workers run side by side

PUBLISHED_PROBABILITY = 0.9620862603187561   # UPSILoN-T README, lm0134l19756 -> RRL_ab
# lm0134l19756 as UPSILoN-T's extractor computes it (red band, no clipping), from the data README
LM0134 = dict(amplitude=0.165837, hl_amp_ratio=0.805347, kurtosis=1.241100, period=0.578021, phase_cusum=0.256222,
              phase_eta=1.078244, phi21=1.097624, phi31=2.273615, quartile31=0.24, r21=0.448685, r31=0.326214,
              shapiro_w=0.979051, skewness=0.404496, slope_per10=-0.125030, slope_per90=0.086530, stetson_k=0.774999)


@pytest.fixture(scope='module')
def genesis(mirror):
    from vartransfer.pretrained import upsilont_genesis
    return upsilont_genesis('compatible')


@pytest.fixture(scope='module')
def source(mirror):
    "The released network with the default (NaN-free) transform, for transfer."
    from vartransfer.pretrained import upsilont_genesis
    return upsilont_genesis()


@pytest.fixture(scope='module')
def asas(mirror):
    "151 real ASAS stars (features) and their ASAS-6 superclasses."
    from vartransfer.datasets import benchmark_split, load_dataset
    from vartransfer.batch import extract_features_batch
    lcs, labels = load_dataset('asas_richards2012')
    pool, _ = benchmark_split(labels['superclass'], 0.25, seed=0)
    feats = extract_features_batch(lcs.subset(pool), progress=False)
    return feats, labels.loc[feats.index, 'superclass']


def test_genesis_reproduces_published_probability_from_published_features(genesis):
    p = genesis.predict(pd.DataFrame([LM0134], index=['lm0134l19756'])).iloc[0]
    assert p['class'] == 'RRL_ab'
    assert abs(p['probability'] - PUBLISHED_PROBABILITY) < 1e-5


def test_genesis_reproduces_published_probability_from_raw_light_curve(genesis, mirror):
    from vartransfer.datasets import fetch_file
    from vartransfer.io.photometry import read_eros2
    lc = read_eros2(fetch_file('eros2_samples', 'lm0134l19756.time'))
    p = genesis.predict(lc).loc['lm0134l19756']
    assert p['class'] == 'RRL_ab'
    assert abs(p['probability'] - PUBLISHED_PROBABILITY) < 1e-5


def test_genesis_state_dict_loads_exactly_with_eps_64(mirror):
    from vartransfer.datasets import fetch_file
    state = torch.load(fetch_file('upsilont_genesis', 'state_dict.pt'), map_location='cpu', weights_only=True)
    net = VarNet.upsilont()
    assert sorted(net.state_dict()) == sorted(state)
    net.load_state_dict(state)                       # strict: every key, every shape
    assert net.bn1.eps == 64 and net.bn2.eps == 1e-5


def test_default_transform_never_nan_and_agrees_with_compatible():
    low = {**LM0134, 'amplitude': 0.0002, 'skewness': -9.}
    assert np.isnan(upsilont_transform('compatible')(low)).sum() == 2
    z = upsilont_transform('clip')(low)
    assert np.isfinite(z).all() and np.allclose(z[0, [0, 12]], -5, atol=1e-5)
    np.testing.assert_array_equal(upsilont_transform('clip')(LM0134), upsilont_transform('compatible')(LM0134))


def test_transform_json_round_trip(tmp_path):
    tf = upsilont_transform('clip')
    back = FeatureTransform.from_json(tf.to_json(tmp_path/'t.json') and tmp_path/'t.json')
    assert back.to_dict() == tf.to_dict()


def test_save_load_round_trip_without_pickle(genesis, tmp_path):
    jpath = genesis.save(tmp_path/'genesis')
    config = json.loads(jpath.read_text())
    assert config['architecture']['in_bn_eps'] == 64 and config['classes'][16] == 'RRL_ab'
    assert {'features', 'transform', 'vartransfer_version', 'weights_sha256'} <= set(config)
    back = VarClassifier.load(tmp_path/'genesis')
    again = json.loads(back.save(tmp_path/'again').read_text())
    assert again['weights_sha256'] == config['weights_sha256']   # same weights, same bytes
    np.testing.assert_array_equal(back.predict_proba(LM0134), genesis.predict_proba(LM0134))
    (tmp_path/'genesis.safetensors').write_bytes(b'\x80\x04not a safetensors file')   # e.g. a pickle
    with pytest.raises(ValueError, match='sha256'): VarClassifier.load(tmp_path/'genesis')


def test_transfer_beats_chance_and_keeps_source_statistics(source, asas):
    from sklearn.metrics import matthews_corrcoef
    from vartransfer.datasets import benchmark_split
    from vartransfer.transfer import TaxonomyClassifier, transfer
    feats, y = asas
    train, test = benchmark_split(y, 0.2, seed=0)
    classes = sorted(y.unique())
    clf = transfer(source, feats, y[train], classes=classes, fit_kwargs=dict(head_epochs=3, epochs=2))
    assert clf.classes == classes and clf.net.n_out == 6
    assert matthews_corrcoef(y[test], clf.predict(feats.loc[test])['class']) > 0.5
    assert torch.equal(clf.net.bn3.running_var, source.net.bn3.running_var)
    zs = TaxonomyClassifier(source, classes).predict(feats.loc[test])
    assert np.allclose(zs[classes].sum(axis=1), 1) and matthews_corrcoef(y[test], zs['class']) > 0.5


def test_same_seed_same_model(source, asas):
    from vartransfer.transfer import transfer
    feats, y = asas
    fit = dict(head_epochs=2, epochs=1)
    a = transfer(source, feats, y.iloc[:40], seed=3, fit_kwargs=fit).predict_proba(feats.iloc[:5])
    b = transfer(source, feats, y.iloc[:40], seed=3, fit_kwargs=fit).predict_proba(feats.iloc[:5])
    np.testing.assert_array_equal(a, b)


def test_temperature_scaling_keeps_classes(source, asas):
    from vartransfer.evaluate import calibrate, expected_calibration_error
    from vartransfer.transfer import TaxonomyClassifier
    feats, y = asas
    zs = TaxonomyClassifier(source, sorted(y.unique()))
    cal = calibrate(zs, feats.iloc[:75], y.iloc[:75])
    P0, P1 = zs.predict_proba(feats.iloc[75:]), cal.predict_proba(feats.iloc[75:])
    np.testing.assert_array_equal(P0.argmax(1), P1.argmax(1))
    assert 0 <= expected_calibration_error(P1, y.iloc[75:], zs.classes) < 1


def test_calibrate_varclassifier_returns_tempered_copy(genesis, asas):
    from vartransfer.evaluate import calibrate
    feats, _ = asas
    pred = genesis.predict(feats)['class']   # its own predictions as labels: over-confident is impossible, T < 1
    cal = calibrate(genesis, feats, pred)
    assert isinstance(cal, VarClassifier) and cal is not genesis and genesis.temperature == 1.0
    assert cal.temperature < 1.0


def test_simulated_source_is_shipped_and_predicts(mirror):
    from vartransfer.datasets import fetch_file
    from vartransfer.io.photometry import read_eros2
    from vartransfer.pretrained import pretrained_models, simulated_source
    assert 'sim_ogle3_eros2' in pretrained_models().index
    sim = simulated_source()
    assert len(sim.classes) == 21 and sim.meta['script'] == 'benchmarks/train_sim_source.py'
    p = sim.predict(read_eros2(fetch_file('eros2_samples', 'lm0134l19756.time')))
    assert np.isclose(p[sim.classes].sum(axis=1).iloc[0], 1)


def _benchmark(name:str):
    "A script of benchmarks/ imported as a module."
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_transfer_benchmark_quick(mirror, tmp_path):
    "benchmarks/transfer.py --quick: one small split of a simulated target, every method scored, JSON written."
    bench = _benchmark("transfer")
    out = tmp_path / "q.json"
    bench.main(["--quick", "--n-jobs", "1", "--cache", str(tmp_path), "--out", str(out)])
    res = json.loads(out.read_text())
    methods = {r["method"] for r in res["summary"]}
    assert {"stacked", "equal-weight ensemble", "forest", "transfer genesis", "zero-shot genesis", "UPSILoN-T recipe (genesis)"} <= methods
    sel = res["selection"][0]
    assert abs(sum(sel["weights"].values()) - 1) < 1e-9 and res["complete"] and len(res["splits_done"]) == 1
    assert all(-1 <= r["mcc"] <= 1 for r in res["runs"])
    bench.main(["--quick", "--n-jobs", "1", "--cache", str(tmp_path), "--out", str(out), "--resume"])   # nothing left to run
    again = json.loads(out.read_text())
    assert again["splits_resumed"] == 1 and again["complete"] and again["summary"] == res["summary"]


def test_transfer_ideas_quick(mirror, tmp_path):
    "benchmarks/transfer_ideas.py --quick: the baseline and every idea scored on one small split, paired differences written."
    bench = _benchmark("transfer_ideas")
    out = tmp_path / "i.json"
    res = bench.main(["--quick", "--n-jobs", "1", "--cache", str(tmp_path), "--out", str(out)])
    runs = pd.DataFrame(res["runs"])
    assert set(runs["method"]) == {"equal-weight ensemble", *bench.IDEAS} and runs["mcc"].between(-1, 1).all()
    assert {r["idea"] for r in res["vs_baseline_all_splits"]} == set(bench.IDEAS)
    base = runs.set_index("method")["mcc"]
    for r in res["vs_baseline_all_splits"]: assert abs(r["diff_mean"] - (base[r["idea"]] - base["equal-weight ensemble"])) < 1e-12
    assert json.loads(out.read_text())["splits"] == 1


def test_transfer_options_fit_schedule_quick(mirror, tmp_path):
    "benchmarks/transfer_options.py --quick with 'fit' options: the transfers alone refit, with the schedule the option changes."
    bench = _benchmark("transfer_options")
    res = bench.main(["--quick", "--options", "fit at once,fit batch 16", "--n-jobs", "1", "--cache", str(tmp_path), "--out", str(tmp_path / "f.json")])
    runs = pd.DataFrame(res["runs"])
    assert set(runs["option"]) == {"none", "fit at once", "fit batch 16"}
    assert set(runs.loc[runs["option"] != "none", "method"]) == {"transfer genesis"}     # the forest is not refitted
    assert res["options"]["fit at once"] == {"fit": {"gradual": False}} and bench.refits("fit batch 16") == {"transfer"}
    assert runs["mcc"].between(-1, 1).all()


def test_transfer_options_benchmark_quick(mirror, tmp_path):
    "benchmarks/transfer_options.py --quick: augmented copies cached; members and the stacked model scored with every option."
    bench = _benchmark("transfer_options")
    out = tmp_path / "o.json"
    res = bench.main(["--quick", "--stacked", "all", "--n-jobs", "1", "--cache", str(tmp_path), "--out", str(out)])
    assert json.loads(out.read_text())["vs_none"] == json.loads(json.dumps(res["vs_none"], default=float))
    assert res["complete"] and res["splits_done"] == res["splits"] == 1
    runs = pd.DataFrame(res["runs"])
    assert set(runs["option"]) == {"none", "augment all", "augment rare", "augment forest", "augment forest 8", "sinkhorn"}
    assert runs["mcc"].between(-1, 1).all() and len(runs) == 3 * 3 + 3 * 2   # each option scores only the members it changes
    assert set(runs.loc[runs["option"] == "sinkhorn", "method"]) == {"transfer genesis", "stacked"}
    assert set(runs.loc[runs["option"] == "augment forest", "method"]) == {"forest", "stacked"}
    copies = pd.read_parquet(next(tmp_path.glob("sim_hipparcos_augmented_*_quick.parquet")))
    assert copies["error"].isna().all() and set(copies["copy"]) == {0, 1}
    pairs = {(r["method"], r["option"]) for r in res["vs_none"]}
    assert ("forest", "augment rare") in pairs and ("stacked", "sinkhorn") in pairs and ("forest", "sinkhorn") not in pairs


def test_transfer_ceiling_quick(mirror, tmp_path):
    "benchmarks/transfer_ceiling.py --quick: the equal-weight mean and every candidate scored on one split, the cross-validated forest."
    bench = _benchmark("transfer_ceiling")
    res = bench.main(["--quick", "--n-jobs", "1", "--cache", str(tmp_path), "--out", str(tmp_path / "c.json")])
    runs = pd.DataFrame(res["runs"])
    assert {"equal-weight ensemble", "forest", "transfer genesis", "zero-shot genesis"} == set(runs["member"])
    assert runs["mcc"].between(-1, 1).all() and (runs["fraction"] == 0.5).all()
    best = [r for r in res["summary"] if r["member"].startswith("best member: ")]
    assert len(best) == 1 and best[0]["mean"] == runs.loc[runs["member"] != "equal-weight ensemble", "mcc"].max()
    assert all(-1 <= v <= 1 for v in res["forest_cross_validated"].values())

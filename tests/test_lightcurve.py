"""`LightCurve` validation: one bad-input test per cleaning rule (see nbs/00_lightcurve.ipynb, 'Cleaning rules')."""
import numpy as np
import pytest

from vartransfer.lightcurve import MIN_POINTS, LightCurve, LightCurveError


@pytest.fixture(scope="module")
def eros(mirror):
    "The real EROS-2 star lm0134l19756 (red band) as raw columns, sentinels still in."
    a = np.loadtxt(mirror / "eros2_samples" / "lm0134l19756.time")
    return a[:, 0], a[:, 1], a[:, 2]


T, M, E = np.arange(12.), np.sin(np.arange(12.)), np.full(12, 0.1)


def test_empty():
    with pytest.raises(LightCurveError, match=r"star\.dat: empty light curve \(no points\)"):
        LightCurve([], [], [], source="star.dat")


def test_length_mismatch():
    with pytest.raises(LightCurveError, match="length mismatch: time 12, mag 11, err 12"):
        LightCurve(T, M[:-1], E)
    with pytest.raises(LightCurveError, match="length mismatch: time 12, mag 12, err 3"):
        LightCurve(T, M, E[:3])


def test_not_numeric():
    with pytest.raises(LightCurveError, match=r"x\.dat: mag is not numeric"):
        LightCurve(T, ["a"] * 12, E, source="x.dat")


def test_nonfinite_dropped_and_counted():
    m = M.copy(); m[[1, 5]] = np.nan; m[7] = np.inf
    t = T.copy(); t[9] = np.nan
    lc = LightCurve(t, m, E, min_points=5)
    assert (len(lc), lc.report["nonfinite_dropped"]) == (8, 4)
    assert np.all(np.isfinite(lc.time)) and np.all(np.isfinite(lc.mag))


def test_nonfinite_too_few_left():
    with pytest.raises(LightCurveError, match=r"s1: 0 valid point\(s\), need at least 10 \(dropped: \{'nonfinite_dropped': 12\}\)"):
        LightCurve(T, np.full(12, np.nan), E, id="s1", source="s1")
    m = M.copy(); m[:4] = np.nan
    with pytest.raises(LightCurveError, match=r"8 valid point\(s\), need at least 10 \(dropped: \{'nonfinite_dropped': 4\}\)"):
        LightCurve(T, m, E)


def test_unsorted_sorted(eros):
    t, m, e = eros
    order = np.random.default_rng(0).permutation(len(t))
    lc = LightCurve(t[order], m[order], e[order], sentinel=99.999)
    ref = LightCurve(t, m, e, sentinel=99.999)
    assert lc.report["sorted"] == 1 and ref.report["sorted"] == 0
    np.testing.assert_array_equal(lc.time, ref.time)
    np.testing.assert_array_equal(lc.mag, ref.mag)


def test_duplicate_times_keep_smallest_error():
    lc = LightCurve(np.r_[T, 3., 3.], np.r_[M, 9., 8.], np.r_[E, .01, .5])
    assert (len(lc), lc.mag[3], lc.err[3], lc.report["duplicate_dropped"]) == (12, 9., .01, 2)
    assert np.all(np.diff(lc.time) > 0)


def test_some_errors_missing_become_median():
    e = np.r_[0., -1., np.nan, np.linspace(.1, .2, 9)]
    lc = LightCurve(T, M, e)
    np.testing.assert_allclose(lc.err[:3], np.median(e[3:]))
    assert lc.report["err_replaced"] == 3 and np.all(lc.err > 0)


def test_all_errors_missing_become_std():
    for e in (None, np.zeros(12), np.full(12, -1.)):
        lc = LightCurve(T, M, e)
        np.testing.assert_allclose(lc.err, np.std(M))
        assert lc.report["err_replaced"] == 12


def test_sentinel_dropped_and_counted(eros):
    t, m, e = eros
    lc = LightCurve(t, m, e, sentinel=99.999)
    assert (len(lc), lc.report["sentinel_dropped"]) == (294, int((m >= 99.999).sum()))
    assert lc.mag.max() < 99.999
    with pytest.raises(LightCurveError, match=r"0 valid point\(s\), need at least 10 \(dropped: \{'sentinel_dropped': 12\}\)"):
        LightCurve(T, np.full(12, 99.999), E, sentinel=99.999)


def test_too_few_points_configurable():
    assert MIN_POINTS == 10
    with pytest.raises(LightCurveError, match=r"light curve s2: 1 valid point\(s\), need at least 10"):
        LightCurve([1.], [10.], [.1], id="s2")
    with pytest.raises(LightCurveError, match=r"9 valid point\(s\), need at least 10"):
        LightCurve(T[:9], M[:9], E[:9])
    assert len(LightCurve(T[:3], M[:3], E[:3], min_points=3)) == 3
    with pytest.raises(LightCurveError, match=r"12 valid point\(s\), need at least 20"):
        LightCurve(T, M, E, min_points=20)


def test_constant_magnitudes():
    with pytest.raises(LightCurveError, match=r"flat\.dat: constant magnitudes \(15\.0\)"):
        LightCurve(T, np.full(12, 15.), E, source="flat.dat")
    lc = LightCurve(T, np.full(12, 15.), E, allow_constant=True)
    assert len(lc) == 12


def test_validate_false_keeps_everything():
    m = M.copy(); m[0] = np.nan
    lc = LightCurve(T, m, E, validate=False)
    assert len(lc) == 12 and not lc.report


def test_plot_folded_with_caller_style(eros):
    import matplotlib
    matplotlib.use("Agg")
    t, m, e = eros
    lc = LightCurve(t, m, e, id="lm0134l19756", band="R_E", survey="EROS-2", sentinel=99.999)
    ax = lc.plot(period=0.578021, ms=1, color="k")   # the caller's keywords override the defaults
    line = ax.lines[0]
    assert line.get_markersize() == 1 and line.get_color() == "k"
    assert ax.get_ylim()[0] > ax.get_ylim()[1]   # magnitudes: brighter is up

"""TESS and K2 high-level science products (HLSPs) read by `read_tess_kepler` as MAST serves them.

Fixtures hlsp_*.fits are written by tests/fixtures/make_fixtures_space.py (synthetic pulsators of known period in
the published layouts of TGLC, GSFC-eleanor-lite, TASOC, K2SFF, EVEREST, PATHOS and CDIPS); its `EXPECTED` table
gives each file's period and its numbers of flagged, non-positive and NaN cadences.
"""
import gzip
import importlib.util
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from vartransfer.io.read import guess_format, read_lightcurve
from vartransfer.io.space import read_lightkurve, read_tess_kepler
from vartransfer.lightcurve import LightCurveError

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_spec = importlib.util.spec_from_file_location("make_fixtures_space", FIXTURES / "make_fixtures_space.py")
make = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(make)
EXPECTED, N = make.EXPECTED, make.N
PRODUCT = {'tglc': 'TGLC', 'gsfc-eleanor-lite': 'eleanor', 'tasoc': 'TASOC', 'k2sff': 'K2SFF', 'everest': 'EVEREST',
           'pathos': 'PATHOS', 'cdips': 'CDIPS'}
DEFAULT = {'TGLC': 'CAL_APER_FLUX', 'eleanor': 'CORR_FLUX', 'TASOC': 'FLUX_CORR', 'K2SFF': 'FCOR', 'EVEREST': 'FLUX',
           'PATHOS': 'PSF_FLUX_COR', 'CDIPS': 'IRM1'}
FILES = sorted(EXPECTED)


def product(name): return PRODUCT[name.split('_')[1]]


def test_every_fixture_is_written():
    assert sorted(p.name for p in FIXTURES.glob('hlsp_*.fits')) == FILES
    assert all((FIXTURES / n).stat().st_size < 100_000 for n in FILES)


@pytest.mark.parametrize('name', FILES)
def test_hlsp_guessed_read_and_counted(name, tmp_path):
    "Each HLSP goes to 'tess_kepler' (not the generic FITS reader), plain or gzipped; every dropped cadence is counted."
    _, flagged, nonpositive, nan = EXPECTED[name]
    path = FIXTURES / name
    assert guess_format(path) == 'tess_kepler'
    (tmp_path / (name + '.gz')).write_bytes(gzip.compress(path.read_bytes()))
    assert guess_format(tmp_path / (name + '.gz')) == 'tess_kepler'
    coll = read_lightcurve(path)                            # a collection of one, its meta a table
    assert len(coll) == 1 and coll.meta['product'].tolist() == [product(name)]
    lc = read_tess_kepler(path)
    assert lc.meta['product'] == product(name) and lc.meta['flux_column'] == DEFAULT[product(name)]
    assert lc.survey == ('K2' if product(name) in ('K2SFF', 'EVEREST') else 'TESS')
    assert (lc.report['quality_rejected'], lc.report['nonpositive_flux_dropped'], lc.report['nonfinite_dropped']) == (flagged, nonpositive, nan)
    assert len(lc) == N - flagged - nonpositive - nan
    assert np.isfinite(lc.mag).all() and (lc.err > 0).all() and np.all(np.diff(lc.time) > 0)
    assert lc.meta['time_ref'] == 'BJD_TDB'
    gz = read_lightcurve(tmp_path / (name + '.gz'))[0]
    np.testing.assert_array_equal(gz.mag, lc.mag)


def test_hlsp_periods_through_the_command_line(tmp_path):
    "`vartransfer features` on the HLSP files with no options: the generating period within 3%, counts in the rows."
    from vartransfer.cli.main import main
    out = tmp_path / 'f.parquet'
    assert main(['features', *[str(FIXTURES / n) for n in FILES], '-o', str(out)]) == 0
    f = pd.read_parquet(out)
    assert len(f) == len(FILES) and f['error'].isna().all()
    for name in FILES:
        period, flagged, nonpositive, nan = EXPECTED[name]
        row = f[f['source'].str.endswith(name)].iloc[0]
        assert row['n_points'] == N - flagged - nonpositive - nan, name
        np.testing.assert_allclose(row['period'], period, rtol=0.03, err_msg=name)


def test_time_references_and_ids():
    "BTJD, BKJD and full BJD all become reduced BJD_TDB; ids from OBJECT, TICID, TIC_ID."
    def first(name, col):
        with fits.open(FIXTURES / name) as h: return float(h[1].data[col][0])
    by = {product(n): read_tess_kepler(FIXTURES / n) for n in FILES}
    name = {product(n): n for n in FILES}
    for p, col, ref in (('TGLC', 'time', 2_457_000), ('eleanor', 'TIME', 2_457_000), ('TASOC', 'TIME', 2_457_000),
                        ('PATHOS', 'TIME', 2_457_000), ('K2SFF', 'T', 2_454_833), ('EVEREST', 'TIME', 2_454_833), ('CDIPS', 'TMID_BJD', 0)):
        np.testing.assert_allclose(by[p].time[0], first(name[p], col) + ref - 2_400_000, rtol=0, atol=1e-9, err_msg=p)
        assert by[p].meta['time_shift'] == ref - 2_400_000
    assert [by[p].id for p in ('TGLC', 'eleanor', 'TASOC', 'K2SFF', 'PATHOS')] == \
        ['TIC 229510866', 'TIC 25155310', 'TIC 260128333', 'EPIC 211089792', 'TIC 410214986']
    assert [p for p in by if by[p].meta['mission_inferred']] == ['eleanor', 'K2SFF', 'PATHOS']   # no TELESCOP in these headers


def test_flux_scales_and_errors():
    "Normalised, ppm and magnitude columns; errors scaled from the raw flux's, or absent and replaced."
    path = {product(n): FIXTURES / n for n in FILES}
    tasoc, raw = read_tess_kepler(path['TASOC']), read_tess_kepler(path['TASOC'], flux='FLUX_RAW')
    np.testing.assert_allclose(tasoc.mag - tasoc.mag.mean(), raw.mag - raw.mag.mean(), atol=1e-6)   # ppm = the raw light curve
    np.testing.assert_allclose(np.median(tasoc.mag), 20.44, atol=0.01)
    assert (tasoc.meta['normalised_flux'], raw.meta['normalised_flux']) == (True, False)
    d = fits.getdata(path['TASOC'], 1)
    ok = (d['QUALITY'] == 0) & (d['PIXEL_QUALITY'] == 0) & (d['FLUX_CORR'] > -1e6)
    np.testing.assert_allclose(tasoc.err, 2.5 / np.log(10) * d['FLUX_CORR_ERR'][ok] * 1e-6 / (1 + d['FLUX_CORR'][ok] * 1e-6), rtol=1e-9)
    for p, err, raw_col in (('eleanor', 'FLUX_ERR', 'RAW_FLUX'), ('EVEREST', 'FRAW_ERR', 'FRAW')):
        lc, d = read_tess_kepler(path[p]), fits.getdata(path[p], 1)
        ok = (d['QUALITY'] == 0) & (d[DEFAULT[p]] > 0)
        np.testing.assert_allclose(lc.err, 2.5 / np.log(10) * d[err][ok] / d[raw_col][ok], rtol=1e-9, err_msg=p)
        assert not lc.meta['errors_absent'] and lc.report['err_replaced'] == 0
    for p in ('TGLC', 'K2SFF', 'PATHOS'):
        lc = read_tess_kepler(path[p])
        assert lc.meta['errors_absent'] and lc.report['err_replaced'] == len(lc), p
        np.testing.assert_allclose(lc.err, np.std(lc.mag), rtol=1e-12)
    assert [read_tess_kepler(path[p]).meta['normalised_flux'] for p in ('TGLC', 'K2SFF', 'PATHOS')] == [True, True, False]
    cdips, d = read_tess_kepler(path['CDIPS']), fits.getdata(path['CDIPS'], 1)
    ok = (np.char.strip(d['IRQ1']) == 'G') & np.isfinite(d['IRM1'])
    np.testing.assert_array_equal(cdips.mag, d['IRM1'][ok])
    np.testing.assert_array_equal(cdips.err, d['IRE1'][ok])
    assert cdips.meta['zero_point'] is None
    tfa = read_tess_kepler(path['CDIPS'], flux='tfa2')
    assert tfa.meta['flux_column'] == 'TFA2' and tfa.report['quality_rejected'] == EXPECTED[path['CDIPS'].name][1]   # IRQ2's flags
    psf = read_tess_kepler(path['TGLC'], flux='cal_psf_flux')
    assert psf.meta['flux_column'] == 'CAL_PSF_FLUX' and len(psf) == len(read_tess_kepler(path['TGLC']))
    assert read_tess_kepler(path['TGLC'], quality_bitmask=0).report['quality_rejected'] == 0


@pytest.mark.parametrize('name', FILES)
def test_missing_flux_column_is_one_line(name, tmp_path):
    "A recognised product without the asked-for or the default flux column: one line naming the columns it has."
    p = product(name)
    with pytest.raises(LightCurveError) as e: read_tess_kepler(FIXTURES / name, flux='NO_SUCH_FLUX')
    msg = str(e.value)
    assert "\n" not in msg and f"{p} file: missing column(s) ['NO_SUCH_FLUX']; have [" in msg and DEFAULT[p] in msg
    if p == 'PATHOS': return                                # recognised by its flux columns: without them it is no PATHOS file
    with fits.open(FIXTURES / name) as h:                  # the same file without any of its flux columns
        hdus = [h[0].copy()] + [fits.BinTableHDU.from_columns(
            [c for c in hh.columns if c.name.upper() not in make_flux_columns(p)], header=hh.header.copy(), name=hh.name)
            if isinstance(hh, fits.BinTableHDU) else hh.copy() for hh in h[1:]]
        fits.HDUList(hdus).writeto(tmp_path / name)
    assert guess_format(tmp_path / name) == 'tess_kepler'
    with pytest.raises(LightCurveError) as e: read_lightcurve(tmp_path / name)
    msg = str(e.value)
    assert "\n" not in msg and f"missing column(s) ['{DEFAULT[p]}']; have [" in msg, msg


def make_flux_columns(p):
    from vartransfer.io.space import PRODUCTS
    return next(q.flux for q in PRODUCTS if q.name == p)


@pytest.mark.parametrize('name', FILES)
def test_truncated_hlsp_is_one_line(name, tmp_path):
    "A cut download (seeded places, in the header and in the table) is a one-line LightCurveError naming the file."
    raw = (FIXTURES / name).read_bytes()
    rng = random.Random(name)
    for k, cut in enumerate([2_000, 2_880 + 1_000, *(rng.randrange(2_880 * 2, len(raw) - 100) for _ in range(3))]):
        path = tmp_path / f"{k}_{name}"
        path.write_bytes(raw[:cut])
        with pytest.raises(LightCurveError) as e: read_tess_kepler(path)
        msg = str(e.value)
        assert "\n" not in msg and path.name in msg and "truncated or corrupt FITS file" in msg, msg


def test_hlsp_fixtures_are_in_the_damage_test():
    "tests/test_hostile.py damages every fixtures/*.* file: the HLSP files are among them."
    hostile = (Path(__file__).parent / "test_hostile.py").read_text()
    assert 'fixtures.glob("*.*")' in hostile
    assert all((FIXTURES / n) in set(FIXTURES.glob("*.*")) for n in FILES)


def test_relative_flux_about_zero_is_refused(tmp_path):
    "A flux column about zero (relative flux of an unknown product version) is refused, not turned into magnitudes."
    t = np.arange(100.)
    fits.HDUList([fits.PrimaryHDU(header=fits.Header([('ORIGIN', 'TASOC/Aarhus')])),
                  fits.BinTableHDU.from_columns([fits.Column('TIME', 'D', array=t),
                                                 fits.Column('FLUX_RAW', 'D', array=np.random.default_rng(3).normal(0, 500, 100))],
                                                name='LIGHTCURVE')]).writeto(tmp_path / 'rel.fits')
    with pytest.raises(LightCurveError, match=r"rel\.fits: FLUX_RAW: \d+ of 100 values at or below zero: relative fluxes about zero"):
        read_tess_kepler(tmp_path / 'rel.fits')


LIGHTKURVE = {'lightkurve_tess.csv': ('lightkurve_tess', 'TESS', 0.37), 'lightkurve_tess.parquet': ('lightkurve_tess', 'TESS', 0.37),
              'lightkurve_kepler.ecsv': ('KIC 9832227', 'Kepler', 1.12)}   # written by lightkurve 2.6 (make_fixtures_lightkurve.py)


def test_lightkurve_files_through_the_command_line(tmp_path):
    "lightkurve's to_csv, to_pandas (parquet) and write (ECSV): guessed, read with no options, periods within 1%, flags counted."
    from vartransfer.cli.main import main
    for name in LIGHTKURVE: assert guess_format(FIXTURES / name) == 'lightkurve', name
    out = tmp_path / 'f.parquet'
    assert main(['features', *[str(FIXTURES / n) for n in LIGHTKURVE], '-o', str(out), '-q']) == 0
    f = pd.read_parquet(out)
    assert len(f) == 3 and f['error'].isna().all()
    for name, (star, band, period) in LIGHTKURVE.items():
        row = f[f['source'].str.endswith(name)].iloc[0]
        assert (row['id'].split('@')[0], row['band']) == (star, band), name   # the two TESS files share a star: ids made unique
        np.testing.assert_allclose(row['period'], period, rtol=0.01, err_msg=name)
        lc = read_lightkurve(FIXTURES / name)
        assert (lc.report['quality_rejected'], lc.report['nonpositive_flux_dropped'], lc.report['nonfinite_dropped']) == (4, 1, 1), name
        assert row['n_points'] == len(lc) == (1000 if band == 'TESS' else 600) - 6, name


def test_lightkurve_normalised_and_relative_fluxes(tmp_path):
    "lc.normalize() (flux about 1) reads to the same magnitudes up to an offset; a flux about zero (e.g. lc.remove_nans() - 1) is refused."
    raw = pd.read_csv(FIXTURES / 'lightkurve_tess.csv')
    norm = raw.assign(flux=raw['flux'] / raw['flux'].median(), flux_err=raw['flux_err'] / raw['flux'].median())
    norm.to_csv(tmp_path / 'norm.csv', index=False)
    a, b = read_lightcurve(FIXTURES / 'lightkurve_tess.csv')[0], read_lightcurve(tmp_path / 'norm.csv')[0]
    assert b.meta['normalised_flux'] and not a.meta['normalised_flux']
    np.testing.assert_allclose(b.mag - b.mag.mean(), a.mag - a.mag.mean(), atol=1e-9)
    np.testing.assert_allclose(b.err, a.err, rtol=1e-9)
    raw.assign(flux=raw['flux'] - raw['flux'].median()).to_csv(tmp_path / 'rel.csv', index=False)
    with pytest.raises(LightCurveError, match=r"rel\.csv: flux: \d+ of \d+ values at or below zero: relative fluxes about zero"):
        read_lightcurve(tmp_path / 'rel.csv')


def test_truncated_lightkurve_fits_is_one_line(tmp_path):
    "A cut download of a FITS file lightkurve wrote (to_fits, to_table().write) is a one-line LightCurveError naming the file."
    for name in ('lightkurve_tess_to_fits.fits', 'lightkurve_to_table.fits'):
        raw = (FIXTURES / 'surveys' / name).read_bytes()
        for cut in (2_880 + 1_000, len(raw) // 2, len(raw) - 100):
            path = tmp_path / f"{cut}_{name}"
            path.write_bytes(raw[:cut])
            with pytest.raises(LightCurveError) as e: read_lightkurve(path)
            msg = str(e.value)
            assert "\n" not in msg and path.name in msg and "truncated or corrupt FITS file" in msg, msg

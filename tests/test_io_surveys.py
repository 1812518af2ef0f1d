"""Survey files read through `read_lightcurve` and the CLI: TESS QLP, Gaia DR2 epoch photometry, Rubin DP0.2 DiaSource,
SuperWASP (NASA Exoplanet Archive) and DASCH DR6; a Gaia DR3 bulk epoch-photometry file (ECSV, one row per source) and
OGLE star files copied flat with the band in the name; a Kepler SPOC file (flags in SAP_QUALITY), the FITS files lightkurve
writes (`to_fits`, `to_table().write`), a Gaia Science Alerts light curve, SkyPortal/Fritz photometry (CSV, JSON) and a
VIRAC2 time series.

Fixtures in tests/fixtures/surveys/ are written by tests/fixtures/make_fixtures_surveys.py (synthetic pulsators of known
period in the published layouts); its `build` returns each file's expected curves.
"""
import contextlib
import filecmp
import gzip
import shutil
import importlib.util
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vartransfer.cli.main import main
from vartransfer.io import read as io_read
from vartransfer.io.core import list_formats
from vartransfer.io.read import guess_format, read_lightcurve
from vartransfer.periods import find_period

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SURVEYS = FIXTURES / "surveys"
_spec = importlib.util.spec_from_file_location("make_fixtures_surveys", FIXTURES / "make_fixtures_surveys.py")
make = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(make)
FORMAT = {'hlsp_qlp_tess_ffi_s0010-0000000012345678_tess_v01_llc.fits': 'tess_kepler',
          'EPOCH_PHOTOMETRY-Gaia DR2 4111834567779557376.csv': 'gaia', 'dp02_diasource.csv': 'rubin',
          '1SWASPJ000012.34+123456.7_lc.tbl': 'superwasp', 'dasch_short_HD_12345_APASS.csv': 'dasch',
          make.KEPLER_SPOC: 'tess_kepler', **dict.fromkeys([*make.LK_TO_FITS, make.LK_TO_TABLE], 'lightkurve'),
          make.GAIA_ALERT: 'gaia_alerts', make.FRITZ_CSV: 'table', make.FRITZ_JSON: 'table', make.VIRAC2: 'table'}
SURVEY = {'tess_kepler': 'TESS', 'gaia': 'Gaia DR2', 'rubin': 'Rubin', 'superwasp': 'SuperWASP', 'dasch': 'DASCH'}
DROPPED = {'tess_kepler': 'quality_rejected', 'gaia': 'variability_rejected', 'rubin': None, 'superwasp': 'flag_rejected',
           'dasch': 'aflags_rejected'}
SNIFFED_FROM_IPAC = 'superwasp' in io_read._BY_COLUMNS   # an IPAC table's format is told by `_BY_COLUMNS` (io/read)


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    "The generator's table, and a check that the committed fixtures are its output."
    out = tmp_path_factory.mktemp("surveys")
    table = make.build(out)
    assert sorted(table) == sorted(FORMAT) == sorted(p.name for p in SURVEYS.iterdir() if p.is_file())
    files = sorted(p.relative_to(out) for p in out.rglob('*') if p.is_file())
    assert files == sorted(p.relative_to(SURVEYS) for p in SURVEYS.rglob('*') if p.is_file())   # gaia_bulk/, ogle_flat/ too
    for name in files:
        assert filecmp.cmp(out / name, SURVEYS / name, shallow=False), f"{name} differs from make_fixtures_surveys.py's output"
        assert (SURVEYS / name).stat().st_size < 100_000
    return table


def period_close(period, want, lc):
    "The period search's answer within its frequency grid step (1 / (3 × baseline)) of the true one."
    step = 1 / (3 * np.ptp(lc.time))
    return abs(1 / period - 1 / want) <= step


@pytest.mark.parametrize('name', sorted(FORMAT))
def test_read_lightcurve(name, expected):
    fmt = FORMAT[name]
    curves = read_lightcurve(SURVEYS / name, format=fmt)
    want = expected[name]
    assert sorted(curves.keys) == sorted((w['id'], w['band']) for w in want)
    got = {(lc.id, lc.band): lc for lc in curves}
    meta = curves.meta                                    # indexed by (id, band)
    for w in want:
        lc = got[w['id'], w['band']]
        assert lc.survey == (w['survey'] if 'survey' in w else SURVEY[fmt])
        assert len(lc) == w['n']
        np.testing.assert_allclose([lc.time.min(), lc.time.max()], [w['jd_lo'] - 2_400_000, w['jd_hi'] - 2_400_000], atol=1e-5)
        dropped = w['dropped_key'] if 'dropped_key' in w else DROPPED[fmt]
        if dropped: assert meta.loc[(w['id'], w['band']), dropped] == w['dropped']
        assert period_close(find_period(lc.time, lc.mag).period, w['period'], lc)


@pytest.mark.parametrize('name', sorted(FORMAT))
def test_guess_format(name):
    if FORMAT[name] == 'superwasp' and not SNIFFED_FROM_IPAC:
        pytest.xfail("an IPAC table's survey is told by io/read's _BY_COLUMNS, which lacks 'superwasp' (nbs/01f_io_read.ipynb)")
    assert guess_format(SURVEYS / name) == FORMAT[name]


def test_new_formats_listed():
    formats = list_formats()
    assert {'superwasp', 'dasch'} <= set(formats.index)
    assert formats.loc['superwasp', 'reader'] == 'read_superwasp' and formats.loc['dasch', 'reader'] == 'read_dasch'


def test_qlp_normalised_sap_flux():
    lc = read_lightcurve(SURVEYS / 'hlsp_qlp_tess_ffi_s0010-0000000012345678_tess_v01_llc.fits')[0]
    assert (lc.meta['product'], lc.meta['flux_column'], lc.meta['normalised_flux']) == ('QLP', 'SAP_FLUX', True)
    assert abs(np.median(lc.mag) - 20.44) < 0.05                          # normalised flux: magnitudes about the zero point
    kspsap = read_lightcurve(SURVEYS / 'hlsp_qlp_tess_ffi_s0010-0000000012345678_tess_v01_llc.fits', flux='kspsap_flux')[0]
    assert kspsap.meta['flux_column'] == 'KSPSAP_FLUX' and np.ptp(lc.mag - kspsap.mag) > 0.005   # SAP keeps the slow trend


def test_gaia_release_from_name_or_solution_id(tmp_path):
    src = SURVEYS / 'EPOCH_PHOTOMETRY-Gaia DR2 4111834567779557376.csv'
    renamed = tmp_path / 'epoch_photometry.csv'; renamed.write_bytes(src.read_bytes())
    assert read_lightcurve(renamed).meta['survey'].unique().tolist() == ['Gaia DR2']
    dr3 = tmp_path / 'epoch_photometry_dr3.csv'
    dr3.write_text(src.read_text().replace(str(make.GAIA_DR2_SOLUTION), '375316653866487564'))
    assert read_lightcurve(dr3).meta['survey'].unique().tolist() == ['Gaia DR3']
    assert read_lightcurve(FIXTURES / 'gaia_dr3_epoch_long.csv').meta['survey'].unique().tolist() == ['Gaia DR3']


def test_rubin_dp02_difference_flux_refused(tmp_path):
    df = pd.read_csv(SURVEYS / 'dp02_diasource.csv').drop(columns=['totFlux', 'totFluxErr'])
    f = tmp_path / 'dp02_diff_only.csv'; df.to_csv(f, index=False)
    with pytest.raises(Exception, match="psFlux of a DiaSource/DiaForcedSource table is the difference-image flux"):
        read_lightcurve(f, format='rubin')


def test_dasch_kept_and_rejected_bits():
    lc = read_lightcurve(SURVEYS / 'dasch_short_HD_12345_APASS.csv')
    raw = pd.read_csv(SURVEYS / 'dasch_short_HD_12345_APASS.csv')
    bad = (raw['AFLAGS'] & sum(make.DASCH_BAD)) != 0
    assert lc.meta['aflags_rejected'].item() == bad.sum() == 4
    assert len(lc[0]) == (~bad).sum() and ((raw['AFLAGS'] == 524288) & ~bad).sum() == 2   # bit 20 alone: kept


@pytest.mark.parametrize('name', sorted(FORMAT))
def test_cli_features(name, expected, tmp_path):
    out = tmp_path / 'out.csv'
    fmt = [] if FORMAT[name] != 'superwasp' or SNIFFED_FROM_IPAC else ['--format', 'superwasp']
    err = io.StringIO()
    with contextlib.redirect_stderr(err): code = main(['features', str(SURVEYS / name), '-o', str(out), '-q', *fmt])
    assert code == 0, err.getvalue()[-2000:]
    table = pd.read_csv(out, dtype={'id': str})
    want = expected[name]
    assert sorted(zip(table['id'], table['band'])) == sorted((w['id'], w['band']) for w in want)
    for w in want:
        row = table[(table['id'] == w['id']) & (table['band'] == w['band'])].iloc[0]
        assert abs(1 / row['period'] - 1 / w['period']) <= 1 / (3 * (w['jd_hi'] - w['jd_lo'])) + 1e-9


# ---------------------------------------------------------------- Gaia DR3 bulk files (ECSV, one row per source)
GAIA_BULK = SURVEYS / 'gaia_bulk' / 'EpochPhotometry_000000-003111.csv.gz'


def test_gaia_bulk_sources_fail_alone(expected):
    "A source without BP/RP says so; one with inconsistent BP cells fails that band only; the others are read."
    full, none, bad = (str(s) for s in (make.GAIA_BULK_FULL, make.GAIA_BULK_NO_COLOUR, make.GAIA_BULK_BAD))
    assert guess_format(GAIA_BULK) == 'gaia'
    curves = read_lightcurve(GAIA_BULK, errors='skip')
    assert curves.keys == [(full, 'BP'), (full, 'G'), (full, 'RP'), (none, 'G'), (bad, 'G'), (bad, 'RP')]
    n = make.GAIA_BULK_N
    assert [len(curves[full, b]) for b in ('G', 'BP', 'RP')] == [n - len(make.GAIA_BULK_G_REJECTED), n - len(make.GAIA_BULK_BP_REJECTED), n]
    assert curves.meta.loc[(full, 'G'), 'variability_rejected'] == len(make.GAIA_BULK_G_REJECTED)
    assert curves[full, 'G'].mag.max() < 16.0 + 0.25 * 1.3 + 1e-3                 # the rejected (+1 mag) transits are gone
    reasons = sorted(r.split(': ', 1)[1] for r in curves.skipped.values())
    assert reasons == sorted([f'source {bad} band BP: a flag array has 21 values, expected 0',
                              f'source {none} band BP: no BP data', f'source {none} band RP: no RP data'])
    with pytest.raises(Exception, match=f'source {none} band BP: no BP data'):
        read_lightcurve(GAIA_BULK)


@pytest.mark.parametrize('spelling', [('true', 'false'), ('""True""', '""False""'), ('True', 'False'), ('TRUE', 'false'), ('1', '0')],
                         ids=['json', 'quoted', 'python', 'upper', 'digits'])
def test_gaia_bulk_flag_spellings(spelling, expected, tmp_path):
    "Flag arrays spelled as quoted strings, Python bools, upper case or 1/0 read as the JSON true/false of ESA's files."
    full = str(make.GAIA_BULK_FULL)
    lines = [l for l in gzip.decompress(GAIA_BULK.read_bytes()).decode().splitlines()
             if not l.startswith(('375316653866487564,' + str(make.GAIA_BULK_NO_COLOUR), '375316653866487564,' + str(make.GAIA_BULK_BAD)))]
    text = '\n'.join(lines) + '\n'                                          # the full source alone
    (tmp_path / 'json').mkdir(); (tmp_path / 'json' / GAIA_BULK.name).write_bytes(gzip.compress(text.encode()))
    f = tmp_path / GAIA_BULK.name; f.write_bytes(gzip.compress(text.replace('true', spelling[0]).replace('false', spelling[1]).encode()))
    got, want = read_lightcurve(f), read_lightcurve(tmp_path / 'json' / GAIA_BULK.name)
    assert got.keys == [(full, 'BP'), (full, 'G'), (full, 'RP')]
    assert [len(lc) for lc in got] == [make.GAIA_BULK_N - 2, make.GAIA_BULK_N - 4, make.GAIA_BULK_N]
    pd.testing.assert_frame_equal(got.data, want.data)


def test_gaia_bulk_astropy_arrays_read_alike(expected):
    "The same table as astropy gives it (masked bool and float arrays, masked missing cells) reads like the text."
    from astropy.table import Table
    from vartransfer.io.core import _table_frame
    from vartransfer.io.ztf import read_gaia_epoch
    df = _table_frame(Table.read(gzip.decompress(GAIA_BULK.read_bytes()).decode(), format='ascii.ecsv'))
    with pytest.warns(UserWarning, match='skipped 3 light curve'): got = read_gaia_epoch(df, errors='skip')
    pd.testing.assert_frame_equal(got.data, read_lightcurve(GAIA_BULK, errors='skip').data)


def test_gaia_bulk_cli_keeps_the_good_sources(expected, tmp_path):
    out = tmp_path / 'out.csv'
    err = io.StringIO()
    with contextlib.redirect_stderr(err): code = main(['features', str(GAIA_BULK.parent), '-o', str(out), '-q'])
    assert code == 0, err.getvalue()[-2000:]
    table = pd.read_csv(out, dtype={'id': str})
    ok = table[table['error'].isna()] if 'error' in table else table
    assert len(ok) == 6 and len(table) - len(ok) == 3
    assert 'no BP data' in err.getvalue() and 'valid point' not in err.getvalue()


# ---------------------------------------------------------------- OGLE star files copied flat, the band in the name
@pytest.mark.parametrize('sep', ['_', '.', '-'])
def test_ogle_flat_band_from_name(sep, expected, tmp_path):
    star = make.OGLE_FLAT_STAR
    for band in make.OGLE_FLAT_N:
        shutil.copy(SURVEYS / 'ogle_flat' / f'{star}_{band}.dat', tmp_path / f'{star}{sep}{band}.dat')
    for band, n in make.OGLE_FLAT_N.items():
        f = tmp_path / f'{star}{sep}{band}.dat'
        assert guess_format(f) == 'ogle'
        lc = read_lightcurve(f)[0]
        assert (lc.id, lc.band, len(lc), lc.survey) == (star, band, n, 'OGLE')
    out = tmp_path / 'out.csv'
    assert main(['features', str(tmp_path), '-o', str(out), '-q']) == 0
    table = pd.read_csv(out, dtype={'id': str})
    assert sorted(zip(table['id'], table['band'])) == [(star, 'I'), (star, 'V')]


def test_ogle_folder_layout_still_gives_the_band(expected, tmp_path):
    star = make.OGLE_FLAT_STAR
    for band in make.OGLE_FLAT_N:
        (tmp_path / 'phot' / band).mkdir(parents=True)
        shutil.copy(SURVEYS / 'ogle_flat' / f'{star}_{band}.dat', tmp_path / 'phot' / band / f'{star}.dat')
    out = tmp_path / 'out.csv'
    assert main(['features', str(tmp_path / 'phot'), '-o', str(out), '-q']) == 0
    table = pd.read_csv(out, dtype={'id': str})
    assert sorted(zip(table['id'], table['band'], table['n_points'])) == [(star, 'I', 40), (star, 'V', 12)]


# ---------------------------------------------------------------- Kepler SAP_QUALITY, lightkurve's FITS files
def test_kepler_sap_quality_rejects(expected, tmp_path):
    "A Kepler SPOC file keeps its flags in SAP_QUALITY: the flagged cadences are dropped and counted, as TESS's QUALITY ones."
    from astropy.io import fits
    path = SURVEYS / make.KEPLER_SPOC
    curves = read_lightcurve(path)
    bkjd = fits.getdata(path, 1)['TIME']
    assert curves.meta['quality_rejected'].item() == len(make.KEPLER_SPOC_FLAGS) == 6
    assert not np.isin(np.round(curves[0].time, 6), np.round(bkjd[list(make.KEPLER_SPOC_FLAGS)] + 54_833, 6)).any()
    assert read_lightcurve(path, quality_bitmask=128).meta['quality_rejected'].item() == 2   # bit 8 only (cadences 50, 51)
    assert read_lightcurve(path, quality_bitmask=0).meta['quality_rejected'].item() == 0
    out = tmp_path / 'f.csv'
    assert main(['features', str(path), '-o', str(out), '-q']) == 0
    row = pd.read_csv(out).iloc[0]                                   # 600 cadences: 6 flagged, 2 without flux
    assert (row['id'], row['n_points'], row['nonfinite_dropped'], row['other_dropped']) == ('KIC 1234567', 592, 2, 6)   # flags: counted


def test_lightkurve_fits_ids_and_times(expected):
    "lightkurve's to_fits and to_table().write: read without options; a TESS file's bare OBJECT number is the SPOC file's 'TIC n'."
    from vartransfer.io.space import read_tess_kepler
    spoc = read_lightcurve(FIXTURES / 'tess_spoc_lc.fits')[0].id
    tess = read_lightcurve(SURVEYS / 'lightkurve_tess_to_fits.fits')[0]
    assert tess.id == spoc == 'TIC 261136679' == read_tess_kepler(SURVEYS / 'lightkurve_tess_to_fits.fits').id
    assert read_lightcurve(SURVEYS / make.LK_TO_TABLE)[0].id == spoc
    plain = read_lightcurve(SURVEYS / 'lightkurve_lc_to_fits.fits').meta.reset_index().iloc[0]
    assert (plain['id'], plain['survey'], plain['mission_inferred'], plain['time_ref']) == ('lightkurve_lc_to_fits', 'TESS', False, 'BJD_TDB')
    kepler = read_lightcurve(SURVEYS / 'lightkurve_kepler_to_fits.fits').meta.reset_index().iloc[0]
    assert (kepler['id'], kepler['survey'], kepler['quality_rejected']) == ('KIC 9832227', 'Kepler', 4)
    table = read_lightcurve(SURVEYS / make.LK_TO_TABLE).meta.iloc[0]
    assert (table['time_format'], table['quality_rejected'], table['nonfinite_dropped']) == ('time + 0.0 (jd)', 3, 2)


# ---------------------------------------------------------------- Gaia Science Alerts
def test_gaia_alerts_layouts(expected, tmp_path):
    "With or without the name line or the '#': the same points; the id from the name line, else the file name; untrusted/null counted."
    text = (SURVEYS / make.GAIA_ALERT).read_text()
    files = {'lightcurve.csv': text, 'Gaia17bcd_lightcurve.csv': text.split('\n', 1)[1], 'gsa_plain.csv': text.split('\n', 1)[1].lstrip('#')}
    for name, body in files.items(): (tmp_path / name).write_text(body)
    got = {name: read_lightcurve(tmp_path / name) for name in files}
    assert all(guess_format(tmp_path / name) == 'gaia_alerts' for name in files)
    assert [c.ids for c in got.values()] == [['Gaia17bcd'], ['Gaia17bcd'], ['gsa_plain']]
    for c in got.values():
        np.testing.assert_array_equal(c[0].mag, got['lightcurve.csv'][0].mag)
        m = c.meta.iloc[0]
        assert (m['untrusted_dropped'], m['no_magnitude_dropped']) == (len(make.GAIA_ALERT_UNTRUSTED), len(make.GAIA_ALERT_NULL))
        assert (m['time_ref'], m['errors_absent'], m['err_replaced']) == ('JD_TCB', True, len(c[0]))
    out = tmp_path / 'f.csv'
    assert main(['features', str(tmp_path / 'gsa_plain.csv'), '-o', str(out), '-q']) == 0
    row = pd.read_csv(out).iloc[0]
    assert (row['id'], row['band'], row['other_dropped'], row['nonfinite_dropped']) == ('gsa_plain', 'G', 6, 0)


# ---------------------------------------------------------------- SkyPortal / Fritz photometry
@pytest.mark.parametrize('name', [make.FRITZ_CSV, make.FRITZ_JSON])
def test_skyportal_nondetections_are_not_losses(name, expected, tmp_path):
    "The per-point `id` is no star id (one star per obj_id); rows without mag but with limiting_mag are counted apart, no loss note."
    out, err = tmp_path / 'f.csv', io.StringIO()
    with contextlib.redirect_stderr(err): code = main(['features', str(SURVEYS / name), '-o', str(out)])
    assert code == 0, err.getvalue()[-2000:]
    table = pd.read_csv(out)
    assert sorted(zip(table['id'], table['band'])) == [(make.FRITZ_STAR, 'ztfg'), (make.FRITZ_STAR, 'ztfr')]
    assert table['nonfinite_dropped'].tolist() == [0, 0] and table['other_dropped'].tolist() == [make.FRITZ_NONDETECTIONS] * 2
    assert 'lost more than' not in err.getvalue() and 'row ids' not in err.getvalue()


def test_skyportal_without_obj_id_is_one_star(expected, tmp_path):
    "The web page's table without obj_id: the unique `id` column is a row id, passed over with a warning; the file names the star."
    f = tmp_path / 'fritz_ui.csv'
    pd.read_csv(SURVEYS / make.FRITZ_CSV).drop(columns='obj_id').to_csv(f, index=False)
    with pytest.warns(UserWarning, match=r"column 'id' has a different value on every row: row ids, not star ids; read as one star, 'fritz_ui'"):
        curves = read_lightcurve(f)
    assert curves.keys == [('fritz_ui', 'ztfg'), ('fritz_ui', 'ztfr')]
    assert curves.meta['upper_limits_dropped'].tolist() == [make.FRITZ_NONDETECTIONS] * 2
    with pytest.raises(Exception, match="1 valid point"): read_lightcurve(f, id='id')   # named: taken as asked

"""Faithful reference implementation of the original UPSILoN feature extractor.

Reproduces, step by step, the algorithm of UPSILoN (Kim & Bailer-Jones 2016,
github.com/dwkim78/upsilon, `upsilon/extract_features/extract_features.py` and
`period_LS_pyfftw.py`) as reused unchanged by UPSILoN-T (Kim et al. 2021,
`upsilont/features/variability_features.py`), which computed the features the released
UPSILoN-T network was trained on:

- period search with the Numerical Recipes `fasper` (Press & Rybicki 1989): extirpolation of the
  data onto a regular grid by Lagrange interpolation (`MACC = 4` points per 1/4 cycle, one Python
  call per observation, as in the original) followed by two complex FFTs (numpy's, the original's
  fallback when pyfftw is absent);
- the 3-harmonic Fourier fit by `scipy.optimize.leastsq` from an initial guess of ones;
- every other feature with the original formulas, quirks included.

This file is a benchmark baseline and a parity oracle; it is not part of the vartransfer package.
Usage: `reference_features(time, mag, err)` -> dict of the 24 UPSILoN features.
"""
import numpy as np
import scipy.stats as ss
from scipy.optimize import leastsq

__all__ = ['fasper', 'significance', 'reference_features', 'FEATURE_NAMES', 'ALL_FEATURE_NAMES']

FEATURE_NAMES = sorted(['amplitude', 'hl_amp_ratio', 'kurtosis', 'period', 'phase_cusum', 'phase_eta',
                        'phi21', 'phi31', 'quartile31', 'r21', 'r31', 'shapiro_w', 'skewness',
                        'slope_per10', 'slope_per90', 'stetson_k'])
ALL_FEATURE_NAMES = sorted(FEATURE_NAMES + ['cusum', 'eta', 'n_points', 'period_SNR', 'period_log10FAP',
                                            'period_uncertainty', 'weighted_mean', 'weighted_std'])

_FACTORIALS = [0, 1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880]


def _spread(y, yy, n, x, m):
    "Extirpolate value `y` into `m` elements of `yy` around the fractional index `x` (Lagrange weights)."
    ix = int(x)
    if x == float(ix):
        yy[ix] = yy[ix] + y
        return
    ilo = int(x - 0.5 * float(m) + 1.0)
    ilo = min(max(ilo, 1), n - m + 1)
    ihi = ilo + m - 1
    nden = _FACTORIALS[m]
    fac = x - ilo
    for j in range(ilo + 1, ihi + 1): fac = fac * (x - j)
    yy[ihi] = yy[ihi] + y * fac / (nden * (x - ihi))
    for j in range(ihi - 1, ilo - 1, -1):
        nden = (nden / (j + 1 - ilo)) * (j - ihi)
        yy[j] = yy[j] + y * fac / (nden * (x - j))


def fasper(x, y, ofac, hifac, MACC=4):
    """Press & Rybicki fast Lomb periodogram (Numerical Recipes `fasper`), as in UPSILoN.

    Returns frequencies `wk1` (k / (ofac * T), k = 1..nout), the Lomb-normalised power `wk2`
    (divided by twice the sample variance), `nout`, `jmax` and the peak's false-alarm probability."""
    n = len(x)
    nout = int(0.5 * ofac * hifac * n)
    nfreqt = int(ofac * hifac * n * MACC)
    nfreq = 64
    while nfreq < nfreqt: nfreq = 2 * nfreq
    ndim = int(2 * nfreq)
    ave = y.mean()
    var = ((y - y.mean()) ** 2).sum() / (len(y) - 1)
    xmin, xmax = x.min(), x.max()
    xdif = xmax - xmin
    wk1 = np.zeros(ndim, dtype='complex')
    wk2 = np.zeros(ndim, dtype='complex')
    fac = ndim / (xdif * ofac)
    fndim = ndim
    ck = ((x - xmin) * fac) % fndim
    ckk = (2.0 * ck) % fndim
    for j in range(n):
        _spread(y[j] - ave, wk1, ndim, ck[j], MACC)
        _spread(1.0, wk2, ndim, ckk[j], MACC)
    wk1 = np.fft.ifft(wk1) * len(wk1)
    wk2 = np.fft.ifft(wk2) * len(wk1)
    wk1, wk2 = wk1[1:nout + 1], wk2[1:nout + 1]
    rwk1, iwk1, rwk2, iwk2 = wk1.real, wk1.imag, wk2.real, wk2.imag
    df = 1.0 / (xdif * ofac)
    hypo2 = 2.0 * np.abs(wk2)
    hc2wt, hs2wt = rwk2 / hypo2, iwk2 / hypo2
    cwt = np.sqrt(0.5 + hc2wt)
    swt = np.sign(hs2wt) * np.sqrt(0.5 - hc2wt)
    den = 0.5 * n + hc2wt * rwk2 + hs2wt * iwk2
    cterm = (cwt * rwk1 + swt * iwk1) ** 2. / den
    sterm = (cwt * iwk1 - swt * rwk1) ** 2. / (n - den)
    wk1 = df * (np.arange(nout, dtype='float') + 1.)
    wk2 = (cterm + sterm) / (2.0 * var)
    pmax, jmax = wk2.max(), wk2.argmax()
    expy = np.exp(-pmax)
    effm = 2.0 * nout / ofac
    prob = effm * expy
    if prob > 0.01: prob = 1.0 - (1.0 - expy) ** effm
    return wk1, wk2, nout, jmax, prob


def significance(wk1, wk2, nout, ofac):
    "False-alarm probability of every periodogram value (UPSILoN's `significance`)."
    expy = np.exp(-wk2)
    effm = 2.0 * nout / ofac
    sig = effm * expy
    ind = (sig > 0.01).nonzero()
    sig[ind] = 1.0 - (1.0 - expy[ind]) ** effm
    return sig


def _period_uncertainty(fx, fy, jmax, fx_width=100):
    "Half width (in period) of the peak down to median + std of the power within +-100 bins."
    start, end = max(jmax - fx_width, 0), min(jmax + fx_width, len(fx) - 1)
    fx_s, fy_s = fx[start:end], fy[start:end]
    level = np.median(fy_s) + np.std(fy_s)
    imax = np.argmax(fy_s)
    index = np.where(fy_s <= level)[0]
    left = index[index < imax]
    left = 0 if len(left) == 0 else left[-1]
    right = index[index > imax]
    right = len(fy_s) - 1 if len(right) == 0 else right[0]
    return (1. / fx_s[left] - 1. / fx_s[right]) / 2.


def _fourier_series(pars, x, order):
    total = pars[0]
    for i in range(order):
        total = total + pars[i * 2 + 1] * np.sin(2 * np.pi * (i + 1) * x) \
                      + pars[i * 2 + 2] * np.cos(2 * np.pi * (i + 1) * x)
    return total


def _residuals(pars, x, y, order): return y - _fourier_series(pars, x, order)


def _stetson_k(mag, avg, err):
    residual = (mag - avg) / err
    return np.sum(np.fabs(residual)) / np.sqrt(np.sum(residual * residual)) / np.sqrt(len(mag))


def _hl_amp_ratio(mag, avg, weight):
    lower = mag > avg
    lower_std = np.sum((mag[lower] - avg) ** 2 * weight[lower]) / np.sum(weight[lower])
    higher = mag <= avg
    higher_std = np.sum((mag[higher] - avg) ** 2 * weight[higher]) / np.sum(weight[higher])
    return np.sqrt(lower_std / higher_std)


def _eta(mag, std):
    diff = mag[1:] - mag[:len(mag) - 1]
    return np.sum(diff * diff) / (len(mag) - 1.) / std / std


def _slope_percentile(date, mag):
    date_diff = date[1:] - date[:len(date) - 1]
    mag_diff = mag[1:] - mag[:len(mag) - 1]
    index = np.where(mag_diff != 0.)
    slope = date_diff[index] / mag_diff[index]
    return np.percentile(slope, 10.), np.percentile(slope, 90.)


def _cusum(mag, weighted_mean, weighted_std):
    c = np.cumsum(mag - weighted_mean) / len(mag) / weighted_std
    return np.max(c) - np.min(c)


def reference_features(date, mag, err=None, min_period=0.03):
    "The 24 UPSILoN features of one light curve, computed exactly as the original code does."
    date, mag = np.asarray(date, float), np.asarray(mag, float)
    err = np.ones(len(mag)) * np.std(mag) if err is None else np.array(err, float)
    if not (len(date) == len(mag) == len(err)): raise RuntimeError('The length of date, mag, and err must be same.')
    min_period = float(min_period) if min_period > 0 else 0.03
    f = {}
    # shallow run
    f['n_points'] = len(date)
    if not err.any(): err = np.ones(len(mag)) * np.std(mag)
    elif not err.all(): np.putmask(err, err == 0, np.median(err))
    weight = 1. / err
    weighted_sum = np.sum(weight)
    median = np.median(mag)
    wmean = np.sum(mag * weight) / weighted_sum
    wstd = np.sqrt(np.sum((mag - wmean) ** 2 * weight) / weighted_sum)
    f['weighted_mean'], f['weighted_std'] = wmean, wstd
    f['skewness'], f['kurtosis'] = ss.skew(mag), ss.kurtosis(mag)
    f['shapiro_w'] = ss.shapiro(mag)[0]
    f['quartile31'] = np.percentile(mag, 75) - np.percentile(mag, 25)
    f['stetson_k'] = _stetson_k(mag, median, err)
    f['hl_amp_ratio'] = _hl_amp_ratio(mag, median, weight)
    f['cusum'] = _cusum(mag, wmean, wstd)
    f['eta'] = _eta(mag, wstd)
    # deep run: period
    oversampling = 3.
    hifac = int((max(date) - min(date)) / len(date) / min_period * 2.)
    if hifac < 100: hifac = 100
    fx, fy, nout, jmax, prob = fasper(date, mag, oversampling, hifac)
    period = 1. / fx[jmax]
    f['period'] = period
    f['period_uncertainty'] = _period_uncertainty(fx, fy, jmax)
    f['period_log10FAP'] = np.log10(significance(fx, fy, nout, oversampling)[jmax])
    f['period_SNR'] = (fy[jmax] - np.median(fy)) / np.std(fy)
    # Fourier series of order 3 on the phase (date mod P) / P
    order = 3
    p0 = np.ones(order * 2 + 1)
    date_period = (date % period) / period
    p1, success = leastsq(_residuals, p0, args=(date_period, mag, order))
    f['amplitude'] = np.sqrt(p1[1] ** 2 + p1[2] ** 2)
    f['r21'] = np.sqrt(p1[3] ** 2 + p1[4] ** 2) / f['amplitude']
    f['r31'] = np.sqrt(p1[5] ** 2 + p1[6] ** 2) / f['amplitude']
    f_phase = np.arctan(-p1[1] / p1[2])
    f['phi21'] = np.arctan(-p1[3] / p1[4]) - 2. * f_phase
    f['phi31'] = np.arctan(-p1[5] / p1[6]) - 3. * f_phase
    # folded at twice the period, in days
    phase_folded_date = date % (period * 2.)
    sorted_index = np.argsort(phase_folded_date)
    folded_date, folded_mag = phase_folded_date[sorted_index], mag[sorted_index]
    f['phase_eta'] = _eta(folded_mag, wstd)
    f['slope_per10'], f['slope_per90'] = _slope_percentile(folded_date, folded_mag)
    f['phase_cusum'] = _cusum(folded_mag, wmean, wstd)
    return {k: float(f[k]) for k in ALL_FEATURE_NAMES}

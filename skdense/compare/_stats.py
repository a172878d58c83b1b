"""Statistics for comparing models scored on the same cross-validation folds."""

import numpy as np

TEST_NAME = "corrected resampled t-test (Nadeau & Bengio 2003)"


def corrected_resampled_ttest(a, b, n_train, n_test):
    """Paired test of two models' scores on the same resampled train/test splits.

    The fold scores of k-fold cross-validation are not independent (the training
    sets overlap), so the plain paired t-test is far too eager to call a difference
    significant. Nadeau & Bengio (2003, "Inference for the generalization error",
    Machine Learning 52:239-281) correct the variance of the mean difference from
    ``var / n`` to ``var * (1/n + n_test/n_train)``; the statistic is compared to a
    Student t with ``n - 1`` degrees of freedom (Bouckaert & Frank 2004 use it for
    r x k-fold CV, as here).

    Parameters
    ----------
    a, b : array-like of shape (n,)
        Scores of the two models on the same n splits (paired).
    n_train, n_test : float
        Training and test set sizes of a split (averages if they vary by a row).

    Returns
    -------
    t : float
        The corrected t statistic (positive when ``a`` scores higher).
    p_value : float
        Two-sided p-value; NaN when it cannot be computed (n < 2). When all the
        differences are equal, t is +-inf and p is 0 (or t = 0, p = 1 if they are 0).
    """
    from scipy import stats

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = d.size
    if n < 2:
        return float("nan"), float("nan")
    mean = d.mean()
    var = d.var(ddof=1)
    if var == 0:
        if mean == 0:
            return 0.0, 1.0
        return float(np.sign(mean) * np.inf), 0.0
    t = mean / np.sqrt((1.0 / n + n_test / n_train) * var)
    p = 2.0 * stats.t.sf(abs(t), df=n - 1)
    return float(t), float(p)

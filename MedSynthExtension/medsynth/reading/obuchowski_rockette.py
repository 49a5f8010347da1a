"""Can readers tell synthetic from real? The reader-averaged ROC AUC of their confidence ratings,
readers and cases both random (Obuchowski & Rockette 1995, with Hillis's 2007 degrees of freedom).

Each reader's empirical AUC (Mann–Whitney, ties one half; synthetic = positive) is computed from
the signed confidence scores over the cases every reader has called. Following the OR model for a
single test, ``AUC_j = mu + R_j + e_j``: the reader effects ``R_j`` are independent, the errors
``e_j`` of different readers correlated because they read the same cases. The error variance and
the covariance between two readers are estimated by the case jackknife (as OR-DBM MRMC does):

    Cov(AUC_j, AUC_j') = (K - 1) / K * sum_k (AUC_j(-k) - AUC_j(.)) (AUC_j'(-k) - AUC_j'(.)),

``Var(Error)`` the mean of the diagonal, ``Cov2`` the mean over reader pairs j != j'. Then, with
``MS(R) = sum_j (AUC_j - AUC_.)^2 / (r - 1)`` (Hillis 2007, "single-treatment" interval):

    SE = sqrt(MS(R) / r + max(Cov2, 0)),   df = (MS(R) + r max(Cov2, 0))^2 / (MS(R)^2 / (r - 1)),

and the two-sided interval ``AUC_. ± t(df) SE``. Since ``E[MS(R)] = Var(R) + Var(Error) - Cov2``, an
``MS(R)`` below ``Var(Error) - Cov2`` means a negative reader-variance estimate; the SE is then
floored at the fixed-reader one, ``sqrt((Var(Error) + (r - 1) max(Cov2, 0)) / r)``, with the normal
quantile (``reader_floor`` is set), so that readers who happen to agree exactly do not make the
interval collapse to a point (OR-DBM MRMC has no floor; it agrees wherever the floor is unused).
With one reader, the reader is fixed: the interval
covers new cases for that reader only, ``SE = sqrt(Var(Error))``, normal quantile.

An AUC of 0.5 is "cannot tell". The result says which of three things the data show: readers can
tell (the interval lies above 0.5), readers cannot tell beyond ``margin`` (the one-sided upper bound
lies below it), or neither (the study is too small to say).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

#: AUC a generator may reach and still count as "indistinguishable" (acceptance default).
DEFAULT_AUC_MARGIN = 0.60
CAN_TELL, CANNOT_TELL, INCONCLUSIVE = "can tell", "cannot tell", "inconclusive"


@dataclass(frozen=True)
class ReaderAucAnalysis:
    """Reader-averaged AUC with its OR interval; ``reader_aucs`` in ``readers`` order."""

    readers: list[str]
    reader_aucs: list[float]
    auc: float
    ms_reader: float | None
    var_error: float
    cov2: float | None
    standard_error: float
    df: float | None
    ci_low: float
    ci_high: float
    upper: float
    confidence: float
    reader_floor: bool
    margin: float
    n_real: int
    n_synthetic: int
    finding: str

    @property
    def statement(self) -> str:
        """One sentence for a report: the AUC, its interval, and what it shows."""
        scope = (f"{len(self.readers)} readers, random readers and cases" if len(self.readers) > 1
                 else "1 reader, random cases")
        head = (f"reader-averaged AUC {self.auc:.3f} ({self.confidence:.0%} CI {self.ci_low:.3f}–{self.ci_high:.3f}; "
                f"{scope}; {self.n_real} real, {self.n_synthetic} synthetic cases)")
        if self.finding == CAN_TELL:
            return f"{head}: readers can tell synthetic from real (the interval lies above 0.5)."
        if self.finding == CANNOT_TELL:
            return (f"{head}: readers cannot tell synthetic from real beyond AUC {self.margin:g} "
                    f"(upper one-sided {self.confidence:.0%} bound {self.upper:.3f}).")
        return (f"{head}: inconclusive — neither above 0.5 nor shown below {self.margin:g} "
                f"(upper bound {self.upper:.3f}); more cases or readers are needed.")

    def to_dict(self) -> dict:
        return {**asdict(self), "statement": self.statement}


def jackknife_aucs(is_synthetic: Sequence[bool], scores: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """``(aucs, leave_one_out)``: each reader's AUC (shape r) and the AUC with case k left out
    (shape r × K). ``scores`` is readers × cases. Closed form: leaving out a synthetic case removes
    its row of the Mann–Whitney kernel, leaving out a real case its column."""
    labels = np.asarray(is_synthetic, dtype=bool)
    table = np.atleast_2d(np.asarray(scores, dtype=float))
    positive, negative = np.flatnonzero(labels), np.flatnonzero(~labels)
    m, n = len(positive), len(negative)
    if m < 2 or n < 2:
        raise ValueError("the jackknife needs at least two real and two synthetic cases")
    aucs = np.empty(table.shape[0])
    leave_one_out = np.empty(table.shape)
    for j, row in enumerate(table):
        sp, sn = row[positive][:, None], row[negative][None, :]
        kernel = (sp > sn) + 0.5 * (sp == sn)
        total = kernel.sum()
        aucs[j] = total / (m * n)
        leave_one_out[j, positive] = (total - kernel.sum(axis=1)) / ((m - 1) * n)
        leave_one_out[j, negative] = (total - kernel.sum(axis=0)) / (m * (n - 1))
    return aucs, leave_one_out


def jackknife_covariance(leave_one_out: np.ndarray) -> np.ndarray:
    """r × r covariance of the readers' AUCs from the leave-one-case-out AUCs (r × K)."""
    cases = leave_one_out.shape[1]
    centred = leave_one_out - leave_one_out.mean(axis=1, keepdims=True)
    return (cases - 1) / cases * centred @ centred.T


def obuchowski_rockette(is_synthetic: Sequence[bool], scores: Sequence[Sequence[float]],
                        readers: Sequence[str] | None = None, confidence: float = 0.95,
                        margin: float = DEFAULT_AUC_MARGIN) -> ReaderAucAnalysis:
    """OR analysis of a complete readers × cases table of confidence scores (higher = more
    likely synthetic). ``confidence`` is that of the two-sided interval and of the one-sided
    upper bound checked against ``margin``."""
    from scipy.stats import norm, t as student_t

    aucs, leave_one_out = jackknife_aucs(is_synthetic, scores)
    covariance = jackknife_covariance(leave_one_out)
    r = len(aucs)
    readers = list(readers) if readers is not None else [str(j + 1) for j in range(r)]
    mean = float(aucs.mean())
    var_error = float(np.mean(np.diag(covariance)))
    floored = False
    if r == 1:
        ms_reader, cov2, df = None, None, None
        se = math.sqrt(var_error)
    else:
        ms_reader = float(np.sum((aucs - mean) ** 2) / (r - 1))
        cov2 = float((covariance.sum() - np.trace(covariance)) / (r * (r - 1)))
        floored = ms_reader < var_error - cov2 or ms_reader == 0
        if floored:
            se, df = math.sqrt((var_error + (r - 1) * max(cov2, 0.0)) / r), None
        else:
            se = math.sqrt(ms_reader / r + max(cov2, 0.0))
            df = (ms_reader + r * max(cov2, 0.0)) ** 2 / (ms_reader ** 2 / (r - 1))
    two_sided = (norm.ppf(0.5 + confidence / 2) if df is None else student_t.ppf(0.5 + confidence / 2, df))
    one_sided = (norm.ppf(confidence) if df is None else student_t.ppf(confidence, df))
    low, high = mean - float(two_sided) * se, mean + float(two_sided) * se
    upper = mean + float(one_sided) * se
    if low > 0.5:
        finding = CAN_TELL
    elif upper < margin:
        finding = CANNOT_TELL
    else:
        finding = INCONCLUSIVE
    labels = np.asarray(is_synthetic, dtype=bool)
    return ReaderAucAnalysis(readers, [float(a) for a in aucs], mean, ms_reader, var_error, cov2, se, df,
                             max(0.0, low), min(1.0, high), min(1.0, upper), confidence, floored, margin,
                             int((~labels).sum()), int(labels.sum()), finding)

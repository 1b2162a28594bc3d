"""Validation metrics, threshold choice and the ROC / PR figure."""

import math


def threshold_for_fpr(neg_scores, max_fpr):
    """Smallest threshold t (flag when score >= t) whose false-positive rate
    on neg_scores is <= max_fpr."""
    if not neg_scores:
        return 0.5
    s = sorted(neg_scores, reverse=True)
    allowed = int(math.floor(max_fpr * len(s)))
    if allowed >= len(s):
        return 0.0
    # Everything strictly above s[allowed] may be flagged; s[allowed] not.
    t = math.nextafter(s[allowed], math.inf)
    if allowed > 0 and s[allowed - 1] == s[allowed]:
        # Ties straddle the cut: move above the tie.
        t = math.nextafter(s[allowed - 1], math.inf)
    return t


def confusion(labels, scores, t):
    tp = fp = tn = fn = 0
    for y, p in zip(labels, scores):
        if p >= t:
            tp += y == 1
            fp += y == 0
        else:
            fn += y == 1
            tn += y == 0
    return tp, fp, tn, fn


def auc(labels, scores):
    """ROC AUC by the rank-sum statistic (ties count half)."""
    pos = [p for y, p in zip(labels, scores) if y == 1]
    neg = [p for y, p in zip(labels, scores) if y == 0]
    if not pos or not neg:
        return None
    pairs = sorted([(p, 1) for p in pos] + [(p, 0) for p in neg])
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        r = (i + 1 + j) / 2.0
        rank_sum += r * sum(1 for k in range(i, j) if pairs[k][1] == 1)
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg))


def report(labels, scores, t):
    tp, fp, tn, fn = confusion(labels, scores, t)
    prec = tp / (tp + fp) if tp + fp else None
    rec = tp / (tp + fn) if tp + fn else None
    f1 = 2 * prec * rec / (prec + rec) if prec and rec else (0.0 if prec is not None and rec is not None else None)
    fpr = fp / (fp + tn) if fp + tn else None
    a = auc(labels, scores)

    def r(x):
        return None if x is None else round(x, 4)

    return {"n": len(labels), "malicious": tp + fn, "benign": fp + tn,
            "tp": tp, "fp": fp, "tn": tn, "fn": fn,
            "precision": r(prec), "recall": r(rec), "f1": r(f1), "fpr": r(fpr),
            "roc_auc": r(a)}


def curves(labels, scores):
    """ROC points (fpr, tpr) and PR points (recall, precision), by threshold."""
    pts = sorted(zip(scores, labels), reverse=True)
    P = sum(labels)
    N = len(labels) - P
    tp = fp = 0
    roc = [(0.0, 0.0)]
    pr = []
    i = 0
    while i < len(pts):
        j = i
        while j < len(pts) and pts[j][0] == pts[i][0]:
            tp += pts[j][1] == 1
            fp += pts[j][1] == 0
            j += 1
        i = j
        roc.append((fp / N if N else 0.0, tp / P if P else 0.0))
        if tp + fp:
            pr.append((tp / P if P else 0.0, tp / (tp + fp)))
    return roc, pr


def write_figure(path_base, labels, scores, title):
    """Writes the ROC and PR curves: PNG with matplotlib when it is installed,
    else a hand-written SVG. Returns the file name written."""
    roc, pr = curves(labels, scores)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is not None:
        fig, ax = plt.subplots(1, 2, figsize=(9, 4), dpi=80)
        ax[0].plot([p[0] for p in roc], [p[1] for p in roc])
        ax[0].set_xscale("symlog", linthresh=0.01)
        ax[0].set_xlabel("false-positive rate")
        ax[0].set_ylabel("true-positive rate")
        ax[0].set_title("ROC (validation)")
        ax[1].plot([p[0] for p in pr], [p[1] for p in pr])
        ax[1].set_xlabel("recall")
        ax[1].set_ylabel("precision")
        ax[1].set_title("precision / recall (validation)")
        fig.suptitle(title)
        fig.tight_layout()
        out = path_base + ".png"
        fig.savefig(out, metadata={"Software": None})
        plt.close(fig)
        return out
    out = path_base + ".svg"
    with open(out, "w", encoding="utf-8") as f:
        f.write(_svg(roc, pr, title))
    return out


def _svg(roc, pr, title):
    w, h, m = 300, 240, 40

    def panel(x0, pts, xl, yl, name):
        poly = " ".join(f"{x0 + m + x * (w - 2 * m):.1f},{h - m - y * (h - 2 * m):.1f}" for x, y in pts)
        return (f'<g><rect x="{x0 + m}" y="{m}" width="{w - 2 * m}" height="{h - 2 * m}" fill="none" stroke="#999"/>'
                f'<polyline points="{poly}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>'
                f'<text x="{x0 + w / 2}" y="{h - 10}" text-anchor="middle" font-size="11">{xl}</text>'
                f'<text x="{x0 + 12}" y="{h / 2}" font-size="11" transform="rotate(-90 {x0 + 12} {h / 2})" text-anchor="middle">{yl}</text>'
                f'<text x="{x0 + w / 2}" y="{m - 8}" text-anchor="middle" font-size="12">{name}</text></g>')

    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w}" height="{h + 20}" font-family="sans-serif">'
            f'<text x="{w}" y="14" text-anchor="middle" font-size="13">{title}</text>'
            f'<g transform="translate(0,20)">{panel(0, roc, "false-positive rate", "true-positive rate", "ROC")}'
            f'{panel(w, pr, "recall", "precision", "precision / recall")}</g></svg>\n')

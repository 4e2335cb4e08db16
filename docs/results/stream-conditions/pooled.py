#!/usr/bin/env python3
"""What a held-out set of N BTS-like objects would say about a recipe, from out-of-sample predictions.

Reads `evaluate --predictions` CSVs whose objects were each scored by a package that never saw them (pooled.sh: the four
cross-validation folds of the training part, each by the package fitted on the other three, and the test part by
2.6.0), pools them, and draws R class-stratified samples of N objects with replacement, each class in its BTS
proportion (the shared set's 1,605 objects), computing the macro AUROC of each view on every sample.

usage: pooled.py N R SEED OUT.json CSV...
"""
import csv, json, os, random, sys

VIEWS = ['0', '2', '5', '10', '15', '20', '30', '50', 'whole']


def auroc(scores, positive):
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for t in range(i, j + 1):
            ranks[order[t]] = (i + j) / 2 + 1
        i = j + 1
    npos = sum(positive)
    nneg = len(scores) - npos
    if npos == 0 or nneg == 0:
        return None
    return (sum(r for r, p in zip(ranks, positive) if p) - npos * (npos + 1) / 2) / (npos * nneg)


def macro(objects, view, classes):
    values = []
    for c in classes:
        a = auroc([o[view][c] for o in objects], [o['class'] == c for o in objects])
        if a is not None:
            values.append(a)
    return sum(values) / len(values)


def main():
    n, resamples, seed, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    objects, classes = {}, None
    for path in sys.argv[5:]:
        with open(path) as f:
            for row in csv.DictReader(f):
                classes = classes or [k[2:] for k in row if k.startswith('p_')]
                key = (path, row['object_id'])
                o = objects.setdefault(key, {'id': row['object_id'], 'class': row['class']})
                o[row['view']] = {c: float(row['p_' + c]) for c in classes}
    pool = list(objects.values())
    assert all(all(v in o for v in VIEWS) for o in pool), 'every object needs every view'
    ids = [o['id'] for o in pool]
    assert len(ids) == len(set(ids)), 'an object is in two inputs'
    by_class = {c: [o for o in pool if o['class'] == c] for c in classes}
    counts = {c: len(by_class[c]) for c in classes}
    total = sum(counts.values())
    # Each class's share of the pool (the BTS mix), largest remainders so that the counts add up to n.
    exact = {c: n * counts[c] / total for c in classes}
    take = {c: int(exact[c]) for c in classes}
    for c in sorted(classes, key=lambda c: exact[c] - take[c], reverse=True)[: n - sum(take.values())]:
        take[c] += 1
    rng = random.Random(seed)
    samples = {v: [] for v in VIEWS}
    for _ in range(resamples):
        sample = [o for c in classes for o in rng.choices(by_class[c], k=take[c])]
        for v in VIEWS:
            samples[v].append(macro(sample, v, classes))

    def q(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(p * len(xs)))]

    result = {
        'pool': counts,
        'sampleSize': n,
        'sampleCounts': take,
        'resamples': resamples,
        'seed': seed,
        'pooled': {v: round(macro(pool, v, classes), 4) for v in VIEWS},
        'pooledPerClass': {v: {c: round(auroc([o[v][c] for o in pool], [o['class'] == c for o in pool]), 4) for c in classes} for v in ('10', 'whole')},
        'pooledPerInput': {os.path.basename(path): {v: round(macro([o for k, o in objects.items() if k[0] == path], v, classes), 4) for v in ('10', 'whole')} for path in sys.argv[5:]},
        'samples': {v: {'median': round(q(samples[v], 0.5), 4), 'p05': round(q(samples[v], 0.05), 4), 'p95': round(q(samples[v], 0.95), 4),
                        'atLeast0.78': round(sum(x >= 0.78 for x in samples[v]) / resamples, 3), 'atLeast0.88': round(sum(x >= 0.88 for x in samples[v]) / resamples, 3)} for v in VIEWS},
    }
    with open(out, 'w') as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()

"""A sweep split between worker machines (docs/scaling.md): each worker runs one experiment holding
its share of the models, every seed of each, and pushes it; a reviewer gathers the whole sweep from
the run cache, training nothing again.

A share is whole models, so every training run (model, seed) is in exactly one share and the
carved subsets, which do not depend on the other models, are the same in every experiment.

A model's weight is what one of its runs costs, in training images: its `train_size` (training
time grows with it) plus FIXED_IMAGES, the stages every run goes through after training whatever
its size (`extract`, `replay`, `ablate`, `visualize`, `attribute`). Measured on the published sweep
(docs/scaling.md): 295 s of epochs per benchmark run (49,999 images) and about 90 s of those stages
per run, i.e. as long as training on about 15,000 images. An imported model trains nothing and
weighs FIXED_IMAGES.
"""

from lib.model import trained

FIXED_IMAGES = 15_000  # a run's stages after training, in the training images that take as long


def costs(models):
    """{model: the weight of one of its runs in the split, in training images}."""
    sizes = {name: settings["train_size"] for name, settings in trained(models).items()}
    return {name: sizes.get(name, 0) + FIXED_IMAGES for name in models}


def shares(models, workers):
    """The model names each of `workers` takes: the costliest first, each to the worker with the
    least cost so far (ties: fewer models, then the lower worker); then, while moving one model off
    the busiest worker or swapping one of its models with another worker's lowers the larger of the
    two loads, the best such change. Each share lists its models costliest first."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers = {workers!r}: must be a whole number >= 1")
    cost = costs(models)
    order = sorted(models, key=lambda name: -cost[name])
    load, taken = [0] * workers, [[] for _ in range(workers)]
    for name in order:
        worker = min(range(workers), key=lambda k: (load[k], len(taken[k]), k))
        load[worker] += cost[name]
        taken[worker].append(name)
    while (change := better(cost, taken)) is not None:
        busy, other, give, take = change
        taken[busy] = [name for name in taken[busy] if name != give] + ([take] if take else [])
        taken[other] = [name for name in taken[other] if name != take] + [give]
    return [sorted(share, key=order.index) for share in taken]


def better(cost, taken):
    """(busiest worker, other worker, its model to give, the other's model to take or None) of the
    move or swap that most lowers the larger of the two workers' loads (`cost` {model: weight}); None
    if none does."""
    loads = [sum(cost[name] for name in share) for share in taken]
    busy = max(range(len(taken)), key=lambda k: (loads[k], -k))
    best, found = loads[busy], None
    for other in range(len(taken)):
        for give in taken[busy] if other != busy else ():
            for take in [None, *taken[other]]:
                moved = cost[give] - (cost[take] if take else 0)
                if moved > 0 and max(loads[busy] - moved, loads[other] + moved) < best:
                    best, found = max(loads[busy] - moved, loads[other] + moved), (busy, other, give, take)
    return found


def overrides(models, share):
    """`dvc exp run -S` arguments that leave only `share` of `models` in the experiment."""
    return [f"~models.{name}" for name in models if name not in share]


def commands(models, workers):
    """Each worker's share and its `dvc exp run` line, as the recipe in docs/scaling.md runs them."""
    lines, cost = [], costs(models)
    for index, share in enumerate(shares(models, workers)):
        settings = "".join(f" -S '{setting}'" for setting in overrides(models, share))
        weight = f" ({sum(cost[name] for name in share):,} image-equivalents a seed)" if share else ""
        lines.append(f"# worker {index}: {', '.join(share) or 'nothing (more workers than models)'}{weight}")
        if share:
            lines.append(f"dvc exp run --pull -n share-{index}{settings}")
    return "\n".join(lines)


def main():
    import argparse

    from lib.params import load

    parser = argparse.ArgumentParser(description="Print each worker's share of the sweep in params.yaml and "
                                                 "its `dvc exp run` line (docs/scaling.md).")
    parser.add_argument("workers", type=int, help="how many worker machines")
    parser.add_argument("--params", default="params.yaml", help="the sweep's params (default params.yaml)")
    args = parser.parse_args()
    if args.workers < 1:
        parser.error(f"workers = {args.workers}: must be a whole number >= 1")
    print(commands(load(args.params)["models"], args.workers))


if __name__ == "__main__":
    from lib.stage import run

    run(main, tensorflow=False)

"""A sweep split between worker machines (docs/scaling.md): each worker runs one experiment holding
its share of the models, every seed of each, and pushes it; a reviewer gathers the whole sweep from
the run cache, training nothing again.

A share is whole models, so every training run (model, seed) is in exactly one share and the
carved subsets, which do not depend on the other models, are the same in every experiment.
"""

from lib.model import trained


def shares(models, workers):
    """The model names each of `workers` takes: the largest `train_size` first, each to the worker
    with the fewest training images so far (ties: the lower worker); imported models, which train
    nothing, after them, likewise."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers = {workers!r}: must be a whole number >= 1")
    sizes = {name: trained(models).get(name, {}).get("train_size", 0) for name in models}
    load, taken = [0] * workers, [[] for _ in range(workers)]
    for name in sorted(models, key=lambda name: -sizes[name]):
        worker = min(range(workers), key=lambda k: (load[k], len(taken[k]), k))
        load[worker] += sizes[name]
        taken[worker].append(name)
    return taken


def overrides(models, share):
    """`dvc exp run -S` arguments that leave only `share` of `models` in the experiment."""
    return [f"~models.{name}" for name in models if name not in share]


def commands(models, workers):
    """Each worker's share and its `dvc exp run` line, as the recipe in docs/scaling.md runs them."""
    lines = []
    for index, share in enumerate(shares(models, workers)):
        settings = "".join(f" -S '{setting}'" for setting in overrides(models, share))
        lines.append(f"# worker {index}: {', '.join(share) or 'nothing (more workers than models)'}")
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

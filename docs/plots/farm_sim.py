"""Plots the farm simulation (issue 16): what reaches the AYON server against the number of
worker processes, without the shared tier, with it, and with it plus peer wait.

Re-run:
    cargo run -p ayon-benches --example farm_sim -- --csv docs/farm-sim.csv
    python3 -m venv target/plot-venv && target/plot-venv/bin/pip install matplotlib
    target/plot-venv/bin/python docs/plots/farm_sim.py docs/farm-sim.csv docs/farm-sim.png
"""

import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "local": "no shared tier",
    "shared": "Redis tier",
    "peer": "Redis tier + peer wait",
}


def main(src: str, dst: str) -> None:
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    workers = sorted({int(r["workers"]) for r in rows})
    distinct = {int(r["workers"]): int(r["distinct_uris"]) for r in rows}
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mode, label in LABELS.items():
        mine = sorted((int(r["workers"]), r) for r in rows if r["mode"] == mode)
        if not mine:
            continue
        xs = [w for w, _ in mine]
        left.plot(xs, [int(r["requests"]) for _, r in mine], marker="o", label=label)
        right.plot(xs, [int(r["uris"]) for _, r in mine], marker="o", label=label)
    right.plot(
        workers,
        [distinct[w] for w in workers],
        linestyle="--",
        color="grey",
        label="distinct URIs asked for",
    )
    for ax, title in (
        (left, "resolve requests reaching the server"),
        (right, "URIs the server resolved"),
    ):
        ax.set_xscale("log", base=2)
        ax.set_xticks(workers, [str(w) for w in workers])
        ax.set_xlabel("worker processes (each with an empty local cache)")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle("Farm simulation: 300 URIs in 10 layer sets, all workers starting together")
    fig.tight_layout()
    fig.savefig(dst, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: farm_sim.py FARM_SIM.csv OUT.png")
    main(sys.argv[1], sys.argv[2])
